"""Whales with two layers of leverage, and their margin-call unwind.

Layer 1: altcoin collateral in a lending protocol, stablecoins (USDC)
borrowed against it.  Layer 2: the borrowed stablecoins put into a USDe loop
(:mod:`lob.onchain.loops`), kept in a separate account (``whale + "/loop"``)
so that each layer has its own health factor even when both live on the same
protocol instance.

Two halves:

* exact arithmetic "given prices" (``Fraction``): :class:`WhalePosition`,
  :func:`whale_health`, :func:`unwind_plan` -- what a margin call asks for and
  what the whale can raise by selling USDe at a given price;
* on-chain: :func:`build_whale` builds both layers on
  :class:`~lob.onchain.lending.LendingProtocol` instances through a swap
  venue, :func:`position_of` reads a :class:`WhalePosition` back, and
  :func:`execute_margin_call` carries the plan out with real swaps.

The unwind plan on a margin call (layer-1 HF below ``margin_call_hf``):
raise ``need = debt1 - collateral1_value * LT1 / target_hf`` of stablecoin
(the repayment that restores ``target_hf``), from, in order,

A. stablecoins already in the wallet;
B. USDe withdrawn from the loop while its HF stays >= 1 (valued at the
   layer-2 oracle price) and sold at ``sell_price``, the loop's debt
   untouched;
C. if still short, a full unwind of the rest of the loop: sell all its
   USDe, repay its debt, keep the difference (assumes an atomic unwind, as
   with a flash loan; impossible when the USDe sells for less than the
   debt -- then the loop itself is underwater);

then repay layer 1.  If layer 1's HF is still below 1 the altcoin collateral
is liquidatable: the plan reports the stablecoin shortfall to HF = 1 and the
altcoin a liquidator would seize in one call (close factor 50%, 100% at HF
<= 0.95, plus the bonus).

Units: in the exact half, amounts are whole tokens and prices USD per token
(any of int, str, float via repr, Decimal, Fraction), fractions like LT are
plain fractions (0.65); HFs are Fractions (``None`` for no debt).  In the
on-chain half, base units and WAD as in the lending module.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .ledger import BPS, WAD, Move
from .lending import LendingProtocol
from .loops import LoopRecord, UnwindRecord, build_loop, unwind_loop


def F(x) -> Fraction:
    """Exact fraction of a number (floats through their shortest repr)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, float):
        return Fraction(Decimal(repr(x)))
    return Fraction(x)


# ----------------------------------------------------------------------
# exact analysis
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class WhalePosition:
    """A whale's two layers, in whole tokens.  ``lt1``/``lt2`` are the
    liquidation thresholds of the altcoin and of USDe, ``bonus1`` the
    altcoin's liquidation bonus (fractions)."""
    alt_amount: Fraction
    debt1: Fraction
    lt1: Fraction
    loop_collateral: Fraction
    loop_debt: Fraction
    lt2: Fraction
    wallet_stable: Fraction = Fraction(0)
    bonus1: Fraction = Fraction(1, 20)

    @classmethod
    def of(cls, alt_amount, debt1, lt1, loop_collateral, loop_debt, lt2, wallet_stable=0,
           bonus1="0.05") -> "WhalePosition":
        """Build from plain numbers."""
        return cls(F(alt_amount), F(debt1), F(lt1), F(loop_collateral), F(loop_debt), F(lt2),
                   F(wallet_stable), F(bonus1))


@dataclass(frozen=True)
class WhaleHealth:
    """HFs of both layers (None without debt), equities in USD."""
    hf1: Fraction | None
    hf2: Fraction | None
    equity1: Fraction
    equity2: Fraction
    net_equity: Fraction


def _hf(coll_value: Fraction, lt: Fraction, debt: Fraction) -> Fraction | None:
    return None if debt == 0 else coll_value * lt / debt


