"""Screening unified accounts after a price move: which accounts *can* have
fallen below a margin threshold, found without re-valuing the others.

A risk engine that re-values 100,000 accounts after every move spends most
of its time proving that healthy accounts are still healthy.  This module
proves it from a bound kept per account, and re-values (exactly, with
:func:`lob.margin.sparse.value_sparse_rows`'s arithmetic) only the accounts
the bound cannot clear.

The bound
---------
For a threshold ``theta`` (the highest margin ratio the caller acts on: the
margin-call level, say) an account's *surplus* is ``S = equity - theta * MM``
(USD, :mod:`lob.margin.unified` definitions): ``S > 0`` means ``ratio >
theta`` (or no maintenance margin and non-negative equity).  ``S`` is a sum
of one term per item held, so a move of the items' prices by the relative
amounts ``d`` (``p' = p (1 + d)``, from the *reference* prices at which the
screen was built) changes it by a sum of per-item changes, each
``d`` times a slope within an interval known from the reference alone:

* a positive balance worth ``v`` USD: collateral ``tiered(v)`` changes by
  ``d v r`` with ``r`` in ``[h_min, h_max]``, the smallest and largest tier
  rates of that asset;
* a loan worth ``v``: liabilities ``v d`` and margin ``loan_mm v d``, exactly
  ``-(1 + theta loan_mm) v d``;
* a perp of signed notional ``s`` (``n = |s|``): unrealised PnL ``s d``,
  tiered margin ``d n r`` with ``r`` in ``[mm_min, mm_max]``, so
  ``d (s - theta n r)``;
* the quote asset (USDT, say) is not an item that moves: a move of its own
  USD price (which scales every perp term) makes every account a candidate.

With each item's slope interval written as centre ``c`` and half-width
``w``, its change is at least ``c d - w |d|``.  Splitting every item's move
into a common part and a residual, ``d = mu + e``::

    dS >= mu C - |mu| W + sum_items (c e - w |e|)
       >= mu C - |mu| W - E e_small + sum_outliers (c e - w |e|)

with, per account, ``C = sum c`` (its net delta), ``W = sum w`` and ``E =
sum (|c| + w)``, and ``e_small`` the largest residual among the items not
treated as outliers.  These are global (not first-order) bounds: exact for
moves of any size.  An account whose ``S + (that lower bound)`` is positive
is above ``theta`` at the new prices.  Hedges count: a long spot against a
short perp of the same size nets out in ``C``.

The query
---------
:func:`query` takes ``mu`` as the median move of the items anyone holds,
treats the items within ``band`` of it as common and the rest as outliers,
accumulates the outliers' terms over their holders only (a compact per-entry
pass), and

* when nothing but outliers moved (``mu = 0``, ``e_small = 0``: an altcoin
  crashes), checks only the outliers' holders: O(their holders);
* otherwise checks every account from four numbers each (``S, C, W, E``):
  O(accounts), reading 32 bytes per account instead of re-valuing its
  holdings.

The candidates are the accounts the bound does not clear, plus those not
above ``theta`` at the reference (*always*; an account holding nothing that
moves is above it when its ratio is), those with non-finite values, those
holding an item whose price is missing, and the *dirty* accounts whose
holdings changed since the reference (:func:`mark_dirty`).  Every account not
returned is provably above ``theta`` (tested against full valuations in
``tests/test_margin_screen.py``).  :func:`screened_revalue` values the
candidates exactly in the same compiled call.

Moves are measured from the reference, so the screen needs no update as
prices wander; its candidate sets grow as prices wander further and as
accounts trade, and the caller rebuilds it (:func:`build_screen`: a full
valuation and one pass over the holdings) when they are large.

Units: prices USD per whole unit (``prices[A, N_SOURCES]``, picked per
``cfg.policy``), marks quote units per underlying unit; surplus and slopes
USD; moves dimensionless.  The surplus is shrunk by ``ROUNDING`` of the
account's gross values, and the bound's own sums by ``ROUNDING`` of their
size, so float rounding cannot cross it.  Kernels are ``cache=True`` and
called from Python (not from the simulation loop); :func:`query_ref` is the
readable pure-Python twin of :func:`query` (the same accounts, tested).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .sparse import SparseAccounts, sync_rows, to_sparse, value_row_sparse
from .unified import (N_V, V_COLLATERAL, V_EQUITY, V_LIAB, V_MM, V_RATIO, V_UPL, atom_prices, select_prices,
                      value_account_ref)

#: relative shrink of the surplus (of the account's gross values) and of the
#: bound (of its size) that keeps float rounding from crossing it
ROUNDING = 1e-9
#: default band around the median move within which an item is "common":
#: 2% (an account then loses at most 2% of its E to those items' residuals,
#: and moves scattered around the market's cost O(accounts) instead of
#: O(holdings); measured on 100 steps of 0.2% independent moves of 43 items
#: over 100,000 accounts: 2% checks them in 1/5 of the time of full
#: re-valuations, 0.1% in 0.9 of it; a move of one item is unaffected)
BAND = 0.02

Screen = namedtuple("Screen", [
    "par",        # float64[2]     theta, USD price of the quote asset at the reference
    "ref_px",     # float64[A]     USD per unit of every asset at the reference (by policy)
    "ref_mark",   # float64[P]     marks at the reference (quote units per underlying unit)
    "acct",       # float64[n, 4]  per account: S (shrunk; NaN: not finite), C, W, E (USD)
    "col_ptr",    # int64[A+1]     non-zero holdings of asset a: col_ptr[a] .. col_ptr[a+1] ...
    "col_acc",    # int32[nnz]     ... their accounts (ascending) ...
    "col_cw",     # float64[nnz,4] ... their slope centre and half-width, and the account's S
                  #                and E again (USD; copies, so that one item's move streams)
    "pcol_ptr",   # int64[P+1]     open positions of perp m, the same way
    "pcol_acc",   # int32[pnnz]
    "pcol_cw",    # float64[pnnz,4]
    "always",     # int64[k]       accounts not above theta (or not finite) at the reference
    "dirty",      # int64[n+1]     dirty[0] = count, then the accounts marked dirty
    "flag",       # uint8[n]       1 = dirty; 0 otherwise between queries (scratch during one)
    "acc",        # float64[n]     scratch: the outliers' terms (0 between queries)
])


@intrinsic
def _prefetch(typingctx, arr, idx):
    """A hint to bring ``arr[idx]`` (1-D) into the caches (LLVM's prefetch:
    read, high locality); no effect on results."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def _rate_range(rates, k):
    lo = np.inf
    hi = -np.inf
    for t in range(rates.shape[1]):
        lo = min(lo, rates[k, t])
        hi = max(hi, rates[k, t])
    return lo, hi


