"""Explicit-state breadth-first exploration with state hashing.

Every state is checked when first discovered; BFS discovers states in order of depth,
so the first violation found for a property is a shortest counterexample. A reached
limit (depth, states, time) never turns into a pass: properties without a violation
are then UNKNOWN with the bound that was reached.

States are compact keys (``Semantics.key_of``: serial numbers of interned local
states and messages), expanded by ``Semantics.expand``; a ``World`` is built only for
a new state's property checks and for traces. The visited set and the BFS queue hold
them packed (``checker.engines.packed``: a few bytes per serial); a state is unpacked
when it is expanded and when a verdict or a trace reads it (``keys``). The BFS tree is
kept in C arrays (parent, the step as a number), depths as level boundaries.

With symmetry reduction (``config.symmetry`` and a spec that declares symmetric
kinds) each new key is replaced by its orbit representative before the visited-set
lookup; counterexamples are turned back into concrete traces by ``trace_to``.
Partial-order reduction would plug into the successor loop; specs do not change.
"""

from __future__ import annotations

import gc
import resource
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import overload

from checker import stop
from checker.config import CheckConfig
from checker.errors import InternalError
from checker.model.expectation import Expectation, Form, expectation
from checker.result import (
    EXPECTED_FAIL,
    HOLDS,
    UNKNOWN,
    VIOLATED,
    CheckResult,
    Engine,
    PropertyResult,
    Stats,
    Trace,
    Verdict,
)
from checker.model.property_eval import CheckMemo, Judge, check_holds, required_goals
from checker.model.process import FINDING_KINDS, Finding
from checker.model.semantics import Key, Semantics, Step
from checker.model.spec import HANDLER_STEPS, Property, PropertyKind, Spec
from checker.engines.compiled import (Bridge, CoreStates, CoreUnsupported, _core, core_unavailable, indexed_states,
                                      int_table)
from checker.engines.packed import PackedKeys, codec_for
from checker.engines.progress import EdgeRecorder, lasso, non_progress_cycle
from checker.engines.symmetry import canonicaliser

ProgressFn = Callable[[Stats], None]
PROGRESS_EVERY = 0.25  # seconds between progress callbacks


def explore(spec: Spec, config: CheckConfig, progress: ProgressFn | None = None) -> CheckResult:
    """Explore every reachable state of ``spec`` under ``config`` (within its limits)."""
    props = [p for p in spec.properties if config.properties is None or p.name in config.properties]
    if config.conform:
        from checker.model.conformance import CONFORMANCE

        props.append(CONFORMANCE)
    # Worlds are acyclic immutable values: the cycle collector only costs time here
    # (it rescans every live state on each full collection).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            return _search(spec, config, props, progress, None)
        except CoreUnsupported as e:  # found out mid-search: the whole search again, in Python
            return _search(spec, config, props, progress, str(e))
    finally:
        if was_enabled:
            gc.enable()


def _search(spec: Spec, config: CheckConfig, props: list[Property], progress: ProgressFn | None,
            core_off: str | None) -> CheckResult:
    """One search on a fresh ``Semantics`` (``core_off``: why the compiled core must not run)."""
    explorer = _Explorer(Semantics(spec, config), props, progress, core_off)
    try:
        return explorer.run()
    except stop.Stopped as e:  # a handler stopped mid-delivery: verdicts from the states explored
        explorer.stats.limit_hit = e.reason
        return explorer.finish(explorer.transitions())


