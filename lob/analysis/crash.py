"""Stress metrics of a run: wicks, liquidations, market makers' behaviour,
passive leverage.  Every function takes a :class:`lob.sim.model.Result` and
returns a pandas DataFrame (one row per book, venue, kind or agent).

Units: prices in quote units (USDT), times in seconds of simulated time,
notionals in quote units, wick depth as a fraction of the opening price.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..margin import risk_engine as RE
from ..sim import layout as L


def _quote_units(res, book: int) -> tuple[float, float]:
    """(quote units per tick, quote atoms per quote unit) of ``book``."""
    spec = res.sim.spec
    bk = spec.books[book]
    quote = spec.assets[res.sim.asset_ix[bk.quote]]
    return float(bk.tick), float(1 / quote.atom)


def wicks(res, shock_s: float, *, pre_s: float = 60.0) -> pd.DataFrame:
    """Per book: ``open`` (median trade price over the ``pre_s`` seconds
    before ``shock_s``), ``low`` (lowest trade after it), ``t_low_s``
    (seconds after the shock), ``wick`` (1 - low / open), ``close`` (last
    trade), ``recovered`` ((close - low) / (open - low))."""
    f = res.fills
    rows = []
    t0 = int(shock_s * 1e9)
    for b, bk in enumerate(res.sim.spec.books):
        tick, _ = _quote_units(res, b)
        m = f["book"] == b
        ts, px = f["ts"][m], f["price"][m]
        pre = px[(ts >= t0 - int(pre_s * 1e9)) & (ts < t0)]
        post_m = ts >= t0
        if not len(pre) or not post_m.any():
            rows.append(dict(book=b, venue=bk.venue, symbol=f"{bk.base}/{bk.quote}"))
            continue
        open_ = float(np.median(pre)) * tick
        k = int(np.argmin(px[post_m]))
        low = float(px[post_m][k]) * tick
        close = float(px[-1]) * tick
        rows.append(dict(book=b, venue=bk.venue, symbol=f"{bk.base}/{bk.quote}", open=open_, low=low,
                         t_low_s=(int(ts[post_m][k]) - t0) / 1e9, wick=1.0 - low / open_, close=close,
                         recovered=(close - low) / (open_ - low) if open_ > low else np.nan))
    return pd.DataFrame(rows)


def _first_takeover_s(me) -> pd.Series:
    """Per account (index) the time of its first takeover, s of simulated
    time, from a run's ``margin_events`` frame (empty when none)."""
    if me.empty:
        return pd.Series(dtype=float)
    return me.loc[me["kind"] == RE.EV_TAKEOVER].groupby("account")["ts"].min() / 1e9


def loopers(res) -> pd.DataFrame:
    """Per exchange looper (a Python strategy with an ``unwind_ns``
    attribute, e.g. ``usde_depeg.ExchangeLooper``): ``agent``, ``account``,
    ``unwind_s`` (when it started unwinding, s of simulated time; NaN:
    never) and ``taken_over_s`` (when the venue's risk engine took its
    account over; NaN: never)."""
    taken = _first_takeover_s(res.frame("margin_events")).to_dict()
    rows = []
    for a, st in sorted(res.sim.strategies.items()):
        if not hasattr(st, "unwind_ns"):
            continue
        acct = int(res.sim.W.agents[a, L.A_ACCOUNT])
        rows.append(dict(agent=int(a), account=acct,
                         unwind_s=st.unwind_ns / 1e9 if st.unwind_ns is not None else np.nan,
                         taken_over_s=taken.get(acct, np.nan)))
    return pd.DataFrame(rows, columns=["agent", "account", "unwind_s", "taken_over_s"])


def liquidations(res) -> pd.DataFrame:
    """Per venue, event kind of the risk engines and ``market`` (``spot``
    for a collateral asset or loan, ``perp`` for a perpetual position,
    ``-`` for account-level events such as a takeover): ``count``, accounts
    involved, executed ``notional`` and ``fees`` (quote units), fund change.
    Slices and ADL on perpetuals are the perp liquidations; slices of
    collateral the exchange's spot liquidations."""
    cols = ["venue", "kind", "market", "count", "accounts", "notional", "fees", "fund_delta"]
    me = res.frame("margin_events")
    if me.empty:
        return pd.DataFrame(columns=cols)
    market = np.where(me["item"] == RE.ITEM_PERP, "perp", np.where(me["item"] == RE.ITEM_ASSET, "spot", "-"))
    me = me.assign(market=market)
    rows = []
    for (venue, kind, mk), g in me.groupby(["venue", "kind", "market"]):
        eng = res.sim.risk_engines[venue]
        apu = float(eng.cfg.atoms_per_unit[eng.q])
        rows.append(dict(venue=venue, kind=RE.EVENT_NAMES.get(int(kind), str(kind)), market=mk, count=len(g),
                         accounts=g["account"].nunique(), notional=g["notional"].sum() / apu,
                         fees=g["fee"].sum() / apu, fund_delta=g["fund_delta"].sum() / apu))
    return pd.DataFrame(rows, columns=cols)