@njit(cache=True)
def _build(cfg, prices, mark, sp, theta, out):
    px_unit, px_atom = atom_prices(cfg, prices)
    n = sp.row_ptr.shape[0] - 1
    n_a = cfg.atoms_per_unit.shape[0]
    n_p = cfg.contract_size.shape[0]
    q = cfg.quote
    pq = px_unit[q]
    hlo = np.empty(n_a)
    hhi = np.empty(n_a)
    for a in range(n_a):
        hlo[a], hhi[a] = _rate_range(cfg.hc_rates, a)
    mlo = np.empty(n_p)
    mhi = np.empty(n_p)
    for m in range(n_p):
        mlo[m], mhi[m] = _rate_range(cfg.perp_mm, m)
    # columns: non-zero, non-quote holdings; open perp positions
    col_ptr = np.zeros(n_a + 1, np.int64)
    pcol_ptr = np.zeros(n_p + 1, np.int64)
    for i in range(n):
        for k in range(sp.row_ptr[i], sp.row_ptr[i + 1]):
            if sp.row_bal[k] != 0 and sp.row_asset[k] != q:
                col_ptr[sp.row_asset[k] + 1] += 1
        for j in range(sp.prow_ptr[i], sp.prow_ptr[i + 1]):
            if sp.prow_pos[j] != 0:
                pcol_ptr[sp.prow_perp[j] + 1] += 1
    for a in range(n_a):
        col_ptr[a + 1] += col_ptr[a]
    for m in range(n_p):
        pcol_ptr[m + 1] += pcol_ptr[m]
    col_acc = np.empty(col_ptr[n_a], np.int32)
    col_cw = np.empty((col_ptr[n_a], 4))
    pcol_acc = np.empty(pcol_ptr[n_p], np.int32)
    pcol_cw = np.empty((pcol_ptr[n_p], 4))
    fill = col_ptr[:n_a].copy()
    pfill = pcol_ptr[:n_p].copy()
    acct = np.empty((n, 4))
    n_always = 0
    for i in range(n):                                  # rows in order: columns come out ascending
        value_row_sparse(cfg, px_atom, px_unit, mark, sp, i, out)      # the reference valuation
        C = W = E = 0.0
        for k in range(sp.row_ptr[i], sp.row_ptr[i + 1]):
            b = sp.row_bal[k]
            a = sp.row_asset[k]
            if b == 0 or a == q:
                continue
            v = b * px_atom[a]
            if b > 0:
                c = v * (0.5 * (hlo[a] + hhi[a]))
                w = v * (0.5 * (hhi[a] - hlo[a]))
            else:
                c = v * (1.0 + theta * cfg.loan_mm[a])      # v < 0: the loan's value falls with d
                w = 0.0
            C += c
            W += w
            E += abs(c) + w
            h = fill[a]
            fill[a] += 1
            col_acc[h] = i
            col_cw[h, 0] = c
            col_cw[h, 1] = w
        for j in range(sp.prow_ptr[i], sp.prow_ptr[i + 1]):
            kk = sp.prow_pos[j]
            if kk == 0:
                continue
            m = sp.prow_perp[j]
            sn = kk * cfg.contract_size[m] * mark[m] * pq
            nn = abs(sn)
            c = sn - theta * nn * (0.5 * (mlo[m] + mhi[m]))
            w = theta * nn * (0.5 * (mhi[m] - mlo[m]))
            C += c
            W += w
            E += abs(c) + w
            h = pfill[m]
            pfill[m] += 1
            pcol_acc[h] = i
            pcol_cw[h, 0] = c
            pcol_cw[h, 1] = w
        mm = out[i, V_MM]
        gross = out[i, V_COLLATERAL] + out[i, V_LIAB] + abs(out[i, V_UPL]) + theta * mm
        s = out[i, V_EQUITY] - theta * mm - ROUNDING * gross
        if not (np.isfinite(s) and np.isfinite(E)):
            s = np.nan
        elif E == 0.0 and out[i, V_RATIO] >= theta:   # nothing that moves (an empty account, say)
            s = np.inf
        if not s > 0.0:
            n_always += 1
        acct[i, 0] = s
        acct[i, 1] = C
        acct[i, 2] = W
        acct[i, 3] = E
        for k in range(sp.row_ptr[i], sp.row_ptr[i + 1]):      # the copies in this row's entries
            if sp.row_bal[k] != 0 and sp.row_asset[k] != q:
                a = sp.row_asset[k]
                h = fill[a] - 1                        # this row's entry: the last one filled
                col_cw[h, 2] = s
                col_cw[h, 3] = E
        for j in range(sp.prow_ptr[i], sp.prow_ptr[i + 1]):
            if sp.prow_pos[j] != 0:
                h = pfill[sp.prow_perp[j]] - 1
                pcol_cw[h, 2] = s
                pcol_cw[h, 3] = E
    always = np.empty(n_always, np.int64)
    k = 0
    for i in range(n):
        if not acct[i, 0] > 0.0:
            always[k] = i
            k += 1
    par = np.array([theta, pq])
    return (par, px_unit.copy(), mark.copy(), acct, col_ptr, col_acc, col_cw, pcol_ptr, pcol_acc,
            pcol_cw, always, np.zeros(n + 1, np.int64), np.zeros(n, np.uint8), np.zeros(n))


