"""Aave-v3-like lending protocol: markets, positions, interest, liquidation.

One :class:`LendingProtocol` holds the underlying tokens of all its markets
under ``address`` in a shared :class:`~lob.onchain.ledger.Ledger`.
Positions are kept as in Aave: *scaled* balances that grow with a per-market
supply (liquidity) index and borrow index, both RAY (10**27) fixed point.

Units:

* token amounts: integer base units, ``MarketConfig.decimals`` per asset
  (default 18);
* prices: USD per whole token, WAD (10**18), from ``market.oracle.price(asset,
  now)`` -- the oracle is a policy object per market (see
  :mod:`lob.onchain.oracles`), switchable with :meth:`LendingProtocol.set_oracle`;
* values: USD, WAD; health factor: WAD (1e18 = 1.0; ``MAX_HF`` with no debt);
* LTV, liquidation threshold, bonus, close factor, fees: basis points
  (10000 = 100%); interest rates: per year, RAY;
* time: integer seconds (``now``), non-decreasing per market.

Mechanics (as Aave v3.0 unless stated):

* interest: the borrow index compounds with Aave's 3-term Taylor expansion of
  ``(1 + r/Y)**t`` (``MathUtils.calculateCompoundedInterest``), the supply
  index grows linearly between updates; rates follow the two-slope
  utilisation model and are reset after every action; a ``reserve_factor``
  share of the interest is credited to the treasury as a supply position;
* account data: collateral value ``sum(bal_i * p_i)`` (floor), debt value
  ``sum(debt_j * p_j)`` (ceil, in the protocol's favour),
  ``HF = sum(bal_i * p_i * LT_i) / sum(debt_j * p_j)`` and borrowing power
  ``sum(bal_i * p_i * LTV_i) - debt``, computed exactly (Aave floors the
  weighted-average LT/LTV first; here comparisons with 1.0 are exact);
* borrow: needs ``HF > 1`` and ``debt + amount <= borrowing power`` (Aave's
  ``validateBorrow``); withdraw: needs ``HF >= 1`` afterwards;
* liquidation when ``HF < 1``: close factor 50%, or 100% when
  ``HF <= 0.95`` (``CLOSE_FACTOR_HF_THRESHOLD``); the liquidator repays debt
  and receives collateral worth ``repaid * (1 + bonus)`` at oracle prices,
  capped by the user's collateral (then the repaid debt is reduced to
  match); ``liquidation_protocol_fee_bps`` of the bonus part goes to the
  treasury (as a supply position, as Aave transfers aTokens).

Not modelled: stable-rate debt, e-mode and isolation mode, supply/borrow
caps beyond a simple cap, flash loans, bad-debt write-off, unbacked mints.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .ledger import BPS, RAY, SECONDS_PER_YEAR, WAD, Ledger, Move, check_amount, to_wad

HALF_RAY = RAY // 2
HALF_BPS = BPS // 2
MAX_HF = 2**256 - 1
CLOSE_FACTOR_HF_THRESHOLD = 95 * 10**16      # 0.95 WAD
DEFAULT_CLOSE_FACTOR_BPS = 5_000
MAX_CLOSE_FACTOR_BPS = 10_000


class LendingError(ValueError):
    """An action the protocol refuses (Aave would revert)."""


# ----------------------------------------------------------------------
# fixed-point helpers (Aave WadRayMath / PercentageMath, half-up rounding)
# ----------------------------------------------------------------------
def ray_mul(a: int, b: int) -> int:
    return (a * b + HALF_RAY) // RAY


def ray_div(a: int, b: int) -> int:
    return (a * RAY + b // 2) // b


def percent_mul(value: int, bps: int) -> int:
    return (value * bps + HALF_BPS) // BPS


def percent_div(value: int, bps: int) -> int:
    return (value * BPS + bps // 2) // bps


def linear_interest(rate: int, dt: int) -> int:
    """``1 + rate * dt / year`` in RAY (``MathUtils.calculateLinearInterest``)."""
    return RAY + rate * dt // SECONDS_PER_YEAR


def compounded_interest(rate: int, dt: int) -> int:
    """``(1 + rate/year)**dt`` to 3 Taylor terms, RAY
    (``MathUtils.calculateCompoundedInterest``)."""
    if dt == 0:
        return RAY
    e1 = dt - 1
    e2 = dt - 2 if dt > 2 else 0
    p2 = ray_mul(rate, rate) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    p3 = ray_mul(p2, rate) // SECONDS_PER_YEAR
    second = dt * e1 * p2 // 2
    third = dt * e1 * e2 * p3 // 6
    return RAY + rate * dt // SECONDS_PER_YEAR + second + third


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# ----------------------------------------------------------------------
# configuration and state
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class InterestRateModel:
    """Two-slope ("kink") variable borrow rate, all RAY per year:
    ``base + slope1 * U / U_opt`` below the kink, ``base + slope1 + slope2 *
    (U - U_opt) / (1 - U_opt)`` above.  ``U`` = debt / (cash + debt)."""
    optimal_utilization: int = 9 * RAY // 10
    base_rate: int = 0
    slope1: int = 4 * RAY // 100
    slope2: int = 60 * RAY // 100

    @classmethod
    def from_percent(cls, optimal=90, base=0, slope1=4, slope2=60) -> "InterestRateModel":
        """Parameters in percent (numbers; floats via their shortest repr)."""
        def r(x):
            return to_wad(x, RAY) // 100
        return cls(r(optimal), r(base), r(slope1), r(slope2))

    def rates(self, total_debt: int, cash: int, reserve_factor_bps: int) -> tuple[int, int, int]:
        """``(borrow_rate, liquidity_rate, utilization)``, RAY (Aave v3.0
        ``DefaultReserveInterestRateStrategy`` without stable debt)."""
        u = ray_div(total_debt, cash + total_debt) if total_debt else 0
        br = self.base_rate
        if u > self.optimal_utilization:
            excess = ray_div(u - self.optimal_utilization, RAY - self.optimal_utilization)
            br += self.slope1 + ray_mul(self.slope2, excess)
        else:
            br += ray_div(ray_mul(self.slope1, u), self.optimal_utilization)
        lr = percent_mul(ray_mul(br, u), BPS - reserve_factor_bps)
        return br, lr, u


@dataclass(frozen=True)
class MarketConfig:
    """Risk parameters of one asset's market (basis points)."""
    asset: str
    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int = 500           # collateral seized = repaid * (1 + bonus)
    liquidation_protocol_fee_bps: int = 0      # share of the bonus to the treasury
    reserve_factor_bps: int = 1_000
    rate_model: InterestRateModel = field(default_factory=InterestRateModel)
    decimals: int = 18
    borrowing_enabled: bool = True
    supply_cap: int = 0                        # base units; 0 = none
    borrow_cap: int = 0

    def __post_init__(self):
        if not 0 <= self.ltv_bps <= self.liquidation_threshold_bps <= BPS:
            raise ValueError("need 0 <= LTV <= LT <= 100%")
        if self.liquidation_threshold_bps and \
                percent_mul(self.liquidation_threshold_bps, BPS + self.liquidation_bonus_bps) > BPS:
            raise ValueError("LT * (1 + bonus) must be <= 100% (Aave's reserve config check)")


