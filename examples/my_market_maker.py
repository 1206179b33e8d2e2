"""Write your own market maker in 30 lines; run it through the calm day and the crash.

Run:  .venv/bin/python examples/my_market_maker.py
"""
from lob.analysis.scorecard import scorecards
from lob.core import codes as C
from lob.run import run
from lob.sim.strategy import Strategy


class SkewedQuoter(Strategy):
    """Quote one level a side around the mid every 250 ms, leaning against inventory."""

    size = 10            # lots per quote
    half_spread = 2      # ticks
    skew = 0.02          # ticks of lean per lot of inventory

    def on_start(self):
        self.start = self.balance(self.base_asset)

    def on_wakeup(self, now):
        self.cancel_all()
        bid, ask, _ = self.bbo()                      # as seen one market-data latency ago
        if bid and ask:
            inventory = float(self.balance(self.base_asset) - self.start)
            mid = (bid + ask) / 2 - self.skew * inventory
            self.submit(C.BUY, int(mid - self.half_spread), self.size)
            self.submit(C.SELL, int(mid + self.half_spread) + 1, self.size)
        return now + 250_000_000                       # next wake-up, ns


if __name__ == "__main__":
    for scenario, kw in (("calm-day", dict(duration_s=1800.0)), ("liquidation-cascade", {})):
        res = run(scenario, seed=7, python_mm=SkewedQuoter, **kw)
        mm = next(a for a, s in res.sim.strategies.items() if isinstance(s, SkewedQuoter))
        card = scorecards(res, [mm]).iloc[0]
        print(f"{scenario}: fills: {card.fills_maker + card.fills_taker}, PnL: {card.mtm_pnl:,.2f}, "
              f"time in market: {card.time_in_market:.0%}, conserved: {not res.conservation_error().any()}")
