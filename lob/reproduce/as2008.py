"""Reproduction of Avellaneda & Stoikov (2008), section 3.3 (the three tables).

M. Avellaneda and S. Stoikov, "High-frequency trading in a limit order book",
Quantitative Finance 8(3), 217-224 (2008).  Parameters: ``s = 100``,
``T = 1``, ``sigma = 2``, ``dt = 0.005``, ``q0 = 0``, ``k = 1.5``,
``A = 140``, ``gamma`` in {0.1, 0.01, 0.5}; 1,000 simulated paths per
table.  Each table compares the inventory strategy
(:class:`strategies.avellaneda_stoikov.AvellanedaStoikov`) with the
symmetric strategy (:class:`~strategies.avellaneda_stoikov.SymmetricSpread`)
by the mean and standard deviation of the terminal profit and of the final
inventory, and the spread.

What we found (numbers: :data:`OUR_REFERENCE`, ``lob reproduce as2008``):

* **Fill timing.**  With fills tested against the mid *after* the step's
  price move (``fill_timing="after_move"``, quotes posted from the
  pre-move mid, fill at the posted quote) five of the six rows match the
  paper: mean profit within 3 combined standard errors, standard deviation
  within 15%.  Testing fills against the pre-move mid (``"before_move"``)
  removes the small adverse selection, adds ~1.3 to 2 to every mean profit
  and misses all five of those rows by 3 to 11 combined standard errors.
* **Symmetric benchmark spread.**  The paper's "average spread" column is
  ``(2/gamma) ln(1 + gamma/k)`` (1.29, 1.33, 1.15), without the
  ``gamma sigma^2 (T - t)`` term.  A symmetric strategy with that constant
  spread reproduces all three symmetric rows; one with the inventory
  strategy's full time-varying spread gives ~57.8 instead of 66.20 at
  gamma = 0.5.  The inventory strategy itself needs the full spread (its
  time average is 1.49, 1.35, 2.16): dropping the time term gives 62.2 at
  gamma = 0.1 (paper 62.94, 4 SE away) and 20.9 at gamma = 0.5.
* **Known deviation: inventory strategy, gamma = 0.5.**  The paper prints
  33.92 (std 4.72); a faithful simulation gives 47.3 (std 5.8) under either
  timing.  No natural reading we tried produces 33.92 (see
  :data:`KNOWN_DEVIATIONS` and the report of ``lob reproduce as2008``).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from lob.mm.model_harness import FILL_TIMINGS, ModelParams, simulate
from strategies.avellaneda_stoikov import ASConfig, AvellanedaStoikov, SymmetricSpread

__all__ = ["PAPER", "PAPER_PATHS", "GAMMAS", "PARAMS", "KNOWN_DEVIATIONS", "OUR_REFERENCE",
           "MATCHING_TIMING", "Z_TOL", "STD_RTOL", "make_strategies", "run", "compare_row",
           "format_report"]

#: the paper's simulation parameters (section 3.3)
PARAMS = ModelParams(s0=100.0, T=1.0, sigma=2.0, dt=0.005, A=140.0, k=1.5, q0=0.0)
GAMMAS = (0.1, 0.01, 0.5)          # the paper's table order
PAPER_PATHS = 1000                 # "1000 simulations" per table
#: the timing convention that matches the paper (see the module docstring)
MATCHING_TIMING = "after_move"
#: agreement criteria: |mean difference| <= Z_TOL combined standard errors,
#: |std ratio - 1| <= STD_RTOL
Z_TOL = 3.0
STD_RTOL = 0.15

#: The paper's tables (section 3.3), (gamma, strategy) -> row.  Spread:
#: the paper's "average spread" column; profit and final inventory: mean
#: and standard deviation over its 1,000 paths.
PAPER: dict[tuple[float, str], dict[str, float]] = {
    (0.1, "inventory"): dict(spread=1.29, profit_mean=62.94, profit_std=5.89, final_q_mean=0.10, final_q_std=2.80),
    (0.1, "symmetric"): dict(spread=1.29, profit_mean=67.21, profit_std=13.43, final_q_mean=-0.018, final_q_std=8.66),
    (0.01, "inventory"): dict(spread=1.33, profit_mean=66.78, profit_std=8.76, final_q_mean=-0.02, final_q_std=4.70),
    (0.01, "symmetric"): dict(spread=1.33, profit_mean=67.36, profit_std=13.40, final_q_mean=-0.31, final_q_std=8.65),
    (0.5, "inventory"): dict(spread=1.15, profit_mean=33.92, profit_std=4.72, final_q_mean=-0.02, final_q_std=1.88),
    (0.5, "symmetric"): dict(spread=1.15, profit_mean=66.20, profit_std=14.53, final_q_mean=0.25, final_q_std=9.06),
}

#: Rows we do not reproduce, with the reason.  The tests assert that the
#: deviation is what is documented here.
KNOWN_DEVIATIONS: dict[tuple[float, str], str] = {
    (0.5, "inventory"): (
        "paper prints mean profit 33.92 (std 4.72); a faithful simulation gives 47.3 (std 5.8; "
        "48.6 with fills tested before the move), 90 combined SE away.  Readings tried and their "
        "mean profit: quotes not allowed through the mid 49.8, quoting from the post-move mid "
        "48.6, dt = 0.001 47.1, fill probability 1 - exp(-lambda dt) 41.8 (but 55.7 at "
        "gamma = 0.1), sigma for sigma^2 57.1, the constant spread 1.15 the paper prints (no "
        "gamma sigma^2 (T-t) term) 20.9 (and 62.2, 4 SE off, at gamma = 0.1), Poisson fill "
        "counts diverge.  33.9 is reached only by changes with no basis in the paper: gamma ~0.88 "
        "in this row alone, a 1.5x inventory skew in this row alone (61.2 at gamma = 0.1), or "
        "~0.28 x the spread's gamma sigma^2 (T-t) term.  Most likely a misprint or a run with "
        "other parameters."),
}

#: Our own high-precision estimates (1,000,000 paths, seed 2008; CRN between
#: strategies), key (fill_timing, gamma, strategy) -> (profit mean, its SE,
#: profit std, final-q mean, final-q std, mean spread).  Regenerate with
#: ``lob reproduce as2008 --paths 1000000 --timing both``.
OUR_REFERENCE: dict[tuple[str, float, str], tuple[float, float, float, float, float, float]] = {
    ('after_move', 0.1, 'inventory'): (63.408, 0.0064, 6.445, 0.0001, 2.956, 1.4918),
    ('after_move', 0.1, 'symmetric'): (66.966, 0.0139, 13.868, -0.0026, 8.982, 1.2908),
    ('after_move', 0.1, 'symmetric_matched'): (66.775, 0.0133, 13.343, -0.0017, 8.536, 1.4918),
    ('after_move', 0.01, 'inventory'): (66.857, 0.0089, 8.911, 0.0065, 5.262, 1.3490),
    ('after_move', 0.01, 'symmetric'): (67.106, 0.0138, 13.817, -0.0010, 8.889, 1.3289),
    ('after_move', 0.01, 'symmetric_matched'): (67.143, 0.0138, 13.772, -0.0007, 8.847, 1.3490),
    ('after_move', 0.5, 'inventory'): (47.320, 0.0058, 5.775, -0.0014, 1.976, 2.1557),
    ('after_move', 0.5, 'symmetric'): (65.941, 0.0141, 14.102, -0.0056, 9.259, 1.1507),
    ('after_move', 0.5, 'symmetric_matched'): (57.829, 0.0115, 11.541, -0.0065, 7.167, 2.1557),
    ('before_move', 0.1, 'inventory'): (64.905, 0.0065, 6.547, -0.0014, 2.931, 1.4918),
    ('before_move', 0.1, 'symmetric'): (68.631, 0.0138, 13.770, -0.0039, 8.845, 1.2908),
    ('before_move', 0.1, 'symmetric_matched'): (68.022, 0.0133, 13.262, 0.0011, 8.404, 1.4918),
    ('before_move', 0.01, 'inventory'): (68.401, 0.0090, 8.969, 0.0054, 5.215, 1.3490),
    ('before_move', 0.01, 'symmetric'): (68.679, 0.0137, 13.729, -0.0003, 8.761, 1.3289),
    ('before_move', 0.01, 'symmetric_matched'): (68.674, 0.0137, 13.676, -0.0013, 8.714, 1.3490),
    ('before_move', 0.5, 'inventory'): (48.568, 0.0059, 5.900, -0.0005, 1.956, 2.1557),
    ('before_move', 0.5, 'symmetric'): (67.975, 0.0140, 13.969, 0.0005, 9.121, 1.1507),
    ('before_move', 0.5, 'symmetric_matched'): (58.348, 0.0115, 11.525, -0.0033, 7.073, 2.1557),
}


def make_strategies(gamma: float, *, matched_symmetric: bool = False) -> dict[str, Any]:
    """The paper's two strategies at risk aversion ``gamma`` (plus, with
    ``matched_symmetric``, the symmetric strategy with the inventory
    strategy's full time-varying spread, as ``"symmetric_matched"``)."""
    cfg = ASConfig(gamma=gamma, k=PARAMS.k, sigma=PARAMS.sigma, T=PARAMS.T)
    out = {"inventory": AvellanedaStoikov(cfg), "symmetric": SymmetricSpread(cfg, spread="constant")}
    if matched_symmetric:
        out["symmetric_matched"] = SymmetricSpread(cfg, spread="matched")
    return out