@dataclass
class Market:
    """State of one market.  ``scaled_supply``/``scaled_debt`` map user ->
    scaled balance; the real balance is ``ray_mul(scaled, index)``."""
    config: MarketConfig
    oracle: object
    liquidity_index: int = RAY
    borrow_index: int = RAY
    liquidity_rate: int = 0
    borrow_rate: int = 0
    last_update: int = 0
    scaled_supply: dict = field(default_factory=dict)
    scaled_debt: dict = field(default_factory=dict)
    scaled_supply_total: int = 0
    scaled_debt_total: int = 0

    @property
    def unit(self) -> int:
        return 10 ** self.config.decimals

    def income_at(self, now: int) -> int:
        """Supply index at ``now`` (Aave ``getNormalizedIncome``)."""
        if now == self.last_update or self.liquidity_rate == 0:
            return self.liquidity_index
        return ray_mul(linear_interest(self.liquidity_rate, now - self.last_update),
                       self.liquidity_index)

    def debt_index_at(self, now: int) -> int:
        """Borrow index at ``now`` (Aave ``getNormalizedDebt``)."""
        if now == self.last_update or not self.scaled_debt_total:
            return self.borrow_index
        return ray_mul(compounded_interest(self.borrow_rate, now - self.last_update),
                       self.borrow_index)

    def add_supply(self, user: str, delta: int) -> None:
        """Change ``user``'s scaled supply by ``delta`` (keeps the total)."""
        v = self.scaled_supply.get(user, 0) + delta
        assert v >= 0
        self.scaled_supply[user] = v
        self.scaled_supply_total += delta

    def add_debt(self, user: str, delta: int) -> None:
        """Change ``user``'s scaled debt by ``delta`` (keeps the total)."""
        v = self.scaled_debt.get(user, 0) + delta
        assert v >= 0
        self.scaled_debt[user] = v
        self.scaled_debt_total += delta


