"""The symbolic step relation: checker/model/semantics.py's AO semantics over symbolic data.

``SymSemantics`` mirrors ``Semantics.successors`` step for step (same order, same step
kinds, same fault budgets) and reuses its data: handler matching, process index, value
domains, network choice, response properties. What differs:

* integer parameters named in ``Spec.symbolic_params`` are z3 constants (``≥`` the
  parameter's minimum), so the built initial state holds symbolic collateral etc.;
* ``ctx.choose_value`` over an integer domain returns a fresh z3 constant (any integer
  ≥ 1 if the domain is positive, any non-zero one if it excludes 0), named
  ``label@pid#n`` so that equal local histories give equal names;
* data comparisons inside handlers are branch points (``SymBool.__bool__``), enumerated
  with ``all_paths`` like faults; infeasible branches are pruned with z3;
* messages in an unordered network are kept sorted by a structural key, never by
  comparing symbolic values.

A ``SymState`` is a concrete-structure ``World`` with symbolic leaves, the fresh-name
counters and the path condition (a sorted tuple of z3 formulas).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import z3

from checker.model.choices import Chooser, all_paths
from checker.config import CheckConfig
from checker.errors import HandlerError, SpecError
from checker.model.network import FifoNetwork
from checker.model.process import impl_of
from checker.model.semantics import ADVERSARY, Semantics, Step, StepContext, World, WorldView
from checker.model.spec import Param, Property, Spec, StepInfo, StepKind, View
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

    # -- network (unordered: sorted by structural key; fifo: checker.model.network) -----------

    def _deliverable(self, net: tuple[Any, ...]) -> list[tuple[Any, Message]]:
        if self.fifo:
            return FifoNetwork.deliverable(net)
        out: list[tuple[Any, Message]] = []
        prev: Any = None
        for i, m in enumerate(net):
            k = order_key(m)
            if k != prev:
                out.append((i, m))
                prev = k
        return out

    def _droppable(self, net: tuple[Any, ...]) -> list[tuple[Any, Message]]:
        return FifoNetwork.droppable(net) if self.fifo else self._deliverable(net)

    def _take(self, net: tuple[Any, ...], handle: Any) -> tuple[Any, ...]:
        return FifoNetwork.take(net, handle) if self.fifo else net[:handle] + net[handle + 1 :]

    def _put(self, net: tuple[Any, ...], msgs: tuple[Message, ...]) -> tuple[Any, ...]:
        if self.fifo:
            return FifoNetwork.put(net, msgs)
        return tuple(sorted(net + msgs, key=order_key))

    # -- the step relation -------------------------------------------------------------

    def successors(self, st: SymState, only_src: str | None = None) -> Iterator[tuple[Step, SymState]]:
        """Every (step, successor) with a feasible path condition, in Semantics' order.

        ``only_src`` restricts them to the steps that consume a message from that sender
        (delivery, handler-error, loss); no initiatives, no injections.
        """
        w = st.world
        sem = self.sem
        for handle, msg in self._deliverable(w.net):
            if only_src is not None and msg.src != only_src:
                continue
            rest = self._take(w.net, handle)
            idx = sem.index[msg.dst]
            if idx < 0:  # the adversary ignores what it receives
                yield Step(StepKind.UNHANDLED, msg.dst, None, msg, (), ()), SymState(_w(w, w.procs, rest), st.fresh, st.pc)
                continue
            ran: list[str] = []
            for step, nxt in self._run(st, idx, msg, rest):
                if step.handler is not None and not ran:
                    ran.append(step.handler)
                yield step, nxt
            if ran and sem.handler_error and w.faults_left > 0:
                w2 = World(w.procs, rest, w.ghost, w.faults_left - 1, w.injections_left)
                yield Step(StepKind.HANDLER_ERROR, msg.dst, ran[0], msg, (), ()), SymState(w2, st.fresh, st.pc)
        if sem.loss and w.faults_left > 0:
            for handle, msg in self._droppable(w.net):
                if only_src is not None and msg.src != only_src:
                    continue
                w2 = World(w.procs, self._take(w.net, handle), w.ghost, w.faults_left - 1, w.injections_left)
                yield Step(StepKind.LOSE, msg.dst, None, msg, (), ()), SymState(w2, st.fresh, st.pc)
        if only_src is not None:
            return
        for idx, impl in enumerate(self.impls):
            for it in impl.initiatives():
                yield from self._run(st, idx, None, w.net, it.name, it.fn)
        if w.injections_left > 0:
            for template, numeric in self._injections:
                yield self._inject(st, template, numeric)

    def _run(
        self, st: SymState, idx: int, msg: Message | None, net: tuple[Any, ...],
        name: str = "", fn: Callable[[Any, Any], Any] | None = None,
    ) -> Iterator[tuple[Step, SymState]]:
        """Every feasible path of delivering ``msg`` to process ``idx`` through its
        implementation (the process seam), or of initiative ``fn`` when ``msg`` is None."""
        w = st.world
        pid = self.instances[idx].pid
        impl = self.impls[idx]
        before = w.procs[idx]
        kind = StepKind.DELIVER if msg is not None else StepKind.INITIATIVE
        oracle = self.oracle

        def one(ch: Chooser) -> tuple[Step, SymState] | None:
            oracle.begin(ch, st.pc)
            ctx = _SymCtx(self, pid, ch, w.faults_left, st.fresh)
            try:
                if msg is not None:
                    d = impl.deliver(before, msg, ctx)
                    pc = canonical_pc(st.pc + tuple(oracle.pc))
                    if d.handler is None:
                        return Step(StepKind.UNHANDLED, pid, None, msg, tuple(ctx.choices), ()), SymState(_w(w, w.procs, net), st.fresh, pc)
                    if d.error is not None:
                        step = Step(StepKind.ERROR, pid, d.handler, msg, tuple(ctx.choices), (), d.error)
                        return step, SymState(_w(w, w.procs, net), st.fresh, pc)
                    after, hname = d.state, d.handler
                else:
                    assert fn is not None
                    hname = name
                    try:
                        after = fn(before, ctx)
                    except HandlerError as e:
                        step = Step(StepKind.ERROR, pid, name, msg, tuple(ctx.choices), (), e.reason)
                        return step, SymState(_w(w, w.procs, net), st.fresh, canonical_pc(st.pc + tuple(oracle.pc)))
                    if after is None:
                        return None
                    if type(after) is not type(before):
                        raise SpecError(f"{self.spec.source}: {kind} {name!r} of {pid} returned a {type(after).__name__}")
                sends = tuple(ctx.sends)
                step = Step(kind, pid, hname, msg, tuple(ctx.choices), sends)
                procs = w.procs[:idx] + (after,) + w.procs[idx + 1 :]
                net2 = self._put(net, sends) if sends else net
                ghost = w.ghost
                if self.response_props:
                    ghost = self._obligations(ghost, StepInfo(pid, kind, hname, msg, before, after, sends))
                w2 = World(procs, net2, ghost, ctx.faults_left, w.injections_left)
                return step, SymState(w2, ctx.fresh, canonical_pc(st.pc + tuple(oracle.pc)))
            except Infeasible:
                return None

        for _, res in all_paths(one):
            if res is not None:
                yield res

    def _obligations(self, ghost: tuple[tuple[Any, ...], ...], info: StepInfo) -> tuple[tuple[Any, ...], ...]:
        out = list(ghost)
        for i, (trigger, discharge) in enumerate(self.sem.obligation_rules):
            opened = trigger(info) if trigger else ()
            closed = discharge(info) if discharge else ()
            if not opened and not closed:
                continue
            keys = list(out[i])
            for k in closed:
                if k in keys:  # symbolic equality: a branch point, as concretely
                    keys.remove(k)
            keys.extend(opened)
            out[i] = tuple(sorted(keys, key=order_key))
        return tuple(out)

    def _adversary_templates(self) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
        """Adversary messages as in ``Semantics``, with integer-domain tags left symbolic."""
        out: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
        doms = self.sem.domains
        for a in self.spec.actions:
            targets = [inst.pid for inst, impl in zip(self.instances, self.impls) if a.name in impl.handled_actions()]
            combos: list[dict[str, Any]] = [{}]
            numeric: list[tuple[str, str]] = []
            for tag, dom in a.tags:
                if dom not in doms:
                    raise SpecError(f"{self.spec.source}: Action {a.name} tag {tag} uses unknown domain {dom!r}")
                if dom in self.domain_bounds:
                    numeric.append((tag, self.domain_bounds[dom]))
                    continue
                combos = [{**c, tag: v} for c in combos for v in doms[dom]]
            for dst in targets:
                for c in combos:
                    out.append(({"__dst": dst, "__action": a.name, **c}, numeric))
        return out

    def _inject(self, st: SymState, template: dict[str, Any], numeric: list[tuple[str, str]]) -> tuple[Step, SymState]:
        w = st.world
        self.oracle.begin(None, st.pc)
        tags = {k: v for k, v in template.items() if not k.startswith("__")}
        fresh = st.fresh
        for tag, bound in numeric:
            tags[tag], fresh = self.fresh_var(f"{tag}@{ADVERSARY}", bound, fresh)
        m = make_message(ADVERSARY, template["__dst"], template["__action"], tags)
        w2 = World(w.procs, self._put(w.net, (m,)), w.ghost, w.faults_left, w.injections_left - 1)
        return Step(StepKind.INJECT, ADVERSARY, None, None, (), (m,)), SymState(w2, fresh, canonical_pc(st.pc + tuple(self.oracle.pc)))

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


def _w(w: World, procs: tuple[Any, ...], net: tuple[Any, ...]) -> World:
    return World(procs, net, w.ghost, w.faults_left, w.injections_left)
