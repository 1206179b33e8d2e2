"""Unified accounts in a sparse (CSR) layout: re-valuation in proportion to
what the accounts hold, not to ``accounts x assets``.

The dense layout of :mod:`lob.margin.unified` (``balances[n_acc, n_assets]``,
``perp_pos``/``perp_cost[n_acc, n_perps]``) stays the readable reference; this
module holds the same numbers as lists of non-zero entries and values them
with the same arithmetic in the same order, so that every valuation column is
**bit-identical** to :func:`~lob.margin.unified.value_accounts` (tested in
``tests/test_margin_sparse.py``).

Layout (:data:`SparseAccounts`, a namedtuple of arrays; build it with
:func:`to_sparse`)
------------------------------------------------------------------------------
* per account (rows, CSR): account ``i``'s spot entries are ``k`` in
  ``row_ptr[i] .. row_ptr[i+1]``, asset ``row_asset[k]`` (ascending within the
  row), balance ``row_bal[k]`` (int64 atoms of that asset, signed: a negative
  balance is a loan);
* per asset (columns, CSC): asset ``a``'s holders are ``h`` in
  ``col_ptr[a] .. col_ptr[a+1]``, account ``col_row[h]`` (ascending), and
  ``col_bal[h]``, a *copy* of the same balance, so that re-valuing the holders
  of one asset streams one contiguous array instead of gathering
  ``balances[i, a]`` across rows; ``row_col[k]`` is the column position of
  row entry ``k`` (:func:`set_balance` keeps both copies equal);
* perps per account (CSR): ``prow_ptr[i] .. prow_ptr[i+1]``, perp
  ``prow_perp[k]`` (ascending), ``prow_pos[k]`` int64 signed contracts and
  ``prow_cost[k]`` int64 signed entry notional in quote atoms.

The *pattern* (which entries exist) is fixed when the layout is built: by
default the non-zero balances and open perps, optionally more (``pattern=``,
e.g. every asset an agent trades), so that fills change values in place and
never insert.  An entry may hold zero (it is skipped exactly as the dense
kernel skips a zero balance).  A balance that becomes non-zero outside the
pattern cannot be stored: :func:`set_balance` and :func:`sync_rows` report
it, and the caller rebuilds (:func:`to_sparse`).

Index arrays are int32 (``row_asset``, ``col_row``, ``prow_perp``: fewer bytes
streamed), pointers int64.  Units are those of :mod:`lob.margin.unified`:
atoms, contracts, quote atoms; prices USD per whole unit; valuations USD.

Kernels (``cache=True``; they allocate only the two per-asset price vectors,
as the dense kernels do, and are called from Python, not from the simulation
loop): :func:`value_sparse` (every account), :func:`value_sparse_rows` (a
list), :func:`revalue_asset_sparse` (one asset's holders after its price
moved: the incremental update of :func:`~lob.margin.unified.revalue_asset`,
bit-identical to it).

Measured (``benchmarks/test_margin_bench.py``, 100,000 accounts, 40
assets, 4 perps, ~1.25M non-zero entries, a shared 2-core machine at load
1.7): a full re-valuation 7 ms against 14 ms dense; one altcoin's 24,454
holders 0.9 ms against 2.0 ms right after the books have been rebuilt (cold
caches), 0.7 against 1.2 ms warm.  With every asset held by every account the dense
kernel is faster (13 against 21 ms): the layout pays for its indexes.

``lob.sim.risk`` keeps the dense kernel: every cycle it copies its accounts
out of the world's dense balance table (``World.bal``), and building this
layout from that copy costs more than valuing the copy densely (a 10-minute
oct-10-2025 run, 287 accounts x 38 assets, 451 cycles, load 4.7: 63 ms
valuing densely against 89 ms building plus 40 ms valuing; the valuation is
6% of the risk engine's 0.97 s there).  The layout pays where it is kept,
not rebuilt.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from .unified import atom_prices, revalue_entry, spot_term, tiered, write_sums

SparseAccounts = namedtuple("SparseAccounts", [
    "row_ptr",     # int64[n+1]   spot entries of account i: row_ptr[i] .. row_ptr[i+1]
    "row_asset",   # int32[nnz]   asset of each entry (ascending within a row)
    "row_bal",     # int64[nnz]   balance, atoms (signed)
    "row_col",     # int64[nnz]   position of the same entry in the col_* arrays
    "col_ptr",     # int64[A+1]   holders of asset a: col_ptr[a] .. col_ptr[a+1]
    "col_row",     # int32[nnz]   account of each holder (ascending within an asset)
    "col_bal",     # int64[nnz]   the same balance, atoms (a copy, kept equal)
    "prow_ptr",    # int64[n+1]   perp entries of account i
    "prow_perp",   # int32[pnnz]  perp index (ascending within a row)
    "prow_pos",    # int64[pnnz]  signed contracts
    "prow_cost",   # int64[pnnz]  signed entry notional, quote atoms
])


# ----------------------------------------------------------------------
# building and keeping it in step with dense rows
# ----------------------------------------------------------------------
@njit(cache=True)
def _build(balances, keep, perp_pos, perp_cost, pkeep):
    """The CSR/CSC arrays from dense rows; ``keep``/``pkeep`` (uint8, same
    shapes) mark extra entries to reserve besides the non-zero ones."""
    n, n_a = balances.shape
    n_p = perp_pos.shape[1]
    row_ptr = np.zeros(n + 1, np.int64)
    col_cnt = np.zeros(n_a + 1, np.int64)
    prow_ptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        c = 0
        for a in range(n_a):
            if balances[i, a] != 0 or keep[i, a] != 0:
                c += 1
                col_cnt[a + 1] += 1
        row_ptr[i + 1] = row_ptr[i] + c
        c = 0
        for m in range(n_p):
            if perp_pos[i, m] != 0 or perp_cost[i, m] != 0 or pkeep[i, m] != 0:
                c += 1
        prow_ptr[i + 1] = prow_ptr[i] + c
    nnz = row_ptr[n]
    col_ptr = np.cumsum(col_cnt)
    row_asset = np.empty(nnz, np.int32)
    row_bal = np.empty(nnz, np.int64)
    row_col = np.empty(nnz, np.int64)
    col_row = np.empty(nnz, np.int32)
    col_bal = np.empty(nnz, np.int64)
    fill = col_ptr[:n_a].copy()
    pnnz = prow_ptr[n]
    prow_perp = np.empty(pnnz, np.int32)
    prow_pos = np.empty(pnnz, np.int64)
    prow_cost = np.empty(pnnz, np.int64)
    for i in range(n):                      # rows in order: each column's holders come out ascending
        k = row_ptr[i]
        for a in range(n_a):
            b = balances[i, a]
            if b != 0 or keep[i, a] != 0:
                h = fill[a]
                fill[a] += 1
                row_asset[k] = a
                row_bal[k] = b
                row_col[k] = h
                col_row[h] = i
                col_bal[h] = b
                k += 1
        k = prow_ptr[i]
        for m in range(n_p):
            if perp_pos[i, m] != 0 or perp_cost[i, m] != 0 or pkeep[i, m] != 0:
                prow_perp[k] = m
                prow_pos[k] = perp_pos[i, m]
                prow_cost[k] = perp_cost[i, m]
                k += 1
    return (row_ptr, row_asset, row_bal, row_col, col_ptr, col_row, col_bal,
            prow_ptr, prow_perp, prow_pos, prow_cost)


def to_sparse(balances, perp_pos=None, perp_cost=None, *, pattern=None,
              perp_pattern=None) -> SparseAccounts:
    """A :data:`SparseAccounts` holding the dense rows ``balances[n, A]``
    (int64 atoms) and ``perp_pos``/``perp_cost[n, P]`` (int64 contracts /
    quote atoms; None: no perps).  ``pattern[n, A]`` / ``perp_pattern[n, P]``
    (bool) reserve entries that are zero now but may be filled later."""
    balances = np.ascontiguousarray(balances, np.int64)
    if balances.ndim != 2:
        raise ValueError("balances must be 2-D [accounts, assets]")
    n = balances.shape[0]
    if n >= 2**31 or balances.shape[1] >= 2**31:
        raise ValueError("too many accounts or assets for int32 indexes")
    if perp_pos is None:
        perp_pos = np.zeros((n, 0), np.int64)
        perp_cost = np.zeros((n, 0), np.int64)
    perp_pos = np.ascontiguousarray(perp_pos, np.int64)
    perp_cost = np.ascontiguousarray(perp_cost, np.int64)
    if perp_pos.shape != perp_cost.shape or perp_pos.shape[0] != n:
        raise ValueError("perp_pos and perp_cost must both be [accounts, perps]")
    keep = np.zeros(balances.shape, np.uint8) if pattern is None else \
        np.ascontiguousarray(np.broadcast_to(pattern, balances.shape), np.uint8)
    pkeep = np.zeros(perp_pos.shape, np.uint8) if perp_pattern is None else \
        np.ascontiguousarray(np.broadcast_to(perp_pattern, perp_pos.shape), np.uint8)
    return SparseAccounts(*_build(balances, keep, perp_pos, perp_cost, pkeep))


def to_dense(sp: SparseAccounts, n_assets: int, n_perps: int = 0):
    """``(balances, perp_pos, perp_cost)`` as dense int64 arrays."""
    n = sp.row_ptr.shape[0] - 1
    bal = np.zeros((n, n_assets), np.int64)
    rows = np.repeat(np.arange(n), np.diff(sp.row_ptr))
    bal[rows, sp.row_asset] = sp.row_bal
    pos = np.zeros((n, n_perps), np.int64)
    cost = np.zeros((n, n_perps), np.int64)
    prow = np.repeat(np.arange(n), np.diff(sp.prow_ptr))
    pos[prow, sp.prow_perp] = sp.prow_pos
    cost[prow, sp.prow_perp] = sp.prow_cost
    return bal, pos, cost


@njit(cache=True)
def _find(ptr, idx, i, a):
    """Position of index ``a`` in row ``i`` of a CSR (``idx`` ascending), or -1."""
    lo = ptr[i]
    hi = ptr[i + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        x = idx[mid]
        if x < a:
            lo = mid + 1
        elif x > a:
            hi = mid
        else:
            return mid
    return -1


@njit(cache=True)
def set_balance(sp, i, a, value):
    """Set account ``i``'s balance of asset ``a`` to ``value`` (int64 atoms)
    in both copies.  Returns False (and changes nothing) when the entry is not
    in the pattern and ``value`` is not zero: the caller rebuilds."""
    k = _find(sp.row_ptr, sp.row_asset, i, a)
    if k < 0:
        return value == 0
    sp.row_bal[k] = value
    sp.col_bal[sp.row_col[k]] = value
    return True


@njit(cache=True)
def set_perp(sp, i, m, pos, cost):
    """Set account ``i``'s perp ``m`` position (contracts) and entry cost
    (quote atoms); False when not in the pattern and not flat."""
    k = _find(sp.prow_ptr, sp.prow_perp, i, m)
    if k < 0:
        return pos == 0 and cost == 0
    sp.prow_pos[k] = pos
    sp.prow_cost[k] = cost
    return True


@njit(cache=True)
def sync_rows(sp, balances, perp_pos, perp_cost, rows):
    """Copy the dense rows ``rows`` (e.g. the accounts touched by fills) into
    the layout.  Returns how many non-zero values found no entry (0: the
    layout now equals the dense rows on those accounts; else rebuild)."""
    missing = 0
    for j in range(rows.shape[0]):
        i = rows[j]
        for a in range(balances.shape[1]):
            if not set_balance(sp, i, a, balances[i, a]):
                missing += 1
        for m in range(perp_pos.shape[1]):
            if not set_perp(sp, i, m, perp_pos[i, m], perp_cost[i, m]):
                missing += 1
    return missing


# ----------------------------------------------------------------------
# valuation
# ----------------------------------------------------------------------
@njit(cache=True, inline='always')
def value_row_sparse(cfg, px_atom, px_unit, mark, sp, i, out):
    """:func:`~lob.margin.unified.value_row` over account ``i``'s entries
    only: the same steps (``spot_term``, the perp step, ``write_sums``) in
    the same order (ascending asset, then ascending perp; zero entries
    skipped), hence the same bits."""
    coll = assets = liab = im = mm = expo = 0.0
    for k in range(sp.row_ptr[i], sp.row_ptr[i + 1]):
        b = sp.row_bal[k]
        if b == 0:
            continue
        coll, assets, liab, im, mm, expo = spot_term(cfg, sp.row_asset[k], b, px_atom, coll, assets, liab,
                                                     im, mm, expo)
    upl = 0.0
    q = cfg.quote
    pq = px_unit[q]
    apu_q = cfg.atoms_per_unit[q]
    pxq = px_atom[q]
    for j in range(sp.prow_ptr[i], sp.prow_ptr[i + 1]):
        k = sp.prow_pos[j]
        c = sp.prow_cost[j]
        if k == 0 and c == 0:
            continue
        m = sp.prow_perp[j]
        cs = cfg.contract_size[m]         # the perp step of value_row, inline as there
        upl += (k * cs * mark[m] * apu_q - c) * pxq
        n = abs(k) * cs * mark[m] * pq
        expo += n
        im += tiered(n, cfg.perp_bounds, cfg.perp_im, m)
        mm += tiered(n, cfg.perp_bounds, cfg.perp_mm, m)
    write_sums(coll, assets, liab, upl, im, mm, expo, out, i)


@njit(cache=True)
def value_sparse(cfg, prices, mark, sp, out):
    """Value every account of ``sp`` into ``out[n_acc, N_V]`` (USD), with
    ``prices[A, N_SOURCES]`` (USD per unit, picked per ``cfg.policy``) and
    ``mark[P]`` (quote units per underlying unit); bit-identical to
    :func:`~lob.margin.unified.value_accounts` on the dense rows.  Cost:
    O(accounts + non-zero entries).  Returns ``out``."""
    px_unit, px_atom = atom_prices(cfg, prices)
    for i in range(sp.row_ptr.shape[0] - 1):
        value_row_sparse(cfg, px_atom, px_unit, mark, sp, i, out)
    return out


@njit(cache=True)
def value_sparse_rows(cfg, prices, mark, sp, rows, out):
    """:func:`value_sparse` for the accounts ``rows`` (int64) only, written
    to ``out[rows[j]]``."""
    px_unit, px_atom = atom_prices(cfg, prices)
    for j in range(rows.shape[0]):
        value_row_sparse(cfg, px_atom, px_unit, mark, sp, rows[j], out)
    return out


@njit(cache=True)
def revalue_asset_sparse(cfg, a, px_old, px_new, sp, out):
    """Update ``out`` after the USD price (per whole unit, as its policy
    selects) of asset ``a`` moved from ``px_old`` to ``px_new``: the holders
    of ``a`` only, their balances read from the contiguous column copy.  The
    same steps as :func:`~lob.margin.unified.revalue_asset`
    (``revalue_entry``; its results bit for bit), equal to a full valuation
    to float rounding; ``a`` must not be the quote asset.  O(holders of
    ``a``).  Returns the number of entries in ``a``'s column (zero entries,
    skipped, included)."""
    apu = cfg.atoms_per_unit[a]
    po = px_old / apu
    pn = px_new / apu
    h0 = sp.col_ptr[a]
    h1 = sp.col_ptr[a + 1]
    for h in range(h0, h1):
        b = sp.col_bal[h]
        if b == 0:
            continue
        revalue_entry(cfg, a, b, po, pn, out, sp.col_row[h])
    return h1 - h0


def holders_sparse(sp: SparseAccounts, a: int) -> np.ndarray:
    """Accounts with an entry for asset ``a`` (int64, ascending; entries may
    hold zero)."""
    return sp.col_row[sp.col_ptr[a]:sp.col_ptr[a + 1]].astype(np.int64)