def build_screen(cfg, prices, mark, sp: SparseAccounts, theta: float, out=None) -> Screen:
    """Value every account of ``sp`` at ``prices``/``mark`` into ``out[n,
    N_V]`` (allocated if None; the numbers of
    :func:`~lob.margin.sparse.value_sparse`) and keep, against the
    threshold ratio ``theta`` (> 0), each account's surplus and slope sums
    and each holding's slope interval.  Cost: one full valuation plus one
    pass over the holdings, O(accounts + holdings)."""
    theta = float(theta)
    if not theta > 0:
        raise ValueError(f"theta must be > 0, got {theta}")
    n = sp.row_ptr.shape[0] - 1
    if out is None:
        out = np.empty((n, N_V))
    if out.shape != (n, N_V):
        raise ValueError(f"out must be [{n}, {N_V}], got {out.shape}")
    mark = np.ascontiguousarray(mark, float)
    return Screen(*_build(cfg, np.ascontiguousarray(prices, float), mark, sp, theta, out))


@njit(cache=True)
def mark_dirty(sc, rows):
    """Accounts ``rows`` (int64) whose balances or positions changed since
    the reference (fills, transfers, liquidations): candidates at every
    query until the screen is rebuilt (their sums describe old holdings)."""
    d = sc.dirty
    for j in range(rows.shape[0]):
        i = rows[j]
        if sc.flag[i] != 1:
            sc.flag[i] = 1
            d[0] += 1
            d[d[0]] = i


