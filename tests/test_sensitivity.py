"""Sensitivity of sweep metrics to grid parameters: the t quantile against
closed forms and printed tables, the bands against a hand computation,
other grid parameters held fixed (never pooled), failed runs left out,
clear errors, the figure, and ``lob sweep`` writing sensitivity.csv/png
on a shortened scenario."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lob.cli import main as lob_main
from lob.sensitivity import bands, plot_sensitivity, sensitivity, t_quantile

# two-sided 90% and 95% Student t critical values from printed tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2)
T_TABLE = {(0.95, 3): 2.353, (0.95, 4): 2.132, (0.95, 10): 1.812, (0.975, 5): 2.571, (0.975, 30): 2.042,
           (0.995, 8): 3.355}


@pytest.mark.parametrize("p", [0.6, 0.9, 0.95, 0.975, 0.995])
def test_t_quantile_closed_forms(p):
    # dof 1 is the Cauchy distribution: tan(pi (p - 1/2)); dof 2: (2p - 1) / sqrt(2 p (1 - p))
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-7)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-7)
    assert t_quantile(1 - p, 2) == pytest.approx(-t_quantile(p, 2))


def test_t_quantile_against_printed_table_and_normal_limit():
    for (p, dof), v in T_TABLE.items():
        assert t_quantile(p, dof) == pytest.approx(v, abs=6e-4), (p, dof)
    assert t_quantile(0.95, 100_000) == pytest.approx(1.6448536, abs=1e-4)     # the normal quantile
    with pytest.raises(ValueError, match="p must be in"):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError, match="dof"):
        t_quantile(0.9, 0)


def _table():
    """Two grid parameters (lev, policy), 4 seeds each, one failed run, one NaN."""
    rows = []
    vals = {(0.5, "last"): [0.10, 0.20, 0.40, 0.50], (1.0, "last"): [0.30, 0.35, 0.50, 0.65],
            (0.5, "oracle"): [0.01, 0.02, 0.03, 0.06], (1.0, "oracle"): [0.05, 0.05, 0.05, 0.05]}
    for (lev, pol), xs in vals.items():
        for seed, x in enumerate(xs):
            rows.append({"run": f"{lev}{pol}{seed}", "seed": seed, "lev": lev, "policy": pol, "wick": x,
                         "usde_low": 1.0 - x, "error": None})
    rows.append({"run": "bad", "seed": 4, "lev": 0.5, "policy": "last", "wick": 99.0, "usde_low": 0.0,
                 "error": "ValueError: boom"})
    rows.append({"run": "nan", "seed": 5, "lev": 0.5, "policy": "last", "wick": np.nan, "usde_low": np.nan,
                 "error": None})
    return pd.DataFrame(rows), vals


def test_t_band_is_the_hand_computed_interval_per_group():
    df, vals = _table()
    s = sensitivity(df, "wick", "lev", params=["lev", "policy"])
    assert len(s) == 4 and list(s.columns[:2]) == ["lev", "policy"]
    # by hand: 0.10, 0.20, 0.40, 0.50 -> mean 0.3, sd sqrt(0.1 / 3), 90% band mean -/+ t(0.95, 3) sd / 2
    r = s[(s["lev"] == 0.5) & (s["policy"] == "last")].iloc[0]
    sd = math.sqrt(((0.1 - 0.3) ** 2 + (0.2 - 0.3) ** 2 + (0.4 - 0.3) ** 2 + (0.5 - 0.3) ** 2) / 3)
    half = 2.353363434802 * sd / 2                               # t(0.95, 3), 10 digits
    assert r["n"] == 4                                           # the failed run and the NaN are left out
    assert r["mean"] == pytest.approx(0.3) and r["median"] == pytest.approx(0.3) and r["sd"] == pytest.approx(sd)
    assert (r["lo"], r["hi"]) == (pytest.approx(0.3 - half, abs=1e-9), pytest.approx(0.3 + half, abs=1e-9))
    # the other parameter is held fixed, not pooled: each group has its own mean
    for (lev, pol), xs in vals.items():
        g = s[(s["lev"] == lev) & (s["policy"] == pol)].iloc[0]
        assert g["mean"] == pytest.approx(np.mean(xs)) and g["n"] == 4
    # no spread across seeds: a zero-width band
    c = s[(s["lev"] == 1.0) & (s["policy"] == "oracle")].iloc[0]
    assert c["lo"] == pytest.approx(0.05) and c["hi"] == pytest.approx(0.05)


def test_95_percent_band_two_seeds_and_one_seed():
    df = pd.DataFrame({"seed": [0, 1, 0], "k": [1, 1, 2], "m": [2.0, 4.0, 7.0]})
    s = sensitivity(df, "m", "k", level=0.95, params=["k"]).set_index("k")
    # n = 2: mean 3, sd sqrt(2), t(0.975, 1) = tan(0.475 pi)
    half = math.tan(0.475 * math.pi) * math.sqrt(2) / math.sqrt(2)
    assert s.loc[1, "lo"] == pytest.approx(3 - half) and s.loc[1, "hi"] == pytest.approx(3 + half)
    # n = 1: the band is the point, and n says so
    assert s.loc[2, "n"] == 1 and s.loc[2, "lo"] == s.loc[2, "hi"] == 7.0


def test_bootstrap_band_is_reproducible_and_inside_the_data():
    df, _ = _table()
    a = sensitivity(df, "wick", "lev", band="bootstrap", params=["lev", "policy"])
    b = sensitivity(df, "wick", "lev", band="bootstrap", params=["lev", "policy"])
    pd.testing.assert_frame_equal(a, b)
    r = a[(a["lev"] == 0.5) & (a["policy"] == "last")].iloc[0]
    # the bootstrap means of 4 numbers lie between their min and max, the band around the mean
    assert 0.10 <= r["lo"] < r["mean"] < r["hi"] <= 0.50
    assert r["hi"] - r["lo"] < 0.40


def test_bad_arguments_are_refused_with_the_name():
    df, _ = _table()
    with pytest.raises(KeyError, match="alt_wick_median"):
        sensitivity(df, "alt_wick_median", "lev")
    with pytest.raises(KeyError, match="no grid parameter 'leverage'"):
        sensitivity(df, "wick", "leverage", params=["lev", "policy"])
    with pytest.raises(KeyError, match="'nope'"):
        sensitivity(df, "wick", "lev", params=["lev", "nope"])
    with pytest.raises(ValueError, match="band must be"):
        sensitivity(df, "wick", "lev", band="normal", params=["lev"])
    with pytest.raises(ValueError, match="level must be"):
        sensitivity(df, "wick", "lev", level=90, params=["lev"])


def test_long_table_and_figure(tmp_path):
    df, _ = _table()
    t = bands(df, ["wick", "usde_low", "absent"], params=["lev", "policy"])
    assert list(t.columns[:5]) == ["metric", "param", "value", "lev", "policy"]
    assert set(t["metric"]) == {"wick", "usde_low"} and set(t["param"]) == {"lev", "policy"}
    assert len(t) == 2 * 2 * 4                                  # metrics x parameters x groups
    pol = t[(t["metric"] == "wick") & (t["param"] == "policy")]
    assert set(pol["value"]) == {"last", "oracle"} and pol["policy"].isna().all()
    png = plot_sensitivity(df, ["wick", "usde_low"], tmp_path / "s.png", params=["lev", "policy"])
    data = (tmp_path / "s.png").read_bytes()
    assert png == tmp_path / "s.png" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_sensitivity(df, ["absent"], tmp_path / "n.png", params=["lev", "policy"])


def test_lob_sweep_writes_the_sensitivity_figure(tmp_path, capsys):
    """A small grid on a shortened flash crash, 2 seeds: sensitivity.csv is
    the t band of the sweep's own numbers."""
    out = tmp_path / "sw"
    rc = lob_main(["sweep", "flash-crash", "--grid", "duration_s=300.0", "--grid", "shock_s=60.0",
                   "--grid", "program_s=60.0", "--grid", "program_lots=100000,400000", "--seeds", "2",
                   "--workers", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "wrote" in err and (out / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    assert "liquidated_usd = 0" in err                          # no leveraged longs here: nothing liquidated
    sw = pd.read_csv(out / "sweep.csv")
    sens = pd.read_csv(out / "sensitivity.csv")
    assert set(sens["metric"]) == {"alt_wick_median"} and set(sens["param"]) == {"program_lots"}
    for lots, g in sw.groupby("program_lots"):
        x = g["alt_wick_median"].to_numpy()
        half = math.tan(0.45 * math.pi) * x.std(ddof=1) / math.sqrt(2)       # t(0.95, 1)
        r = sens[sens["value"] == lots].iloc[0]
        assert r["n"] == 2 and r["mean"] == pytest.approx(x.mean())
        assert r["lo"] == pytest.approx(x.mean() - half) and r["hi"] == pytest.approx(x.mean() + half)