@dataclass(frozen=True)
class PositionChange:
    """A change of a protocol position (not a token move): ``kind`` is
    "collateral" or "debt", ``amount`` signed, in base units of ``asset``."""
    user: str
    asset: str
    kind: str
    amount: int


@dataclass(frozen=True)
class LendingRecord:
    """supply / withdraw / borrow / repay.  ``amount`` in base units;
    ``account`` is the owner of the position, ``party`` who paid or received
    the tokens."""
    kind: str
    account: str
    party: str
    asset: str
    amount: int
    moves: tuple[Move, ...]
    positions: tuple[PositionChange, ...]


@dataclass(frozen=True)
class LiquidationRecord:
    """A liquidation.  ``debt_repaid`` (debt-asset base units) paid by the
    liquidator; ``collateral_seized`` (collateral base units) taken from the
    user, of which ``protocol_fee`` went to the treasury and the rest
    (``collateral_to_liquidator``) to the liquidator, as tokens or, with
    ``receive_atoken``, as a supply position.  Prices are the oracle prices
    used (WAD); ``health_factor`` is the user's HF before (WAD)."""
    liquidator: str
    user: str
    collateral_asset: str
    debt_asset: str
    debt_repaid: int
    collateral_seized: int
    collateral_to_liquidator: int
    protocol_fee: int
    close_factor_bps: int
    health_factor: int
    collateral_price: int
    debt_price: int
    receive_atoken: bool
    moves: tuple[Move, ...]
    positions: tuple[PositionChange, ...]


@dataclass(frozen=True)
class AccountData:
    """A user's account at one time (USD values WAD, ratios bps, HF WAD).
    ``weighted_lt``/``weighted_ltv`` are ``sum(value_i * LT_i)`` and
    ``sum(value_i * LTV_i)`` in USD-WAD x bps (exact); ``ltv_bps`` and
    ``liquidation_threshold_bps`` their value-weighted averages (floor)."""
    total_collateral: int
    total_debt: int
    weighted_ltv: int
    weighted_lt: int
    ltv_bps: int
    liquidation_threshold_bps: int
    available_borrows: int
    health_factor: int

    @property
    def liquidatable(self) -> bool:
        """``HF < 1`` exactly."""
        return self.total_debt > 0 and self.weighted_lt < self.total_debt * BPS

    @property
    def equity(self) -> int:
        return self.total_collateral - self.total_debt


