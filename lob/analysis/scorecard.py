"""A scorecard for any agent in any run (market makers first of all).

``scorecard(result, agent)`` returns a dict of headline figures and
``inventory_path(result, agent)`` the inventory through time, both computed
from the run's logs (fills, submissions, snapshots) and final balances:

* fills as maker and as taker, lots traded, fill rate (lots filled per lot
  quoted);
* PnL: cash change, inventory change, and mark-to-market PnL at the last
  mid (quote-asset units);
* inventory: final, min, max (lots);
* quoted half-spread: the mean distance of its limit orders from the mid
  at submission (ticks);
* adverse selection: the mid's move over ``horizon_s`` after each of its
  maker fills, signed against the agent (ticks; positive = the market moved
  against it);
* whether it was ever rejected for lack of funds.

Units: ticks and lots of the agent's book; money in quote-asset units.
"""
from __future__ import annotations

import numpy as np

from ..core import codes as C
from ..sim import layout as L


def _mid_at(snaps, t):
    """Mid (ticks) at times ``t`` from the snapshot log (last snapshot at or before)."""
    ok = (snaps["bid"] > 0) & (snaps["ask"] > 0)
    ts = snaps["ts"][ok]
    mid = (snaps["bid"][ok] + snaps["ask"][ok]) / 2.0
    if len(ts) == 0:
        return np.full(len(t), np.nan)
    i = np.searchsorted(ts, t, side="right") - 1
    out = mid[np.clip(i, 0, len(mid) - 1)]
    out[i < 0] = np.nan
    return out


def inventory_path(result, agent: int):
    """(ts ns, inventory in lots) after each of the agent's fills."""
    f = result.fills
    mine = (f["maker_agent"] == agent) | (f["taker_agent"] == agent)
    f = f[mine]
    buys = np.where(f["taker_agent"] == agent, f["taker_side"] == C.BUY, f["taker_side"] == C.SELL)
    delta = np.where(buys, f["qty"], -f["qty"])
    return f["ts"], np.cumsum(delta)


def scorecard(result, agent: int, horizon_s: float = 1.0) -> dict:
    sim = result.sim
    W = sim.W
    acct = int(W.agents[agent, L.A_ACCOUNT])
    book = int(W.agents[agent, L.A_BOOK])
    base = int(W.books[book, L.BK_BASE])
    quote = int(W.books[book, L.BK_QUOTE])
    lot = int(W.books[book, L.BK_LOT])
    scale = int(W.books[book, L.BK_SCALE])
    atom_q = float(sim.spec.assets[quote].atom)
    f = result.fills
    as_maker = f["maker_agent"] == agent
    as_taker = f["taker_agent"] == agent
    ts, inv = inventory_path(result, agent)
    snaps = result.snapshots
    # PnL from the balances (exact), marked at the last mid
    init = sim.initial_balances[acct] if hasattr(sim, "initial_balances") else None
    cash = (result.balances[acct, quote] - (init[quote] if init is not None else 0)) * atom_q
    inv_lots = (result.balances[acct, base] - (init[base] if init is not None else 0)) // lot
    last_mid = _mid_at(snaps, np.array([snaps["ts"][-1] if len(snaps) else 0]))[0]
    tick_value = scale * atom_q                        # quote units per (tick x lot)
    mtm = cash + inv_lots * last_mid * tick_value if np.isfinite(last_mid) else np.nan
    # quoting: its limit orders' distance from the mid when sent
    sub = result.submissions
    mine = (sub["agent"] == agent) & (sub["type"] == C.LIMIT)
    mids = _mid_at(snaps, sub["arrive_ts"][mine])
    dist = np.abs(sub["price"][mine] - mids)
    quoted_lots = int(sub["qty"][mine].sum())
    # adverse selection on maker fills: mid move against the agent after each fill
    mf = f[as_maker]
    after = _mid_at(snaps, mf["ts"] + int(horizon_s * 1e9))
    sign = np.where(mf["taker_side"] == C.BUY, -1.0, 1.0)    # maker sold when the taker bought
    adverse = -(after - mf["price"]) * sign
    ev = result.events
    rejected = ev[(ev["agent"] == agent) & (ev["kind"] == C.EV_REJECTED) & (ev["reason"] == C.R_INSUFFICIENT_FUNDS)]
    return {
        "agent": agent, "fills_maker": int(as_maker.sum()), "fills_taker": int(as_taker.sum()),
        "lots_traded": int(f["qty"][as_maker | as_taker].sum()),
        "fill_rate": float(f["qty"][as_maker].sum() / quoted_lots) if quoted_lots else float("nan"),
        "cash_change": float(cash), "inventory_change_lots": int(inv_lots), "mtm_pnl": float(mtm),
        "inventory_min": int(inv.min()) if len(inv) else 0, "inventory_max": int(inv.max()) if len(inv) else 0,
        "quoted_half_spread_ticks": float(np.nanmean(dist)) if len(dist) else float("nan"),
        "adverse_selection_ticks": float(np.nanmean(adverse)) if len(adverse) else float("nan"),
        "rejected_for_funds": int(len(rejected)),
    }
