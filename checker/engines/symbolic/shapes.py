"""The control-shape graph of a spec with a fixed number of processes and operations.

A *shape* is a world with every symbolic data leaf replaced by a numbered slot (plus the
fresh-name counters): which processes hold which requests at which stage, what is in
flight, the fault budget. With fixed users and operations there are finitely many. Each
shape gets one integer variable per slot, named by where the slot is
(``token.supply``, ``lock.free[user1]``, ``net[2].Amount``). Running the symbolic step
relation on a shape instantiated with those variables gives its outgoing edges:
``guard(x, inputs, params) → successor shape with slots = args(x, inputs, params)``.

Shapes are explored from the initial world under *any* data (an over-approximation of
the reachable shapes); the data constraints on the edges make the whole graph an exact
encoding of the step relation, which the CHC and induction provers then reason about.

Shapes are keyed by ``ShapeCanon`` (checker/engines/symbolic/shape_symmetry.py): the network is
a multiset, and with symmetry on (``config.symmetry``, the default) one shape stands for
every renaming of the users (``spec.symmetric_kinds``); an edge then leads to the
representative of its target, its argument terms permuted to that shape's slots.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import z3

from checker.model.expectation import StateCheck, state_check
from checker.model.semantics import Step
from checker.model.spec import Property
from checker.engines.symbolic.semantics import Fresh, SymSemantics, SymState
from checker.engines.symbolic.shape_symmetry import ShapeCanon, Template
from checker.engines.symbolic.solver import answer, ask, assuming, check_limits, make_solver
from checker.engines.symbolic.values import DEFAULT_RLIMIT
from checker.model.values import Message


@dataclass
class Shape:
    """One control shape: its key, slot variables and per-property 'holds' formulas.

    ``template`` rebuilds the shape's state (``ShapeCanon.instantiate``)."""

    sid: int
    key: Any
    names: list[str]
    vars: list[z3.ArithRef]
    quiescent: bool
    summary: str
    template: Template
    holds: dict[str, z3.BoolRef] = field(default_factory=dict)
    _from: Any = field(default=None, repr=False)

    def substitute(self, f: z3.BoolRef, args: tuple[z3.ArithRef, ...]) -> z3.BoolRef:
        """``f`` (a formula over this shape's variables) with ``vars[i]`` := ``args[i]``.

        ``z3.substitute`` without its per-pair Python checks (every slot is an Int)."""
        n = len(self.vars)
        if n == 0:
            return f
        if len(args) != n:
            raise ValueError(f"S{self.sid} has {n} variables, got {len(args)} terms")
        if self._from is None:
            arr = (z3.Ast * n)()
            for i, v in enumerate(self.vars):
                arr[i] = v.as_ast()
            self._from = arr
        to = (z3.Ast * n)()
        for i, a in enumerate(args):
            to[i] = a.as_ast()
        return z3.BoolRef(z3.Z3_substitute(f.ctx_ref(), f.as_ast(), n, self._from, to), f.ctx)


@dataclass(frozen=True)
class Edge:
    """``src(x) ∧ guard ⇒ dst(args)``; ``inputs`` are the fresh values chosen in the step."""

    src: int
    dst: int
    guard: z3.BoolRef
    args: tuple[z3.ArithRef, ...]
    inputs: tuple[z3.ArithRef, ...]
    step: Step


@dataclass
class ShapeGraph:
    """The shapes (``init`` is the initial one, entered with ``init_args``) and edges.

    ``complete`` is False when ``max_shapes`` stopped the exploration. ``symmetry``
    names the symmetric kinds the shapes are representatives over (empty: none).
    ``assumed`` names the invariants the exploration was guided by: a step whose guard
    contradicts them in its source shape is not followed but kept in ``refuted`` (its
    ``dst`` is -1). Such a graph is only complete for states satisfying ``assumed``; a
    certificate over it must imply them and must refute every edge in ``refuted``
    (``prove.check_certificate`` checks both)."""

    shapes: list[Shape]
    edges: list[Edge]
    init: int
    init_args: tuple[z3.ArithRef, ...]
    params: tuple[z3.ArithRef, ...]
    param_constraint: z3.BoolRef
    complete: bool
    symmetry: tuple[str, ...] = ()
    assumed: tuple[str, ...] = ()
    refuted: list[Edge] = field(default_factory=list)

    def scope(self) -> str:
        """``N control shapes`` (``up to symmetry of users``), for verdicts and certificates."""
        up_to = f" up to symmetry of {', '.join(k + 's' for k in self.symmetry)}" if self.symmetry else ""
        cut = (f"; {len(self.refuted)} steps refuted by the invariants {', '.join(self.assumed)}"
               if self.assumed else "")
        return f"{len(self.shapes)} control shapes{up_to}{cut}"


def _summary(msgs: list[Message], faults_left: int) -> str:
    out = []
    for m in msgs:
        req = m.get("Request")
        out.append(f"{m.action}→{m.dst}" + (f"({req})" if isinstance(req, str) else ""))
    inflight = ", ".join(out) if out else "nothing"
    return f"in flight: {inflight}; faults left {faults_left}"