class _Explorer:
    def __init__(self, sem: Semantics, props: list[Property], progress: ProgressFn | None,
                 core_off: str | None = None) -> None:
        self.sem = sem
        self.core_off = core_off  # why the compiled core must not run (None: it may)
        self.props = props
        self.progress = progress
        self.violation: dict[str, int] = {}
        self.witness: dict[tuple[str, str], int] = {}
        # states by index, packed (``checker.engines.packed``: short canonical bytes of the
        # compact keys of ``Semantics.key_of``); ``keys`` unpacks on access; worlds are
        # built on demand. The BFS tree as C arrays: parent index, and the step taken as a
        # number in ``step_table`` (0: none, the initial state); depths as level boundaries.
        self.codec = codec_for(sem.nprocs, sem.knet)
        self.packed: Sequence[bytes] = []
        self.keys = PackedKeys(self.packed, self.codec)
        self.parent: array[int] = array("i")
        self.via: array[int] = array("i")
        self.step_table: list[Step | None] = [None]
        self.levels: list[int] = [0, 1]  # levels[d]: the index of the first state at depth d
        self.depth = Depths(self.levels, self.packed)
        self.canon = canonicaliser(sem, sem.config.symmetry)
        judge = Judge(sem)  # property checks over keys, memoised (pure checks)
        # what is still to be found, in property order: (property, goal or None for a
        # violation, its test on a key); an entry leaves the list once found
        self.expect = {p.name: expectation(p) for p in props}
        wanted: list[tuple[Property, str | None]] = [(p, None) for p in props if self.expect[p.name].at_worlds] + [
            (p, g) for p in props if self.expect[p.name].form is Form.REACHABLE for g in required_goals(sem, p)]
        self.pending: list[tuple[str, str | None, Callable[[Key], bool]]] = [
            (p.name, g, judge.violation_test(p) if g is None else judge.goal_test(p, g)) for p, g in wanted]
        # the same tests judged together: the indices in ``pending`` that fire on a key
        self.pending_memo = judge.pending_memo(wanted)
        # --conform: the first step that is not a step of the model (source index, step)
        self.diverged: tuple[int, Step] | None = None
        # findings from execution: first occurrence (source index, step, finding) per key
        self.found: dict[str, tuple[int, Step, Finding]] = {}
        # progress properties (non-progress cycles): judged on the graph ``recorder`` records
        self.cycles = [p for p in props if self.expect[p.name].form is Form.PROGRESS]
        self.recorder: EdgeRecorder | None = None
        self.stats = Stats(coverage={h: 0 for h in sem.handler_ids()})
        self.start = time.perf_counter()
        self.next_tick = self.start + PROGRESS_EVERY  # when the progress line is next shown
        # firings counted per step object (outcomes are memoised, so steps are shared and
        # stay alive in ``sem``); turned into handler coverage once at the end
        self.fired: dict[int, int] = {}
        self.bridge: Bridge | None = None  # the compiled core's, when it runs the search

    def _check(self, idx: int, key: Key) -> None:
        fired = self.pending_memo(key)
        if not fired:
            return
        for i in fired:
            name, goal, _ = self.pending[i]
            if goal is None:
                self.violation[name] = idx
            else:
                self.witness[(name, goal)] = idx
        for i in reversed(fired):
            del self.pending[i]
        self.pending_memo = self.pending_memo.without(fired)

    def run(self) -> CheckResult:
        sem = self.sem
        limits = sem.config.limits
        stats = self.stats
        if self.canon is not None:
            stats.reduction = "symmetry over " + ", ".join(sem.spec.symmetric_kinds)
        why_not = self.core_off or core_unavailable(sem)
        stats.explorer = "compiled core" if why_not is None else f"pure-Python loop ({why_not})"
        if why_not is None:
            return self._run_core()
        start = self.start = time.perf_counter()
        self.next_tick = start + PROGRESS_EVERY
        pack, unpack = self.codec.pack, self.codec.unpack
        init = sem.initial_key()
        # the visited set holds the packed keys (a state's index is its place in ``states``)
        first = pack(init)
        seen: set[bytes] = {first}
        states: list[bytes] = [first]
        self.packed = states
        self.keys = PackedKeys(states, self.codec)
        self.depth = Depths(self.levels, states)
        parent, via, levels = self.parent, self.via, self.levels
        parent.append(-1)
        via.append(0)
        self._check(0, init)
        fired = self.fired
        fired_get = fired.get
        step_no: dict[int, int] = {}  # id(step) -> its number in step_table
        step_table = self.step_table
        # a progress property is judged on the explored graph: only then are back edges
        # noted (progress.EdgeRecorder), here in the loop: an edge to a stored state that
        # is not in ``fresh`` (the states found while expanding this level) goes to a state
        # of depth <= this one's
        rec = self.recorder = EdgeRecorder(sem.expand, self.canon, pack) if self.cycles else None
        record = rec is not None
        back_src, back_dst = (rec.src, rec.noted) if rec is not None else (array("i"), [])
        fresh: set[bytes] = set()
        canon = self.canon
        expand = sem.expand
        seen_add = seen.add
        stop_early = limits.stop_at_first_violation
        divergent = sem.divergent  # filled by Semantics under --conform only
        step_findings = sem.findings  # filled when an implementation reports findings
        d = 0  # the depth of state i
        next_level = 1  # the index of the first state of depth d + 1
        i = 0
        while i < len(states):
            if i == next_level:  # the first state of depth d + 1: all of that level is known
                d += 1
                next_level = len(states)
                levels.append(next_level)
                if record:
                    fresh = set()
            w = unpack(states[i]) if i else init
            if rec is not None:
                rec.expanded = i + 1
            if limits.max_depth is not None and d >= limits.max_depth:
                if next(iter(expand(w)), None) is not None:
                    stats.limit_hit = f"max-depth {limits.max_depth}"
                i += 1
                continue
            for step, w2 in expand(w):  # transitions: counted in ``fired`` (one per step taken)
                sid = id(step)
                fired[sid] = fired_get(sid, 0) + 1
                if (divergent and sid in divergent) or (step_findings and sid in step_findings):
                    self.note_step(i, step)
                # a key already stored is a representative: canonical already
                p2 = pack(w2)
                if p2 in seen:
                    if record and p2 not in fresh:
                        back_src.append(i)
                        back_dst.append(p2)
                    continue
                if canon is not None:
                    c = canon(w2)
                    if c is not w2:
                        p2 = pack(c)
                        if p2 in seen:
                            if record and p2 not in fresh:
                                back_src.append(i)
                                back_dst.append(p2)
                            continue
                        w2 = c
                j = len(states)
                seen_add(p2)
                states.append(p2)
                parent.append(i)
                k = step_no.get(sid)
                if k is None:
                    k = step_no[sid] = len(step_table)
                    step_table.append(step)
                via.append(k)
                if record:
                    fresh.add(p2)
                self._check(j, w2)
                if stop_early and self.violation:
                    break
            if limits.stop_at_first_violation and self.violation:
                stats.limit_hit = "stopped at the first violation"
                break
            i += 1
            if (i & 255) == 0 and self._every_256(i, sum(fired.values())):
                break
            if limits.max_states is not None and len(states) >= limits.max_states and i < len(states):
                stats.limit_hit = f"max-states {limits.max_states}"
                break
        return self.finish(sum(fired.values()))

    def _every_256(self, i: int, transitions: int) -> bool:
        """What both loops do after every 256th state expanded (``i`` expanded so far): a stop
        request (Ctrl-C, SIGTERM: ``checker/stop.py``), the time and memory limits, the progress
        line. True when the search must end (``stats.limit_hit`` says why)."""
        stats, limits = self.stats, self.sem.config.limits
        now = time.perf_counter()
        if stop.requested() is not None:
            stats.limit_hit = stop.requested()
            return True
        if limits.timeout is not None and now - self.start >= limits.timeout:
            stats.limit_hit = f"timeout {limits.timeout:g}s"
            return True
        if limits.max_memory_mb is not None and (i & 4095) == 0 and peak_rss_mb() >= limits.max_memory_mb:
            stats.limit_hit = f"max-memory {limits.max_memory_mb} MB"
            return True
        if self.progress is not None and now >= self.next_tick:
            self.next_tick = now + PROGRESS_EVERY
            self._stats(stats, transitions, self.start)
            stats.queue = len(self.packed) - i
            self.progress(stats)
        return False

    def note_step(self, i: int, step: Step) -> None:
        """A transition from state ``i`` by ``step`` that has findings or is not a model step
        (``--conform``): keep the first of each, for its shortest trace (both loops call it)."""
        sem = self.sem
        if self.diverged is None and id(step) in sem.divergent:
            self.diverged = (i, step)
        for f in sem.findings.get(id(step), ()):
            if f.key not in self.found:
                self.found[f.key] = (i, step, f)

    def _run_core(self) -> CheckResult:
        """``run`` on the compiled core (``checker.engines.compiled``): the same search, the
        same order, the same states; the core hands back every 256 states for the limits
        and the progress line, which are judged here exactly as in ``run``."""
        bridge = self.bridge = Bridge(self)
        try:
            return self._core_search(bridge)
        finally:  # the core and its bridge hold each other: break it, keeping the tables
            bridge.core.release()

    def _core_search(self, bridge: Bridge) -> CheckResult:
        sem, stats = self.sem, self.stats
        limits = sem.config.limits
        core = bridge.core
        self.start = time.perf_counter()
        self.next_tick = self.start + PROGRESS_EVERY
        init = sem.initial_key()
        core.start(bridge.core_key(init))
        self.packed = CoreStates(core)
        self.keys = PackedKeys(self.packed, self.codec)
        self.depth = Depths(self.levels, self.packed)
        if self.cycles:
            self.recorder = EdgeRecorder(sem.expand, self.canon, self.codec.pack)
        self._check(0, init)
        levels = self.levels
        while True:
            status = core.run((core.position | 255) + 1)
            i = core.position
            levels.extend(int_table(core.table("levels", len(levels))))
            if status == _core.STOPPED:
                stats.limit_hit = "stopped at the first violation"
                break
            if status == _core.DEPTH:  # every state left is at the depth limit: does one go on?
                unpack = self.codec.unpack
                while i < len(self.packed):
                    if next(iter(sem.expand(unpack(self.packed[i]))), None) is not None:
                        stats.limit_hit = f"max-depth {limits.max_depth}"
                        break
                    i += 1
                i = len(self.packed)
                break
            if (i & 255) == 0 and i and self._every_256(i, core.transitions):
                break
            if status == _core.STATES:
                stats.limit_hit = f"max-states {limits.max_states}"
                break
            if status == _core.DONE:
                break
        if self.recorder is not None:
            self.recorder.expanded = i + 1 if status == _core.STOPPED else i
        return self.finish(core.transitions)

    def _sync_core(self) -> None:
        """Take the BFS tree, the steps taken and the back edges from the compiled core."""
        bridge = self.bridge
        if bridge is None:
            return
        core = bridge.core
        self.parent = int_table(core.table("parent"))
        self.via = int_table(core.table("via"))
        del self.step_table[1:]
        self.step_table.extend(bridge.steps[k] for k in int_table(core.table("step_order")))
        self.fired = {id(bridge.steps[k]): n for k, n in core.fired()}
        levels = self.levels
        levels.extend(int_table(core.table("levels", len(levels))))
        if self.recorder is not None:
            self.recorder.src = int_table(core.table("back_src"))
            self.recorder.dst = indexed_states(int_table(core.table("back_dst")), self.packed)

    def transitions(self) -> int:
        """Transitions taken so far."""
        return self.bridge.core.transitions if self.bridge is not None else sum(self.fired.values())

    def finish(self, transitions: int) -> CheckResult:
        """The result of the search so far (``transitions`` taken)."""
        self._sync_core()
        sem, stats, fired = self.sem, self.stats, self.fired
        self._stats(stats, transitions, self.start)
        stats.queue = None  # the result's statistics do not depend on when progress ticked
        for step in sem.steps():
            n = fired.get(id(step))
            if n and step.kind in HANDLER_STEPS:
                key = f"{sem.kind_of(step.pid)}:{step.handler}"
                stats.coverage[key] = stats.coverage.get(key, 0) + n
        if self.progress is not None:
            self.progress(stats)
        return CheckResult(
            spec_name=sem.spec.name,
            spec_source=sem.spec.source,
            scenario=sem.spec.describe(sem.config.params),
            config=sem.config,
            engine=Engine.EXPLORE,
            results=[self._verdict(p, stats) for p in self.props] + self._finding_results(),
            stats=stats,
        )

    def _stats(self, stats: Stats, transitions: int, start: float) -> None:
        stats.states = len(self.keys)
        stats.transitions = transitions
        stats.max_depth = self.depth[-1] if self.depth else 0
        stats.seconds = time.perf_counter() - start

    def trace_to(self, idx: int) -> Trace:
        """A shortest concrete run from the initial world to state ``idx``'s orbit."""
        sem = self.sem
        steps: list[tuple[Step, Key]] = []
        while self.parent[idx] >= 0:
            step = self.step_table[self.via[idx]]
            if step is None:
                raise InternalError("BFS tree broken: a non-initial state without a step")
            steps.append((step, self.keys[idx]))
            idx = self.parent[idx]
        steps.reverse()
        initial = sem.world_of(self.keys[0])
        if self.canon is None:
            return Trace(initial, tuple((step, sem.world_of(k)) for step, k in steps))
        return Trace(initial, tuple((step, sem.world_of(k)) for step, k in self._concretise([k for _, k in steps])))

    def _finding_results(self) -> list[PropertyResult]:
        """One VIOLATED row per finding key, in order of discovery, with its shortest trace."""
        out = []
        for key, (i, step, f) in self.found.items():
            trace = self._trace_ending(i, step, lambda s: any(g.key == key for g in self.sem.findings.get(id(s), ())))
            out.append(PropertyResult(key, PropertyKind.FINDING, FINDING_KINDS.get(f.kind, f.kind), VIOLATED,
                                      f"shortest trace: {len(trace)} steps", False, trace, f.text))
        return out

    def _trace_ending(self, idx: int, step: Step, wanted: Callable[[Step], bool]) -> Trace:
        """The run to state ``idx`` followed by ``step`` (with symmetry, by the step
        ``wanted`` accepts from the concrete world the run reaches)."""
        sem = self.sem
        trace = self.trace_to(idx)
        last = trace.steps[-1][1] if trace.steps else trace.initial
        for s, k2 in sem.expand(sem.key_of(last)):
            if s is step or (self.canon is not None and wanted(s)):
                return Trace(trace.initial, trace.steps + ((s, sem.world_of(k2)),))
        raise InternalError("a step recorded on the BFS tree is not enabled at the end of its trace")

    def _diverging_trace(self, idx: int, step: Step) -> Trace:
        """The run to state ``idx`` followed by a step that is not a model step."""
        return self._trace_ending(idx, step, lambda s: id(s) in self.sem.divergent)

    def _concretise(self, reps: list[Key]) -> list[tuple[Step, Key]]:
        """Follow representatives with real steps: each next world is a successor of the
        current concrete world whose representative is the next one on the BFS path."""
        canon = self.canon
        assert canon is not None
        current = self.keys[0]
        out: list[tuple[Step, Key]] = []
        for target in reps:
            for step, k2 in self.sem.expand(current):
                if canon(k2) == target:
                    out.append((step, k2))
                    current = k2
                    break
            else:
                raise InternalError("symmetry reduction: no concrete step reaches the next representative")
        return out

    def _verdict(self, p: Property, stats: Stats) -> PropertyResult:
        sem = self.sem
        bound = bound_text(sem, stats)

        def mk(verdict: Verdict, bound: str, trace: Trace | None = None, detail: str = "") -> PropertyResult:
            return PropertyResult(p.name, p.shown_kind, p.meaning, verdict, bound, p.expected_to_fail, trace, detail)

        form = self.expect[p.name].form
        if form is Form.REACHABLE:
            keys = [(p.name, g) for g in required_goals(sem, p)]
            missing = [g for (_, g) in keys if (p.name, g) not in self.witness]
            if not missing:
                depths = ", ".join(f"{g} at depth {self.depth[self.witness[(p.name, g)]]}" for (_, g) in keys)
                return mk(HOLDS, f"witnessed: {depths}", trace=self.trace_to(max(self.witness[k] for k in keys)))
            if stats.limit_hit is None:
                return mk(VIOLATED, bound, detail=f"no reachable state witnesses: {', '.join(missing)}")
            return mk(UNKNOWN, bound, detail=f"not yet witnessed: {', '.join(missing)}")
        if form is Form.PROGRESS:
            return self._progress_verdict(p, stats, mk)
        if form is Form.CONFORMANCE:
            if self.diverged is not None:
                trace = self._diverging_trace(*self.diverged)
                last = trace.steps[-1][0]
                return mk(VIOLATED, f"shortest counterexample: {len(trace)} steps", trace=trace,
                          detail=f"step {len(trace)}: {sem.divergent.get(id(last), '')}")
            return mk(UNKNOWN if stats.limit_hit is not None else HOLDS, bound)
        if p.name in self.violation:
            idx = self.violation[p.name]
            trace = self.trace_to(idx)
            return mk(EXPECTED_FAIL if p.expected_to_fail else VIOLATED,
                      bound=f"shortest counterexample: {len(trace)} steps", trace=trace)
        note = premise_note(sem, self.expect[p.name], self.keys)
        if stats.limit_hit is not None:
            return mk(UNKNOWN, bound, detail=note)
        detail = "expected to fail, but holds in this scenario" if p.expected_to_fail else ""
        return mk(HOLDS, bound, detail="; ".join(x for x in (detail, note) if x))

    def _progress_verdict(self, p: Property, stats: Stats, mk: Callable[..., PropertyResult]) -> PropertyResult:
        """A non-progress cycle on the recorded graph (``checker.engines.progress``)."""
        assert self.recorder is not None
        test = CheckMemo(self.sem, lambda v: check_holds(self.sem, p, v))
        keys = self.keys
        rec = self.recorder
        unpack = self.codec.unpack
        # no back edge between two non-progress states: no cycle of them (see EdgeRecorder)
        candidates = any(not test(keys[i]) and not test(unpack(b)) for i, b in zip(rec.src, rec.dst))
        cycle = (non_progress_cycle(rec.graph(keys, self.packed), lambda i: test(keys[i]), self.depth)
                 if candidates else None)
        if cycle is None:
            return mk(UNKNOWN if stats.limit_hit is not None else HOLDS, bound_text(self.sem, stats))
        trace = lasso(self.sem, self.trace_to(cycle[0]), cycle, keys, self.canon)
        return mk(VIOLATED, f"lasso: stem {trace.cycle_start} steps, cycle {trace.cycle_length} steps", trace=trace,
                  detail=f"steps {trace.cycle_start + 1}–{len(trace)} repeat forever and never reach a progress state")


