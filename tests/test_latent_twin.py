"""The compiled latent trader (``KIND_LATENT``, ``agents.decide_latent``)
against its readable Python twin (``strategies.latent_trader.LatentTrader``):
the same calm day and seed give identical fills and balances."""
from __future__ import annotations

import numpy as np
import pytest

from lob.scenarios.calm_day import LATENT_PARAMS, calm_day
from lob.sim import layout as L
from lob.sim.model import Simulation
from strategies.latent_trader import LatentTrader, LatentTraderConfig

N = 300
# a narrow band and fast diffusion, so that reservations are often reached: both paths (revealed limit
# orders and IOCs) trade within a short run
PARAMS = (1.0, 3.0, 0.005, 40.0, 50.0, 1.0, 10.0)


@pytest.fixture(scope="module")
def pair():
    out = {}
    for py in (False, True):
        sim = Simulation(calm_day(duration_s=1200.0, latent_traders=N, latent_python=py, n_exec=2,
                                  latent_params=PARAMS), seed=4)
        out[py] = (sim, sim.run())
    return out


def test_the_twin_is_used(pair):
    sim_c, sim_p = pair[False][0], pair[True][0]
    assert (sim_c.W.agents[:, L.A_KIND] == L.KIND_LATENT).sum() == N
    assert (sim_p.W.agents[:, L.A_KIND] == L.KIND_LATENT).sum() == 0
    assert sum(isinstance(s, LatentTrader) for s in sim_p.strategies.values()) == N


def test_identical_fills_and_balances(pair):
    (sim_c, rc), (sim_p, rp) = pair[False], pair[True]
    fc, fp = rc.fills, rp.fills
    lat = np.nonzero(sim_c.W.agents[:, L.A_KIND] == L.KIND_LATENT)[0]
    # the latent traders trade, as makers and as takers
    assert np.isin(fc["maker_account"], lat).sum() > 200 and np.isin(fc["taker_account"], lat).sum() > 100
    assert len(fc) == len(fp)
    for col in fc.dtype.names:
        if col in ("maker_id", "taker_id"):      # Python and compiled agents draw ids from different counters
            continue
        assert np.array_equal(fc[col], fp[col]), col
    assert np.array_equal(rc.balances, rp.balances)
    assert (rp.conservation_error() == 0).all()


def test_config_from_params():
    c = LatentTraderConfig.from_params(LATENT_PARAMS)
    assert (c.wake_s, c.band_ticks, c.reveal_ticks) == (LATENT_PARAMS[0], LATENT_PARAMS[3], LATENT_PARAMS[6])
    with pytest.raises(ValueError, match="latent_params"):
        LatentTraderConfig.from_params(LATENT_PARAMS[:3])
    with pytest.raises(TypeError):
        LatentTraderConfig(wake=1.0)