# ----------------------------------------------------------------------
# the protocol
# ----------------------------------------------------------------------
class LendingProtocol:
    """Markets, positions and their accounting.  Every mutating method takes
    ``now`` (seconds), accrues interest of the markets it touches up to
    ``now`` first, and returns a record listing the token moves and the
    position changes."""

    def __init__(self, ledger: Ledger, address: str = "aave", treasury: str | None = None):
        self.ledger = ledger
        self.address = address
        self.treasury = treasury or address + ":treasury"
        self.markets: dict[str, Market] = {}

    # -- setup --------------------------------------------------------------
    def add_market(self, config: MarketConfig, oracle, now: int = 0) -> Market:
        """List an asset; ``oracle`` is its price policy."""
        if config.asset in self.markets:
            raise ValueError(f"market {config.asset} exists")
        m = Market(config, oracle, last_update=now)
        self.markets[config.asset] = m
        self._update_rates(m)
        return m

    def set_oracle(self, asset: str, oracle) -> None:
        """Switch ``asset``'s price policy (takes effect immediately)."""
        self.markets[asset].oracle = oracle

    def set_config(self, config: MarketConfig) -> None:
        """Replace a market's risk parameters (governance action)."""
        self.markets[config.asset].config = config

    def market(self, asset: str) -> Market:
        try:
            return self.markets[asset]
        except KeyError:
            raise LendingError(f"no market for {asset}") from None

    # -- interest -----------------------------------------------------------
    def cash(self, asset: str) -> int:
        """Tokens of ``asset`` held by the protocol (available liquidity)."""
        return self.ledger.balance(self.address, asset)

    def accrue(self, asset: str, now: int) -> None:
        """Bring ``asset``'s indices up to ``now`` (Aave ``updateState``)."""
        m = self.market(asset)
        if now < m.last_update:
            raise LendingError(f"time went backwards on {asset}: {now} < {m.last_update}")
        if now == m.last_update:
            return
        old_bi = m.borrow_index
        m.liquidity_index = m.income_at(now)
        m.borrow_index = m.debt_index_at(now)
        scaled_debt = m.scaled_debt_total
        if scaled_debt and m.config.reserve_factor_bps:
            accrued = ray_mul(scaled_debt, m.borrow_index) - ray_mul(scaled_debt, old_bi)
            to_treasury = percent_mul(accrued, m.config.reserve_factor_bps)
            if to_treasury:
                s = ray_div(to_treasury, m.liquidity_index)
                m.add_supply(self.treasury, s)
        m.last_update = now

    def _update_rates(self, m: Market) -> None:
        debt = ray_mul(m.scaled_debt_total, m.borrow_index)
        m.borrow_rate, m.liquidity_rate, _ = m.config.rate_model.rates(
            debt, self.cash(m.config.asset), m.config.reserve_factor_bps)

    def utilization(self, asset: str, now: int) -> int:
        """Debt / (cash + debt), RAY."""
        debt = self.total_debt(asset, now)
        c = self.cash(asset)
        return ray_div(debt, c + debt) if debt else 0

    def total_debt(self, asset: str, now: int) -> int:
        m = self.market(asset)
        return ray_mul(m.scaled_debt_total, m.debt_index_at(now))

    def total_supplied(self, asset: str, now: int) -> int:
        """All supply positions of ``asset`` (treasury included)."""
        m = self.market(asset)
        return ray_mul(m.scaled_supply_total, m.income_at(now))

    # -- balances and account data --------------------------------------------
    def collateral_balance(self, user: str, asset: str, now: int) -> int:
        """``user``'s supplied ``asset`` (base units, interest included)."""
        m = self.market(asset)
        return ray_mul(m.scaled_supply.get(user, 0), m.income_at(now))

    def debt_balance(self, user: str, asset: str, now: int) -> int:
        """``user``'s debt in ``asset`` (base units, interest included)."""
        m = self.market(asset)
        return ray_mul(m.scaled_debt.get(user, 0), m.debt_index_at(now))

    def price(self, asset: str, now: int) -> int:
        """Oracle price of ``asset`` (USD WAD)."""
        return int(self.market(asset).oracle.price(asset, now))

    def positions(self, user: str, now: int) -> tuple[dict[str, int], dict[str, int]]:
        """``(collateral, debt)``: non-zero balances by asset."""
        coll, debt = {}, {}
        for a, m in self.markets.items():
            c = self.collateral_balance(user, a, now)
            d = self.debt_balance(user, a, now)
            if c:
                coll[a] = c
            if d:
                debt[a] = d
        return coll, debt

    def users(self) -> list[str]:
        """Every user with a supply or debt position (treasury included)."""
        out = set()
        for m in self.markets.values():
            out.update(u for u, s in m.scaled_supply.items() if s)
            out.update(u for u, s in m.scaled_debt.items() if s)
        return sorted(out)

    def account(self, user: str, now: int, *, adjust: dict | None = None) -> AccountData:
        """Account data of ``user`` at ``now``.  ``adjust`` maps
        ``("collateral"|"debt", asset) -> signed base units`` added to the
        balances first (what-if: after a withdraw, a borrow...)."""
        adjust = adjust or {}
        tc = td = wltv = wlt = 0
        for a, m in self.markets.items():
            c = self.collateral_balance(user, a, now) + adjust.get(("collateral", a), 0)
            d = self.debt_balance(user, a, now) + adjust.get(("debt", a), 0)
            if c < 0 or d < 0:
                raise LendingError("adjustment below zero")
            if not c and not d:
                continue
            p = self.price(a, now)
            if c and m.config.liquidation_threshold_bps:
                v = c * p // m.unit
                tc += v
                wltv += v * m.config.ltv_bps
                wlt += v * m.config.liquidation_threshold_bps
            if d:
                td += _ceil_div(d * p, m.unit)
        ltv = wltv // tc if tc else 0
        lt = wlt // tc if tc else 0
        avail = max(0, wltv // BPS - td)
        hf = MAX_HF if td == 0 else wlt * WAD // (td * BPS)
        return AccountData(tc, td, wltv, wlt, ltv, lt, avail, hf)

    def liquidatable_many(self, users, now: int) -> list:
        """``[is_liquidatable(u, now) for u in users]`` for a moment in which
        nothing changes between the users: each market's indices and oracle
        price are read once instead of once per user (the same integers as
        :meth:`account`).  Where :meth:`account` would raise for a user, the
        entry is that exception instead of a bool."""
        mk = [(a, m, m.income_at(now), m.debt_index_at(now), m.unit, m.config.liquidation_threshold_bps)
              for a, m in self.markets.items()]
        prices: dict = {}
        out = []
        for u in users:
            try:
                td = wlt = 0
                for a, m, li, bi, unit, lt_bps in mk:
                    c = ray_mul(m.scaled_supply.get(u, 0), li)
                    d = ray_mul(m.scaled_debt.get(u, 0), bi)
                    if c < 0 or d < 0:
                        raise LendingError("adjustment below zero")
                    if not c and not d:
                        continue
                    p = prices.get(a)
                    if p is None:
                        try:
                            p = prices[a] = self.price(a, now)
                        except Exception as e:        # raised again for every user who needs it
                            p = prices[a] = e
                    if isinstance(p, Exception):
                        raise p
                    if c and lt_bps:
                        wlt += c * p // unit * lt_bps
                    if d:
                        td += _ceil_div(d * p, unit)
                out.append(td > 0 and wlt < td * BPS)
            except Exception as e:
                out.append(e)
        return out

    def health_factor(self, user: str, now: int) -> int:
        """HF, WAD (``MAX_HF`` without debt)."""
        return self.account(user, now).health_factor

    def is_liquidatable(self, user: str, now: int) -> bool:
        return self.account(user, now).liquidatable

    def max_borrowable(self, user: str, asset: str, now: int) -> int:
        """Most ``asset`` base units :meth:`borrow` accepts now (limited by
        the LTV and by the market's cash)."""
        acc = self.account(user, now)
        m = self.market(asset)
        if not m.config.borrowing_enabled or acc.ltv_bps == 0:
            return 0
        if acc.total_debt and acc.weighted_lt <= acc.total_debt * BPS:
            return 0
        # value = floor(amount * p / unit) must satisfy (debt + value) * BPS <= weighted_ltv
        room = acc.weighted_ltv // BPS - acc.total_debt
        if room < 0:
            return 0
        amt = ((room + 1) * m.unit - 1) // self.price(asset, now)
        return min(amt, self.cash(asset))

    def max_withdrawable(self, user: str, asset: str, now: int) -> int:
        """Most ``asset`` base units :meth:`withdraw` accepts now (HF stays
        >= 1, cash permitting)."""
        bal = self.collateral_balance(user, asset, now)
        lim = min(bal, self.cash(asset))
        if self._withdraw_ok(user, asset, lim, now):
            return lim
        lo, hi = 0, lim            # lo ok, hi not
        if not self._withdraw_ok(user, asset, 0, now):
            return 0
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._withdraw_ok(user, asset, mid, now):
                lo = mid
            else:
                hi = mid
        return lo

    def _withdraw_ok(self, user, asset, amount, now) -> bool:
        acc = self.account(user, now, adjust={("collateral", asset): -amount})
        return acc.total_debt == 0 or acc.weighted_lt >= acc.total_debt * BPS

    # -- actions ------------------------------------------------------------
    def _finish(self, *assets) -> None:
        for a in assets:
            self._update_rates(self.markets[a])

    def supply(self, user: str, asset: str, amount: int, now: int,
               on_behalf_of: str | None = None) -> LendingRecord:
        """Deposit ``amount`` of ``asset`` from ``user``'s wallet; the supply
        position (which is collateral if the market's LT > 0) belongs to
        ``on_behalf_of`` (default ``user``)."""
        check_amount(amount)
        m = self.market(asset)
        owner = on_behalf_of or user
        self.accrue(asset, now)
        scaled = ray_div(amount, m.liquidity_index)
        if scaled == 0:
            raise LendingError("invalid amount")
        if m.config.supply_cap and \
                ray_mul(m.scaled_supply_total + scaled, m.liquidity_index) > m.config.supply_cap:
            raise LendingError("supply cap exceeded")
        mv = self.ledger.transfer(user, self.address, asset, amount)
        m.add_supply(owner, scaled)
        self._finish(asset)
        return LendingRecord("supply", owner, user, asset, amount, (mv,),
                             (PositionChange(owner, asset, "collateral", amount),))

    def withdraw(self, user: str, asset: str, amount: int | None, now: int,
                 to: str | None = None) -> LendingRecord:
        """Withdraw ``amount`` (None: all) of ``user``'s supplied ``asset`` to
        ``to`` (default ``user``).  Refused if the HF would fall below 1 or
        the market lacks cash."""
        m = self.market(asset)
        self.accrue(asset, now)
        bal = ray_mul(m.scaled_supply.get(user, 0), m.liquidity_index)
        amount = bal if amount is None else check_amount(amount)
        if amount == 0 or amount > bal:
            raise LendingError(f"invalid withdraw amount {amount} (balance {bal})")
        if amount > self.cash(asset):
            raise LendingError("not enough liquidity in the market")
        if not self._withdraw_ok(user, asset, amount, now):
            raise LendingError("health factor would fall below 1")
        have = m.scaled_supply[user]
        m.add_supply(user, -(have if amount == bal else min(ray_div(amount, m.liquidity_index), have)))
        mv = self.ledger.transfer(self.address, to or user, asset, amount)
        self._finish(asset)
        return LendingRecord("withdraw", user, to or user, asset, amount, (mv,),
                             (PositionChange(user, asset, "collateral", -amount),))

    def borrow(self, user: str, asset: str, amount: int, now: int,
               to: str | None = None) -> LendingRecord:
        """Borrow ``amount`` of ``asset`` against ``user``'s collateral; the
        tokens go to ``to`` (default ``user``)."""
        check_amount(amount)
        m = self.market(asset)
        if not m.config.borrowing_enabled:
            raise LendingError(f"borrowing {asset} is disabled")
        self.accrue(asset, now)
        if amount == 0:
            raise LendingError("invalid amount")
        if amount > self.cash(asset):
            raise LendingError("not enough liquidity in the market")
        if m.config.borrow_cap and \
                ray_mul(m.scaled_debt_total, m.borrow_index) + amount > m.config.borrow_cap:
            raise LendingError("borrow cap exceeded")
        acc = self.account(user, now)
        if acc.total_collateral == 0:
            raise LendingError("collateral balance is zero")
        if acc.ltv_bps == 0:
            raise LendingError("LTV validation failed")
        if acc.total_debt and acc.weighted_lt <= acc.total_debt * BPS:
            raise LendingError("health factor lower than liquidation threshold")
        value = amount * self.price(asset, now) // m.unit
        if (acc.total_debt + value) * BPS > acc.weighted_ltv:
            raise LendingError("collateral cannot cover new borrow")
        m.add_debt(user, ray_div(amount, m.borrow_index))
        mv = self.ledger.transfer(self.address, to or user, asset, amount)
        self._finish(asset)
        return LendingRecord("borrow", user, to or user, asset, amount, (mv,),
                             (PositionChange(user, asset, "debt", amount),))

    def repay(self, payer: str, asset: str, amount: int | None, now: int,
              on_behalf_of: str | None = None) -> LendingRecord:
        """Repay up to ``amount`` (None: all) of ``on_behalf_of``'s (default
        ``payer``'s) debt in ``asset`` from ``payer``'s wallet; never more
        than the debt."""
        m = self.market(asset)
        user = on_behalf_of or payer
        self.accrue(asset, now)
        debt = ray_mul(m.scaled_debt.get(user, 0), m.borrow_index)
        if debt == 0:
            raise LendingError("no debt to repay")
        pay = debt if amount is None else min(check_amount(amount), debt)
        if pay == 0:
            raise LendingError("invalid amount")
        mv = self.ledger.transfer(payer, self.address, asset, pay)
        self._burn_debt(m, user, pay, debt)
        self._finish(asset)
        return LendingRecord("repay", user, payer, asset, pay, (mv,),
                             (PositionChange(user, asset, "debt", -pay),))

    @staticmethod
    def _burn_debt(m: Market, user: str, amount: int, debt: int) -> None:
        have = m.scaled_debt[user]
        m.add_debt(user, -(have if amount == debt else min(ray_div(amount, m.borrow_index), have)))

    def liquidation_quote(self, user: str, collateral_asset: str, debt_asset: str,
                          debt_to_cover: int | None, now: int) -> dict:
        """What :meth:`liquidate` would do now, without doing it: a dict with
        ``debt_repaid``, ``collateral_seized``, ``protocol_fee``,
        ``close_factor_bps``, ``health_factor``, prices; raises
        ``LendingError`` if the user cannot be liquidated."""
        cm, dm = self.market(collateral_asset), self.market(debt_asset)
        acc = self.account(user, now)
        if not acc.liquidatable:
            raise LendingError("health factor not below threshold")
        if not cm.config.liquidation_threshold_bps:
            raise LendingError("collateral cannot be liquidated")
        coll = self.collateral_balance(user, collateral_asset, now)
        debt = self.debt_balance(user, debt_asset, now)
        if coll == 0:
            raise LendingError("user has no such collateral")
        if debt == 0:
            raise LendingError("user has no such debt")
        # HF > 0.95 exactly: weighted_lt / (debt * BPS) > 0.95
        cf = DEFAULT_CLOSE_FACTOR_BPS \
            if acc.weighted_lt * WAD > CLOSE_FACTOR_HF_THRESHOLD * acc.total_debt * BPS \
            else MAX_CLOSE_FACTOR_BPS
        max_liq = percent_mul(debt, cf)
        want = max_liq if debt_to_cover is None else min(check_amount(debt_to_cover), max_liq)
        cp, dp = self.price(collateral_asset, now), self.price(debt_asset, now)
        bonus = BPS + cm.config.liquidation_bonus_bps
        # Aave LiquidationLogic._calculateAvailableCollateralToLiquidate
        base = dp * want * cm.unit // (cp * dm.unit)
        max_coll = percent_mul(base, bonus)
        if max_coll > coll:
            seized = coll
            repaid = percent_div(cp * seized * dm.unit // (dp * cm.unit), bonus)
        else:
            seized, repaid = max_coll, want
        fee = 0
        if cm.config.liquidation_protocol_fee_bps:
            bonus_part = seized - percent_div(seized, bonus)
            fee = percent_mul(bonus_part, cm.config.liquidation_protocol_fee_bps)
        return dict(debt_repaid=min(repaid, want), collateral_seized=seized, protocol_fee=fee,
                    close_factor_bps=cf, health_factor=acc.health_factor,
                    collateral_price=cp, debt_price=dp)

    def liquidate(self, liquidator: str, user: str, collateral_asset: str, debt_asset: str,
                  debt_to_cover: int | None, now: int, receive_atoken: bool = False
                  ) -> LiquidationRecord:
        """``liquidator`` repays up to ``debt_to_cover`` (None: the close
        factor's maximum) of ``user``'s ``debt_asset`` debt and takes
        collateral worth ``repaid * (1 + bonus)`` in ``collateral_asset``."""
        self.accrue(debt_asset, now)
        self.accrue(collateral_asset, now)
        q = self.liquidation_quote(user, collateral_asset, debt_asset, debt_to_cover, now)
        cm, dm = self.markets[collateral_asset], self.markets[debt_asset]
        repaid, seized, fee = q["debt_repaid"], q["collateral_seized"], q["protocol_fee"]
        to_liq = seized - fee
        cash = self.cash(collateral_asset) + (repaid if collateral_asset == debt_asset else 0)
        if not receive_atoken and to_liq > cash:
            raise LendingError("not enough liquidity to pay the collateral out")
        if self.ledger.balance(liquidator, debt_asset) < repaid:
            raise LendingError("liquidator cannot pay")
        moves = [self.ledger.transfer(liquidator, self.address, debt_asset, repaid)]
        debt = ray_mul(dm.scaled_debt.get(user, 0), dm.borrow_index)
        self._burn_debt(dm, user, repaid, debt)
        # collateral: move the user's supply position
        coll = ray_mul(cm.scaled_supply.get(user, 0), cm.liquidity_index)
        if seized == coll:
            s_total = cm.scaled_supply.get(user, 0)
        else:
            s_total = min(ray_div(seized, cm.liquidity_index), cm.scaled_supply[user])
        s_fee = ray_div(fee, cm.liquidity_index) if fee else 0
        s_fee = min(s_fee, s_total)
        cm.add_supply(user, -s_total)
        positions = [PositionChange(user, debt_asset, "debt", -repaid),
                     PositionChange(user, collateral_asset, "collateral", -seized)]
        if s_fee:
            cm.add_supply(self.treasury, s_fee)
            positions.append(PositionChange(self.treasury, collateral_asset, "collateral", fee))
        if receive_atoken:
            cm.add_supply(liquidator, s_total - s_fee)
            positions.append(PositionChange(liquidator, collateral_asset, "collateral", to_liq))
        else:
            moves.append(self.ledger.transfer(self.address, liquidator, collateral_asset, to_liq))
        self._finish(debt_asset, collateral_asset)
        return LiquidationRecord(liquidator, user, collateral_asset, debt_asset, repaid, seized,
                                 to_liq, fee, q["close_factor_bps"], q["health_factor"],
                                 q["collateral_price"], q["debt_price"], receive_atoken,
                                 tuple(moves), tuple(positions))

    # -- checks -------------------------------------------------------------
    def solvency(self, asset: str, now: int) -> int:
        """``cash + total debt - total supplied`` (base units): >= 0 while the
        market is solvent; a few wei of rounding either way otherwise."""
        return self.cash(asset) + self.total_debt(asset, now) - self.total_supplied(asset, now)