def premise_note(sem: Semantics, exp: Expectation, keys: Sequence[Key]) -> str:
    """For an invariant with a premise: how many of the explored (quiescent, for an
    at-quiescence one) states the premise excluded, so that a premise that is rarely or
    never met is said in the verdict; "" when it excluded none. ``keys``: a list, or the
    explorer's ``PackedKeys`` (whose quiescent keys are found without unpacking the others)."""
    if exp.premise is None:
        return ""
    premise = exp.premise
    memo = CheckMemo(sem, lambda v: bool(premise(v)))
    n = sem.nprocs
    judged: Iterable[Key] = keys
    if exp.quiescent_only:
        judged = keys.quiescent() if isinstance(keys, PackedKeys) else (k for k in keys if not k[n])
    total = skipped = 0
    for k in judged:
        total += 1
        if not memo(k):
            skipped += 1
    if not skipped:
        return ""
    where = "quiescent states" if exp.quiescent_only else "states"
    return (f"vacuous in {skipped:,} of {total:,} {where} (its premise is false there; "
            f"checked in {total - skipped:,})")


class Depths(Sequence[int]):
    """The BFS depth of each state, from the level boundaries (``levels[d]``: the index of
    the first state at depth d; ``states``: the states, for the length)."""

    def __init__(self, levels: list[int], states: Sequence[object]) -> None:
        self.levels = levels
        self.states = states

    def __len__(self) -> int:
        return len(self.states)

    @overload
    def __getitem__(self, i: int) -> int: ...

    @overload
    def __getitem__(self, i: slice) -> list[int]: ...

    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self.states)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("state index out of range")
        return bisect_right(self.levels, i) - 1


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bound_text(sem: Semantics, stats: Stats) -> str:
    """The bound a verdict holds within, stated in full."""
    cfg = sem.config
    faults = ", ".join(sorted(cfg.faults)) or "none"
    scope = f"{sem.spec.describe(cfg.params)}; faults: {faults} (max {cfg.max_faults}); network {cfg.network}"
    if stats.limit_hit is None:
        what = "reachable states" if stats.reduction is None else f"reachable states up to {stats.reduction}"
        return f"no violation in all {stats.states:,} {what} (exhaustive, depth ≤ {stats.max_depth}); {scope}"
    return f"no violation up to depth {stats.max_depth}, {stats.states:,} states (stopped: {stats.limit_hit}); {scope}"