@njit(cache=True)
def _move(p, r):
    """Relative move from the reference ``r``; NaN when it cannot be told
    (no reference price, or no price now)."""
    if not (r != 0.0 and np.isfinite(r)):
        return np.nan
    d = p / r - 1.0
    return d if np.isfinite(d) else np.nan


@njit(cache=True)
def _median(x, k):
    """Median of ``x[:k]`` (0.0 when ``k`` is 0): the middle value, or the
    mean of the two middle ones."""
    if k == 0:
        return 0.0
    y = np.sort(x[:k])
    h = k // 2
    return y[h] if k % 2 == 1 else 0.5 * (y[h - 1] + y[h])


@njit(cache=True)
def _add(rows, c, flag, i):
    if flag[i] == 0:
        flag[i] = 2
        rows[c] = i
        return c + 1
    return c


@njit(cache=True)
def _column(sc, t, n_a):
    """Item ``t``'s holders: asset ``t``, or perp ``t - n_a``."""
    if t < n_a:
        return sc.col_ptr[t], sc.col_ptr[t + 1], sc.col_acc, sc.col_cw
    return sc.pcol_ptr[t - n_a], sc.pcol_ptr[t - n_a + 1], sc.pcol_acc, sc.pcol_cw


@njit(cache=True)
def query(sc, cfg, prices, mark, band, rows):
    """The candidates at ``prices``/``mark``, written to ``rows[:count]``
    (int64, at least ``n`` long; no duplicates, in no particular order);
    returns ``count``.  ``band`` (>= 0): items within it of the median move
    are common, the others outliers (see the module docstring).  Every
    account not returned is above ``theta`` at these prices.  Cost
    O(outliers' holders) when only outliers moved, else O(accounts +
    outliers' holders)."""
    n = sc.acct.shape[0]
    px_unit = select_prices(prices, cfg.policy)
    if not px_unit[cfg.quote] == sc.par[1]:            # the quote's own price moved: everyone
        for i in range(n):
            rows[i] = i
        return n
    n_a = sc.ref_px.shape[0]
    n_p = sc.ref_mark.shape[0]
    d = np.empty(n_a + n_p)
    has = np.zeros(n_a + n_p, np.bool_)
    x = np.empty(n_a + n_p)
    k = 0
    for a in range(n_a):
        if sc.col_ptr[a + 1] > sc.col_ptr[a]:
            has[a] = True
            d[a] = _move(px_unit[a], sc.ref_px[a])
            if np.isfinite(d[a]):
                x[k] = d[a]
                k += 1
    for m in range(n_p):
        if sc.pcol_ptr[m + 1] > sc.pcol_ptr[m]:
            has[n_a + m] = True
            d[n_a + m] = _move(mark[m], sc.ref_mark[m])
            if np.isfinite(d[n_a + m]):
                x[k] = d[n_a + m]
                k += 1
    mu = _median(x, k)
    small = 0.0
    big = abs(mu)
    for t in range(n_a + n_p):
        if has[t] and np.isfinite(d[t]):
            e = abs(d[t] - mu)
            big = max(big, abs(d[t]))
            if e <= band:
                small = max(small, e)
    flag = sc.flag
    acc = sc.acc
    c = 0
    dd = sc.dirty
    for j in range(1, dd[0] + 1):                       # dirty accounts keep flag 1
        rows[c] = dd[j]
        c += 1
    for j in range(sc.always.shape[0]):
        c = _add(rows, c, flag, sc.always[j])
    # a missing price: every holder; the outliers are marked (their terms
    # are summed over their holders below)
    outlier = np.zeros(n_a + n_p, np.bool_)
    n_out = 0
    last = -1
    for t in range(n_a + n_p):
        if not has[t]:
            continue
        if not np.isfinite(d[t]):
            lo, hi, accs, cw = _column(sc, t, n_a)
            for h in range(lo, hi):
                c = _add(rows, c, flag, accs[h])
        elif abs(d[t] - mu) > band:
            outlier[t] = True
            n_out += 1
            last = t
    A = sc.acct
    v = 0
    if mu == 0.0 and small == 0.0 and n_out == 1:      # one item moved: its holders, one stream
        lo, hi, accs, cw = _column(sc, last, n_a)
        e = d[last] - mu
        ae = abs(e)
        for h in range(lo, hi):
            i = accs[h]
            if flag[i] == 0 and not cw[h, 2] + (cw[h, 0] * e - cw[h, 1] * ae) > ROUNDING * cw[h, 3] * big:
                c = _add(rows, c, flag, i)
    else:
        for t in range(n_a + n_p):                     # the outliers' terms, summed per account
            if not outlier[t]:
                continue
            lo, hi, accs, cw = _column(sc, t, n_a)
            e = d[t] - mu
            ae = abs(e)
            for h in range(lo, hi):
                acc[accs[h]] += cw[h, 0] * e - cw[h, 1] * ae
        if mu == 0.0 and small == 0.0:                 # only outliers moved: their holders
            for t in range(n_a + n_p):
                if not outlier[t]:
                    continue
                lo, hi, accs, cw = _column(sc, t, n_a)
                for h in range(lo, hi):
                    i = accs[h]
                    if flag[i] == 0:                   # first visit: decide
                        base = A[i, 0] + acc[i]
                        if not base > ROUNDING * A[i, 3] * big:
                            c = _add(rows, c, flag, i)
                        else:                          # cleared: remembered at the back of rows
                            flag[i] = 3
                            v += 1
                            rows[n - v] = i
                    acc[i] = 0.0
        else:                                          # everyone, from four numbers each
            am = abs(mu)
            for i in range(n):
                base = A[i, 0] + mu * A[i, 1] - am * A[i, 2] - small * A[i, 3] + acc[i]
                acc[i] = 0.0
                if not base > ROUNDING * A[i, 3] * big:
                    c = _add(rows, c, flag, i)
    for j in range(c):                                  # clear this query's marks
        if flag[rows[j]] == 2:
            flag[rows[j]] = 0
    for j in range(n - v, n):
        flag[rows[j]] = 0
    return c


