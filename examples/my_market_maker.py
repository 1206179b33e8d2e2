"""Write your own market maker in 30 lines and run it through the calm day.

Run:  .venv/bin/python examples/my_market_maker.py
"""
from lob.core import codes as C
from lob.run import run
from lob.sim.strategy import Strategy


class SkewedQuoter(Strategy):
    """Quote one level a side around the mid every 250 ms, leaning against inventory."""

    size = 10            # lots per quote
    half_spread = 2      # ticks
    skew = 0.02          # ticks of lean per lot of inventory

    def on_start(self):
        self.start_xyz = self.balance("XYZ")

    def on_wakeup(self, now):
        self.cancel_all()
        bid, ask, _ = self.bbo()                      # as seen one market-data latency ago
        if bid and ask:
            inventory = float(self.balance("XYZ") - self.start_xyz)
            mid = (bid + ask) / 2 - self.skew * inventory
            self.submit(C.BUY, int(mid - self.half_spread), self.size)
            self.submit(C.SELL, int(mid + self.half_spread) + 1, self.size)
        return now + 250_000_000                       # next wake-up, ns

    def on_fill(self, fill):
        self.fills = getattr(self, "fills", 0) + 1


if __name__ == "__main__":
    res = run("calm-day", seed=7, duration_s=1800.0, python_mm=SkewedQuoter)
    mm = next(iter(res.sim.strategies.values()))
    print(f"fills: {getattr(mm, 'fills', 0)}, XYZ: {mm.balance('XYZ') - mm.start_xyz:+}, "
          f"USD: {mm.balance('USD'):,.2f}, conserved: {not res.conservation_error().any()}")
