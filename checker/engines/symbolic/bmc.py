"""Bounded model checking with z3: symbolic breadth-first search by depth.

Structure (processes, messages in flight, request ids, stages) stays concrete; data
(amounts, balances, supply, collateral, max supply) is symbolic. Each symbolic state
carries its path condition; a property is violated at a state when
``path condition ∧ ¬property`` is satisfiable. Because the search goes depth by depth,
the first violation found is at the smallest depth. A satisfying model becomes an
ordinary concrete trace (checker/engines/symbolic/concrete.py) that is replayed in the concrete
semantics and re-checked before it is reported.

Adversary injections are *delayed* (with one injection and an unordered network): a
state with an injected message in flight is checked but only expanded by the steps that
consume that message. Sound and exact: an injection commutes with every step that does
not consume its message (it only adds a message to the bag, which enables nothing and
disables nothing else), so any path can be reordered, at the same length, to inject just
before the consuming step; a state ``s + m`` (``m`` injected, still in flight) is reached
by ``s`` then the injection, at the smallest depth of ``s`` plus one, as in the full
search. The same states are checked at the same smallest depths; only the many
interleavings of an idle adversary message with everything else are not expanded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import z3

from checker import stop
from checker.config import CheckConfig
from checker.model.expectation import Form, expectation
from checker.result import EXPECTED_FAIL, HOLDS, UNKNOWN, VIOLATED, CheckResult, Engine, PropertyResult, Stats
from checker.model.semantics import ADVERSARY, Step
from checker.model.spec import HANDLER_STEPS, Property, Spec
from checker.engines.progress import is_progress, unchecked_named
from checker.engines.symbolic.concrete import concrete_trace, violated_concretely
from checker.engines.symbolic.semantics import SymSemantics, SymState
from checker.engines.symbolic.translate import skeleton
from checker.engines.symbolic.solver import LimitReached, ask, make_solver, recover
from checker.engines.symbolic.values import DEFAULT_RLIMIT, Oracle

ProgressFn = Callable[[Stats], None]


def scope_text(ss: SymSemantics) -> str:
    """Every bound of a symbolic check, stated in full."""
    spec, cfg = ss.spec, ss.config
    parts = [f"{p.name} {cfg.params[p.name]}" for p in spec.params
             if p.name not in ss.param_vars and p.type != "ints" and p.name in cfg.params]
    for dom, b in sorted(ss.domain_bounds.items()):
        if dom in ss.choice_domains.values() or (ss.sem.adversary and b is not None):
            parts.append(f"any {dom} ≥ 1" if b == "positive" else f"any {b} {dom}")
    for p in ss.symbolic_param_params():
        parts.append(f"any {p.name} ≥ {p.minimum}" if p.minimum is not None else f"any {p.name}")
    faults = ", ".join(sorted(cfg.faults)) or "none"
    return f"{', '.join(parts)}; faults: {faults} (max {cfg.max_faults}); network {cfg.network}"


class _Bmc:
    def __init__(self, spec: Spec, config: CheckConfig, depth: int, progress: ProgressFn | None,
                 rlimit: int, timeout_ms: int | None, symbolic_params: tuple[str, ...] | None) -> None:
        self.oracle = Oracle(rlimit, timeout_ms)
        self.ss = SymSemantics(spec, config, self.oracle, symbolic_params)
        self.depth = depth
        self.progress = progress
        self.solver = make_solver(rlimit, timeout_ms)
        # progress properties (cycles) are not judged on paths: left out, or UNKNOWN when named
        self.props = [p for p in spec.properties if (config.properties is None or p.name in config.properties)
                      and not is_progress(p)]
        self.expect = {p.name: expectation(p) for p in self.props}
        self.resp_index = {p.name: i for i, p in enumerate(self.ss.response_props)}
        self.violation: dict[str, tuple[int, z3.ModelRef]] = {}
        self.witness: dict[tuple[str, str], tuple[int, z3.ModelRef]] = {}
        self.unknown: dict[str, str] = {}
        self.nodes: list[tuple[SymState, int, Step | None, int]] = []  # state, parent, step, depth
        self.delay_injections = self.ss.sem.adversary and not self.ss.fifo and config.adversary_messages <= 1

    def _successors(self, st: SymState) -> Any:
        """The successors to expand (see the module docstring on delayed injections)."""
        if self.delay_injections and any(m.src == ADVERSARY for m in st.world.net):
            return self.ss.successors(st, only_src=ADVERSARY)
        return self.ss.successors(st)

    def _model(self, pc: tuple[z3.BoolRef, ...], extra: z3.BoolRef | None, name: str) -> z3.ModelRef | None:
        a = ask(self.solver, *pc, *(() if extra is None else (extra,)), model=True)
        if a.unknown:
            self.unknown.setdefault(name, a.reason)
        return a.model

    def _check(self, idx: int) -> None:
        st = self.nodes[idx][0]
        quiet = not st.world.net
        for p in self.props:
            if p.name in self.violation:
                continue
            m: z3.ModelRef | None = None
            exp = self.expect[p.name]
            if exp.form is Form.INVARIANT and (quiet or not exp.quiescent_only):
                assert exp.check is not None
                bad = self.ss.violation(st, exp.check)
                if not z3.is_false(bad):
                    m = self._model(st.pc, bad, p.name)
            elif exp.form is Form.OBLIGATIONS and quiet and st.world.ghost[self.resp_index[p.name]]:
                m = self._model(st.pc, None, p.name)
            elif exp.form is Form.REACHABLE:
                for g in self._goals(p):
                    if (p.name, g) not in self.witness:
                        good = self.ss.holds(st, exp.goals[g])
                        if not z3.is_false(good):
                            wm = self._model(st.pc, good, p.name)
                            if wm is not None:
                                self.witness[(p.name, g)] = (idx, wm)
            if m is not None:
                self.violation[p.name] = (idx, m)

    def _goals(self, p: Property) -> list[str]:
        return self.expect[p.name].required_goals(self.ss.config.params)

    def _done(self) -> bool:
        for p in self.props:
            if self.expect[p.name].form is Form.REACHABLE:
                if any((p.name, g) not in self.witness for g in self._goals(p)):
                    return False
            elif p.name not in self.violation:
                return False
        return True

    def run(self) -> CheckResult:
        cfg = self.ss.config
        stats = Stats(coverage={h: 0 for h in self.ss.sem.handler_ids()})
        start = time.perf_counter()
        init = self.ss.initial()
        seen = {_key(init)}
        self.nodes.append((init, -1, None, 0))
        self._check(0)
        frontier = [0]
        depth_done = 0
        exhausted = False
        transitions = 0
        timeout = cfg.limits.timeout
        kind_of = {pid: self.ss.sem.kind_of(pid) for pid in self.ss.sem.index}
        try:  # a stop request or the proof's limit (LimitReached), a handler stopped mid-delivery
            while not self._done():
                if not frontier:
                    exhausted = True
                    break
                if depth_done >= self.depth:
                    stats.limit_hit = f"max-depth {self.depth}"
                    break
                nxt: list[int] = []
                for i in frontier:
                    for step, st2 in self._successors(self.nodes[i][0]):
                        transitions += 1
                        if step.handler is not None and step.kind in HANDLER_STEPS:
                            k = f"{kind_of[step.pid]}:{step.handler}"
                            stats.coverage[k] = stats.coverage.get(k, 0) + 1
                        key = _key(st2)
                        if key in seen:
                            continue
                        seen.add(key)
                        j = len(self.nodes)
                        self.nodes.append((st2, i, step, depth_done + 1))
                        nxt.append(j)
                        self._check(j)
                    if timeout is not None and time.perf_counter() - start >= timeout:
                        stats.limit_hit = f"timeout {timeout:g}s"
                        break
                    if stop.requested() is not None:  # Ctrl-C, SIGTERM (checker.stop)
                        stats.limit_hit = stop.requested()
                        break
                if stats.limit_hit is not None:
                    break
                frontier = nxt
                depth_done += 1
                stats.states, stats.transitions, stats.max_depth = len(self.nodes), transitions, depth_done
                stats.seconds = time.perf_counter() - start
                if self.progress is not None:
                    self.progress(stats)
        except (LimitReached, stop.Stopped) as e:
            stats.limit_hit = str(e)
        except z3.Z3Exception:  # a z3 call cut short by a stop request
            if stop.requested() is None:
                raise
            stats.limit_hit = stop.requested()
        if stop.requested() is not None:
            recover()  # the violations found before the stop become concrete traces below
        if exhausted:
            depth_done = self.nodes[-1][3]
        stats.states, stats.transitions, stats.max_depth = len(self.nodes), transitions, depth_done
        stats.seconds = time.perf_counter() - start
        if self.oracle.unknown is not None:
            stats.limit_hit = stats.limit_hit or f"solver unknown while branching: {self.oracle.unknown}"
        results = [self._verdict(p, depth_done, exhausted, stats) for p in self.props]
        results += unchecked_named(self.ss.spec, cfg.properties, Engine.BMC, scope_text(self.ss))
        return CheckResult(spec_name=self.ss.spec.name, spec_source=self.ss.spec.source,
                           scenario=scope_text(self.ss), config=cfg, engine=Engine.BMC, results=results, stats=stats)

    def _path(self, idx: int) -> list[Step]:
        steps: list[Step] = []
        while self.nodes[idx][1] >= 0:
            step = self.nodes[idx][2]
            assert step is not None
            steps.append(step)
            idx = self.nodes[idx][1]
        steps.reverse()
        return steps

    def _verdict(self, p: Property, depth: int, exhausted: bool, stats: Stats) -> PropertyResult:
        scope = scope_text(self.ss)
        base: dict[str, Any] = dict(name=p.name, kind=p.shown_kind, meaning=p.meaning,
                                    expected_to_fail=p.expected_to_fail, engine=Engine.BMC)
        reach = (f"no violation in any reachable state (symbolic state space exhausted at depth {depth}, "
                 f"{stats.states:,} symbolic states)" if exhausted else f"no violation up to depth {depth}")
        if self.expect[p.name].form is Form.REACHABLE:
            keys = self._goals(p)
            missing = [g for g in keys if (p.name, g) not in self.witness]
            if not missing:
                idx, wm = max(self.witness[(p.name, g)] for g in keys)
                at = ", ".join(f"{g} at depth {self.nodes[self.witness[(p.name, g)][0]][3]}" for g in keys)
                trace, tcfg = concrete_trace(self.ss, self._path(idx), wm)
                return PropertyResult(**base, verdict=HOLDS, bound=f"witnessed: {at}; {scope}", trace=trace,
                                      trace_config=tcfg)
            verdict = VIOLATED if exhausted and p.name not in self.unknown else UNKNOWN
            cut = stats.limit_hit if stats.limit_hit and not stats.limit_hit.startswith("max-depth") else None
            return PropertyResult(**base, verdict=verdict, bound=f"{reach}; {scope}",
                                  detail=f"not witnessed: {', '.join(missing)}" + (f"; stopped: {cut}" if cut else ""))
        if p.name in self.violation:
            idx, model = self.violation[p.name]
            steps = self._path(idx)
            trace, tcfg = concrete_trace(self.ss, steps, model)
            if not violated_concretely(self.ss.spec, tcfg, trace, p):
                raise_bug(p, len(steps))
            params = ", ".join(f"{k}={v}" for k, v in tcfg.params.items())
            return PropertyResult(**base, verdict=EXPECTED_FAIL if p.expected_to_fail else VIOLATED,
                                  bound=f"smallest depth with a violation: {len(steps)}; {scope}", trace=trace,
                                  trace_config=tcfg, detail=f"concrete scenario from the z3 model: {params}")
        if p.name in self.unknown:
            return PropertyResult(**base, verdict=UNKNOWN, bound=f"{reach}; {scope}",
                                  detail=f"solver unknown: {self.unknown[p.name]}")
        if stats.limit_hit is not None and not stats.limit_hit.startswith("max-depth"):
            return PropertyResult(**base, verdict=UNKNOWN, bound=f"{reach}; {scope}", detail=stats.limit_hit)
        detail = "expected to fail, but holds within this bound" if p.expected_to_fail else ""
        return PropertyResult(**base, verdict=HOLDS, bound=f"{reach}; {scope}", detail=detail)


def raise_bug(p: Property, n: int) -> None:
    from checker.errors import InternalError

    raise InternalError(f"BMC counterexample for {p.name} ({n} steps) replays but does not violate it concretely")


def _key(st: SymState) -> Any:
    return (skeleton(st.world), st.fresh, tuple(c.get_id() for c in st.pc))


def bmc(spec: Spec, config: CheckConfig, depth: int, progress: ProgressFn | None = None,
        rlimit: int = DEFAULT_RLIMIT, timeout_ms: int | None = None,
        symbolic_params: tuple[str, ...] | None = None) -> CheckResult:
    """Bounded model checking of ``spec`` up to ``depth`` steps with symbolic data.

    ``rlimit`` is z3's deterministic work limit per query; ``timeout_ms`` an optional
    wall-clock limit per query; ``config.limits.timeout`` bounds the whole search.
    ``symbolic_params`` overrides ``spec.symbolic_params`` (``()`` keeps every
    parameter at its configured value; numeric choice domains stay symbolic).
    """
    return _Bmc(spec, config, depth, progress, rlimit, timeout_ms, symbolic_params).run()