@njit(cache=True)
def screened_revalue(sc, cfg, prices, mark, band, sp, rows, out):
    """:func:`query`, then the exact valuation of the candidates into
    ``out[rows[:count]]`` (the bits of :func:`~lob.margin.sparse.value_sparse`
    on those rows; the other rows of ``out`` are left as they were: above
    ``theta``, provably); returns ``count``.  One compiled call: the risk
    engine's check after a move."""
    c = query(sc, cfg, prices, mark, band, rows)
    px_unit, px_atom = atom_prices(cfg, prices)
    # the candidates are scattered accounts and a valuation's loads depend on
    # each other (one cache miss at a time): ask for the rows of the
    # candidates a few places ahead while valuing this one
    flat = out.reshape(-1)
    for j in range(c):
        if j + 8 < c:
            i8 = rows[j + 8]
            _prefetch(sp.row_ptr, i8)
            _prefetch(sp.prow_ptr, i8)
        if j + 4 < c:
            i4 = rows[j + 4]
            k4 = sp.row_ptr[i4]
            _prefetch(sp.row_asset, k4)
            _prefetch(sp.row_bal, k4)
            if sp.row_ptr[i4 + 1] - k4 > 8:
                _prefetch(sp.row_bal, k4 + 8)
            p4 = sp.prow_ptr[i4]
            _prefetch(sp.prow_pos, p4)
            _prefetch(sp.prow_cost, p4)
            _prefetch(sp.prow_perp, p4)
            _prefetch(flat, i4 * N_V)
            _prefetch(flat, i4 * N_V + N_V - 1)
        value_row_sparse(cfg, px_atom, px_unit, mark, sp, rows[j], out)
    return c


def candidates(sc: Screen, cfg, prices, mark, band: float = BAND) -> np.ndarray:
    """:func:`query` with its scratch allocated: the candidate accounts,
    sorted (int64)."""
    if not band >= 0:
        raise ValueError(f"band must be >= 0, got {band}")
    rows = np.empty(sc.acct.shape[0], np.int64)
    c = query(sc, cfg, np.ascontiguousarray(prices, float), np.ascontiguousarray(mark, float),
              float(band), rows)
    return np.sort(rows[:c])