def build_graph(ss: SymSemantics, props: Sequence[StateCheck | Property], max_shapes: int, symmetry: bool | None = None,
                assume: tuple[str, ...] = (), rlimit: int = DEFAULT_RLIMIT,
                progress: Callable[[int, int], None] | None = None) -> ShapeGraph:
    """Explore every control shape (up to ``max_shapes``) with its edges and, for each
    check in ``props`` (a ``StateCheck``, or a property a single state decides), the
    formula saying it holds there.

    ``symmetry`` (default ``ss.config.symmetry``): keep one shape per orbit of the
    spec's ``symmetric_kinds`` (see checker/engines/symbolic/shape_symmetry.py for the contract
    that makes this sound). ``assume``: names of properties in ``props`` (declared
    invariants) that guide the exploration: a step whose guard z3 shows unsatisfiable
    together with them in the source shape is refuted, not followed (solver unknown:
    followed). ``progress(shapes, edges)`` is called every 256 shapes."""
    checks = [p if isinstance(p, StateCheck) else state_check(p) for p in props]
    canon = ShapeCanon(ss, ss.config.symmetry if symmetry is None else symmetry)
    params = tuple(ss.param_vars[n] for n in sorted(ss.param_vars))
    pcon = z3.And(*ss.init_pc) if ss.init_pc else z3.BoolVal(True)
    shapes: list[Shape] = []
    index: dict[Any, int] = {}
    edges: list[Edge] = []

    variables: dict[str, z3.ArithRef] = {}

    def var(name: str) -> z3.ArithRef:
        v = variables.get(name)
        if v is None:
            v = variables[name] = z3.Int(name)
        return v

    def intern(st: SymState) -> tuple[int, tuple[z3.ArithRef, ...]]:
        key, args, template = canon.canonical(st)
        sid = index.get(key)
        if sid is None:
            sid = len(shapes)
            index[key] = sid
            names = canon.names(template)
            msgs = canon.messages(template)
            shapes.append(Shape(sid, key, names, [var(n) for n in names], not msgs,
                                _summary(msgs, template[3]), template))
        return sid, args

    init_sid, init_args = intern(ss.initial())
    i = 0
    complete = True
    base = set(ss.init_pc)
    refuted: list[Edge] = []
    solver = make_solver(rlimit) if assume else None
    if solver is not None:
        solver.add(pcon)
    while i < len(shapes):
        if len(shapes) > max_shapes:
            complete = False
            break
        sh = shapes[i]
        check_limits()  # --timeout / --max-memory (LimitReached unwinds to the engine)
        if progress is not None and i % 256 == 0:
            progress(len(shapes), len(edges))
        canon.forget_local()
        st = canon.instantiate(sh.template, sh.vars)
        for c in checks:
            if c.quiescent_only and not sh.quiescent:
                sh.holds[c.name] = z3.BoolVal(True)
            else:
                sh.holds[c.name] = _holds(ss, st, c.check)
        with assuming(solver, *[sh.holds[n] for n in assume]) if solver is not None else nullcontext():
            # no state of this shape satisfies the assumed invariants (unknown: some may)
            empty = solver is not None and answer(solver).impossible
            for step, st2 in ss.successors(st):
                guard_parts = [c for c in st2.pc if c not in base]
                guard = z3.And(*guard_parts) if guard_parts else z3.BoolVal(True)
                if solver is not None and (empty or _refuted(solver, guard)):
                    refuted.append(Edge(sh.sid, -1, guard, (), _inputs(st.fresh, st2.fresh), step))
                    continue
                dst, args = intern(st2)
                edges.append(Edge(sh.sid, dst, guard, args, _inputs(st.fresh, st2.fresh), step))
        i += 1
    canon.forget_local()
    return ShapeGraph(shapes, edges, init_sid, init_args, params, pcon, complete, canon.kinds if canon.enabled else (),
                      assume, refuted)


def _refuted(solver: z3.Solver, guard: z3.BoolRef) -> bool:
    """The guard contradicts what ``solver`` holds (unsat); unknown counts as possible."""
    return not z3.is_true(guard) and ask(solver, guard).impossible


def _holds(ss: SymSemantics, st: SymState, check: Any) -> z3.BoolRef:
    """``ss.holds``: the formula saying ``check`` is true in ``st`` (simplified), built
    without the disjunction when evaluating it took one unconditional path."""
    paths = ss.evaluate(st, check)
    if len(paths) == 1 and not paths[0][0]:
        return z3.simplify(paths[0][1])
    return z3.simplify(z3.Or([z3.And(*pc, r) for pc, r in paths]))


def _inputs(before: Fresh, after: Fresh) -> tuple[z3.ArithRef, ...]:
    """The fresh constants a step created (``SymSemantics.fresh_var`` names them
    ``<key>#<n>`` from the counters), sorted by name."""
    out = [z3.Int(f"{k}#{n}") for k, top in after.items() for n in range(before.get(k, 0), top)]
    return tuple(sorted(out, key=str))


def _consts(exprs: list[Any]) -> list[z3.ArithRef]:
    """Uninterpreted integer constants occurring in ``exprs`` (sorted by name)."""
    seen: dict[str, z3.ArithRef] = {}
    done: set[int] = set()
    todo = list(exprs)
    while todo:
        e = todo.pop()
        i = e.get_id()
        if i in done:
            continue
        done.add(i)
        if e.num_args() == 0:
            if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
                seen[e.decl().name()] = e
        else:
            todo.extend(e.children())
    return [seen[k] for k in sorted(seen)]
