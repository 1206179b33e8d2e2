"""Unified (cross-margin) exchange accounts: valuation, margin, leverage.

Every account of a venue is one row of a few arrays; one compiled kernel
(:func:`value_accounts`) values all rows after a price move, and
:func:`value_account_ref` is its readable pure-Python twin (one account),
bit-identical, used by the differential tests.  Variants for simulation
kernels (all ``cache=True``, callable from other numba code):
:func:`value_accounts_parallel` (rows over threads),
:func:`value_accounts_rows` (a watch list), :func:`value_one` (one account
from 1-D rows), :func:`value_row` (the inlined per-row body).  The venue's
rules travel as one :data:`MarginConfig` namedtuple of arrays.  This dense
layout is the readable reference; :mod:`lob.margin.sparse` holds the same
accounts as lists of holdings (CSR) and values them bit-identically, in
proportion to what they hold.

Units and layouts
-----------------
* ``balances[n_acc, n_assets]`` int64 *atoms*; asset ``a`` has
  ``atoms_per_unit[a]`` atoms per whole unit (choose it so balances fit in
  int64: 1e8 atoms/unit allows 9.2e10 units).  A negative balance is a loan
  of that asset (spot margin).
* ``prices[n_assets, N_SOURCES]`` float64, **USD per whole unit**, one column
  per price source (``SRC_*``); ``policy[a]`` (in the config) says which
  column values asset ``a`` -- the policy question of October 2025.
* perpetuals (linear, settled in the quote asset ``cfg.quote``, e.g. USDT):
  ``perp_pos[n_acc, n_perps]`` int64 signed contracts (one contract =
  ``contract_size[m]`` units of the underlying; one contract is the book's
  lot) and ``perp_cost[n_acc, n_perps]`` int64 signed *entry notional* in
  quote atoms (positive for a long).  The entry price is
  ``cost / (pos * contract_size * atoms_per_unit[quote])`` quote units per
  underlying unit; keeping the cost as an integer makes every perp trade and
  its realised PnL exactly conserved in atoms (see :mod:`lob.margin.perps`).
  ``mark[n_perps]`` float64 is the mark price in *quote units* per underlying
  unit; the quote asset's own USD price comes from its policy.
* valuation output ``out[n_acc, N_V]`` float64 (USD), one row per account,
  columns ``V_*`` below.

Definitions (per account; ``v_a = balance_a / atoms_per_unit_a * P_a`` in
USD, ``P_a = prices[a, policy[a]]``)
-----------------------------------------------------------------------
* ``V_ASSETS``     = sum of ``v_a`` over positive balances (no haircut);
* ``V_LIAB``       = sum of ``-v_a`` over negative balances (loans), >= 0;
* ``V_COLLATERAL`` = sum over positive balances of ``haircut_a(v_a)``: the
  collateral ratio is *tiered* on the position's USD value, piecewise
  linear -- tiers ``[(100_000, .95), (1_100_000, .90), (inf, .50)]`` count
  the first 100k USD at 95%, the next 1M at 90% and the rest at 50%;
* ``V_UPL``        = unrealised perp PnL at mark,
  ``sum_m (pos_m * cs_m * mark_m * apu_quote - cost_m) * P_quote / apu_quote``
  (quote atoms times USD per quote atom), counted in full whatever its sign;
* ``V_EQUITY``     = adjusted equity = ``V_COLLATERAL - V_LIAB + V_UPL``
  (liabilities at full value, no haircut);
* ``V_NET``        = net equity at full value = ``V_ASSETS - V_LIAB + V_UPL``
  (what the account is worth if everything sold at the valuation prices; a
  negative ``V_NET`` is bad debt);
* ``V_IM`` / ``V_MM`` = initial / maintenance margin: loans
  ``sum_a (-v_a) * loan_im_a`` (``loan_mm_a``) plus perps
  ``tiered(notional_m)`` with per-market tiered IM and MM rates on the USD
  notional ``|pos_m| * cs_m * mark_m * P_quote`` (marginal rates per
  notional bracket: identical to Binance's "rate x notional - maintenance
  amount" brackets);
* ``V_RATIO``      = **margin ratio**, defined as Binance's unified-account
  ``uniMMR``: ``V_EQUITY / V_MM`` (``+inf`` with no maintenance margin and
  ``V_EQUITY >= 0``, ``-inf`` if ``V_EQUITY < 0``).  The risk engine takes
  an account over when ``V_RATIO < takeover_ratio``, strictly below
  (default 1.0, configurable: a venue may act at a level above 1);
* ``V_EXPOSURE``   = gross position value: ``|v_a|`` of every non-cash asset
  (long or loan; ``cash[a]`` marks stablecoins, which are not positions) plus
  every perp notional;
* ``V_LEVERAGE``   = ``V_EXPOSURE / V_NET`` (0 with no exposure, ``+inf`` when
  ``V_NET <= 0``).  It rises *passively*, without any trade, when collateral
  prices fall: 200 ALT at 1 USD against a 100 USDT loan is 2x; ALT at 0.75
  makes it 150 / 50 = 3x, at 2/3 it is 4x.

Price sources (``policy`` codes): ``SRC_LAST`` the venue's own last trade,
``SRC_MID`` its own mid, ``SRC_AVG`` a short-window average of its own book
(the caller computes it), ``SRC_INDEX`` an index across venues,
``SRC_ORACLE`` a redemption / oracle value (USDe at 1, WBETH at its staking
exchange rate times ETH).  The caller fills the matrix; the valuation picks
``prices[a, policy[a]]``.  Fill every column a policy uses with a finite
price: a NaN makes the ratio NaN, and ``NaN < threshold`` is false, so such
an account is never taken over.
"""
from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numba import njit, prange