# ----------------------------------------------------------------------
# the readable twin
# ----------------------------------------------------------------------
def slopes_ref(cfg, prices, mark, bal, pos, theta: float):
    """One account's items and their slope intervals at the reference, from
    its dense rows: ``[(item, c, w)]`` with ``item`` an asset index or
    ``A + m`` for perp ``m`` (ascending: assets, then perps)."""
    A = len(bal)
    px = [prices[a, cfg.policy[a]] for a in range(A)]
    pq = px[cfg.quote]
    items = []
    for a, b in enumerate(bal):
        if b == 0 or a == cfg.quote:
            continue
        v = b * (px[a] / cfg.atoms_per_unit[a])
        lo, hi = min(cfg.hc_rates[a]), max(cfg.hc_rates[a])
        if b > 0:                                # collateral: d v r, r within the tier rates
            items.append((a, v * (0.5 * (lo + hi)), v * (0.5 * (hi - lo))))
        else:                                    # a loan: exactly -(1 + theta loan_mm) |v| d
            items.append((a, v * (1.0 + theta * cfg.loan_mm[a]), 0.0))
    for m, k in enumerate(pos):
        if k == 0:
            continue
        s = k * cfg.contract_size[m] * mark[m] * pq
        lo, hi = min(cfg.perp_mm[m]), max(cfg.perp_mm[m])
        items.append((A + m, s - theta * abs(s) * (0.5 * (lo + hi)), theta * abs(s) * (0.5 * (hi - lo))))
    return items


def surplus_ref(cfg, prices, mark, bal, pos, cost, theta: float) -> float:
    """``equity - theta MM`` shrunk by ``ROUNDING`` of the gross values (NaN
    when not finite)."""
    v = value_account_ref(cfg, prices, mark, bal, pos, cost)
    gross = v["collateral"] + v["liabilities"] + abs(v["upl"]) + theta * v["mm"]
    s = v["equity"] - theta * v["mm"] - ROUNDING * gross
    return s if np.isfinite(s) else np.nan


def query_ref(cfg, ref_prices, ref_mark, prices, mark, bal, pos, cost, theta: float,
              dirty=(), band: float = BAND) -> list[int]:
    """The candidates of :func:`query`, account by account, from the dense
    rows the screen was built from (``dirty``: accounts marked since)."""
    pol = cfg.policy
    A = bal.shape[1]
    if prices[cfg.quote, pol[cfg.quote]] != ref_prices[cfg.quote, pol[cfg.quote]]:
        return list(range(len(bal)))

    def move(p, r):
        if not (r != 0 and np.isfinite(r)):
            return np.nan
        x = p / r - 1.0
        return x if np.isfinite(x) else np.nan

    held = [a for a in range(A) if a != cfg.quote and (bal[:, a] != 0).any()]
    held += [A + m for m in range(pos.shape[1]) if (pos[:, m] != 0).any()]
    d = {t: move(prices[t, pol[t]], ref_prices[t, pol[t]]) if t < A else move(mark[t - A], ref_mark[t - A])
         for t in held}
    known = [x for x in d.values() if np.isfinite(x)]
    known.sort()
    h = len(known) // 2
    mu = 0.0 if not known else known[h] if len(known) % 2 else 0.5 * (known[h - 1] + known[h])
    common = {t for t in held if np.isfinite(d[t]) and abs(d[t] - mu) <= band}
    small = max([abs(d[t] - mu) for t in common], default=0.0)
    big = max([abs(mu)] + [abs(x) for x in known])
    out = []
    for i in range(len(bal)):
        s = surplus_ref(cfg, ref_prices, ref_mark, bal[i], pos[i], cost[i], theta)
        items = slopes_ref(cfg, ref_prices, ref_mark, bal[i], pos[i], theta)
        C = sum(c for _, c, _ in items)
        W = sum(w for _, _, w in items)
        E = sum(abs(c) + w for _, c, w in items)
        if not np.isfinite(E):
            s = np.nan
        elif E == 0 and value_account_ref(cfg, ref_prices, ref_mark, bal[i], pos[i], cost[i])["ratio"] >= theta:
            s = np.inf                         # nothing it holds moves, and it is above theta
        outliers = 0.0                         # their terms, summed in item order
        for t, c, w in sorted(items, key=lambda it: it[0]):
            if t not in common and np.isfinite(d[t]):
                e = d[t] - mu
                outliers += c * e - w * abs(e)
        bound = s + mu * C - abs(mu) * W - small * E + outliers
        missing = any(not np.isfinite(d[t]) for t, _, _ in items)
        if i in dirty or not s > 0 or missing or not bound > ROUNDING * E * big:
            out.append(i)
    return out