def liquidation_volumes(res) -> pd.DataFrame:
    """Liquidation volume by type and venue, in USD: ``exchange takeover``
    (accounts taken over by a venue's risk engine; notional: everything
    its slices then sold or bought), ``spot liquidation`` (slices of
    collateral and loans), ``perp liquidation`` (slices of perpetual
    positions), ``ADL`` (positions closed against profitable traders) and,
    per chain, ``lending liquidation`` (debt repaid by the liquidation
    bot).  Columns: venue, type, count (events), accounts, notional_usd."""
    rows = []
    me = res.frame("margin_events")
    if not me.empty:
        for venue, g in me.groupby("venue"):
            eng = res.sim.risk_engines[venue]
            apu = float(eng.cfg.atoms_per_unit[eng.q])
            take = g[g["kind"] == RE.EV_TAKEOVER]
            taken = set(take["account"])
            sl = g[g["kind"] == RE.EV_SLICE]
            adl = g[g["kind"] == RE.EV_ADL]
            perp = sl["item"] == RE.ITEM_PERP
            for typ, sel, count in (("exchange takeover", sl[sl["account"].isin(taken)], len(take)),
                                    ("spot liquidation", sl[~perp], None), ("perp liquidation", sl[perp], None),
                                    ("ADL", adl, None)):
                rows.append(dict(venue=venue, type=typ, count=len(sel) if count is None else count,
                                 accounts=len(taken) if count is not None else sel["account"].nunique(),
                                 notional_usd=float(sel["notional"].sum()) / apu))
    for name, ch in getattr(res.sim, "chains", {}).items():
        liq = ch.liquidation_table()
        rows.append(dict(venue=name, type="lending liquidation", count=len(liq),
                         accounts=len(set(liq["user"].tolist())) if "user" in liq.dtype.names else len(liq),
                         notional_usd=float(liq["debt_repaid_usd"].sum())))
    return pd.DataFrame(rows, columns=["venue", "type", "count", "accounts", "notional_usd"])


def passive_leverage(res) -> pd.DataFrame:
    """Per watched account: leverage (exposure / net equity) at the start, its
    maximum while the account was not yet taken over, the lowest margin
    ratio, and whether (and when, s) it was first taken over."""
    ms = res.frame("margin_states")
    if ms.empty:
        return pd.DataFrame(columns=["account", "venue", "leverage_start", "leverage_max", "ratio_min",
                                     "taken_over_s", "closed"])
    first_take = _first_takeover_s(res.frame("margin_events"))
    rows = []
    for acct, g in ms.groupby("account"):
        normal = g[g["status"] == 0]
        lev = normal["leverage"].replace(np.inf, np.nan)
        rows.append(dict(account=acct, venue=g["venue"].iloc[0], leverage_start=float(g["leverage"].iloc[0]),
                         leverage_max=float(lev.max()) if len(lev) else np.nan,
                         ratio_min=float(g["ratio"].min()),
                         taken_over_s=float(first_take[acct]) if acct in first_take.index else np.nan,
                         closed=bool((g["status"] == 2).any())))
    return pd.DataFrame(rows)


