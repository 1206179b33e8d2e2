"""On-chain mechanics of the October 2025 crash, as exact, deterministic,
self-contained modules (plain Python, integer money, no global state, no
randomness except through an explicit ``numpy.random.Generator``):

* :mod:`.ledger`     -- the shared token ledger (conservation checks), WAD/RAY;
* :mod:`.stableswap` -- Curve StableSwap-NG pool, integer-exact;
* :mod:`.cpamm`      -- constant-product (Uniswap v2) pool;
* :mod:`.venues`     -- the swap-venue interface, a fixed-price venue;
* :mod:`.oracles`    -- price-oracle policies (peg, external, AMM spot);
* :mod:`.lending`    -- Aave-v3-like lending: indices, HF, liquidation;
* :mod:`.loops`      -- the recursive USDe loop: build, closed forms, unwind,
                        populations;
* :mod:`.issuer`     -- USDe mint/redeem with delays and caps;
* :mod:`.staking`    -- liquid staking tokens (WBETH, BNSOL);
* :mod:`.whales`     -- two-layer whales and their margin-call unwind.

Every mutating call returns a frozen record listing the token moves
(:class:`~.ledger.Move`) so a simulation can log what moved between whom.
"""
from .cpamm import ConstantProductPool
from .issuer import IssuerError, USDeIssuer
from .ledger import BPS, RAY, SECONDS_PER_YEAR, WAD, InsufficientBalance, Ledger, Move, to_wad
from .lending import (AccountData, InterestRateModel, LendingError, LendingProtocol,
                      MarketConfig)
from .loops import (LooperSpec, break_even_price, build_loop, build_population,
                    liquidation_price, loop_position, sample_loopers, unwind_loop)
from .oracles import AmmSpotOracle, CallableOracle, FixedPriceOracle, RoutedOracle
from .stableswap import StableSwapPool
from .staking import LiquidStakingToken, LSTRedemptionOracle
from .venues import FixedPriceVenue
from .whales import WhalePosition, build_whale, execute_margin_call, unwind_plan, whale_health

__all__ = [
    "AccountData", "AmmSpotOracle", "BPS", "CallableOracle", "ConstantProductPool",
    "FixedPriceOracle", "FixedPriceVenue", "InsufficientBalance", "InterestRateModel",
    "IssuerError", "LSTRedemptionOracle", "Ledger", "LendingError", "LendingProtocol",
    "LiquidStakingToken", "LooperSpec", "MarketConfig", "Move", "RAY", "RoutedOracle",
    "SECONDS_PER_YEAR", "StableSwapPool", "USDeIssuer", "WAD", "WhalePosition",
    "break_even_price", "build_loop", "build_population", "build_whale", "execute_margin_call",
    "liquidation_price", "loop_position", "sample_loopers", "to_wad", "unwind_loop",
    "unwind_plan", "whale_health",
]
