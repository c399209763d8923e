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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import z3

from checker.semantics import Step
from checker.symbolic.semantics import SymSemantics, SymState
from checker.symbolic.translate import instantiate, shape_of


@dataclass
class Shape:
    """One control shape: its key, slot variables and per-property 'holds' formulas."""

    sid: int
    key: Any
    names: list[str]
    vars: list[z3.ArithRef]
    quiescent: bool
    summary: str
    holds: dict[str, z3.BoolRef] = field(default_factory=dict)


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
    shapes: list[Shape]
    edges: list[Edge]
    init: int
    init_args: tuple[z3.ArithRef, ...]
    params: tuple[z3.ArithRef, ...]
    param_constraint: z3.BoolRef
    complete: bool


def _readable(ss: SymSemantics, path: str) -> str:
    for i, inst in enumerate(ss.instances):
        p = f".procs[{i}]"
        if path.startswith(p):
            return inst.pid + path[len(p):]
    if path.startswith(".net"):
        return path[1:]
    return path.lstrip(".")


def _summary(world: Any) -> str:
    msgs = []
    for m in world.net:
        if hasattr(m, "action"):
            req = dict(m.tags).get("Request")
            msgs.append(f"{m.action}→{m.dst}" + (f"({req})" if isinstance(req, str) else ""))
    inflight = ", ".join(msgs) if msgs else "nothing"
    return f"in flight: {inflight}; faults left {world.faults_left}"


def build_graph(ss: SymSemantics, props: list[Any], max_shapes: int) -> ShapeGraph:
    """Explore every control shape (up to ``max_shapes``) with its edges and, for each
    property in ``props`` (always / at-quiescence), the formula saying it holds there."""
    params = tuple(ss.param_vars[n] for n in sorted(ss.param_vars))
    pcon = z3.And(*ss.init_pc) if ss.init_pc else z3.BoolVal(True)
    init = ss.initial()
    shapes: list[Shape] = []
    index: dict[Any, int] = {}
    edges: list[Edge] = []

    def intern(st: SymState) -> tuple[int, tuple[z3.ArithRef, ...]]:
        shape, slots = shape_of(st.world)
        key = (shape, st.fresh)
        args = tuple(x.e for _, x in slots)
        sid = index.get(key)
        if sid is None:
            sid = len(shapes)
            index[key] = sid
            names = [_readable(ss, p) for p, _ in slots]
            vs = [z3.Int(n) for n in names]
            shapes.append(Shape(sid, key, names, vs, not st.world.net, _summary(st.world)))
        return sid, args

    init_sid, init_args = intern(init)
    i = 0
    complete = True
    known = set(params)
    while i < len(shapes):
        if len(shapes) > max_shapes:
            complete = False
            break
        sh = shapes[i]
        shape_world, fresh = sh.key
        world = instantiate(shape_world, ss.oracle, sh.vars)
        st = SymState(world, fresh, ss.init_pc)
        for p in props:
            if p.kind == "at-quiescence" and not sh.quiescent:
                sh.holds[p.name] = z3.BoolVal(True)
            else:
                sh.holds[p.name] = ss.holds(st, p.check)
        base = set(ss.init_pc)
        local = set(sh.vars) | known
        for step, st2 in ss.successors(st):
            dst, args = intern(st2)
            guard_parts = [c for c in st2.pc if c not in base]
            guard = z3.And(*guard_parts) if guard_parts else z3.BoolVal(True)
            inputs = tuple(v for v in _consts([guard, *args]) if v not in local)
            edges.append(Edge(sh.sid, dst, guard, args, inputs, step))
        i += 1
    return ShapeGraph(shapes, edges, init_sid, init_args, params, pcon, complete)


def _consts(exprs: list[Any]) -> list[z3.ArithRef]:
    """Uninterpreted integer constants occurring in ``exprs`` (sorted by name)."""
    seen: dict[str, z3.ArithRef] = {}
    todo = list(exprs)
    while todo:
        e = todo.pop()
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen[str(e)] = e
        else:
            todo.extend(e.children())
    return [seen[k] for k in sorted(seen)]