def market_makers(res) -> pd.DataFrame:
    """Per market maker with risk controls (a strategy with a ``risk``
    attribute, or a compiled guarded market maker): its ``book``, ``venue``
    and ``symbol``, first pull time and trigger, number of pulls and re-entries,
    whether its account was taken over, and its mark-to-market PnL at the
    last trade (quote units)."""
    sim = res.sim
    taken = set(_first_takeover_s(res.frame("margin_events")).index)
    f = res.fills
    rows = []
    from ..sim import guarded as G
    mms = {a: st for a, st in sim.strategies.items() if getattr(st, "risk", None) is not None}
    # compiled guarded market makers (KIND_GUARDED_MM) keep their pull record in the world
    mms.update({int(a): None for a in np.nonzero(sim.W.agents[:, L.A_KIND] == L.KIND_GUARDED_MM)[0]})
    for a in sorted(mms):
        st = mms[a]
        if st is None:
            g = G.summary(sim.W, a)
            first, trig, n_pulls, n_re = g["first_pull_ns"], g["trigger"], g["pulls"], g["reentries"]
            b = int(sim.W.ai[a, 0])
        else:
            risk = st.risk
            first = risk.pulls[0][0] if risk.pulls else None
            trig = risk.pulls[0][1] if risk.pulls else None
            n_pulls, n_re = len(risk.pulls), len(risk.reentries)
            b = st.book
        acct = int(sim.W.agents[a, L.A_ACCOUNT])
        tick, _ = _quote_units(res, b)
        last = f["price"][f["book"] == b]
        px = float(last[-1]) * tick if len(last) else np.nan
        bk = sim.spec.books[b]
        ib, iq = sim.asset_ix[bk.base], sim.asset_ix[bk.quote]
        atom_b = float(sim.spec.assets[ib].atom)
        atom_q = float(sim.spec.assets[iq].atom)
        v1 = res.balances[acct, iq] * atom_q + res.balances[acct, ib] * atom_b * px
        v0 = sim.initial_balances[acct, iq] * atom_q + sim.initial_balances[acct, ib] * atom_b * px
        rows.append(dict(agent=a, account=acct, book=int(b), venue=bk.venue, symbol=f"{bk.base}/{bk.quote}",
                         first_pull_s=first / 1e9 if first is not None else np.nan,
                         trigger=trig, pulls=n_pulls,
                         reentries=n_re, taken_over=acct in taken, pnl=v1 - v0))
    return pd.DataFrame(rows)


def depth_profile(res, book: int, *, every_s: float = 1.0) -> pd.DataFrame:
    """Per snapshot of ``book``: best bid / ask (quote units), spread (bps)."""
    s = res.snapshots
    s = s[s["book"] == book]
    tick, _ = _quote_units(res, book)
    bid = s["bid"] * tick
    ask = s["ask"] * tick
    ok = (s["bid"] > 0) & (s["ask"] > 0)
    mid = np.where(ok, 0.5 * (bid + ask), np.nan)
    return pd.DataFrame(dict(t_s=s["ts"] / 1e9, bid=np.where(s["bid"] > 0, bid, np.nan),
                             ask=np.where(s["ask"] > 0, ask, np.nan),
                             spread_bps=np.where(ok, (ask - bid) / mid * 1e4, np.nan),
                             last=s["last"] * tick))


def stress(res, book: int, rows=None) -> pd.DataFrame:
    """Per snapshot (each ``snapshot_s``) of ``book``: time (s), mid and
    spread (bps), USD depth within 1/2/5/10% of the mid on each side (lots x
    lot units x mid), and the slippage (bps against the mid) of 100k, 1M and
    10M USD market sells into the live bids (NaN where the bids cannot
    absorb it).  ``rows``: the book's snapshots if already picked
    (:func:`snapshots_by_book`)."""
    if rows is None:
        s = res.snapshots
        s = s[s["book"] == book]
    else:
        s = rows
    tick, _ = _quote_units(res, book)
    bk = res.sim.spec.books[book]
    lot = float(bk.lot)
    ok = (s["bid"] > 0) & (s["ask"] > 0)
    mid = np.where(ok, 0.5 * (s["bid"] + s["ask"]) * tick, np.nan)
    out = dict(t_s=s["ts"] / 1e9, mid=mid, spread_bps=np.where(ok, (s["ask"] - s["bid"]) * tick / mid * 1e4, np.nan))
    for pct in (1, 2, 5, 10):
        for side in ("bid", "ask"):
            out[f"{side}_depth_{pct}pct_usd"] = s[f"{side}_{pct}pct"] * lot * mid
    for name, col in (("sell_100k_bps", "sell_100k"), ("sell_1m_bps", "sell_1m"), ("sell_10m_bps", "sell_10m")):
        v = s[col].astype(float)
        out[name] = np.where(v >= 0, v / 100.0, np.nan)
    return pd.DataFrame(out)


def snapshots_by_book(res) -> dict:
    """Book -> its snapshot rows in log order (one sort instead of a scan per book)."""
    s = res.snapshots
    order = np.argsort(s["book"], kind="stable")
    books = s["book"][order]
    cut = np.flatnonzero(np.diff(books)) + 1
    return {int(books[i]): s[o] for i, o in zip(np.r_[0, cut], np.split(order, cut))} if len(s) else {}