def compare_row(ours: dict[str, float], paper: dict[str, float], paper_paths: int = PAPER_PATHS) -> dict[str, Any]:
    """Agreement statistics of one row.  The paper's standard errors are
    ``std / sqrt(paper_paths)``; ``z_*`` are differences of means in units
    of the combined standard error ``sqrt(se_ours^2 + se_paper^2)``;
    ``*_std_ratio`` ours / paper.  ``match``: ``|z_profit| <= Z_TOL`` and
    ``|profit_std_ratio - 1| <= STD_RTOL``."""
    out: dict[str, Any] = {}
    for name in ("profit", "final_q"):
        se_p = paper[f"{name}_std"] / math.sqrt(paper_paths)
        se = math.hypot(ours[f"{name}_se"], se_p)
        out[f"z_{name}"] = (ours[f"{name}_mean"] - paper[f"{name}_mean"]) / se
        out[f"{name}_combined_se"] = se
        out[f"{name}_std_ratio"] = ours[f"{name}_std"] / paper[f"{name}_std"]
    out["match"] = bool(abs(out["z_profit"]) <= Z_TOL and abs(out["profit_std_ratio"] - 1) <= STD_RTOL)
    return out


def run(n_paths: int = PAPER_PATHS, seed: int = 2008, timings=(MATCHING_TIMING,), *,
        gammas=GAMMAS, matched_symmetric: bool = True) -> dict[str, Any]:
    """Simulate the tables.  Returns a JSON-able dict: ``rows`` (one per
    timing, gamma and strategy, with our summary, the paper's row when it
    has one, and the comparison) and the settings.

    Randomness: for each gamma one ``SeedSequence((seed, index of gamma))``;
    every strategy and timing of that gamma starts a fresh generator from
    it, so they see the same price paths and fill uniforms.
    """
    for timing in timings:
        if timing not in FILL_TIMINGS:
            raise ValueError(f"unknown fill timing {timing!r}; expected one of {FILL_TIMINGS}")
    rows = []
    for timing in timings:
        params = replace(PARAMS, fill_timing=timing)
        for gamma in gammas:
            gi = GAMMAS.index(gamma) if gamma in GAMMAS else len(GAMMAS) + int(gamma * 1e6)
            for name, strat in make_strategies(gamma, matched_symmetric=matched_symmetric).items():
                rng = np.random.default_rng(np.random.SeedSequence((seed, gi)))
                ours = simulate(strat, params, n_paths=n_paths, rng=rng).summary()
                row: dict[str, Any] = dict(fill_timing=timing, gamma=gamma, strategy=name, ours=ours)
                paper = PAPER.get((gamma, name))
                if paper is not None:
                    row["paper"] = dict(paper)
                    row["comparison"] = compare_row(ours, paper)
                    row["known_deviation"] = KNOWN_DEVIATIONS.get((gamma, name))
                rows.append(row)
    return dict(paper="Avellaneda & Stoikov (2008), Quantitative Finance 8(3), sec. 3.3",
                params=dict(s0=PARAMS.s0, T=PARAMS.T, sigma=PARAMS.sigma, dt=PARAMS.dt,
                            A=PARAMS.A, k=PARAMS.k, q0=PARAMS.q0),
                n_paths=n_paths, paper_paths=PAPER_PATHS, seed=seed, timings=list(timings),
                criteria=dict(z_tol=Z_TOL, std_rtol=STD_RTOL), rows=rows)


