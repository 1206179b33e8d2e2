"""The model quoters (Avellaneda-Stoikov, its symmetric benchmark, GLFT) in
the order book: the same strategy objects as the model harness, as Python
plug-ins in the calm day."""
from __future__ import annotations

import numpy as np

from lob.analysis.scorecard import inventory_path, scorecards
from lob.run import run
from strategies.avellaneda_stoikov import ASConfig, AvellanedaStoikov, SymmetricSpread
from strategies.glft import GLFT, GLFTConfig
from strategies.model_quoter import ModelQuoter, ModelQuoterConfig

# calm day: XYZ at 1,000 USD, 0.01 USD tick; fundamental sigma 0.5 ticks/sqrt(s) = 0.005 USD/sqrt(s)
AS = dict(gamma=0.05, k=100.0, sigma=0.005, horizon="infinite", window=60.0, order_size=10)


def _run(model):
    res = run("calm-day", seed=3, duration_s=900.0,
              python_mm=lambda: ModelQuoter(model, ModelQuoterConfig(refresh_s=0.5, size=10), base="XYZ",
                                            quote="USD"))
    a = next(iter(res.sim.strategies))
    return res, a


def test_inventory_strategy_controls_inventory_in_the_book():
    res_as, a = _run(AvellanedaStoikov(ASConfig(**AS)))
    res_sym, b = _run(SymmetricSpread(ASConfig(**AS)))
    _, inv_as = inventory_path(res_as, a)
    _, inv_sym = inventory_path(res_sym, b)
    assert len(inv_as) > 20 and len(inv_sym) > 20
    # the reservation price leans against inventory: a much tighter inventory than the
    # symmetric quotes of the same spread (AS2008's qualitative result, here in a real book)
    assert np.std(inv_as) < 0.5 * np.std(inv_sym)
    card = scorecards(res_as, [a]).iloc[0]
    assert card["time_in_market"] > 0.95 and 0.5 < card["quoted_half_spread_ticks"] < 3.0
    assert (res_as.conservation_error() == 0).all()


def test_glft_quotes_in_the_book():
    res, a = _run(GLFT(GLFTConfig(gamma=0.05, k=100.0, A=1.0, sigma=0.005, order_size=10)))
    card = scorecards(res, [a]).iloc[0]
    assert card["fills_maker"] > 20
    assert (res.conservation_error() == 0).all()