def whale_health(pos: WhalePosition, alt_price, usde_price) -> WhaleHealth:
    """Both layers' health factors at the given oracle prices (USD; the
    stablecoin debt is priced 1).  Equity of layer 1 excludes the loop, the
    net equity includes the wallet."""
    pa, pu = F(alt_price), F(usde_price)
    v1 = pos.alt_amount * pa
    v2 = pos.loop_collateral * pu
    e1 = v1 - pos.debt1
    e2 = v2 - pos.loop_debt
    return WhaleHealth(_hf(v1, pos.lt1, pos.debt1), _hf(v2, pos.lt2, pos.loop_debt), e1, e2,
                       e1 + e2 + pos.wallet_stable)


@dataclass(frozen=True)
class UnwindPlan:
    """What a margin call leads to (amounts in whole tokens / USD).

    ``need``: repayment on layer 1 that restores ``target_hf``;
    ``from_wallet``, ``free_usde_sold``/``free_usde_proceeds`` (stage B),
    ``unwind_usde_sold``/``unwind_proceeds``/``loop_debt_repaid`` (stage C,
    ``loop_closed`` when done), ``repaid1`` (layer-1 repayment),
    ``hf1_after``/``hf2_after`` (None = no debt left), ``shortfall``:
    stablecoin still missing to bring layer 1 to HF = 1, ``liquidatable``:
    layer 1 below HF 1 after the plan, ``alt_seizable``/``liq_debt_repaid``:
    one maximal liquidation call on the altcoin at that point,
    ``loop_underwater``: stage C was needed but the USDe sells for less than
    the loop's debt."""
    margin_call: bool
    hf1_before: Fraction | None
    hf2_before: Fraction | None
    need: Fraction
    from_wallet: Fraction
    free_usde_sold: Fraction
    free_usde_proceeds: Fraction
    unwind_usde_sold: Fraction
    unwind_proceeds: Fraction
    loop_debt_repaid: Fraction
    loop_closed: bool
    loop_underwater: bool
    repaid1: Fraction
    hf1_after: Fraction | None
    hf2_after: Fraction | None
    shortfall: Fraction
    liquidatable: bool
    alt_seizable: Fraction
    liq_debt_repaid: Fraction


def unwind_plan(pos: WhalePosition, alt_price, usde_price, *, sell_price=None,
                margin_call_hf="1.1", target_hf="1.3") -> UnwindPlan:
    """The margin-call plan at oracle prices ``alt_price``/``usde_price``
    when USDe sells for ``sell_price`` USDC (default ``usde_price``).  No
    action (``margin_call=False``) while layer 1's HF >= ``margin_call_hf``."""
    pa, pu = F(alt_price), F(usde_price)
    q = pu if sell_price is None else F(sell_price)
    mc, tgt = F(margin_call_hf), F(target_hf)
    h = whale_health(pos, pa, pu)
    z = Fraction(0)
    v1 = pos.alt_amount * pa
    C2, D2, D1 = pos.loop_collateral, pos.loop_debt, pos.debt1
    if h.hf1 is None or h.hf1 >= mc:
        return UnwindPlan(False, h.hf1, h.hf2, z, z, z, z, z, z, z, False, False, z, h.hf1, h.hf2,
                          z, False, z, z)
    need = max(z, D1 - v1 * pos.lt1 / tgt)
    # A: wallet
    from_wallet = min(pos.wallet_stable, need)
    short = need - from_wallet
    # B: free USDe (loop HF stays >= 1 at the oracle price)
    free = C2 if D2 == 0 else max(z, C2 - D2 / (pu * pos.lt2)) if pu > 0 else z
    sold_b = z
    if short > 0 and q > 0:
        sold_b = min(free, short / q)
    proceeds_b = sold_b * q
    short -= proceeds_b
    C2 -= sold_b
    # C: full unwind of the rest
    sold_c = proceeds_c = repaid2 = z
    closed = underwater = False
    if short > 0 and C2 > 0:
        if C2 * q >= D2:
            sold_c, proceeds_c, repaid2 = C2, C2 * q, D2
            surplus = proceeds_c - D2
            short -= min(surplus, short)
            C2, D2, closed = z, z, True
        else:
            underwater = True
    repaid1 = need - max(short, z)
    D1a = D1 - repaid1
    hf1a = _hf(v1, pos.lt1, D1a)
    hf2a = _hf(C2 * pu, pos.lt2, D2)
    liquidatable = hf1a is not None and hf1a < 1
    shortfall = max(z, D1a - v1 * pos.lt1)
    seize = liq_repaid = z
    if liquidatable:
        cf = Fraction(1, 2) if hf1a > Fraction(95, 100) else Fraction(1)
        liq_repaid = D1a * cf
        seize = liq_repaid * (1 + pos.bonus1) / pa
        if seize > pos.alt_amount:
            seize = pos.alt_amount
            liq_repaid = seize * pa / (1 + pos.bonus1)
    return UnwindPlan(True, h.hf1, h.hf2, need, from_wallet, sold_b, proceeds_b, sold_c,
                      proceeds_c, repaid2, closed, underwater, repaid1, hf1a, hf2a, shortfall,
                      liquidatable, seize, liq_repaid)


