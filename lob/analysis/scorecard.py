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


def _mid_table(snaps):
    """(times, mids) of the snapshots with both sides (what ``_mid_at`` searches)."""
    ok = (snaps["bid"] > 0) & (snaps["ask"] > 0)
    return snaps["ts"][ok], (snaps["bid"][ok] + snaps["ask"][ok]) / 2.0


def _mid_at(snaps, t, table=None):
    """Mid (ticks) at times ``t`` from the snapshot log (last snapshot at or
    before); ``table``: ``_mid_table(snaps)`` if already made."""
    ts, mid = _mid_table(snaps) if table is None else table
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
    mids_of = getattr(result, "mid_table", None) or _mid_table(snaps)     # one table for the three look-ups
    # PnL from the balances (exact), marked at the last mid
    init = sim.initial_balances[acct] if hasattr(sim, "initial_balances") else None
    cash = (result.balances[acct, quote] - (init[quote] if init is not None else 0)) * atom_q
    inv_lots = (result.balances[acct, base] - (init[base] if init is not None else 0)) // lot
    last_mid = _mid_at(snaps, np.array([snaps["ts"][-1] if len(snaps) else 0]), mids_of)[0]
    tick_value = scale * atom_q                        # quote units per (tick x lot)
    mtm = cash + inv_lots * last_mid * tick_value if np.isfinite(last_mid) else np.nan
    # quoting: its limit orders' distance from the mid when sent
    sub = result.submissions
    mine = (sub["agent"] == agent) & (sub["type"] == C.LIMIT)
    mids = _mid_at(snaps, sub["arrive_ts"][mine], mids_of)
    dist = np.abs(sub["price"][mine] - mids)
    quoted_lots = int(sub["qty"][mine].sum())
    # adverse selection on maker fills: mid move against the agent after each fill
    mf = f[as_maker]
    after = _mid_at(snaps, mf["ts"] + int(horizon_s * 1e9), mids_of)
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


# ---------------------------------------------------------------- many agents, as a table
def _intervals_union(starts, ends) -> float:
    """Total length of the union of ``[start, end)`` intervals."""
    if len(starts) == 0:
        return 0.0
    o = np.argsort(starts, kind="stable")
    s, e = np.asarray(starts)[o], np.asarray(ends)[o]
    total, cur_s, cur_e = 0, s[0], e[0]
    for a, b in zip(s[1:], e[1:]):
        if a > cur_e:
            total += cur_e - cur_s
            cur_s, cur_e = a, b
        elif b > cur_e:
            cur_e = b
    return float(total + cur_e - cur_s)


def realized_pnl(prices, qtys, buys) -> tuple[float, int, float]:
    """Average-cost realized PnL of a fill sequence (price units x lots), the
    final position (lots) and its average entry price.  ``buys`` is True
    where the agent bought.  O(fills)."""
    pos, avg, realized = 0, 0.0, 0.0
    for px, q, b in zip(prices, qtys, buys):
        d = q if b else -q
        if pos == 0 or (pos > 0) == (d > 0):
            avg = (avg * abs(pos) + px * q) / (abs(pos) + q)
            pos += d
            continue
        close = min(q, abs(pos))
        realized += (px - avg) * close * (1 if pos > 0 else -1)
        pos += d
        if pos != 0 and (pos > 0) == (d > 0):      # flipped: the rest opens at px
            avg = px
        elif pos == 0:
            avg = 0.0
    return realized, pos, avg


def _quoting_agents(result) -> list:
    """Agents of a market-maker kind (ladder, compiled plug-in, Python) that
    sent limit orders on both sides.  One pass over the submission log."""
    W = result.sim.W
    sub = result.submissions
    lim = sub["type"] == C.LIMIT
    both = set()
    if lim.any():
        agent = sub["agent"][lim]
        buy = sub["side"][lim] == C.BUY
        n = max(W.agents.shape[0], int(agent.max()) + 1)
        both = set(np.nonzero((np.bincount(agent[buy], minlength=n) > 0)
                              & (np.bincount(agent[~buy], minlength=n) > 0))[0].tolist())
    out = []
    for a in sorted(both):
        kind = int(W.agents[a, L.A_KIND])
        if kind == L.KIND_LADDER_MM or kind >= 100 or kind == L.KIND_PYTHON:
            out.append(a)
    return out


class _AgentLogs:
    """The logs of a run restricted to one agent's rows (same interface as a
    Result for :func:`scorecard`); built from per-agent index ranges so a
    table of many agents costs one sort per log, not one scan per agent."""

    def __init__(self, result, fills, submissions, events, mid_table):
        self.sim, self.balances, self.snapshots = result.sim, result.balances, result.snapshots
        self.fills, self.submissions, self.events = fills, submissions, events
        self.mid_table = mid_table