def format_report(result: dict[str, Any]) -> str:
    """Our table beside the paper's, one block per fill timing."""
    lines = [f"Avellaneda & Stoikov (2008) sec. 3.3: {result['n_paths']:,} paths (paper: "
             f"{result['paper_paths']:,}), seed {result['seed']}",
             f"match: mean profit within {Z_TOL:g} combined SE and std within "
             f"{STD_RTOL:.0%} of the paper's; z = (ours - paper) / sqrt(SE_ours^2 + SE_paper^2)"]
    head = (f"{'gamma':>5} {'strategy':<17} {'spread':>11} {'profit mean':>15} {'z':>6} "
            f"{'profit std':>13} {'final q mean':>14} {'final q std':>12}  verdict")
    sub = (f"{'':>5} {'':<17} {'ours paper':>11} {'ours   paper':>15} {'':>6} "
           f"{'ours paper':>13} {'ours  paper':>14} {'ours paper':>12}")
    for timing in result["timings"]:
        note = " (matches the paper)" if timing == MATCHING_TIMING else ""
        lines += ["", f"fill timing: {timing}{note}", head, sub]
        for r in (r for r in result["rows"] if r["fill_timing"] == timing):
            o, p = r["ours"], r.get("paper")
            if p is None:
                lines.append(f"{r['gamma']:>5g} {r['strategy']:<17} {o['spread_mean']:5.2f} {'':>5} "
                             f"{o['profit_mean']:7.2f} {'':>7} {'':>6} {o['profit_std']:6.2f} {'':>6} "
                             f"{o['final_q_mean']:6.2f} {'':>7} {o['final_q_std']:5.2f} {'':>6}  (no paper row)")
                continue
            c = r["comparison"]
            if c["match"]:
                verdict = "match"
            elif r.get("known_deviation"):
                verdict = "KNOWN DEVIATION"
            else:
                verdict = "MISMATCH"
            lines.append(f"{r['gamma']:>5g} {r['strategy']:<17} {o['spread_mean']:5.2f} {p['spread']:5.2f} "
                         f"{o['profit_mean']:7.2f} {p['profit_mean']:7.2f} {c['z_profit']:6.1f} "
                         f"{o['profit_std']:6.2f} {p['profit_std']:6.2f} "
                         f"{o['final_q_mean']:6.2f} {p['final_q_mean']:7.3f} "
                         f"{o['final_q_std']:5.2f} {p['final_q_std']:6.2f}  {verdict}")
    lines += ["", "spread: ours is the time average of ask - bid; the paper's column is "
              "(2/gamma) ln(1 + gamma/k), the symmetric strategy's constant spread.",
              "symmetric_matched: the symmetric strategy with the inventory strategy's full "
              "time-varying spread (not in the paper)."]
    for (g, s), why in KNOWN_DEVIATIONS.items():
        lines.append(f"known deviation (gamma={g:g}, {s}): {why}")
    return "\n".join(lines)
