"""The Python strategy contract (plug-in path 1).

Subclass ``Strategy`` and override the callbacks you need; the kernel runs
in compiled code between them and calls you only at your decision points:

* ``on_start()``                 -- before the first event;
* ``on_wakeup(now) -> next``     -- your timer fired; return the next wake
  time in ns (or None for no more wake-ups);
* ``on_fill(fill)``              -- one of your orders traded (learnt one
  market-data latency after the venue matched it);
* ``on_order_event(event)``      -- accepted / rejected / modified /
  cancelled / filled, for your orders (same latency);
* ``on_stop()``                  -- after the last event.

Inside a callback, act with ``submit`` / ``cancel`` / ``modify`` (orders
reach the venue one order-entry latency later; ``submit`` returns the order
id at once), and read ``bbo()`` (top of book as of one market-data latency
ago), ``balance(asset)`` and ``open_orders()`` (what you have been told).
Units: ns, ticks, lots; balances in asset units (Decimal) via ``balance``.
"""
from __future__ import annotations

import weakref
from decimal import Decimal

from ..core import codes as C
from . import idmap
from . import layout as L
from . import world as WD
from .kernel import tape_at

_EXACT = 1 << 53          # integers up to this size are exact floats
_A_NOTIFY = L.A_NOTIFY
_CANCEL = C.CANCEL
_POST_ONLY = C.POST_ONLY
# columns of the fill and order-event rows a notification carries
_F = {f: i for i, f in enumerate(L.LOG_FILL_FIELDS)}
_F_TAKER_LOCAL, _F_MAKER_LOCAL, _F_TAKER_ID, _F_MAKER_ID, _F_QTY = (
    _F["taker_local_ts"], _F["maker_local_ts"], _F["taker_id"], _F["maker_id"], _F["qty"])
_E = {f: i for i, f in enumerate(L.LOG_EVENT_FIELDS)}
_E_LOCAL, _E_ID, _E_KIND = _E["local_ts"], _E["order_id"], _E["kind"]