# ----------------------------------------------------------------------
# price sources
# ----------------------------------------------------------------------
SRC_LAST = 0
SRC_MID = 1
SRC_AVG = 2
SRC_INDEX = 3
SRC_ORACLE = 4
N_SOURCES = 5
SOURCE_NAMES = ("last", "mid", "avg", "index", "oracle")

# ----------------------------------------------------------------------
# valuation output columns (USD)
# ----------------------------------------------------------------------
V_EQUITY = 0
V_NET = 1
V_COLLATERAL = 2
V_ASSETS = 3
V_LIAB = 4
V_UPL = 5
V_IM = 6
V_MM = 7
V_RATIO = 8
V_EXPOSURE = 9
V_LEVERAGE = 10
N_V = 11
V_NAMES = ("equity", "net", "collateral", "assets", "liabilities", "upl", "im", "mm",
           "ratio", "exposure", "leverage")

INF = math.inf

#: the compiled kernels' view of a venue's margin rules (a namedtuple of
#: arrays, passed as one argument to every kernel; build it with
#: :func:`build_config`).  Shapes: A assets, P perps, T / U tiers.
MarginConfig = namedtuple("MarginConfig", [
    "atoms_per_unit",   # int64[A]      atoms per whole unit
    "lot_atoms",        # int64[A]      spot lot size in atoms (liquidation slices are multiples)
    "policy",           # int64[A]      SRC_* price source per asset
    "hc_bounds",        # float64[A, T] cumulative USD upper bounds of haircut tiers (last = inf)
    "hc_rates",         # float64[A, T] collateral ratio within each tier
    "loan_im",          # float64[A]    initial margin rate on a loan (negative balance)
    "loan_mm",          # float64[A]    maintenance margin rate on a loan
    "cash",             # uint8[A]      1 = cash-like (not counted in exposure)
    "contract_size",    # float64[P]    underlying units per contract
    "perp_bounds",      # float64[P, U] cumulative USD notional bounds of IM/MM tiers (last = inf)
    "perp_im",          # float64[P, U] initial margin rate within each tier
    "perp_mm",          # float64[P, U] maintenance margin rate within each tier
    "quote",            # int           asset index of the quote / settlement asset
])


# ----------------------------------------------------------------------
# building a config from readable specs
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class AssetSpec:
    """One asset of a venue.

    ``haircut``: a flat collateral ratio or tiers ``[(upper_usd, rate), ...]``
    with cumulative upper bounds (a final ``inf`` bound is added if absent,
    repeating the last rate).  ``loan_im``/``loan_mm``: margin rates on the
    USD value of a loan of this asset.  ``policy``: ``SRC_*``.
    """
    name: str
    atoms_per_unit: int = 10**8
    lot_atoms: int = 1
    haircut: float | Sequence[tuple[float, float]] = 1.0
    loan_im: float = 0.10
    loan_mm: float = 0.05
    policy: int = SRC_INDEX
    cash: bool = False


