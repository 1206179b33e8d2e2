"""Exchange leverage: unified cross-margin accounts, the risk engine and its
liquidations, perpetual futures.

* :mod:`.unified`     -- account valuation (equity, IM/MM, margin ratio,
                         leverage) as one numba kernel over all accounts, with
                         per-asset price policies and tiered haircuts; its
                         pure-Python reference; exact spot fills;
* :mod:`.sparse`      -- the same accounts in a CSR layout (per account its
                         holdings, per asset its holders): valuation in
                         proportion to the holdings, bit-identical to the
                         dense kernel, and the incremental update of one
                         asset's holders from a contiguous column;
* :mod:`.risk_engine` -- takeover, liquidation slices (order policies), fees,
                         insurance fund, bankruptcy and auto-deleveraging;
                         margin event records;
* :mod:`.perps`       -- perp fills with exact realised PnL, Binance's mark
                         price and funding (exactly zero-sum), isolated
                         positions and their liquidation price, populations
                         of leveraged longs.

Importing this package compiles nothing: numba compiles (or loads from its
cache) each kernel on first call.
"""
from .unified import (N_SOURCES, N_V, SRC_AVG, SRC_INDEX, SRC_LAST, SRC_MID, SRC_ORACLE,
                      V_ASSETS, V_COLLATERAL, V_EQUITY, V_EXPOSURE, V_IM, V_LEVERAGE, V_LIAB,
                      V_MM, V_NAMES, V_NET, V_RATIO, V_UPL, AssetSpec, MarginConfig, PerpSpec,
                      account_status, build_config, price_matrix, spot_fill, takeover_price,
                      value_account_ref, value_accounts, value_accounts_parallel,
                      value_accounts_rows, value_one, valuation, with_policy)
from .sparse import (SparseAccounts, revalue_asset_sparse, to_sparse, value_sparse,
                     value_sparse_rows)
from .perps import (LONG_DTYPE, MarkPriceState, funding_rate, isolated_liq_price,
                    isolated_rows, leveraged_longs, mark_price, perp_fill, premium_index,
                    settle_funding)
from .risk_engine import (ACT_ADL, ACT_BANKRUPT, ACT_DONE, ACT_EMPTY, ACT_NONE, ACT_SLICE,
                          MARGIN_EVENT_DTYPE, ORDER_LARGEST_LOSS, ORDER_MOST_LIQUID,
                          ORDER_PRO_RATA, Accounts, RiskParams, absorb_deficit, adl_plan,
                          adl_ranking, apply_adl, charge_fee, liquidate, liquidation_events,
                          next_slice, risk_params)