class Strategy:
    """Base class of Python strategies.  ``self.book`` is the book index the
    agent was given; ``self.agent`` its agent id; ``self.now`` the local time."""

    def _bind(self, sim, agent: int) -> None:
        # weakly: the simulation owns its strategies, not the other way round.
        # A strong reference here made every Simulation a reference cycle
        # (sim.strategies[a]._sim is sim), so a finished run's world and logs
        # (gigabytes for oct-10-2025) were freed only by the cyclic collector,
        # whose full collections grow rarer as such garbage accumulates: a
        # sweep worker kept run after run (issue #7, the OOM of lob compare).
        self._sim = weakref.proxy(sim)
        self.agent = agent
        self.book = int(sim.W.agents[agent, L.A_BOOK])
        self.now = 0
        self._started = False
        self._open: dict[int, dict] = {}
        self._acct = int(sim.W.agents[agent, L.A_ACCOUNT])
        self._lat_md = int(sim.W.agents[agent, L.A_LAT_MD])
        self._books: dict[int, int] = {}     # order id -> book of the orders sent since the last cancel_all
        self._ratio_at = None                 # (ratios array, row) of the risk engine watching the account

    # ---- callbacks (override) ---------------------------------------------
    def on_start(self) -> None:
        pass

    def on_wakeup(self, now: int):
        return None

    def on_fill(self, fill) -> None:
        pass

    def on_order_event(self, event) -> None:
        pass

    def on_stop(self) -> None:
        pass

    # ---- actions ------------------------------------------------------------
    def submit(self, side: int, price: int, qty: int, *, type: int = C.LIMIT, book: int | None = None,
               stp: int = C.STP_NONE) -> int:
        b = self.book if book is None else book
        sim = self._sim
        oid = 0
        if type <= _POST_ONLY:                 # Simulation._act, inline: a new order's id
            oid = sim._next_py_id
            sim._next_py_id = oid + 1
        sim._acts += (self.agent, type, b, side, oid, price, qty, stp, -1)
        self._open[oid] = {"book": b, "side": side, "price": price, "qty": qty, "acked": False}
        self._books[oid] = b
        return oid

    def cancel(self, order_id: int) -> None:
        o = self._open.get(order_id)
        self._sim._act(self.agent, C.CANCEL, o["book"] if o else self.book, 0, 0, 0, order_id)

    def modify(self, order_id: int, price: int, qty: int) -> None:
        o = self._open.get(order_id)
        self._sim._act(self.agent, C.MODIFY, o["book"] if o else self.book, 0, price, qty, order_id)

    def cancel_all(self) -> None:
        """Cancel every order you have open.  With order events off
        (``AgentSpec(order_events=False)``) these are the orders the venue
        holds for you (its live-order list), else the ones you were not yet
        told are done."""
        sim = self._sim
        W = sim.W
        a = self.agent
        if W.agents[a, _A_NOTIFY] == 2:
            off = int(W.aloff[a])
            live = W.alist[off:off + int(W.alcnt[a])].tolist()
            books = self._books
            self._books = {}       # an order still live at the next call (its cancel in flight) is looked up
            if live:
                act = sim._act
                for oid in live:
                    b = books.get(oid)
                    act(a, _CANCEL, self._book_of(oid) if b is None else b, 0, 0, 0, oid)
            self._open.clear()
            return
        for oid in list(self._open):
            self.cancel(oid)

    def _book_of(self, oid: int) -> int:
        b = self._books.get(oid)
        if b is not None:
            return b
        W = self._sim.W
        row = int(idmap.get(W.ordmap, oid))
        return int(W.oinfo[row, WD.OI_BOOK]) if row >= 0 else self.book

    # ---- views ----------------------------------------------------------------
    def bbo(self, book: int | None = None) -> tuple[int, int, int]:
        """(bid, ask, last) in ticks as of one market-data latency ago (0 = none)."""
        W = self._sim.W
        return tape_at(W.tape, W.books, self.book if book is None else book, self.now - self._lat_md)

    def balance(self, asset: str) -> Decimal:
        """Balance in asset units (the venue's books, which settle at once)."""
        sim = self._sim
        i = sim.asset_ix[asset]
        return Decimal(int(sim.W.bal[self._acct, i])) * sim.spec.assets[i].atom

    def units(self, asset: str) -> float:
        """``float(self.balance(asset))``, without the Decimal when the
        division is exact (an atom of 10**-k and a balance below 2**53 atoms)."""
        sim = self._sim
        i = sim.asset_ix[asset]
        n = int(sim.W.bal[self._acct, i])
        d = sim.atoms_per_unit_f[i]
        if d and -_EXACT <= n <= _EXACT:
            return n / d
        return float(Decimal(n) * sim.spec.assets[i].atom)

    @property
    def base_asset(self) -> str:
        """Name of the base asset of the agent's book (what it quotes)."""
        return self._sim.spec.books[self.book].base

    @property
    def quote_asset(self) -> str:
        return self._sim.spec.books[self.book].quote

    def margin_ratio(self) -> float:
        """Your unified account's margin ratio (adjusted equity / maintenance
        margin) as the venue's risk engine last computed it; ``inf`` without
        a margin account or a loan.  The hook of margin-triggered kill switches."""
        at = self._ratio_at
        if at is None:
            engines = getattr(self._sim, "risk_engines", None)
            at = next(((eng.ratios, eng.row_of[self._acct]) for eng in (engines or {}).values()
                       if self._acct in eng.row_of), ())
            if engines is not None:
                self._ratio_at = at           # the engines and their ratio arrays are fixed once built
        return float(at[0][at[1]]) if at else float("inf")

    def forced_sells(self) -> float:
        """The liquidation feed of your book: the lots of the forced sells the
        venue's risk engine sent on it, each decayed as ``exp(-age / tau)``
        with the engine's ``feed_tau_s`` (about the lots sold in the last
        ``tau`` seconds); 0.0 on a venue without a risk engine.  Public
        market data on real venues (Binance's ``forceOrder`` stream): the
        hook of liquidation-triggered kill switches."""
        engines = getattr(self._sim, "risk_engines", None)
        if not engines:
            return 0.0
        venue = self._sim.spec.books[self.book].venue
        eng = engines.get(venue)
        return 0.0 if eng is None else eng.forced_sells(self.book, self.now)

    def open_orders(self) -> dict[int, dict]:
        """Orders you sent that you have not been told are done (with order
        events off: the orders the venue holds for you)."""
        W = self._sim.W
        if W.agents[self.agent, L.A_NOTIFY] == 2:
            off, n = int(W.aloff[self.agent]), int(W.alcnt[self.agent])
            return {oid: self._open.get(oid, {"book": self._book_of(oid)}) for oid in W.alist[off:off + n].tolist()}
        return dict(self._open)

    # ---- plumbing (called by the simulation) ----------------------------------
    def _on_fill_row(self, row, is_taker: bool) -> None:
        if getattr(self.on_fill, "__func__", None) is Strategy.on_fill:
            # nobody listens: the same bookkeeping without building the fill's dict
            self.now = row[_F_TAKER_LOCAL] if is_taker else row[_F_MAKER_LOCAL]
            oid = row[_F_TAKER_ID] if is_taker else row[_F_MAKER_ID]
            if oid in self._open:
                self._open[oid]["qty"] -= row[_F_QTY]
            return
        fill = dict(zip(L.LOG_FILL_FIELDS, row[:L.N_LOGF]))
        fill["is_taker"] = is_taker
        self.now = fill["taker_local_ts"] if is_taker else fill["maker_local_ts"]
        oid = fill["taker_id"] if is_taker else fill["maker_id"]
        if oid in self._open:
            self._open[oid]["qty"] -= fill["qty"]
        self.on_fill(fill)

    def _on_event_row(self, row) -> None:
        self.now = row[_E_LOCAL]
        oid = row[_E_ID]
        kind = row[_E_KIND]
        if kind in C.DONE_KINDS or kind == C.EV_REJECTED:
            self._open.pop(oid, None)
        elif kind == C.EV_ACCEPTED and oid in self._open:
            self._open[oid]["acked"] = True
        if getattr(self.on_order_event, "__func__", None) is not Strategy.on_order_event:
            self.on_order_event(dict(zip(L.LOG_EVENT_FIELDS, row[:L.N_LOGE])))