@dataclass(frozen=True)
class PerpSpec:
    """One linear perpetual settled in the venue's quote asset.

    ``tiers``: ``(im, mm)`` flat rates or ``[(upper_usd_notional, im, mm), ...]``
    with cumulative bounds (an ``inf`` bound is appended if absent)."""
    name: str
    contract_size: float = 1.0
    tiers: tuple[float, float] | Sequence[tuple[float, float, float]] = (0.02, 0.01)


def _tier_rows(specs, ncols):
    rows = []
    for s in specs:
        s = [tuple(map(float, t)) for t in s]
        if not s or s[-1][0] != INF:
            s.append((INF,) + s[-1][1:] if s else (INF, 0.0))
        for (b0, *_), (b1, *_) in zip(s, s[1:]):
            if not b1 > b0:
                raise ValueError(f"tier bounds must increase: {s}")
        if s[0][0] <= 0:
            raise ValueError(f"first tier bound must be > 0: {s}")
        rows.append(s)
    width = max([len(r) for r in rows] + [1])
    out = np.full((len(rows), width, ncols), 0.0)
    for i, r in enumerate(rows):
        r = r + [r[-1]] * (width - len(r))      # pad with the last (inf) tier
        out[i] = np.array(r, float)
    return out


def build_config(assets: Sequence[AssetSpec], perps: Sequence[PerpSpec] = (),
                 quote: int | str = 0) -> MarginConfig:
    """A :data:`MarginConfig` from asset and perp specs; ``quote`` is the
    settlement asset (index or name)."""
    names = [a.name for a in assets]
    q = names.index(quote) if isinstance(quote, str) else int(quote)
    if not 0 <= q < len(assets):
        raise ValueError("quote asset out of range")
    hc = _tier_rows([[(INF, a.haircut)] if np.isscalar(a.haircut) else list(a.haircut)
                     for a in assets], 2)
    pt = _tier_rows([[(INF, *p.tiers)] if np.isscalar(p.tiers[0]) else list(p.tiers)
                     for p in perps], 3)
    if pt.shape[0] == 0:
        pt = np.zeros((0, 1, 3))
    for a in assets:
        if a.atoms_per_unit <= 0 or a.lot_atoms <= 0:
            raise ValueError(f"{a.name}: atoms_per_unit and lot_atoms must be > 0")
        if not 0 <= a.policy < N_SOURCES:
            raise ValueError(f"{a.name}: bad price policy {a.policy}")
    return MarginConfig(
        atoms_per_unit=np.array([a.atoms_per_unit for a in assets], np.int64),
        lot_atoms=np.array([a.lot_atoms for a in assets], np.int64),
        policy=np.array([a.policy for a in assets], np.int64),
        hc_bounds=np.ascontiguousarray(hc[:, :, 0]),
        hc_rates=np.ascontiguousarray(hc[:, :, 1]),
        loan_im=np.array([a.loan_im for a in assets], float),
        loan_mm=np.array([a.loan_mm for a in assets], float),
        cash=np.array([1 if a.cash else 0 for a in assets], np.uint8),
        contract_size=np.array([p.contract_size for p in perps], float),
        perp_bounds=np.ascontiguousarray(pt[:, :, 0]),
        perp_im=np.ascontiguousarray(pt[:, :, 1]),
        perp_mm=np.ascontiguousarray(pt[:, :, 2]),
        quote=q,
    )


def with_policy(cfg: MarginConfig, policy) -> MarginConfig:
    """The same venue rules with another price policy: one ``SRC_*`` code for
    every asset, or an array / ``{asset_index: code}`` mapping of changes."""
    pol = cfg.policy.copy()
    if isinstance(policy, dict):
        for a, c in policy.items():
            pol[a] = c
    else:
        pol[:] = policy
    if pol.min() < 0 or pol.max() >= N_SOURCES:
        raise ValueError("bad price policy code")
    return cfg._replace(policy=pol)


def price_matrix(n_assets: int, fill=np.nan) -> np.ndarray:
    """An empty ``prices[n_assets, N_SOURCES]`` matrix."""
    return np.full((n_assets, N_SOURCES), fill, float)


def empty_perps(n_acc: int, n_perps: int):
    """Zero ``(perp_pos, perp_cost)`` arrays."""
    return np.zeros((n_acc, n_perps), np.int64), np.zeros((n_acc, n_perps), np.int64)


