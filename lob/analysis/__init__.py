"""Analysis of simulated and recorded markets.

* :mod:`lob.analysis.stylized` -- stylized facts of returns and spreads
  (heavy tails, no linear autocorrelation, volatility clustering, spread
  distribution) to validate a simulated day against real markets;
* :mod:`lob.analysis.impact`   -- metaorders, their price impact and the
  square-root law fit.

numpy only, except the DataFrame of ``stylized_facts`` (pandas: the
``analysis`` extra, ``pip install -e '.[analysis]'``).
"""
from .impact import (IMPACT_DTYPE, METAORDER_DTYPE, ImpactFit, child_trades_from_fills, daily_volatility,
                     engine_side_to_sign, fit_square_root_law, identify_metaorders, metaorder_impact)
from .stylized import (AcfResult, KurtosisResult, SpreadStats, abs_autocorrelation, autocorrelation,
                       bar_returns, excess_kurtosis, facts_table, log_returns, resample_last, spread_stats,
                       stylized_facts)

__all__ = ["IMPACT_DTYPE", "METAORDER_DTYPE", "ImpactFit", "child_trades_from_fills", "daily_volatility",
           "engine_side_to_sign", "fit_square_root_law", "identify_metaorders", "metaorder_impact",
           "AcfResult", "KurtosisResult", "SpreadStats", "abs_autocorrelation", "autocorrelation",
           "bar_returns", "excess_kurtosis", "facts_table", "log_returns", "resample_last", "spread_stats",
           "stylized_facts"]