# ----------------------------------------------------------------------
# a monitor: the screen kept up to date over a sequence of moves and fills
# ----------------------------------------------------------------------
class AccountMonitor:
    """A venue's unified accounts watched against one threshold ratio over
    a sequence of price moves and trades: the CSR layout
    (:mod:`lob.margin.sparse`) and its :data:`Screen`, rebuilt when the
    screen stops paying.

    ``check(prices, mark)`` returns the accounts whose margin ratio is below
    ``theta`` (or not a number) at those prices -- exactly the accounts a
    full valuation would find (tested) -- and leaves their exact valuations
    in ``values`` (rows of the other accounts are as of their last exact
    valuation: above ``theta``, provably).  ``update(rows, balances,
    perp_pos, perp_cost)`` copies the dense rows of accounts that traded into
    the layout and marks them dirty (a holding outside the layout's pattern
    rebuilds it).  The screen is rebuilt at the current prices when a check
    returns more than ``rebuild_share`` of the accounts as candidates, or
    when the dirty accounts are more than that share.  ``stats`` counts
    checks, rebuilds, candidates and accounts below ``theta``.

    Units: as :mod:`lob.margin.unified` (atoms, contracts, quote atoms; USD
    per unit; ratios)."""

    def __init__(self, cfg, balances, perp_pos, perp_cost, theta: float, *, prices, mark,
                 band: float = BAND, rebuild_share: float = 0.25, pattern=None, perp_pattern=None):
        if not 0 < rebuild_share <= 1:
            raise ValueError(f"rebuild_share must be in (0, 1], got {rebuild_share}")
        if not band >= 0:
            raise ValueError(f"band must be >= 0, got {band}")
        self.cfg, self.theta, self.band, self.rebuild_share = cfg, float(theta), float(band), rebuild_share
        self._pattern = (pattern, perp_pattern)
        self.sp = to_sparse(balances, perp_pos, perp_cost, pattern=pattern, perp_pattern=perp_pattern)
        n = self.sp.row_ptr.shape[0] - 1
        self.values = np.empty((n, N_V))
        self._rows = np.empty(n, np.int64)
        self.stats = {"checks": 0, "rebuilds": 0, "candidates": 0, "below": 0}
        self._rebuild(prices, mark)

    def _rebuild(self, prices, mark):
        self.screen = build_screen(self.cfg, prices, mark, self.sp, self.theta, self.values)
        self._at = (prices, mark)
        self.stats["rebuilds"] += 1

    def check(self, prices, mark) -> np.ndarray:
        """Accounts below ``theta`` (sorted int64) at ``prices``/``mark``."""
        prices = np.ascontiguousarray(prices, float)
        mark = np.ascontiguousarray(mark, float)
        n = self._rows.shape[0]
        if self.screen.dirty[0] > self.rebuild_share * n:
            self._rebuild(prices, mark)
            c = query(self.screen, self.cfg, prices, mark, self.band, self._rows)
        else:
            c = screened_revalue(self.screen, self.cfg, prices, mark, self.band, self.sp, self._rows,
                                 self.values)
            if c > self.rebuild_share * n:
                self._rebuild(prices, mark)
                c = query(self.screen, self.cfg, prices, mark, self.band, self._rows)
        self._at = (prices, mark)
        rows = self._rows[:c]
        below = np.sort(rows[~(self.values[rows, V_RATIO] >= self.theta)])
        st = self.stats
        st["checks"] += 1
        st["candidates"] += int(c)
        st["below"] += int(len(below))
        return below

    def update(self, rows, balances, perp_pos, perp_cost) -> None:
        """The accounts ``rows`` traded: their dense rows (``balances[n, A]``
        atoms, ``perp_pos``/``perp_cost[n, P]``) replace theirs in the
        layout, and they are dirty until the next rebuild.  A holding
        outside the layout's pattern rebuilds the layout and the screen (at
        the prices of the last check)."""
        rows = np.ascontiguousarray(rows, np.int64)
        if sync_rows(self.sp, balances, perp_pos, perp_cost, rows):
            pattern, perp_pattern = self._pattern
            self.sp = to_sparse(balances, perp_pos, perp_cost, pattern=pattern, perp_pattern=perp_pattern)
            self._rebuild(*self._at)
            return
        mark_dirty(self.screen, rows)