# ----------------------------------------------------------------------
# compiled kernels
# ----------------------------------------------------------------------
@njit(cache=True, inline='always')
def tiered(v, bounds, rates, k):
    """Piecewise-linear tier sum of ``v >= 0`` over row ``k``: rate t applies
    to the part of ``v`` between bound t-1 and bound t (the last bound is inf)."""
    acc = 0.0
    lo = 0.0
    for t in range(bounds.shape[1]):
        hi = bounds[k, t]
        if v <= hi:
            return acc + rates[k, t] * (v - lo)
        acc += rates[k, t] * (hi - lo)
        lo = hi
    return acc


@njit(cache=True)
def select_prices(prices, policy):
    """USD per whole unit of every asset, per its policy: ``prices[a, policy[a]]``."""
    n = policy.shape[0]
    px = np.empty(n)
    for a in range(n):
        px[a] = prices[a, policy[a]]
    return px


@njit(cache=True, inline='always')
def spot_term(cfg, a, b, px_atom, coll, assets, liab, im, mm, expo):
    """Add a non-zero balance ``b`` (atoms) of asset ``a`` to the running
    sums ``(coll, assets, liab, im, mm, expo)`` (USD) and return them: the
    per-asset step of :func:`value_row` (shared by the CSR layout of
    :mod:`lob.margin.sparse`, hence the same bits; measured as fast as the
    step written inline)."""
    v = b * px_atom[a]
    if b > 0:
        assets += v
        coll += tiered(v, cfg.hc_bounds, cfg.hc_rates, a)
        if cfg.cash[a] == 0:
            expo += v
    else:
        lv = -v
        liab += lv
        im += lv * cfg.loan_im[a]
        mm += lv * cfg.loan_mm[a]
        if cfg.cash[a] == 0:
            expo += lv
    return coll, assets, liab, im, mm, expo


@njit(cache=True, inline='always')
def write_derived(coll, assets, liab, upl, mm, expo, out, j):
    """Equity, net equity, margin ratio and leverage from the sums, into
    ``out[j]`` (the columns :func:`value_row` and :func:`revalue_asset`
    derive)."""
    equity = coll - liab + upl
    net = assets - liab + upl
    out[j, V_EQUITY] = equity
    out[j, V_NET] = net
    if mm > 0.0:
        out[j, V_RATIO] = equity / mm
    elif equity >= 0.0:
        out[j, V_RATIO] = np.inf
    else:
        out[j, V_RATIO] = -np.inf
    if expo == 0.0:
        out[j, V_LEVERAGE] = 0.0
    elif net > 0.0:
        out[j, V_LEVERAGE] = expo / net
    else:
        out[j, V_LEVERAGE] = np.inf


@njit(cache=True, inline='always')
def write_sums(coll, assets, liab, upl, im, mm, expo, out, j):
    """All of ``out[j, V_*]`` from the sums."""
    out[j, V_COLLATERAL] = coll
    out[j, V_ASSETS] = assets
    out[j, V_LIAB] = liab
    out[j, V_UPL] = upl
    out[j, V_IM] = im
    out[j, V_MM] = mm
    out[j, V_EXPOSURE] = expo
    write_derived(coll, assets, liab, upl, mm, expo, out, j)


@njit(cache=True, inline='always')
def value_row(cfg, px_atom, px_unit, mark, balances, perp_pos, perp_cost, i, out, j):
    """Value account row ``i`` of ``balances[n, A]``, ``perp_pos``/``perp_cost``
    ``[n, P]`` into ``out[j, V_*]``, given ``px_atom[a] = px_unit[a] /
    atoms_per_unit[a]`` (USD per atom).  (Rows are indexed, not sliced, and
    the results are written, not returned: both keep the per-account cost
    at the arithmetic.)"""
    coll = assets = liab = im = mm = expo = 0.0
    for a in range(balances.shape[1]):
        b = balances[i, a]
        if b == 0:
            continue
        coll, assets, liab, im, mm, expo = spot_term(cfg, a, b, px_atom, coll, assets, liab, im, mm, expo)
    upl = 0.0
    q = cfg.quote
    pq = px_unit[q]
    apu_q = cfg.atoms_per_unit[q]
    pxq = px_atom[q]
    for m in range(perp_pos.shape[1]):
        k = perp_pos[i, m]
        c = perp_cost[i, m]
        if k == 0 and c == 0:
            continue
        # (inline, not a helper: passing ``cfg`` to an inlined helper here
        # costs an incref/decref of its arrays per perp, measured 4x slower)
        cs = cfg.contract_size[m]
        # UPL in quote atoms, times USD per quote atom (a product, not a
        # division: an int/int division per perp doubles the kernel's time)
        upl += (k * cs * mark[m] * apu_q - c) * pxq
        n = abs(k) * cs * mark[m] * pq
        expo += n
        im += tiered(n, cfg.perp_bounds, cfg.perp_im, m)
        mm += tiered(n, cfg.perp_bounds, cfg.perp_mm, m)
    write_sums(coll, assets, liab, upl, im, mm, expo, out, j)


