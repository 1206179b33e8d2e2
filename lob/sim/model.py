"""The Python layer of the simulation: build a world from a spec, run the
compiled loop, call Python strategies at their decision points, grow
tables, drain logs, and return results.

Vocabulary (Mesa-like): a ``Simulation`` (model) holds agents; ``run``
advances simulated time; ``Result`` collects the logs (numpy structured
arrays, with ``.frame(name)`` for pandas DataFrames when pandas is present).
Units: ns, ticks, lots, atoms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from ..core import codes as C
from ..core import _layout as EY
from ..core.engine import Engine
from . import heap as H
from . import idmap
from . import layout as L
from . import rng
from . import guarded as _G
from . import world as WD
from .loop import advance, hand_over, next_python, push_event

NS = 1_000_000_000
# module constants read in the hot paths (a global is cheaper than a module attribute)
_POST_ONLY = C.POST_ONLY
_S_PYTHON = L.S_PYTHON
_EV_WAKE, _EV_NOTIFY, _N_FILL = L.EV_WAKE, L.EV_NOTIFY, L.N_FILL
_A_HALT = L.A_HALT


# ---------------------------------------------------------------- the spec
@dataclass(frozen=True, kw_only=True)
class AssetSpec:
    name: str
    atom: Decimal = Decimal("1e-8")          # smallest counted unit
    fundamental: float | None = None        # oracle start value, in ticks of its book (None: no oracle)
    kappa: float = 0.0                       # 1/s
    sigma: float = 0.0                       # ticks / sqrt(s)
    jump_rate: float = 0.0                   # per s
    jump_sigma: float = 0.0                  # relative


@dataclass(frozen=True, kw_only=True)
class VenueSpec:
    name: str
    maker_ppm: int = 0
    taker_ppm: int = 0


@dataclass(frozen=True, kw_only=True)
class BookSpec:
    venue: str
    base: str
    quote: str
    tick: Decimal
    lot: Decimal
    reference: str | None = None     # the asset whose fundamental its agents read (default: base);
                                     # a perpetual names its underlying


def _units_divisor(atom) -> float:
    """10**k for an atom of 10**-k (a float division is then exact for
    balances below 2**53 atoms), else 0."""
    t = atom.as_tuple()
    return float(10 ** -t.exponent) if t[:2] == (0, (1,)) and -22 <= t.exponent <= 0 else 0.0


@dataclass(frozen=True, kw_only=True)
class AgentSpec:
    """A population of ``count`` agents of one ``kind`` (``layout.KIND_*``) or a
    Python ``strategy`` object factory.  ``params``/``iparams`` fill
    ``W.ap``/``W.ai`` (ai[0] is the book index, set from ``book``)."""
    kind: int
    count: int = 1
    book: int = 0
    params: tuple = ()
    iparams: tuple = ()
    balances: dict = field(default_factory=dict)   # asset -> units per agent (Decimal-able)
    credit: dict = field(default_factory=dict)     # asset -> units each agent may borrow (margin loan line)
    entry: dict = field(default_factory=dict)      # asset -> opening price (quote units per unit) of the
                                                    # opening balance: its cost basis (W.cost)
    lat_order_ns: int = 1_000_000
    lat_order_jitter: float = 0.0                   # lognormal sigma
    lat_md_ns: int = 1_000_000
    notify: bool = False
    order_events: bool = True                       # Python strategies: False = told of fills only (cheaper;
                                                    # open_orders() is then what the venue holds, not acks)
    first_wake_s: tuple = (0.0, 1.0)                # uniform window of the first wake-up, s
    list_cap: int = 64                              # live orders tracked per agent
    strategy: object = None                         # a callable returning a Strategy (Python agents)
    compiled: str | None = None                     # import path of a compiled strategy (plug-in path 2)
    config: object = None                           # the config of a configured compiled kind: a
                                                    # GuardedLadderConfig for KIND_GUARDED_MM (params[0]:
                                                    # lot units, default 1)
    margin_venue: str | None = None                 # its accounts are unified accounts watched by that
                                                    # venue's risk engine (ScenarioSpec.risk_engines)


@dataclass(frozen=True, kw_only=True)
class ScenarioSpec:
    assets: tuple
    venues: tuple
    books: tuple
    agents: tuple
    duration_s: float
    snapshot_s: float = 1.0
    shocks: tuple = ()                              # (time s, asset name or "*", relative move)
    logs: tuple = ("fills", "events", "snapshots", "submissions")   # the logs to keep
    risk_engines: tuple = ()                        # lob.sim.risk.RiskEngineSpec per margin venue
    chains: tuple = ()                              # lob.sim.chain.ChainSpec per on-chain venue


# ---------------------------------------------------------------- results
_LOG_FIELD = {"fills": "logf", "events": "loge", "snapshots": "logs", "submissions": "logu"}
LOGS = {"fills": L.LOG_FILL_DTYPE, "events": L.LOG_EVENT_DTYPE, "snapshots": L.LOG_SNAP_DTYPE,
        "submissions": L.LOG_SUB_DTYPE}


class _Logs(dict):
    """Log name -> structured array, joined from its chunks on first access."""

    def __init__(self, chunks: dict):
        super().__init__()
        self._chunks = chunks

    def __missing__(self, name):
        parts = self._chunks[name]
        arr = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else np.zeros(0, LOGS[name]))
        if len(parts) > 1:
            parts[:] = [arr]          # keep the log once, not its chunks beside it (a run continued later
                                      # appends to this list: its chunks still join to the whole log)
        self[name] = arr
        return arr

    def __iter__(self):
        return iter(self._chunks)

    def keys(self):
        return self._chunks.keys()


class Result:
    """The logs of a run as numpy structured arrays, plus final balances."""

    def __init__(self, logs, balances: np.ndarray, initial_totals: np.ndarray, sim: "Simulation"):
        self.logs = logs
        self.balances = balances
        self.initial_totals = initial_totals
        self.sim = sim

    def __getattr__(self, name):
        if name in LOGS:
            return self.logs[name]
        raise AttributeError(name)

    def frame(self, name: str):
        """A log as a DataFrame: ``fills``, ``events``, ``snapshots``,
        ``submissions``, or the risk engines' ``margin_events`` /
        ``margin_states`` (all venues, with a ``venue`` column)."""
        import pandas as pd
        if name in ("margin_events", "margin_states"):
            parts = []
            for venue, eng in self.sim.risk_engines.items():
                t = eng.event_table() if name == "margin_events" else eng.state_table()
                df = pd.DataFrame(t)
                df.insert(0, "venue", venue)
                parts.append(df)
            return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return pd.DataFrame(self.logs[name])

    def conservation_error(self) -> np.ndarray:
        """Per asset: final total over all accounts minus the initial total (atoms)."""
        return self.balances.sum(axis=0) - self.initial_totals

    def digest(self) -> str:
        """A hash of every log: equal digests mean bit-identical runs."""
        import hashlib
        h = hashlib.sha256()
        for k in sorted(self.logs.keys()):
            h.update(np.ascontiguousarray(self.logs[k]).reshape(-1).view(np.uint8))   # the bytes, not a copy
        h.update(self.balances.tobytes())
        return h.hexdigest()


# ---------------------------------------------------------------- log buffers
class _LogBuffers:
    """Idle log buffers of this process, reused by later flushes and runs.

    A flush hands its full buffer to the run's results (as views) and gives
    the kernel another.  Memory fresh from the OS is cleared by the OS first:
    with all logs the calm day fills ~218 MB of rows, and that clearing was
    ~0.1 s of a 0.33 s run.  A buffer whose views are all gone (the pool is
    the only one left holding it) is handed out again instead; the kernel
    writes every column of the rows it keeps, so what it held does not
    matter.  At most ``cap_bytes`` of buffers are kept (beyond that a buffer
    is the caller's alone); ``release()`` lets the idle ones go."""

    cap_bytes = 512 << 20

    def __init__(self):
        import threading
        self._bufs: list = []
        self._lock = threading.Lock()

    def get(self, shape, dtype) -> np.ndarray:
        import sys
        with self._lock:
            for b in self._bufs:
                # references: the list, the loop variable, getrefcount's argument
                if b.shape == shape and b.dtype == dtype and sys.getrefcount(b) == 3:
                    return b
            arr = np.empty(shape, dtype)
            if sum(b.nbytes for b in self._bufs) + arr.nbytes <= self.cap_bytes:
                self._bufs.append(arr)
            return arr

    def release(self) -> None:
        """Drop the pool's hold on its buffers (those in use stay with their users)."""
        import sys
        with self._lock:
            self._bufs = [b for b in self._bufs if sys.getrefcount(b) > 3]


LOG_BUFFERS = _LogBuffers()


# ---------------------------------------------------------------- the simulation
_ENTRY: dict = {}


def _entry_point(disp, W, t_stop):
    """The compiled entry point that the loop's dispatcher ``disp`` would run
    for ``(W, t_stop, actions, n)`` with ``W``'s arrays as they are, or None
    if it has compiled none for them yet.  Calling it skips the dispatcher's
    type resolution of the world's 34 arrays: about 4 of a 5 us call, and the
    loop is entered ~500k times in the oct-10-2025 run.  Cached by the
    arrays' dtype, rank, contiguity, writeability and alignment (what
    numba's array type is made of)."""
    key = (disp, t_stop.bit_length() < 63) + tuple(
        (a.dtype.str, a.ndim, a.flags.c_contiguous, a.flags.f_contiguous, a.flags.writeable, a.flags.aligned)
        for a in W)
    ep = _ENTRY.get(key)
    if ep is None:
        try:
            types = tuple(disp.typeof_pyval(v) for v in (W, t_stop, np.zeros((1, 9), np.int64), 0))
            ep = disp.overloads[types].entry_point
        except (AttributeError, KeyError, TypeError, ValueError):
            return None                       # not compiled for these types yet: the dispatcher will
        _ENTRY[key] = ep
    return ep


class Simulation:
    def __init__(self, spec: ScenarioSpec, seed: int):
        if not spec.duration_s > 0:
            raise ValueError(f"duration_s must be > 0 seconds, got {spec.duration_s}")
        self.spec = spec
        self.seed = int(seed)
        ss = np.random.SeedSequence(self.seed)
        s_agents, s_oracle, s_layout = ss.spawn(3)
        asset_ix = {a.name: i for i, a in enumerate(spec.assets)}
        venue_ix = {v.name: i for i, v in enumerate(spec.venues)}
        self.asset_ix, self.venue_ix = asset_ix, venue_ix
        from .risk import RiskEngine
        pops = list(spec.agents)
        for r in spec.risk_engines:
            if r.quote not in asset_ix:
                raise ValueError(f"risk engine {r.venue!r}: unknown quote asset {r.quote!r}")
            pops.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=(lambda r=r: RiskEngine(r)),
                                  balances={r.quote: r.insurance_fund}, lat_order_ns=r.lat_order_ns,
                                  lat_md_ns=r.lat_md_ns,
                                  first_wake_s=(max(r.start_s, min(r.cadence_s, r.check_s)),) * 2
                                  if r.move_bps != float("inf") else (max(r.start_s, r.cadence_s),) * 2,
                                  list_cap=4096))
        from .chain import Chain, ChainSeller
        for c in spec.chains:
            if c.exchange not in venue_ix:
                raise ValueError(f"chain {c.name!r}: exchange {c.exchange!r} is not a venue")
            pops.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=(lambda c=c: Chain(c)),
                                  lat_order_ns=1_000_000, lat_md_ns=0, first_wake_s=(c.block_s, c.block_s),
                                  list_cap=4))
            if c.alt_book >= 0:
                pops.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=c.alt_book,
                                      strategy=(lambda c=c: ChainSeller(c.alt_book, asset=c.alt_asset)), lat_order_ns=50_000_000,
                                      lat_md_ns=50_000_000, first_wake_s=(1.0, 1.0), list_cap=8))
        for p in spec.agents:
            if p.margin_venue is not None and p.margin_venue not in venue_ix:
                raise ValueError(f"agent population {p.kind}: margin_venue {p.margin_venue!r} is not a venue")
            if p.margin_venue is not None and not any(r.venue == p.margin_venue for r in spec.risk_engines):
                raise ValueError(f"agent population {p.kind}: margin_venue {p.margin_venue!r} has no risk engine "
                                 f"(add a RiskEngineSpec to ScenarioSpec.risk_engines)")
        self.populations = tuple(pops)
        self.margin_venue_of = [p.margin_venue for p in pops for _ in range(p.count)]
        n_agents = sum(p.count for p in pops)
        n_acc = n_agents + len(spec.venues)          # fee accounts last
        self.engine = Engine(len(spec.books), order_capacity=4096, level_capacity=1024)
        caps = np.concatenate([np.full(p.count, p.list_cap) for p in pops]) if n_agents else np.zeros(0)
        # the event heap holds every agent's first wake-up before the loop can grow it
        heap_cap = 1 << max(12, int(2 * n_agents + 1024).bit_length())
        W = WD.empty_world(arena=self.engine.arena, n_books=len(spec.books), n_venues=len(spec.venues),
                           n_accounts=n_acc, n_assets=len(spec.assets), n_agents=n_agents, list_caps=caps,
                           heap_cap=heap_cap)
        W = W._replace(**{f: LOG_BUFFERS.get(getattr(W, f).shape, np.int64) for f in _LOG_FIELD.values()})
        for i, v in enumerate(spec.venues):
            W.venues[i] = (v.maker_ppm, v.taker_ppm, n_agents + i, 0)
        for i, b in enumerate(spec.books):
            base, quote = spec.assets[asset_ix[b.base]], spec.assets[asset_ix[b.quote]]
            scale = Decimal(b.tick) * Decimal(b.lot) / quote.atom
            lot_atoms = Decimal(b.lot) / base.atom
            if scale != int(scale) or lot_atoms != int(lot_atoms):
                raise ValueError(f"book {i} ({b.base}/{b.quote}): tick x lot must be whole {quote.name} atoms "
                                 f"and lot whole {base.name} atoms")
            W.books[i, :5] = (venue_ix[b.venue], asset_ix[b.base], asset_ix[b.quote], int(scale), int(lot_atoms))
            if b.reference is not None and b.reference not in asset_ix:
                raise ValueError(f"book {i} ({b.base}/{b.quote}): unknown reference asset {b.reference!r}")
            W.books[i, L.BK_REF] = asset_ix[b.reference if b.reference is not None else b.base]
            apu = 1 / quote.atom
            W.books[i, L.BK_QUOTE_APU] = int(apu) if apu == int(apu) else 0
        # oracles
        for i, a in enumerate(spec.assets):
            if a.fundamental is not None:
                W.oracle[i] = (a.fundamental, a.kappa, a.sigma, a.jump_rate, a.jump_sigma, 0.0, a.fundamental, 1.0)
        W.orng[:] = rng.seed_states(s_oracle, len(spec.assets))
        shocks = np.array([(t * NS, -1 if name == "*" else asset_ix[name], rel) for t, name, rel in spec.shocks],
                          float).reshape(-1, 3)
        W = W._replace(shocks=shocks[np.argsort(shocks[:, 0], kind="stable")])
        # agents
        W.arng[:] = rng.seed_states(s_agents, max(1, n_agents))[:n_agents]
        lay = np.random.default_rng(s_layout)
        self.strategies = {}
        user_paths = []
        for p in pops:
            if p.compiled is not None and p.compiled not in user_paths:
                user_paths.append(p.compiled)
        from .plugins import KIND_USER, loop_for
        self._advance = loop_for(user_paths)
        a = 0
        for p in pops:
            for _ in range(p.count):
                kind = (L.KIND_PYTHON if p.strategy is not None
                        else KIND_USER + user_paths.index(p.compiled) if p.compiled is not None else p.kind)
                W.agents[a] = (kind, a, p.book, p.lat_order_ns,
                               int(p.lat_order_jitter * 1e6), p.lat_md_ns,
                               (1 if p.order_events else 2) if (p.notify or p.strategy is not None) else 0,
                               int(p.strategy is not None), 0)
                W.ap[a, :len(p.params)] = p.params
                W.ai[a, 0] = p.book
                W.ai[a, 1:1 + len(p.iparams)] = p.iparams
                for asset, units in p.balances.items():
                    atoms = Decimal(str(units)) / spec.assets[asset_ix[asset]].atom
                    W.bal[a, asset_ix[asset]] = int(atoms)
                for asset, px in p.entry.items():
                    if asset not in asset_ix:
                        raise ValueError(f"agent population {p.kind}: entry price of unknown asset {asset!r}")
                    units = Decimal(str(p.balances.get(asset, 0)))
                    quote = next((bk.quote for bk in spec.books if bk.base == asset), None)
                    if quote is None:
                        raise ValueError(f"agent population {p.kind}: entry price of {asset!r}, which no book trades")
                    W.cost[a, asset_ix[asset]] = int(units * Decimal(str(px)) / spec.assets[asset_ix[quote]].atom)
                for asset, units in p.credit.items():
                    if asset not in asset_ix:
                        raise ValueError(f"agent population {p.kind}: credit in unknown asset {asset!r}")
                    atoms = Decimal(str(units)) / spec.assets[asset_ix[asset]].atom
                    if atoms < 0:
                        raise ValueError(f"agent population {p.kind}: credit[{asset!r}] must be >= 0, got {units}")
                    W.credit[a, asset_ix[asset]] = int(atoms)
                if p.kind == L.KIND_LADDER_MM or p.compiled is not None:
                    bk = spec.books[p.book]
                    W.ai[a, 2] = W.bal[a, asset_ix[bk.base]] // W.books[p.book, L.BK_LOT]
                if p.strategy is not None:
                    self.strategies[a] = p.strategy()
                lo, hi = p.first_wake_s
                if not 0 <= lo <= hi:
                    raise ValueError(f"agent population {p.kind}: first_wake_s={p.first_wake_s} must satisfy "
                                     f"0 <= low <= high (seconds)")
                t0 = int(lay.uniform(lo, hi) * NS)
                self._push(W, t0, L.EV_WAKE, a)
                a += 1
        W = self._configure_guarded(W, spec, pops, asset_ix)
        unknown = set(spec.logs) - set(L.LOG_BITS)
        if unknown:
            raise ValueError(f"unknown log(s) {sorted(unknown)}; known: {sorted(L.LOG_BITS)}")
        W.clock[L.K_LOGMASK] = sum(L.LOG_BITS[k] for k in set(spec.logs))
        if spec.snapshot_s > 0:
            W.clock[L.K_SNAP_DT] = int(spec.snapshot_s * NS)
            self._push(W, 0, L.EV_SNAPSHOT, -1)
        self.W = W
        self.initial_balances = W.bal.copy()
        self.initial_totals = self.initial_balances.sum(axis=0)
        self._chunks = {k: [] for k in LOGS}
        self._acts: list = []                  # actions of Python agents since the loop last ran, 9 words each
        self._no_acts = np.zeros((1, 9), np.int64)
        self._row = np.zeros(L.N_NOTE, np.int64)   # the notification being delivered
        # float(balance) without Decimal (Strategy.units): 10**k for an atom of 10**-k, else 0
        self.atoms_per_unit_f = [_units_divisor(a.atom) for a in spec.assets]
        self._next_py_id = WD.PY_ID_BASE
        self.t_end = int(spec.duration_s * NS)
        for a, strat in self.strategies.items():
            strat._bind(self, a)
        self.risk_engines = {s.spec.venue: s for s in self.strategies.values() if isinstance(s, RiskEngine)}
        self.chains = {s.spec.name: s for s in self.strategies.values() if isinstance(s, Chain)}
        for a, s in self.strategies.items():
            if isinstance(s, ChainSeller):
                for ch in self.chains.values():
                    if ch.spec.alt_book == s.book_ix and getattr(ch, "bot_agent", None) is None:
                        ch.bot_agent = a
                        break

    @staticmethod
    def _configure_guarded(W, spec, pops, asset_ix):
        """Blocks and parameters of the compiled guarded market makers (``lob.sim.guarded``)."""
        from . import guarded as G
        todo, a = [], 0
        for p in pops:
            if p.kind == L.KIND_GUARDED_MM:
                if p.config is None or not hasattr(p.config, "risk"):
                    raise ValueError("agent population KIND_GUARDED_MM: config must be a GuardedLadderConfig")
                todo += [(a + i, p) for i in range(p.count)]
            a += p.count
        if not todo:
            return W
        sizes = [G.block_size(p.config) for _, p in todo]
        W = W._replace(gbuf=np.zeros(sum(sizes)))
        off = 0
        for (a, p), n in zip(todo, sizes):
            bk = spec.books[p.book]
            ib, iq = asset_ix[bk.base], asset_ix[bk.quote]
            apu = [_units_divisor(spec.assets[i].atom) for i in (ib, iq)]
            lot_units = float(p.params[0]) if p.params else 1.0
            nb = int(W.bal[a, ib])
            start = (nb / apu[0] if apu[0] and -(1 << 53) <= nb <= (1 << 53)
                     else float(Decimal(nb) * spec.assets[ib].atom)) / lot_units
            G.configure(W, a, off, p.config, tick=float(bk.tick), apu_base=apu[0], apu_quote=apu[1],
                        start_lots=start, lot_units=lot_units)
            off += n
        return W

    @staticmethod
    def _push(W, t, kind, agent):
        if W.clock[L.K_HEAPN] >= W.heap.shape[0]:
            # the compiled push does not check bounds: never write past the heap
            raise RuntimeError(f"event heap full ({W.heap.shape[0]} rows) pushing an event for agent {agent}")
        push_event(W.heap, W.clock, t, kind, agent)

    def halt(self, agent: int) -> None:
        """Stop ``agent``'s decisions (its wake-ups are dropped): a risk
        engine has taken its account over."""
        if self.W.agents[agent, L.A_HALT] == 0:
            self.W.agents[agent, L.A_HALT] = 1

    def resume(self, agent: int, t_ns: int) -> None:
        """Hand ``agent`` its account back; it wakes at ``t_ns`` if a wake-up
        was dropped while it was halted."""
        dropped = self.W.agents[agent, L.A_HALT] == 2
        self.W.agents[agent, L.A_HALT] = 0
        if dropped:
            self._push(self.W, int(t_ns), L.EV_WAKE, agent)

    # ------------------------------------------------------------ Python agents' actions
    def _act(self, agent, typ, book, side, price, qty, order_id, stp=0, account=-1) -> int:
        if typ <= _POST_ONLY and order_id == 0:
            order_id = self._next_py_id
            self._next_py_id += 1
        self._acts += (agent, typ, book, side, order_id, price, qty, stp, account)
        return order_id

    # ------------------------------------------------------------ running
    def run(self, until_s: float | None = None, progress=None) -> "Result":
        t_stop = self.t_end if until_s is None else int(until_s * NS)
        for a, strat in self.strategies.items():
            if not strat._started:
                strat._started = True
                strat.on_start()
        advance = self._advance
        entry_w = entry = None
        while True:
            W = self.W
            if W is not entry_w:                 # a new world (flushed logs, grown tables)
                entry_w, entry = W, _entry_point(advance, W, t_stop) or advance
            acts = self._acts
            n = len(acts) // 9
            if n:
                self._acts = []
                st = entry(W, t_stop, np.array(acts, np.int64).reshape(n, 9), n)
            else:
                st = entry(W, t_stop, self._no_acts, 0)
            if st == _S_PYTHON:
                self._dispatch_python()
                self._python_run(t_stop)
            elif st == L.S_DONE:
                break
            elif st == L.S_FLUSH:
                self._flush()
            elif st == L.S_GROW:
                if n and int(self.W.clock[L.K_GROW]) in (L.G_PEND, L.G_HEAP):
                    self._acts = acts            # not sent: send them again once the tables have grown
                self._grow(int(self.W.clock[L.K_GROW]))
            if progress is not None:
                progress(int(self.W.clock[L.K_NOW]), t_stop)
        over = np.nonzero((self.W.agents[:, L.A_KIND] == L.KIND_GUARDED_MM) & (self.W.ast[:, _G.S_OVERFLOW] != 0))[0]
        if len(over):
            raise RuntimeError(f"compiled guarded market maker(s) {over.tolist()}: a window ring overflowed "
                               f"(more buy fills within window_s than lob.sim.guarded.BUY_CAP); their "
                               f"controls are wrong from then on (raise BUY_CAP or use the Python "
                               f"GuardedLadderMM)")
        if t_stop >= self.t_end:
            for strat in self.strategies.values():
                strat.on_stop()
        self._flush()
        return Result(_Logs(self._chunks), self.W.bal.copy(), self.initial_totals, self)

    def _python_run(self, t_stop: int) -> None:
        """Deliver further Python events straight from the queue while the
        next event is one and no strategy has acted: the same order as the
        compiled loop would follow, without re-entering it for each
        notification (an entry costs about 3 us)."""
        W = self.W
        args = (W.heap, W.clock, W.agents, W.pyev, W.notes, self._row, t_stop)
        deliver = self._deliver
        while not self._acts:
            kind, now, a, p0, p2 = next_python(*args)
            if kind < 0:
                return
            deliver(kind, now, a, p0, p2)

    def _dispatch_python(self):
        """Deliver the Python event ``advance`` handed over (in ``W.pyev``)."""
        W = self.W
        self._deliver(*hand_over(W.clock, W.pyev, W.notes, self._row))

    def _deliver(self, kind, now, a, p0, p2):
        strat = self.strategies[a]
        if kind == _EV_WAKE:
            W = self.W
            if W.agents[a, _A_HALT] != 0:     # its account is under a risk engine's takeover
                W.agents[a, _A_HALT] = 2
                return
            strat.now = now
            nxt = strat.on_wakeup(now)
            if nxt is not None:
                push_event(W.heap, W.clock, int(nxt), _EV_WAKE, a)
        elif kind == _EV_NOTIFY:
            row = self._row.tolist()          # the notification (hand_over copied it)
            if p0 == _N_FILL:
                strat._on_fill_row(row, is_taker=bool(p2))
            else:
                strat._on_event_row(row)

    def _flush(self):
        W = self.W
        # the room loop._room asks of an empty buffer, twice: a buffer smaller than that (more live
        # orders than it was made for) is replaced by a larger one, else the loop would ask for a
        # flush again and again without ever running an event
        need = int(W.arena[EY.H_ORD_LIVE]) + 16
        least = {"fills": 2 * need, "events": 2 * (2 * need + 64), "snapshots": 2 * (W.books.shape[0] + 1),
                 "submissions": 512}
        for name, arr, k, cols in (("fills", W.logf, L.K_NFILL, L.N_LOGF), ("events", W.loge, L.K_NEVT, L.N_LOGE),
                                   ("snapshots", W.logs, L.K_NSNAP, L.N_LOGS),
                                   ("submissions", W.logu, L.K_NSUB, L.N_LOGU)):
            n = int(W.clock[k])
            rows = max(arr.shape[0], least[name])
            if n or rows > arr.shape[0]:
                # hand the full buffer over as it is (no copy) and give the
                # kernel another, not zeroed: the kernel writes every column
                # of a row it keeps (test_every_log_column_is_written_
                # whatever_the_buffers_held); an idle one of LOG_BUFFERS when
                # there is one (fresh pages: the OS's page clearing was 17% of
                # the calm day's samples with all logs)
                if rows > arr.shape[0] or 4 * n >= len(arr):
                    # a full buffer (or one too small for the loop: a larger one) is handed over
                    if n:
                        self._chunks[name].append(arr[:n].view(LOGS[name]).reshape(n))
                    self.W = W = W._replace(**{_LOG_FIELD[name]: LOG_BUFFERS.get((rows, arr.shape[1]),
                                                                                 arr.dtype)})
                else:
                    # a sparse log (a flush is due to another): copy its rows
                    # out and keep the buffer; a fresh one would cost a
                    # cleared (huge) page or two for a few rows each time
                    self._chunks[name].append(arr[:n].copy().view(LOGS[name]).reshape(n))
                W.clock[k] = 0

    def _grow(self, what: int):
        W = self.W
        if what == L.G_HEAP:
            W = W._replace(heap=H.grow(W.heap))
        elif what == L.G_PEND:
            old = W.pend
            new = np.zeros((2 * len(old), L.N_PEND), np.int64)
            new[:len(old)] = old
            new[len(old):, L.P_NEXT_FREE] = np.arange(len(old) + 1, 2 * len(old) + 1)
            new[-1, L.P_NEXT_FREE] = W.clock[L.K_PEND_FREE]
            W.clock[L.K_PEND_FREE] = len(old)
            W = W._replace(pend=new)
        elif what == L.G_ORDERS:
            old = W.oinfo
            new = np.zeros((2 * len(old), WD.N_OI), np.int64)
            new[:len(old)] = old
            new[len(old):, WD.OI_NEXT_FREE] = np.arange(len(old) + 1, 2 * len(old) + 1)
            new[-1, WD.OI_NEXT_FREE] = W.clock[L.K_OI_FREE]
            W.clock[L.K_OI_FREE] = len(old)
            W = W._replace(oinfo=new, ordmap=idmap.rehashed(W.ordmap, 4 * len(old)))
        elif what == L.G_NOTES:
            old = W.notes
            new = np.zeros((2 * len(old), L.N_NOTE), np.int64)
            new[:len(old)] = old
            new[len(old):, L.NOTE_NEXT_FREE] = np.arange(len(old) + 1, 2 * len(old) + 1)
            new[-1, L.NOTE_NEXT_FREE] = W.clock[L.K_NOTE_FREE]
            W.clock[L.K_NOTE_FREE] = len(old)
            W = W._replace(notes=new)
        elif what == L.G_SCRATCH:
            need = int(W.arena[EY.H_ORD_LIVE]) + 16
            W = W._replace(efills=np.zeros(27 * 2 * (need + 8), np.int64))
        else:   # the matching engine
            self.engine.arena = W.arena
            self.engine._grow(what)
            W = W._replace(arena=self.engine.arena)
        self.W = W