def resilience(res, book: int, shock_s: float, *, pre_s: float = 300.0, band: str = "bid_depth_2pct_usd"
               ) -> dict:
    """Depth resilience of ``book`` around ``shock_s``: the pre-shock level of
    ``band`` (median over ``pre_s`` seconds), its minimum after the shock and
    when, and the seconds after that minimum until it is back to 50% and
    90% of the pre-shock level (NaN: not within the run)."""
    st = stress(res, book)
    pre = st[(st["t_s"] >= shock_s - pre_s) & (st["t_s"] < shock_s)][band].median()
    post = st[st["t_s"] >= shock_s]
    if post.empty or not pre > 0:
        return dict(book=book, pre=pre, low=np.nan, t_low_s=np.nan, back_50_s=np.nan, back_90_s=np.nan)
    k = int(np.nanargmin(post[band].to_numpy()))
    t_low = float(post["t_s"].iloc[k])
    after = post.iloc[k:]
    out = dict(book=book, pre=float(pre), low=float(post[band].iloc[k]), t_low_s=t_low - shock_s)
    for frac in (0.5, 0.9):
        hit = after[after[band] >= frac * pre]
        out[f"back_{int(frac * 100)}_s"] = float(hit["t_s"].iloc[0] - t_low) if len(hit) else np.nan
    return out


# ---------------------------------------------------------------- the crash-replay targets
def oct10_targets(res, shock_s: float, *, big: str = "BIG", calm: str = "CALM", pool_low: float | None = None
                  ) -> pd.DataFrame:
    """The targets of the crash-replay issue beside the measured values of a
    run of ``oct-10-2025`` (or any run with the same books): one row per
    target with ``target``, ``measured`` and ``met``.  Altcoins are the books
    whose base starts with ``ALT``; lows are measured after ``shock_s``.
    ``pool_low``: the on-chain pool's lowest USDe price (from the chain)."""
    w = wicks(res, shock_s)
    w["base"] = w["symbol"].str.split("/").str[0]
    b = w[w["venue"] == big].set_index("base")
    c = w[w["venue"] == calm].set_index("base")
    alts = b[b.index.str.startswith("ALT")]
    rows = []

    def add(name, target, measured, met):
        rows.append(dict(target_name=name, target=target, measured=measured, met=bool(met)))

    if "BTC" in b.index:
        v = b.loc["BTC", "wick"]
        add("BTC peak to trough on the large exchange", "10-20%", f"{v:.1%}", 0.10 <= v <= 0.20)
    if "ETH" in b.index:
        v = b.loc["ETH", "wick"]
        add("ETH peak to trough", "15-25%", f"{v:.1%}", 0.15 <= v <= 0.25)
    if len(alts):
        med = float(alts["wick"].median())
        share = float((alts["wick"] >= 0.8).mean())
        add("altcoin wick median", "65-80%", f"{med:.1%}", 0.65 <= med <= 0.80)
        add("altcoins at 80% or deeper", ">= 25%", f"{share:.0%}", share >= 0.25)
        t_low = alts["t_low_s"] / 60.0
        frac = float(((t_low >= 20) & (t_low <= 40)).mean())
        add("altcoin lows 20-40 min after the shock", "most", f"{frac:.0%} (median {t_low.median():.0f} min)",
            frac > 0.5)
        # partial recovery within the hour: the price an hour after the low, against the low and the open
        f = res.fills
        rec = []
        for base, r in alts.iterrows():
            bk = int(r["book"])
            m = (f["book"] == bk) & (f["ts"] >= int((shock_s + r["t_low_s"] + 3600) * 1e9))
            if m.any() and r["open"] > r["low"]:
                px = float(f["price"][m][0]) * float(res.sim.spec.books[bk].tick)
                rec.append((px - r["low"]) / (r["open"] - r["low"]))
        if rec:
            add("partial recovery within the hour (median share of the wick regained)", "> 0",
                f"{np.median(rec):.0%}", np.median(rec) > 0)
    if "USDe" in b.index:
        v = b.loc["USDe", "low"]
        add("USDe low on the large exchange", "<= 0.70", f"{v:.4f}", v <= 0.70)
    if pool_low is not None:
        add("USDe on the on-chain pool", ">= 0.97", f"{pool_low:.4f}", pool_low >= 0.97)
    for lst, und in (("WBETH", "ETH"), ("BNSOL", "SOL")):
        if lst in b.index and und in b.index:
            gap = b.loc[lst, "wick"] - b.loc[und, "wick"]
            add(f"{lst} depegs on the large exchange (wick beyond {und}'s)", "> 0",
                f"{b.loc[lst, 'wick']:.1%} vs {b.loc[und, 'wick']:.1%}", gap > 0.02)
    both = [a for a in c.index if a in alts.index]
    if both:
        ratio = float(np.median([c.loc[a, "wick"] / b.loc[a, "wick"] for a in both if b.loc[a, "wick"] > 0]))
        add("the calmer exchange falls much less (median wick ratio calm / large)", "well below 1",
            f"{ratio:.2f}", ratio < 0.5)
    return pd.DataFrame(rows)