@njit(cache=True)
def atom_prices(cfg, prices):
    """``(px_unit, px_atom)``: USD per unit (by policy) and per atom."""
    px_unit = select_prices(prices, cfg.policy)
    px_atom = px_unit / cfg.atoms_per_unit
    return px_unit, px_atom


@njit(cache=True)
def value_accounts(cfg, prices, mark, balances, perp_pos, perp_cost, out):
    """Value every account: ``out[i, V_*]`` (USD) for each row ``i`` of
    ``balances[n_acc, A]`` (int64 atoms), ``perp_pos``/``perp_cost``
    ``[n_acc, P]`` (int64 contracts / quote atoms), with ``prices[A,
    N_SOURCES]`` (USD per unit) picked per ``cfg.policy`` and ``mark[P]``
    (quote units per underlying unit).  Returns ``out``."""
    px_unit, px_atom = atom_prices(cfg, prices)
    for i in range(balances.shape[0]):
        value_row(cfg, px_atom, px_unit, mark, balances, perp_pos, perp_cost, i, out, i)
    return out


@njit(cache=True)
def value_accounts_rows(cfg, prices, mark, balances, perp_pos, perp_cost, rows, out):
    """:func:`value_accounts` for the listed ``rows`` only (int64 indexes),
    written to ``out[rows[j]]``: re-value a watch list, or the accounts
    touched by fills, without paying for the rest."""
    px_unit, px_atom = atom_prices(cfg, prices)
    for j in range(rows.shape[0]):
        i = rows[j]
        value_row(cfg, px_atom, px_unit, mark, balances, perp_pos, perp_cost, i, out, i)
    return out


@njit(cache=True, parallel=True)
def value_accounts_parallel(cfg, prices, mark, balances, perp_pos, perp_cost, out):
    """:func:`value_accounts` with the rows spread over threads (numba
    ``prange``); identical results (every row is independent)."""
    px_unit, px_atom = atom_prices(cfg, prices)
    for i in prange(balances.shape[0]):
        value_row(cfg, px_atom, px_unit, mark, balances, perp_pos, perp_cost, i, out, i)
    return out


@njit(cache=True)
def value_one(cfg, prices, mark, bal, pos, cost):
    """One account's valuation tuple (``V_*`` order) from its 1-D rows
    ``bal[A]``, ``pos[P]``, ``cost[P]``."""
    px_unit, px_atom = atom_prices(cfg, prices)
    out = np.empty((1, N_V))
    value_row(cfg, px_atom, px_unit, mark, bal.reshape((1, bal.shape[0])),
              pos.reshape((1, pos.shape[0])), cost.reshape((1, cost.shape[0])), 0, out, 0)
    return (out[0, 0], out[0, 1], out[0, 2], out[0, 3], out[0, 4], out[0, 5], out[0, 6],
            out[0, 7], out[0, 8], out[0, 9], out[0, 10])


@njit(cache=True)
def holders(balances, a):
    """Rows of ``balances`` with a non-zero balance of asset ``a`` (int64)."""
    n = 0
    for i in range(balances.shape[0]):
        if balances[i, a] != 0:
            n += 1
    out = np.empty(n, np.int64)
    n = 0
    for i in range(balances.shape[0]):
        if balances[i, a] != 0:
            out[n] = i
            n += 1
    return out


