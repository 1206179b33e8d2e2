"""The exchange risk engine: takeover, liquidation slices, insurance fund, ADL.

The risk engine never looks at *why* an account fell below maintenance; it
looks at the whole unified account (see :mod:`lob.margin.unified`).

The plan (one account)
----------------------
1. **Takeover** when the margin ratio ``V_RATIO < takeover_ratio`` (strictly
   below; default 1.0).  The caller cancels the account's resting orders.
2. **Slices**: :func:`next_slice` is a pure function of the account's rows,
   the prices and the policy; it returns the next order.  The caller sends it
   to the book, applies the fills (:func:`~lob.margin.unified.spot_fill`,
   :func:`~lob.margin.perps.perp_fill`) and the fee (:func:`charge_fee`),
   and calls it again: the outcome depends on the liquidity really there.
   The items that can be liquidated: every non-quote asset held (>= 1 lot:
   SELL it for the quote asset), every non-quote loan (BUY it back, rounded
   up to whole lots) and every perp position (reduce-only: SELL a long, BUY a
   short).  Quote-asset loans are repaid by the proceeds automatically.
   Which item goes next is the *order policy*:

   * ``ORDER_MOST_LIQUID``: the highest caller-supplied liquidity score
     (``asset_score[a]``, ``perp_score[m]``, e.g. USD depth within 2% of mid;
     ties: assets before perps, lower index first);
   * ``ORDER_PRO_RATA``: round robin over the items in index order (assets,
     then perps), the ``step``-th slice hitting item ``step % n_items``; each
     slice is ``slice_frac`` of the item's current size, or with
     ``slice_usd > 0`` the item's share ``value_i / sum(values)`` of
     ``slice_usd``: every item shrinks by the same fraction per round;
   * ``ORDER_LARGEST_LOSS``: the item with the largest loss first: perps by
     ``-UPL`` (USD), assets and loans by ``units * (ref_px - px)`` against a
     caller-supplied reference USD price (e.g. the price at takeover; nan =
     no loss); ties by USD size, then index.

   Slice size (not pro rata): ``slice_frac`` of the item's current size, or
   with ``slice_usd > 0`` that many USD at the valuation price; sells round
   down to whole lots (at least one), buy-backs round up, and a remainder
   under one lot goes with the slice.  Orders are market orders
   (``limit_bps < 0``) or aggressive limits ``limit_bps`` through the
   reference price ``prices[a, limit_src]`` (perps: the mark).
3. **Stop** when ``V_RATIO >= target_ratio`` (``>= takeover_ratio``; the
   account is handed back) or when nothing is left to liquidate.
4. **Fee**: ``fee_rate`` times each slice's executed notional (quote atoms),
   paid to the insurance fund, capped at the account's remaining net equity
   (a fee never makes an account bankrupt).
5. **Bankruptcy**: with net equity ``V_NET < 0`` the spot items still go to
   the market first.  Then, if the insurance fund (quote atoms) cannot cover
   the deficit and perp positions remain, **auto-deleveraging**: the first
   remaining perp (by the order policy) is closed in full at its
   *bankruptcy price* ``mark - V_NET / (pos * cs * P_quote)`` (the price at
   which the account's net equity is exactly zero; >= 0) against the
   opposite positions ranked Bybit's way (:func:`adl_ranking`):
   ``score = pnl% * effective leverage`` when ``pnl% > 0``, else
   ``pnl% / effective leverage``, with ``pnl% = UPL / |entry notional|`` and
   ``effective leverage = |position notional| / account net equity``
   (``inf`` for an account with ``V_NET <= 0``); highest score first, ties by
   account index.  For an isolated row the net equity is the position's
   margin + UPL, i.e. Bybit's "mark value - bankruptcy value"; for a cross
   account it is the whole account's.  (Binance's published queue uses
   ``max(0, UPL) / max(1, wallet) * MM / (wallet + UPL)`` instead: same
   intent, profitable and highly levered first; not implemented.)  When the
   fund can cover, perps go to the market like any item.  Last, with nothing left and ``V_NET < 0``, the fund absorbs the
   negative quote balance (:func:`absorb_deficit`); what it cannot cover
   stays on the account as uncovered bad debt.

Actions returned by :func:`next_slice`: ``ACT_NONE`` (healthy, not under
takeover), ``ACT_DONE`` (restored to ``target_ratio``), ``ACT_SLICE``,
``ACT_ADL``, ``ACT_BANKRUPT`` (nothing left, ``V_NET < 0``: absorb the
deficit), ``ACT_EMPTY`` (nothing left that can be sold, ``V_NET >= 0``).

Conservation: every mutation moves the same integers between rows (spot and
perp fills, ADL) or between a row's quote balance and the insurance fund
(fees, deficits), so per asset ``sum(balances[:, a])`` (+ the fund for the
quote asset, ``- sum(perp_cost)`` for the quote asset) is invariant.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from ..core.codes import BUY, SELL
from .perps import perp_fill
from .unified import (N_V, SRC_MID, V_NET, V_RATIO, MarginConfig, atom_prices, spot_fill,
                      value_accounts, value_one)

# order policies
ORDER_MOST_LIQUID = 0
ORDER_PRO_RATA = 1
ORDER_LARGEST_LOSS = 2

# actions
ACT_NONE = 0
ACT_DONE = 1
ACT_SLICE = 2
ACT_ADL = 3
ACT_BANKRUPT = 4
ACT_EMPTY = 5
ACT_NAMES = ("none", "done", "slice", "adl", "bankrupt", "empty")

# items
ITEM_NONE = -1
ITEM_ASSET = 0
ITEM_PERP = 1

#: risk-engine parameters (scalars; a namedtuple the kernels take as one argument)
RiskParams = namedtuple("RiskParams", [
    "order_policy",     # ORDER_*
    "slice_frac",       # fraction of the item's current size per slice (0 < f <= 1)
    "slice_usd",        # > 0: USD per slice instead of slice_frac
    "limit_bps",        # < 0: market orders; else limit this many bps through the reference
    "limit_src",        # SRC_* column for the limit reference price of spot items
    "takeover_ratio",   # takeover when ratio < this
    "target_ratio",     # hand the account back when ratio >= this
    "fee_rate",         # liquidation fee on executed notional, to the insurance fund
    "call_ratio",       # margin call when ratio < this
])


def risk_params(order_policy: int = ORDER_MOST_LIQUID, slice_frac: float = 0.25,
                slice_usd: float = 0.0, limit_bps: float = -1.0, limit_src: int = SRC_MID,
                takeover_ratio: float = 1.0, target_ratio: float | None = None,
                fee_rate: float = 0.005, call_ratio: float = 1.5) -> RiskParams:
    """A :data:`RiskParams` with defaults (target = takeover ratio)."""
    target = takeover_ratio if target_ratio is None else target_ratio
    if target < takeover_ratio:
        raise ValueError("target_ratio must be >= takeover_ratio")
    if not 0 < slice_frac <= 1:
        raise ValueError("slice_frac must be in (0, 1]")
    return RiskParams(int(order_policy), float(slice_frac), float(slice_usd), float(limit_bps),
                      int(limit_src), float(takeover_ratio), float(target), float(fee_rate),
                      float(call_ratio))


# ----------------------------------------------------------------------
# event records
# ----------------------------------------------------------------------
EV_MARGIN_CALL = 1
EV_TAKEOVER = 2
EV_SLICE = 3
EV_RESTORED = 4
EV_ADL = 5
EV_BANKRUPT = 6
EV_EMPTY = 7
EV_STALLED = 8      # a slice found no liquidity (the book side is empty)
EVENT_NAMES = {EV_MARGIN_CALL: "margin_call", EV_TAKEOVER: "takeover", EV_SLICE: "slice",
               EV_RESTORED: "restored", EV_ADL: "adl", EV_BANKRUPT: "bankrupt",
               EV_EMPTY: "empty", EV_STALLED: "stalled"}

MARGIN_EVENT_DTYPE = np.dtype([
    ("ts", np.int64),              # simulation time, ns
    ("kind", np.int8),             # EV_*
    ("account", np.int64),         # row of the account
    ("item", np.int8),             # ITEM_ASSET / ITEM_PERP / ITEM_NONE
    ("index", np.int32),           # asset or perp index (-1)
    ("side", np.int8),             # BUY / SELL (-1)
    ("qty", np.int64),             # requested: atoms (asset) or contracts (perp); ADL: contracts;
                                   # BANKRUPT: the deficit the fund could not cover (quote atoms)
    ("filled", np.int64),          # executed, same unit
    ("price", np.float64),         # average fill price (quote units / unit); ADL: bankruptcy price
    ("limit", np.float64),         # limit price of the slice (nan = market)
    ("notional", np.int64),        # executed notional, quote atoms
    ("fee", np.int64),             # liquidation fee charged, quote atoms
    ("fund_delta", np.int64),      # change of the insurance fund, quote atoms
    ("counterparty", np.int64),    # ADL counterparty row (-1)
    ("ratio_before", np.float64),  # margin ratio before / after
    ("ratio_after", np.float64),
    ("equity_before", np.float64),  # net equity V_NET (USD) before / after
    ("equity_after", np.float64),
])


def make_event(kind, account, *, ts=0, item=ITEM_NONE, index=-1, side=-1, qty=0, filled=0,
               price=np.nan, limit=np.nan, notional=0, fee=0, fund_delta=0, counterparty=-1,
               ratio_before=np.nan, ratio_after=np.nan, equity_before=np.nan,
               equity_after=np.nan) -> np.void:
    row = np.zeros(1, MARGIN_EVENT_DTYPE)[0]
    for k, v in dict(ts=ts, kind=kind, account=account, item=item, index=index, side=side,
                     qty=qty, filled=filled, price=price, limit=limit, notional=notional, fee=fee,
                     fund_delta=fund_delta, counterparty=counterparty, ratio_before=ratio_before,
                     ratio_after=ratio_after, equity_before=equity_before,
                     equity_after=equity_after).items():
        row[k] = v
    return row


# ----------------------------------------------------------------------
# the next slice
# ----------------------------------------------------------------------
@njit(cache=True)
def _round_lot(x, lot, up):
    """``x`` (>= 0 float, atoms) to a multiple of ``lot``."""
    if up:
        return np.int64(np.ceil(x / lot - 1e-9)) * lot
    return np.int64(np.floor(x / lot + 1e-9)) * lot


@njit(cache=True)
def next_slice(cfg, rp, prices, mark, bal, pos, cost, fund, asset_score, perp_score, ref_px,
               step, in_takeover):
    """The risk engine's next order for one account (rows ``bal[A]``,
    ``pos[P]``, ``cost[P]``), ``fund`` the insurance fund's quote atoms,
    ``step`` the number of slices sent so far in this takeover,
    ``in_takeover`` whether the account is already taken over.

    Returns ``(action, item, index, side, qty, limit, ratio, net)``:
    ``ACT_*``, ``ITEM_*``, the asset / perp index, ``BUY``/``SELL``, the
    quantity (atoms for an asset, contracts for a perp), the limit price in
    quote units per unit (nan = market; for ``ACT_ADL`` the bankruptcy
    price), and the current margin ratio and net equity (USD)."""
    px_unit, px_atom = atom_prices(cfg, prices)
    v = value_one(cfg, prices, mark, bal, pos, cost)
    ratio = v[V_RATIO]
    net = v[V_NET]
    nan = np.nan
    if not in_takeover:
        if not (ratio < rp.takeover_ratio):
            return ACT_NONE, ITEM_NONE, -1, -1, np.int64(0), nan, ratio, net
    elif ratio >= rp.target_ratio:
        return ACT_DONE, ITEM_NONE, -1, -1, np.int64(0), nan, ratio, net
    q = cfg.quote
    pq = px_unit[q]
    n_a = bal.shape[0]
    n_p = pos.shape[0]
    # --- candidates -------------------------------------------------------
    n_spot = 0
    n_perp = 0
    total_usd = 0.0
    for a in range(n_a):
        if a == q:
            continue
        b = bal[a]
        if b >= cfg.lot_atoms[a] or b < 0:
            n_spot += 1
            total_usd += abs(b * px_atom[a])
    for m in range(n_p):
        if pos[m] != 0:
            n_perp += 1
            total_usd += abs(pos[m]) * cfg.contract_size[m] * mark[m] * pq
    bankrupt = net < 0.0
    if n_spot + n_perp == 0:
        if bankrupt:
            return ACT_BANKRUPT, ITEM_NONE, -1, -1, np.int64(0), nan, ratio, net
        return ACT_EMPTY, ITEM_NONE, -1, -1, np.int64(0), nan, ratio, net
    spot_only = bankrupt and n_spot > 0
    adl = False
    if bankrupt and n_spot == 0:
        deficit = -net / pq * cfg.atoms_per_unit[q]
        adl = fund < deficit
    if spot_only:
        total_usd = 0.0
        for a in range(n_a):
            if a != q and (bal[a] >= cfg.lot_atoms[a] or bal[a] < 0):
                total_usd += abs(bal[a] * px_atom[a])
    # --- choose ------------------------------------------------------------
    best_item = ITEM_NONE
    best_idx = -1
    best_key = -np.inf
    best_key2 = -np.inf
    n_cand = n_spot if spot_only else n_spot + n_perp
    target = step % n_cand
    seen = 0
    for it in range(2):
        if it == ITEM_PERP and spot_only:
            break
        n_it = n_a if it == ITEM_ASSET else n_p
        for j in range(n_it):
            if it == ITEM_ASSET:
                if j == q:
                    continue
                b = bal[j]
                if not (b >= cfg.lot_atoms[j] or b < 0):
                    continue
                usd = abs(b * px_atom[j])
                score = asset_score[j]
                r = ref_px[j]
                loss = b / cfg.atoms_per_unit[j] * (r - px_unit[j]) if r == r else 0.0
            else:
                k = pos[j]
                if k == 0:
                    continue
                usd = abs(k) * cfg.contract_size[j] * mark[j] * pq
                score = perp_score[j]
                loss = -(k * cfg.contract_size[j] * mark[j] - cost[j] / cfg.atoms_per_unit[q]) * pq
            if rp.order_policy == ORDER_PRO_RATA:
                key = 1.0 if seen == target else 0.0
                key2 = 0.0
            elif rp.order_policy == ORDER_LARGEST_LOSS:
                key = loss
                key2 = usd
            else:
                key = score
                key2 = 0.0
            seen += 1
            if key > best_key or (key == best_key and key2 > best_key2) or best_item == ITEM_NONE:
                best_item = it
                best_idx = j
                best_key = key
                best_key2 = key2
    # --- size ----------------------------------------------------------------
    frac = rp.slice_frac
    use_usd = rp.slice_usd > 0.0
    if best_item == ITEM_ASSET:
        a = best_idx
        b = bal[a]
        lot = cfg.lot_atoms[a]
        held = abs(b)
        unit_usd = px_atom[a]
        if use_usd:
            usd = rp.slice_usd
            if rp.order_policy == ORDER_PRO_RATA and total_usd > 0.0:
                usd = rp.slice_usd * (held * unit_usd) / total_usd
            x = usd / unit_usd if unit_usd > 0.0 else float(held)
        else:
            x = frac * held
        x = min(x, float(held))
        if b > 0:
            side = SELL
            qty = max(_round_lot(x, lot, False), lot)
            if b - qty < lot:
                qty = (b // lot) * lot
        else:
            side = BUY
            qty = max(_round_lot(x, lot, True), lot)
            if held - qty < lot:
                qty = _round_lot(float(held), lot, True)
        lim = nan
        if rp.limit_bps >= 0.0:
            ref = prices[a, rp.limit_src] / pq
            if ref > 0.0:
                lim = ref * (1.0 - rp.limit_bps * 1e-4) if side == SELL else ref * (1.0 + rp.limit_bps * 1e-4)
        return ACT_SLICE, ITEM_ASSET, a, side, qty, lim, ratio, net
    m = best_idx
    k = pos[m]
    held = abs(k)
    side = SELL if k > 0 else BUY
    if adl:
        cs = cfg.contract_size[m]
        bp = mark[m] - net / (k * cs * pq)
        return ACT_ADL, ITEM_PERP, m, side, np.int64(held), max(bp, 0.0), ratio, net
    unit_usd = cfg.contract_size[m] * mark[m] * pq
    if use_usd:
        usd = rp.slice_usd
        if rp.order_policy == ORDER_PRO_RATA and total_usd > 0.0:
            usd = rp.slice_usd * (held * unit_usd) / total_usd
        x = usd / unit_usd if unit_usd > 0.0 else float(held)
    else:
        x = frac * held
    qty = max(np.int64(np.floor(min(x, float(held)) + 1e-9)), np.int64(1))
    lim = nan
    if rp.limit_bps >= 0.0 and mark[m] > 0.0:
        lim = mark[m] * (1.0 - rp.limit_bps * 1e-4) if side == SELL else mark[m] * (1.0 + rp.limit_bps * 1e-4)
    return ACT_SLICE, ITEM_PERP, m, side, np.int64(qty), lim, ratio, net


# ----------------------------------------------------------------------
# fees, deficits, ADL
# ----------------------------------------------------------------------
@njit(cache=True)
def charge_fee(cfg, balances, i, fund, notional_atoms, rate, net_usd, pq):
    """Liquidation fee ``rint(rate * notional_atoms)`` from account ``i``'s
    quote balance to the insurance fund ``fund[0]`` (quote atoms), capped at
    the account's net equity ``net_usd`` (after the fills) in quote atoms.
    Returns the fee."""
    q = cfg.quote
    fee = np.int64(np.rint(rate * notional_atoms))
    cap = np.int64(np.floor(net_usd / pq * cfg.atoms_per_unit[q])) if net_usd > 0.0 else np.int64(0)
    if fee > cap:
        fee = cap
    if fee < 0:
        fee = np.int64(0)
    balances[i, q] -= fee
    fund[0] += fee
    return fee


@njit(cache=True)
def absorb_deficit(cfg, balances, i, fund):
    """The insurance fund ``fund[0]`` pays account ``i``'s negative quote
    balance as far as it can; returns ``(paid, uncovered)`` in quote atoms."""
    q = cfg.quote
    b = balances[i, q]
    if b >= 0:
        return np.int64(0), np.int64(0)
    pay = min(fund[0], -b)
    if pay < 0:
        pay = np.int64(0)
    fund[0] -= pay
    balances[i, q] += pay
    return pay, -(b + pay)


@njit(cache=True)
def adl_ranking(cfg, perp_pos, perp_cost, net_usd, mark, pq, m, sign, exclude):
    """Rows holding perp ``m`` with ``sign(pos) == sign`` (the side opposite
    to the bankrupt position), best ADL candidate first, and their scores
    (``pnl% * eff_lev`` if ``pnl% > 0`` else ``pnl% / eff_lev``; see the module
    docstring).  ``net_usd[i]`` is each row's ``V_NET``; ``exclude`` a row
    to skip (the bankrupt account)."""
    n = perp_pos.shape[0]
    cs = cfg.contract_size[m]
    apu_q = cfg.atoms_per_unit[cfg.quote]
    idx = np.empty(n, np.int64)
    score = np.empty(n)
    c = 0
    for i in range(n):
        k = perp_pos[i, m]
        if i == exclude or k == 0 or (k > 0) != (sign > 0):
            continue
        entry = abs(perp_cost[i, m]) / apu_q
        upl = k * cs * mark[m] - perp_cost[i, m] / apu_q
        pnl = upl / entry if entry > 0.0 else 0.0
        notional = abs(k) * cs * mark[m] * pq
        lev = notional / net_usd[i] if net_usd[i] > 0.0 else np.inf
        if pnl > 0.0:
            s = pnl * lev
        else:
            s = pnl / lev
        if s != s:
            s = -np.inf
        idx[c] = i
        score[c] = s
        c += 1
    idx = idx[:c]
    score = score[:c]
    order = np.argsort(-score, kind="mergesort")     # stable: ties by row index
    return idx[order], score[order]


@njit(cache=True)
def adl_plan(cfg, perp_pos, perp_cost, net_usd, mark, pq, m, bankrupt, qty):
    """Counterparties and contracts for closing ``qty`` contracts of the
    bankrupt row's perp ``m`` position: walks :func:`adl_ranking` taking each
    candidate's whole position until ``qty`` is covered.  Returns
    ``(rows, contracts)``."""
    k = perp_pos[bankrupt, m]
    sign = -1 if k > 0 else 1
    rows, _ = adl_ranking(cfg, perp_pos, perp_cost, net_usd, mark, pq, m, sign, bankrupt)
    take = np.zeros(rows.shape[0], np.int64)
    left = qty
    c = 0
    for j in range(rows.shape[0]):
        if left <= 0:
            break
        t = min(abs(perp_pos[rows[j], m]), left)
        take[j] = t
        left -= t
        c += 1
    return rows[:c], take[:c]


@njit(cache=True)
def apply_adl(cfg, perp_pos, perp_cost, balances, bankrupt, m, rows, contracts, price):
    """Close the bankrupt row's perp ``m`` against ``rows`` (``contracts``
    each) at ``price`` (the bankruptcy price); returns the notional atoms."""
    total = np.int64(0)
    long_bankrupt = perp_pos[bankrupt, m] > 0
    for j in range(rows.shape[0]):
        if contracts[j] <= 0:
            continue
        if long_bankrupt:
            n, _, _ = perp_fill(cfg, perp_pos, perp_cost, balances, rows[j], bankrupt, m,
                                contracts[j], price)
        else:
            n, _, _ = perp_fill(cfg, perp_pos, perp_cost, balances, bankrupt, rows[j], m,
                                contracts[j], price)
        total += n
    return total


# ----------------------------------------------------------------------
# a whole liquidation, for tests and simple simulations
# ----------------------------------------------------------------------
class Accounts:
    """The state the risk engine works on: ``balances[n, A]``,
    ``perp_pos[n, P]``, ``perp_cost[n, P]`` (int64) and the insurance fund
    ``fund`` (a 1-element int64 array, quote atoms)."""

    def __init__(self, balances, perp_pos=None, perp_cost=None, fund: int = 0, n_perps: int = 0):
        self.balances = np.ascontiguousarray(balances, np.int64)
        n = self.balances.shape[0]
        if perp_pos is None:
            perp_pos = np.zeros((n, n_perps), np.int64)
            perp_cost = np.zeros((n, n_perps), np.int64)
        self.perp_pos = np.ascontiguousarray(perp_pos, np.int64)
        self.perp_cost = np.ascontiguousarray(perp_cost, np.int64)
        self.fund = np.array([fund], np.int64)

    def totals(self, quote: int) -> tuple:
        """Conserved quantities: per-asset column sums (the fund added to the
        quote column, the perp costs subtracted) and per-perp open interest
        balance ``sum(pos)``."""
        col = self.balances.sum(axis=0)
        col[quote] += self.fund[0] - self.perp_cost.sum()
        return tuple(col.tolist()), tuple(self.perp_pos.sum(axis=0).tolist())


def liquidate(cfg: MarginConfig, rp: RiskParams, acc: Accounts, i: int, market, *,
              asset_score=None, perp_score=None, ref_px=None, ts: int = 0,
              max_steps: int = 100_000):
    """Run the risk engine on account ``i`` until it is handed back, empty or
    bankrupt; a generator of ``MARGIN_EVENT_DTYPE`` rows.

    ``market`` is the caller's book model with ``prices() -> prices[A,
    N_SOURCES]``, ``marks() -> mark[P]`` and ``execute(item, index, side,
    qty, limit) -> [(qty, price, counterparty_row), ...]`` (its fills at
    real book prices; the counterparties are rows of ``acc``).  Every fill
    is applied to both rows exactly; the fee goes to ``acc.fund``."""
    n_a = cfg.atoms_per_unit.shape[0]
    n_p = cfg.contract_size.shape[0]
    asset_score = np.zeros(n_a) if asset_score is None else np.asarray(asset_score, float)
    perp_score = np.zeros(n_p) if perp_score is None else np.asarray(perp_score, float)
    ref_px = np.full(n_a, np.nan) if ref_px is None else np.asarray(ref_px, float)
    B, P, C, F = acc.balances, acc.perp_pos, acc.perp_cost, acc.fund
    q = cfg.quote
    in_takeover = False
    step = 0

    def state():
        pr, mk = market.prices(), np.asarray(market.marks(), float)
        v = value_one(cfg, pr, mk, B[i], P[i], C[i])
        return pr, mk, v

    for _ in range(max_steps):
        prices, mark = market.prices(), np.asarray(market.marks(), float)
        act, item, idx, side, qty, lim, ratio, net = next_slice(
            cfg, rp, prices, mark, B[i], P[i], C[i], F[0], asset_score, perp_score, ref_px,
            step, in_takeover)
        if act == ACT_NONE:
            if ratio < rp.call_ratio:
                yield make_event(EV_MARGIN_CALL, i, ts=ts, ratio_before=ratio, equity_before=net)
            return
        if not in_takeover:
            in_takeover = True
            yield make_event(EV_TAKEOVER, i, ts=ts, ratio_before=ratio, equity_before=net)
        if act == ACT_DONE:
            yield make_event(EV_RESTORED, i, ts=ts, ratio_before=ratio, equity_before=net,
                             ratio_after=ratio, equity_after=net)
            return
        if act == ACT_EMPTY:
            yield make_event(EV_EMPTY, i, ts=ts, ratio_before=ratio, equity_before=net,
                             ratio_after=ratio, equity_after=net)
            return
        if act == ACT_BANKRUPT:
            paid, uncovered = absorb_deficit(cfg, B, i, F)
            _, _, v1 = state()
            yield make_event(EV_BANKRUPT, i, ts=ts, qty=int(uncovered), fund_delta=-int(paid),
                             ratio_before=ratio, equity_before=net, ratio_after=v1[V_RATIO],
                             equity_after=v1[V_NET])
            return
        if act == ACT_ADL:
            pq = prices[q, cfg.policy[q]]
            nets = value_accounts(cfg, prices, mark, B, P, C, np.empty((B.shape[0], N_V)))[:, V_NET]
            rows, ks = adl_plan(cfg, P, C, nets, mark, pq, idx, i, qty)
            for r, k in zip(rows.tolist(), ks.tolist()):
                one_r, one_k = np.array([r], np.int64), np.array([k], np.int64)
                n = apply_adl(cfg, P, C, B, i, idx, one_r, one_k, lim)
                _, _, v1 = state()
                yield make_event(EV_ADL, i, ts=ts, item=ITEM_PERP, index=idx, side=side, qty=k,
                                 filled=k, price=lim, notional=int(n), counterparty=r,
                                 ratio_before=ratio, equity_before=net, ratio_after=v1[V_RATIO],
                                 equity_after=v1[V_NET])
                ratio, net = v1[V_RATIO], v1[V_NET]
            if P[i, idx] != 0:           # not enough opposite positions: stop here
                yield make_event(EV_STALLED, i, ts=ts, item=ITEM_PERP, index=idx, side=side,
                                 qty=int(P[i, idx]))
                return
            step += 1
            continue
        # ACT_SLICE
        fills = market.execute(item, idx, side, qty, lim)
        filled = 0
        notional = 0
        for fq, fpx, cp in fills:
            fq = int(fq)
            if fq <= 0:
                continue
            buyer, seller = (i, cp) if side == BUY else (cp, i)
            if item == ITEM_ASSET:
                notional += int(spot_fill(cfg, B, buyer, seller, idx, fq, fpx))
            else:
                n, _, _ = perp_fill(cfg, P, C, B, buyer, seller, idx, fq, fpx)
                notional += int(n)
            filled += fq
        prices, mark, v1 = state()
        pq = prices[q, cfg.policy[q]]
        fee = int(charge_fee(cfg, B, i, F, notional, rp.fee_rate, v1[V_NET], pq)) if filled else 0
        _, _, v1 = state()
        avg = (notional / cfg.atoms_per_unit[q]) / (filled / (cfg.atoms_per_unit[idx]
               if item == ITEM_ASSET else 1.0 / cfg.contract_size[idx])) if filled else np.nan
        yield make_event(EV_SLICE if filled else EV_STALLED, i, ts=ts, item=item, index=idx,
                         side=side, qty=qty, filled=filled, price=avg, limit=lim,
                         notional=notional, fee=fee, fund_delta=fee, ratio_before=ratio,
                         ratio_after=v1[V_RATIO], equity_before=net, equity_after=v1[V_NET])
        if not filled:
            return
        step += 1
    raise RuntimeError("liquidation did not finish within max_steps")


def liquidation_events(*args, **kw) -> np.ndarray:
    """:func:`liquidate` collected into a ``MARGIN_EVENT_DTYPE`` array."""
    rows = list(liquidate(*args, **kw))
    out = np.zeros(len(rows), MARGIN_EVENT_DTYPE)
    for j, r in enumerate(rows):
        out[j] = r
    return out
