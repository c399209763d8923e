"""The symbolic step relation: the step kernel's AO semantics over symbolic data.

``SymSemantics`` is a frame of ``checker.model.step_kernel`` (``SymFrame``), as the
concrete ``Semantics`` is: the kernel decides the steps, their order, the outcome of
each handler path, obligations, the adversary's messages and the bag; this module
reuses ``Semantics``' data (process index, value domains, network choice, response
properties) and says only how symbolic data is held. What differs:

* integer parameters named in ``Spec.symbolic_params`` are z3 constants (``≥`` the
  parameter's minimum), so the built initial state holds symbolic collateral etc.;
* ``ctx.choose_value`` over an integer domain returns a fresh z3 constant (any integer
  ≥ 1 if the domain is positive, any non-zero one if it excludes 0), named
  ``label@pid#n`` so that equal local histories give equal names;
* data comparisons inside handlers are branch points (``SymBool.__bool__``), enumerated
  with ``all_paths`` like faults; infeasible branches are pruned with z3;
* messages in an unordered network (``KeyedBag``) and open obligations are kept sorted
  by a structural key (``order_key``), never by comparing symbolic values.

A ``SymState`` is a concrete-structure ``World`` with symbolic leaves, the fresh-name
counters and the path condition (a sorted tuple of z3 formulas).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import z3

from checker.model import step_kernel
from checker.model.choices import Chooser, all_paths
from checker.config import CheckConfig
from checker.errors import SpecError
from checker.model.network import FifoNetwork, KeyedBag
from checker.model.process import impl_of
from checker.model.semantics import ADVERSARY, Semantics, Step, StepContext, World, WorldView
from checker.model.spec import Param, Property, Spec, StepInfo, View
from checker.model.step_kernel import Path, Template, delivered, initiated, with_handler_error
from checker.engines.symbolic.translate import order_key
from checker.engines.symbolic.values import Infeasible, Oracle, SymInt, to_z3_bool
from checker.model.values import FrozenMap, Message, make_message

Fresh = FrozenMap[str, int]


@dataclass(frozen=True)
class SymState:
    """A symbolic global state: world (symbolic leaves), fresh counters, path condition."""

    world: World
    fresh: Fresh
    pc: tuple[z3.BoolRef, ...]


def canonical_pc(conds: Any) -> tuple[z3.BoolRef, ...]:
    """Conditions deduplicated and sorted by their text (deterministic)."""
    seen: dict[str, z3.BoolRef] = {}
    for c in conds:
        if z3.is_true(c):
            continue
        seen.setdefault(c.sexpr(), c)
    return tuple(seen[k] for k in sorted(seen))


def domain_bound(values: tuple[Any, ...]) -> str | None:
    """``positive``/``nonzero``/``any`` for an all-integer domain, else ``None`` (concrete)."""
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    if all(v >= 1 for v in values):
        return "positive"
    if all(v != 0 for v in values):
        return "nonzero"
    return "any"


def bound_formula(x: z3.ArithRef, bound: str) -> z3.BoolRef:
    if bound == "positive":
        return x >= 1
    if bound == "nonzero":
        return x != 0
    return z3.BoolVal(True)


class SymView(WorldView):
    """The ``View`` (``checker.model.spec.View``) of a symbolic world: a world's view whose
    ``params`` are the symbolic parameters."""

    __slots__ = ("_params",)

    def __init__(self, sem: Semantics, world: World, params: Any) -> None:
        super().__init__(sem, world)
        self._params = params

    @property
    def params(self) -> Any:
        return self._params


class _SymCtx(StepContext):
    """The ``Ctx`` a handler sees during one symbolic execution path: the concrete one,
    with symbolic parameters and fresh z3 constants for integer domains."""

    __slots__ = ("_ss", "fresh")

    def __init__(self, ss: SymSemantics, pid: str, ch: Chooser, faults_left: int, fresh: Fresh) -> None:
        super().__init__(ss.sem, pid, ch, faults_left)
        self._ss = ss
        self.fresh = fresh

    @property
    def params(self) -> Any:
        return self._ss.params

    def choose_value(self, label: str, domain: str) -> Any:
        ss = self._ss
        bound = ss.domain_bounds.get(domain)
        if bound is None:
            return self.choose(label, ss.sem.domains[domain])
        ss.choice_domains.setdefault(label, domain)
        v, self.fresh = ss.fresh_var(f"{label}@{self.self_id}", bound, self.fresh)
        self.choices.append((label, v))
        return v


class SymSemantics:
    """The symbolic step relation of one spec under one ``CheckConfig``."""

    def __init__(self, spec: Spec, config: CheckConfig, oracle: Oracle,
                 symbolic_params: tuple[str, ...] | None = None) -> None:
        self.sem = Semantics(spec, config)
        for impl in self.sem.impls:
            if not impl.symbolic:
                raise SpecError(
                    f"{spec.source}: the z3 engines prove the model and cannot run {impl.label} ({impl.kind}), "
                    "a Lua process; use --engine explore (with --conform to carry the model's proofs to the code)"
                )
        self.spec = spec
        self.config = config
        self.oracle = oracle
        self.fifo = config.network == "fifo"
        params = config.params
        init_pc: list[z3.BoolRef] = []
        self.param_vars: dict[str, z3.ArithRef] = {}
        for name in spec.symbolic_params if symbolic_params is None else symbolic_params:
            decl = spec.param(name)
            if decl is None or decl.type != "int":
                raise SpecError(f"{spec.source}: symbolic_params names {name!r}, which is not an int parameter")
            x = z3.Int(name)
            self.param_vars[name] = x
            if decl.minimum is not None:
                init_pc.append(x >= decl.minimum)
            params = params.set(name, SymInt(oracle, x))
        self.params = params
        self.init_pc = canonical_pc(init_pc)
        self.instances = tuple(spec.build(params))
        self.impls = tuple(impl_of(inst.decl, spec.source) for inst in self.instances)
        self.domain_bounds: dict[str, str] = {}
        for dom, values in self.sem.domains.items():
            b = domain_bound(tuple(values))
            if b is not None:
                self.domain_bounds[dom] = b
        self.response_props: tuple[Property, ...] = self.sem.response_props
        self.choice_domains: dict[str, str] = {}  # choose_value label -> domain, as used
        self._injections = self._adversary_templates() if self.sem.adversary else []
        # the network: per-pair FIFO, or the kernel's bag ordered by structure
        self.network: Any = FifoNetwork if self.fifo else KeyedBag(order_key, by_key=True)
        self._initiators = tuple(i for i, impl in enumerate(self.impls) if impl.initiatives())
        self._frames: dict[str | None, SymFrame] = {}

    # -- fresh data ------------------------------------------------------------------

    def fresh_var(self, key: str, bound: str, fresh: Fresh) -> tuple[SymInt, Fresh]:
        n = fresh.get(key, 0)
        x = z3.Int(f"{key}#{n}")
        self.oracle.assume(bound_formula(x, bound))
        return SymInt(self.oracle, x), fresh.set(key, n + 1)

    def symbolic_param_params(self) -> list[Param]:
        return [p for p in self.spec.params if p.name in self.param_vars]

    # -- states ----------------------------------------------------------------------

    def initial(self) -> SymState:
        c = self.sem.config
        w = World(
            procs=tuple(p.init for p in self.instances),
            net=(),
            ghost=tuple(() for _ in self.response_props),
            faults_left=c.max_faults,
            injections_left=c.adversary_messages if self.sem.adversary else 0,
        )
        return SymState(w, FrozenMap(), self.init_pc)

    def view(self, w: World) -> SymView:
        return SymView(self.sem, w, self.params)

    # -- the step relation -------------------------------------------------------------

    def successors(self, st: SymState, only_src: str | None = None) -> Iterator[tuple[Step, SymState]]:
        """Every (step, successor) with a feasible path condition, in the kernel's order.

        ``only_src`` restricts them to the steps that consume a message from that sender
        (delivery, handler-error, loss); no initiatives, no injections.
        """
        frame = self._frames.get(only_src)
        if frame is None:
            frame = self._frames[only_src] = SymFrame(self, only_src)
        return step_kernel.expand(frame, st)

    def _paths(self, st: SymState, run: Callable[[Chooser], tuple[Path, SymState] | None]) -> list[tuple[Path, SymState]]:
        """The feasible paths of ``run`` (each begins with the oracle at ``st``'s path condition)."""
        oracle = self.oracle

        def one(ch: Chooser) -> tuple[Path, SymState] | None:
            oracle.begin(ch, st.pc)
            try:
                return run(ch)
            except Infeasible:
                return None

        return [res for _, res in all_paths(one) if res is not None]

    def _after(self, st: SymState, idx: int, p: Path, net: tuple[Any, ...], ctx: _SymCtx) -> tuple[Path, SymState]:
        """The successor of path ``p`` of process ``idx`` (inside the path: obligations
        may branch on symbolic equality), the message consumed leaving ``net``."""
        w = st.world
        if p.state is None:
            w2 = World(w.procs, net, w.ghost, p.faults_left, w.injections_left)
            return p, SymState(w2, ctx.fresh, canonical_pc(st.pc + tuple(self.oracle.pc)))
        step = p.step
        sends = step.sends
        procs = w.procs[:idx] + (p.state,) + w.procs[idx + 1 :]
        net2 = self.network.put(net, sends) if sends else net
        ghost = w.ghost
        if self.response_props:
            info = StepInfo(step.pid, step.kind, step.handler, step.msg, w.procs[idx], p.state, sends)
            gops = step_kernel.obligation_changes(self.spec.source, self.response_props, self.sem.obligation_rules, info, True)
            ghost = step_kernel.apply_obligations(ghost, gops, order_key) if gops else ghost
        w2 = World(procs, net2, ghost, p.faults_left, w.injections_left)
        return p, SymState(w2, ctx.fresh, canonical_pc(st.pc + tuple(self.oracle.pc)))

    def _adversary_templates(self) -> list[Template]:
        """The kernel's adversary messages, with integer-domain tags left symbolic."""
        targets = [(inst.pid, impl) for inst, impl in zip(self.instances, self.impls)]
        return step_kernel.adversary_templates(self.spec.source, self.spec.actions, targets, self.sem.domains,
                                               self.domain_bounds.__contains__)

    # -- properties --------------------------------------------------------------------

    def evaluate(self, st: SymState, check: Callable[[View], Any]) -> list[tuple[tuple[z3.BoolRef, ...], z3.BoolRef]]:
        """Every feasible path of ``check`` on ``st``: (extra path condition, result)."""
        out: list[tuple[tuple[z3.BoolRef, ...], z3.BoolRef]] = []
        view = self.view(st.world)
        oracle = self.oracle

        def one(ch: Chooser) -> tuple[tuple[z3.BoolRef, ...], z3.BoolRef] | None:
            oracle.begin(ch, st.pc)
            try:
                r = to_z3_bool(check(view))
            except Infeasible:
                return None
            except (AttributeError, KeyError, TypeError) as e:
                raise SpecError(f"{self.spec.source}: property failed to evaluate symbolically: {e}") from e
            return tuple(oracle.pc), r

        for _, res in all_paths(one):
            if res is not None:
                out.append(res)
        return out

    def violation(self, st: SymState, check: Callable[[View], Any]) -> z3.BoolRef:
        """A formula over the state's symbols: the check is false in this state."""
        return z3.simplify(z3.Or([z3.And(*pc, z3.Not(r)) for pc, r in self.evaluate(st, check)]))

    def holds(self, st: SymState, check: Callable[[View], Any]) -> z3.BoolRef:
        """A formula over the state's symbols: the check is true in this state."""
        return z3.simplify(z3.Or([z3.And(*pc, r) for pc, r in self.evaluate(st, check)]))


class SymFrame:
    """``SymSemantics`` as a frame of the step kernel over ``SymState``s (``only_src``:
    only the steps that consume a message from that sender)."""

    def __init__(self, ss: SymSemantics, only_src: str | None) -> None:
        self.ss = ss
        self.only_src = only_src
        self.loss = ss.sem.loss
        self.initiators: tuple[int, ...] = ss._initiators if only_src is None else ()
        self.injections: list[Template] = ss._injections if only_src is None else []

    def budgets(self, st: SymState) -> tuple[int, int]:
        return st.world.faults_left, st.world.injections_left

    def _from_src(self, items: Iterable[tuple[Any, Message]]) -> list[tuple[Any, Message]]:
        src = self.only_src
        return list(items) if src is None else [(h, m) for h, m in items if m.src == src]

    def deliverable(self, st: SymState) -> list[tuple[Any, Message]]:
        return self._from_src(self.ss.network.deliverable(st.world.net))

    def droppable(self, st: SymState) -> list[tuple[Any, Message]]:
        return self._from_src(self.ss.network.droppable(st.world.net))

    def deliveries(self, st: SymState, handle: Any, msg: Message) -> Iterator[tuple[Step, SymState]]:
        ss = self.ss
        w = st.world
        rest = ss.network.take(w.net, handle)
        idx = ss.sem.index[msg.dst]
        if idx < 0:  # the adversary ignores what it receives
            yield step_kernel.ignored(msg), SymState(_w(w, w.procs, rest), st.fresh, st.pc)
            return
        pid = ss.instances[idx].pid
        impl = ss.impls[idx]
        before = w.procs[idx]

        def run(ch: Chooser) -> tuple[Path, SymState]:
            ctx = _SymCtx(ss, pid, ch, w.faults_left, st.fresh)
            return ss._after(st, idx, delivered(pid, msg, impl.deliver(before, msg, ctx), ctx), rest, ctx)

        paths = ss._paths(st, run)
        for p, nxt in paths:
            yield p.step, nxt
        ran = [p for p, _ in paths]
        for p in with_handler_error(ran, ss.sem.handler_error, w.faults_left, pid, msg)[len(ran):]:
            yield p.step, SymState(World(w.procs, rest, w.ghost, p.faults_left, w.injections_left), st.fresh, st.pc)

    def lose(self, st: SymState, handle: Any, msg: Message) -> tuple[Step, SymState]:
        w = st.world
        w2 = World(w.procs, self.ss.network.take(w.net, handle), w.ghost, w.faults_left - 1, w.injections_left)
        return step_kernel.lost(msg), SymState(w2, st.fresh, st.pc)

    def initiatives(self, st: SymState, idx: int) -> Iterator[tuple[Step, SymState]]:
        ss = self.ss
        w = st.world
        pid = ss.instances[idx].pid
        before = w.procs[idx]
        for it in ss.impls[idx].initiatives():
            def run(ch: Chooser, fn: Any = it.fn, name: str = it.name) -> tuple[Path, SymState] | None:
                ctx = _SymCtx(ss, pid, ch, w.faults_left, st.fresh)
                p = initiated(ss.spec.source, pid, name, fn, before, ctx)
                return None if p is None else ss._after(st, idx, p, w.net, ctx)

            for p, nxt in ss._paths(st, run):
                yield p.step, nxt

    def inject(self, st: SymState, t: Template) -> tuple[Step, SymState]:
        ss = self.ss
        w = st.world
        ss.oracle.begin(None, st.pc)
        tags = dict(t.fixed)
        fresh = st.fresh
        for tag, dom in t.open:
            tags[tag], fresh = ss.fresh_var(f"{tag}@{ADVERSARY}", ss.domain_bounds[dom], fresh)
        m = make_message(ADVERSARY, t.dst, t.action, tags)
        w2 = World(w.procs, ss.network.put(w.net, (m,)), w.ghost, w.faults_left, w.injections_left - 1)
        return step_kernel.injected(m), SymState(w2, fresh, canonical_pc(st.pc + tuple(ss.oracle.pc)))


def _w(w: World, procs: tuple[Any, ...], net: tuple[Any, ...]) -> World:
    return World(procs, net, w.ghost, w.faults_left, w.injections_left)