def _grouped(keys):
    """``(order, sorted keys)``: rows sorted by ``keys`` (stable)."""
    k = keys
    if len(keys) and -(1 << 15) <= keys.min() and keys.max() < (1 << 15):
        k = keys.astype(np.int16)      # the same stable order; numpy sorts 16-bit keys by radix, O(n)
    order = np.argsort(k, kind="stable")
    return order, keys[order]


def _rows_of(order, sorted_keys, a):
    lo, hi = np.searchsorted(sorted_keys, a), np.searchsorted(sorted_keys, a, side="right")
    return order[lo:hi]


def scorecards(result, agents=None, horizon_s: float = 1.0):
    """A DataFrame, one row per agent (default: every agent that quoted both
    sides with limit orders and is a market-maker kind: ladder, compiled
    plug-in or Python strategy).  Columns: the :func:`scorecard` figures
    plus ``realized_pnl`` (average cost, quote units), ``time_in_market``
    and ``time_with_bids`` (fractions of the run with at least one resting
    order / bid), ``mean_resting_lots`` (time-weighted, at their size when
    posted), and, for unified accounts, ``margin_ratio_min``, ``takeovers``,
    ``liquidated_notional`` (quote units) and ``closed``."""
    import pandas as pd

    sim = result.sim
    W = sim.W
    agents = _quoting_agents(result) if agents is None else list(agents)
    ev = result.events
    f = result.fills
    t_end = float(sim.t_end)
    me = ms = None
    if getattr(sim, "risk_engines", None):
        me = result.frame("margin_events")
        ms = result.frame("margin_states")
    rows = []
    fm, fm_k = _grouped(f["maker_agent"])
    ft, ft_k = _grouped(f["taker_agent"])
    sb, sb_k = _grouped(result.submissions["agent"])
    eg, eg_k = _grouped(ev["agent"])
    mids = _mid_table(result.snapshots)
    # the margin tables by account, once
    ms_of = me_of = None
    if ms is not None and not ms.empty:
        ms_of = dict(tuple(ms.groupby("account", sort=False)))
        me_of = dict(tuple(me.groupby("account", sort=False)))
    for a in agents:
        fr = np.union1d(_rows_of(fm, fm_k, a), _rows_of(ft, ft_k, a))
        view = _AgentLogs(result, f[fr], result.submissions[np.sort(_rows_of(sb, sb_k, a))],
                          ev[np.sort(_rows_of(eg, eg_k, a))], mids)
        card = scorecard(view, a, horizon_s)
        book = int(W.agents[a, L.A_BOOK])
        tick_value = int(W.books[book, L.BK_SCALE]) * float(sim.spec.assets[int(W.books[book, L.BK_QUOTE])].atom)
        ff = view.fills
        buys = np.where(ff["taker_agent"] == a, ff["taker_side"] == C.BUY, ff["taker_side"] == C.SELL)
        rp, pos, avg = realized_pnl(ff["price"].tolist(), ff["qty"].tolist(), buys.tolist())
        card["realized_pnl"] = rp * tick_value
        card["position_lots"] = pos
        card["avg_entry_ticks"] = avg
        # resting intervals of its orders, from the order-event log
        e = view.events
        acc = e[e["kind"] == C.EV_ACCEPTED]
        done = e[(e["kind"] == C.EV_FILLED) | (e["kind"] == C.EV_CANCELLED)]
        end_of = dict(zip(done["order_id"].tolist(), done["ts"].tolist()))
        starts = acc["ts"].astype(float)
        ends = np.array([end_of.get(o, t_end) for o in acc["order_id"].tolist()], float)
        kept = len(ev) > 0                  # the order-event log may be off (ScenarioSpec.logs)
        card["time_in_market"] = _intervals_union(starts, ends) / t_end if t_end and kept else np.nan
        bid = acc["side"] == C.BUY
        card["time_with_bids"] = _intervals_union(starts[bid], ends[bid]) / t_end if t_end and kept else np.nan
        card["mean_resting_lots"] = float((acc["qty"] * (ends - starts)).sum() / t_end) if t_end and kept \
            else np.nan
        acct = int(W.agents[a, L.A_ACCOUNT])
        if ms_of is not None and acct in ms_of:
            mine_s = ms_of[acct]
            mine_e = me_of.get(acct, me.iloc[:0])
            eng = next(iter(sim.risk_engines.values()))
            apu = float(eng.cfg.atoms_per_unit[eng.q])
            card["margin_ratio_min"] = float(mine_s["ratio"].min())
            card["takeovers"] = int((mine_e["kind"] == 2).sum())
            card["liquidated_notional"] = float(mine_e["notional"].sum()) / apu
            card["closed"] = bool((mine_s["status"] == 2).any())
        rows.append(card)
    return pd.DataFrame(rows)