# ----------------------------------------------------------------------
# on-chain
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class WhaleRecord:
    """Both layers built: ``alt_supplied`` and ``borrowed1`` on layer 1 (base
    units), the loop built from the borrowed stablecoins in ``loop``."""
    whale: str
    loop_account: str
    alt_asset: str
    alt_supplied: int
    borrowed1: int
    loop: LoopRecord
    records: tuple
    moves: tuple[Move, ...]


def loop_account(whale: str) -> str:
    return whale + "/loop"


def build_whale(layer1: LendingProtocol, layer2: LendingProtocol, venue, whale: str, *,
                alt_asset: str, alt_amount: int, ltv1_bps: int, ltv2_bps: int, rounds: int,
                now: int, stable: str = "USDC", usde: str = "USDe") -> WhaleRecord:
    """Supply ``alt_amount`` of ``alt_asset`` (in ``whale``'s wallet) on
    ``layer1``, borrow ``stable`` up to ``ltv1_bps`` of its value, move it
    to the loop account and build a USDe loop on ``layer2`` (first swap
    stable -> USDe on ``venue``, then ``rounds`` rounds at ``ltv2_bps``)."""
    la = loop_account(whale)
    recs = [layer1.supply(whale, alt_asset, alt_amount, now)]
    acc = layer1.account(whale, now)
    sm = layer1.market(stable)
    value = acc.total_collateral * ltv1_bps // BPS - acc.total_debt
    b = min(value * sm.unit // layer1.price(stable, now), layer1.max_borrowable(whale, stable, now))
    recs.append(layer1.borrow(whale, stable, b, now))
    mv = layer1.ledger.transfer(whale, la, stable, b)
    loop = build_loop(layer2, venue, la, b, now=now, rounds=rounds, ltv_bps=ltv2_bps,
                      collateral_asset=usde, debt_asset=stable, principal_asset=stable)
    moves = tuple(m for r in recs for m in r.moves) + (mv,) + loop.moves
    return WhaleRecord(whale, la, alt_asset, alt_amount, b, loop, tuple(recs) + (loop,), moves)


def position_of(layer1: LendingProtocol, layer2: LendingProtocol, whale: str, *, alt_asset: str,
                now: int, stable: str = "USDC", usde: str = "USDe") -> WhalePosition:
    """The whale's :class:`WhalePosition` read from the protocols (whole
    tokens; wallet = stablecoins of both accounts)."""
    la = loop_account(whale)
    m1, ms = layer1.market(alt_asset), layer1.market(stable)
    m2u, m2s = layer2.market(usde), layer2.market(stable)
    led = layer1.ledger
    return WhalePosition(
        Fraction(layer1.collateral_balance(whale, alt_asset, now), m1.unit),
        Fraction(layer1.debt_balance(whale, stable, now), ms.unit),
        Fraction(m1.config.liquidation_threshold_bps, BPS),
        Fraction(layer2.collateral_balance(la, usde, now), m2u.unit),
        Fraction(layer2.debt_balance(la, stable, now), m2s.unit),
        Fraction(m2u.config.liquidation_threshold_bps, BPS),
        Fraction(led.balance(whale, stable) + led.balance(la, stable), ms.unit),
        Fraction(m1.config.liquidation_bonus_bps, BPS))


@dataclass(frozen=True)
class MarginCallRecord:
    """What :func:`execute_margin_call` did (base units): USDe withdrawn
    and sold while the loop stayed healthy, the full unwind if one was
    needed, the layer-1 repayment, and the HFs after (WAD)."""
    whale: str
    need: int
    free_sold: int
    free_proceeds: int
    unwind: UnwindRecord | None
    repaid1: int
    hf1_after: int
    hf2_after: int
    records: tuple
    moves: tuple[Move, ...]


def execute_margin_call(layer1: LendingProtocol, layer2: LendingProtocol, venue, whale: str, *,
                        alt_asset: str, now: int, target_hf_bps: int = 13_000,
                        stable: str = "USDC", usde: str = "USDe") -> MarginCallRecord:
    """Carry out the plan on the protocols: repay layer 1 toward
    ``target_hf_bps`` from the wallets, else from USDe withdrawn from the
    loop while it stays healthy and sold on ``venue`` if that suffices,
    else from a full (iterative, no flash loan) unwind of the loop whose
    USDe is all sold.  (Unlike :func:`unwind_plan`, stage B is skipped when
    it cannot cover the need: after it the loop sits at HF 1 and an
    iterative unwind could not start.  At a fixed sale price both sell the
    same USDe in total.)  Whatever was raised short of the target is repaid
    anyway."""
    la = loop_account(whale)
    led = layer1.ledger
    ms = layer1.market(stable)
    acc = layer1.account(whale, now)
    # need (debt-asset base units) so that weighted_lt / (debt * BPS) >= target
    p = layer1.price(stable, now)
    target_debt_value = acc.weighted_lt // target_hf_bps
    need = max(0, -(-(acc.total_debt - target_debt_value) * ms.unit // p))
    need = min(need, layer1.debt_balance(whale, stable, now))
    records = []
    if led.balance(la, stable):
        records.append(led.transfer(la, whale, stable, led.balance(la, stable)))
    free_sold = free_proceeds = 0
    unwind = None
    short = need - led.balance(whale, stable)
    w = layer2.max_withdrawable(la, usde, now) if short > 0 else 0
    if w and layer2.debt_balance(la, stable, now) and venue.quote(usde, stable, w) < short:
        w = 0     # not enough: go straight to the full unwind (at HF 1 it would be stuck)
    if w:
        if venue.quote(usde, stable, w) > short:
            lo, hi = 0, w          # smallest sale that covers the need
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if venue.quote(usde, stable, mid) >= short:
                    hi = mid
                else:
                    lo = mid
            w = hi
        records.append(layer2.withdraw(la, usde, w, now))
        r = venue.swap(la, usde, stable, w)
        records.append(r)
        free_sold, free_proceeds = r.amount_in, r.amount_out
        records.append(led.transfer(la, whale, stable, r.amount_out))
    short = need - led.balance(whale, stable)
    if short > 0 and layer2.debt_balance(la, stable, now):
        unwind = unwind_loop(layer2, venue, la, now=now, collateral_asset=usde, debt_asset=stable)
        records.append(unwind)
        rest = led.balance(la, usde)
        if unwind.completed and rest:
            records.append(venue.swap(la, usde, stable, rest))
        if led.balance(la, stable):
            records.append(led.transfer(la, whale, stable, led.balance(la, stable)))
    pay = min(need, led.balance(whale, stable))
    repaid = 0
    if pay:
        rr = layer1.repay(whale, stable, pay, now)
        records.append(rr)
        repaid = rr.amount
    moves = tuple(m for r in records for m in (r.moves if hasattr(r, "moves") else (r,)))
    return MarginCallRecord(whale, need, free_sold, free_proceeds, unwind, repaid,
                            layer1.health_factor(whale, now), layer2.health_factor(la, now),
                            tuple(records), moves)


def hf_wad(hf: Fraction | None) -> int | None:
    """A Fraction HF as WAD (floor); None stays None."""
    return None if hf is None else hf.numerator * WAD // hf.denominator