@njit(cache=True, inline='always')
def revalue_entry(cfg, a, b, po, pn, out, i):
    """Move a non-zero balance ``b`` (atoms) of asset ``a`` from ``po`` to
    ``pn`` USD per atom in ``out[i]``: its contribution to assets,
    collateral, liabilities, margin and exposure, then the derived columns
    (the per-holder step of :func:`revalue_asset`, shared by the CSR
    layout)."""
    vo = b * po
    vn = b * pn
    if b > 0:
        out[i, V_ASSETS] += vn - vo
        out[i, V_COLLATERAL] += tiered(vn, cfg.hc_bounds, cfg.hc_rates, a) - \
            tiered(vo, cfg.hc_bounds, cfg.hc_rates, a)
        if cfg.cash[a] == 0:
            out[i, V_EXPOSURE] += vn - vo
    else:
        d = vo - vn                      # change of the liability (-v)
        out[i, V_LIAB] += d
        out[i, V_IM] += d * cfg.loan_im[a]
        out[i, V_MM] += d * cfg.loan_mm[a]
        if cfg.cash[a] == 0:
            out[i, V_EXPOSURE] += d
    write_derived(out[i, V_COLLATERAL], out[i, V_ASSETS], out[i, V_LIAB], out[i, V_UPL],
                  out[i, V_MM], out[i, V_EXPOSURE], out, i)


@njit(cache=True)
def revalue_asset(cfg, a, px_old, px_new, balances, rows, out):
    """Update the valuations ``out`` after the USD price of one asset ``a``
    moved from ``px_old`` to ``px_new`` (per whole unit, as its policy
    selects), for the accounts ``rows`` holding it (:func:`holders`): only
    asset ``a``'s contribution to assets, collateral, liabilities, margin and
    exposure is recomputed, then the derived columns.  ``a`` must not be the
    quote asset (whose price scales the perps).  Equal to a full
    :func:`value_accounts` up to float rounding (tested); O(len(rows))."""
    apu = cfg.atoms_per_unit[a]
    po = px_old / apu
    pn = px_new / apu
    for j in range(rows.shape[0]):
        i = rows[j]
        b = balances[i, a]
        if b == 0:
            continue
        revalue_entry(cfg, a, b, po, pn, out, i)
    return out


# ----------------------------------------------------------------------
# Python conveniences
# ----------------------------------------------------------------------
def valuation(cfg: MarginConfig, prices, balances, perp_pos=None, perp_cost=None, mark=None,
              out=None) -> np.ndarray:
    """:func:`value_accounts` with allocation and defaults (no perps)."""
    balances = np.ascontiguousarray(balances, np.int64)
    if balances.ndim == 1:
        balances = balances[None, :]
    n = balances.shape[0]
    n_p = cfg.contract_size.shape[0]
    if perp_pos is None:
        perp_pos, perp_cost = empty_perps(n, n_p)
    perp_pos = np.ascontiguousarray(perp_pos, np.int64).reshape(n, n_p)
    perp_cost = np.ascontiguousarray(perp_cost, np.int64).reshape(n, n_p)
    mark = np.zeros(n_p) if mark is None else np.ascontiguousarray(mark, float)
    if out is None:
        out = np.empty((n, N_V))
    return value_accounts(cfg, np.ascontiguousarray(prices, float), mark, balances,
                          perp_pos, perp_cost, out)


def as_dict(row) -> dict:
    """A valuation row as ``{name: value}``."""
    return {k: float(row[j]) for j, k in enumerate(V_NAMES)}


def account_status(out: np.ndarray, takeover_ratio: float = 1.0,
                   call_ratio: float = 1.5) -> np.ndarray:
    """Per account: 0 healthy, 1 margin call (``ratio < call_ratio``),
    2 takeover (``ratio < takeover_ratio``)."""
    r = out[:, V_RATIO]
    st = np.zeros(len(r), np.int8)
    st[r < call_ratio] = 1
    st[r < takeover_ratio] = 2
    return st


def takeover_price(cfg: MarginConfig, prices, bal, pos=None, cost=None, mark=None, *,
                   asset: int, threshold: float = 1.0, lo: float = 0.0, hi: float | None = None,
                   iters: int = 200) -> float:
    """The USD price of ``asset`` (all its sources moved together) at which
    the account's margin ratio crosses ``threshold`` (bisection on
    ``[lo, hi]``, default ``hi`` = the current price); nan if the ratio is
    below the threshold at ``hi`` or above it at ``lo``."""
    prices = np.array(prices, float)
    n_p = cfg.contract_size.shape[0]
    pos = np.zeros(n_p, np.int64) if pos is None else np.asarray(pos, np.int64)
    cost = np.zeros(n_p, np.int64) if cost is None else np.asarray(cost, np.int64)
    mark = np.zeros(n_p) if mark is None else np.asarray(mark, float)
    bal = np.asarray(bal, np.int64)

    def ratio(p):
        prices[asset, :] = p
        return value_one(cfg, prices, mark, bal, pos, cost)[V_RATIO]

    hi = float(prices[asset, cfg.policy[asset]]) if hi is None else hi
    if ratio(hi) < threshold or ratio(lo) >= threshold:
        return math.nan
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if mid == lo or mid == hi:
            break
        if ratio(mid) >= threshold:
            hi = mid
        else:
            lo = mid
    return hi


# ----------------------------------------------------------------------
# the readable reference (one account, plain Python)
# ----------------------------------------------------------------------
def _tiered_ref(v: float, bounds, rates) -> float:
    acc, lo = 0.0, 0.0
    for hi, r in zip(bounds, rates):
        if v <= hi:
            return acc + r * (v - lo)
        acc += r * (hi - lo)
        lo = hi
    return acc


def value_account_ref(cfg: MarginConfig, prices, mark, bal, pos=(), cost=()) -> dict:
    """Pure-Python valuation of one account, straight from the definitions in
    the module docstring; returns ``{V_NAMES[j]: value}``.  Same operation
    order as the kernel, so results are bit-identical."""
    prices = [[float(x) for x in row] for row in np.asarray(prices)]
    apu = [int(x) for x in cfg.atoms_per_unit]
    px_unit = [prices[a][int(cfg.policy[a])] for a in range(len(apu))]
    bal = [int(x) for x in bal]
    coll = assets = liab = im = mm = expo = 0.0
    for a, b in enumerate(bal):
        if b == 0:
            continue
        v = b * (px_unit[a] / apu[a])
        if b > 0:
            assets += v
            coll += _tiered_ref(v, [float(x) for x in cfg.hc_bounds[a]],
                                [float(x) for x in cfg.hc_rates[a]])
            if not cfg.cash[a]:
                expo += v
        else:
            liab += -v
            im += -v * float(cfg.loan_im[a])
            mm += -v * float(cfg.loan_mm[a])
            if not cfg.cash[a]:
                expo += -v
    q = int(cfg.quote)
    pq, apu_q = px_unit[q], apu[q]
    pxq = pq / apu_q                 # USD per quote atom
    upl = 0.0
    for m, (k, c) in enumerate(zip([int(x) for x in pos], [int(x) for x in cost])):
        if k == 0 and c == 0:
            continue
        cs, mk = float(cfg.contract_size[m]), float(mark[m])
        upl += (k * cs * mk * apu_q - c) * pxq
        n = abs(k) * cs * mk * pq
        expo += n
        bounds = [float(x) for x in cfg.perp_bounds[m]]
        im += _tiered_ref(n, bounds, [float(x) for x in cfg.perp_im[m]])
        mm += _tiered_ref(n, bounds, [float(x) for x in cfg.perp_mm[m]])
    equity = coll - liab + upl
    net = assets - liab + upl
    ratio = equity / mm if mm > 0 else (INF if equity >= 0 else -INF)
    lev = 0.0 if expo == 0 else (expo / net if net > 0 else INF)
    return dict(zip(V_NAMES, (equity, net, coll, assets, liab, upl, im, mm, ratio, expo, lev)))


# ----------------------------------------------------------------------
# spot fills on account rows (exactly conserved in atoms)
# ----------------------------------------------------------------------
@njit(cache=True)
def quote_atoms(cfg, a, qty, price):
    """Quote atoms paid for ``qty`` atoms of asset ``a`` at ``price`` quote
    units per unit (rounded to the nearest atom, half to even)."""
    q = cfg.quote
    return np.int64(np.rint(qty * (price * cfg.atoms_per_unit[q] / cfg.atoms_per_unit[a])))


@njit(cache=True)
def spot_fill(cfg, balances, buyer, seller, a, qty, price):
    """``buyer`` receives ``qty`` atoms of asset ``a`` from ``seller`` and pays
    :func:`quote_atoms` in the quote asset; returns the quote atoms moved.
    Both rows change by the same integers: every asset is conserved."""
    qa = quote_atoms(cfg, a, qty, price)
    q = cfg.quote
    balances[buyer, a] += qty
    balances[seller, a] -= qty
    balances[buyer, q] -= qa
    balances[seller, q] += qa
    return qa
