"""Unbounded proofs over the control-shape graph: 1-induction and CHC/Spacer.

Both methods produce a *certificate*: one formula per control shape over that shape's
data variables and the symbolic parameters. Before PROVED is reported, a separate plain
z3 solver re-checks it: initiation (the initial world satisfies its shape's formula),
consecution (every edge maps a state satisfying its source formula to one satisfying
its target formula) and safety (every formula implies the property in that shape).

* ``kind``: the candidate is property ∧ the spec's declared invariants; a failing edge
  is a counterexample-to-induction (two states and a step), never a violation.
* ``chc``: one Horn predicate per shape, solved by Spacer; ``unsat`` means the bad state
  is reachable, and BMC is then asked for the concrete counterexample.
Solver ``unknown`` (rlimit, timeout) is always UNKNOWN with the reason.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import z3

from checker.config import CheckConfig
from checker.expectation import Form, StateCheck, expectation, state_check
from checker.result import EXPECTED_FAIL, PROVED, UNKNOWN, VIOLATED, CheckResult, Engine, PropertyResult, Stats
from checker.spec import Property, Spec
from checker.symbolic.bmc import bmc, scope_text
from checker.symbolic.semantics import SymSemantics
from checker.symbolic.shapes import Edge, ShapeGraph, build_graph
from checker.symbolic.solver import answer, ask, assuming, make_solver
from checker.symbolic.values import DEFAULT_RLIMIT, Oracle

Cert = dict[int, z3.BoolRef]


def _apply(g: ShapeGraph, cert: Cert, sid: int, args: tuple[z3.ArithRef, ...]) -> z3.BoolRef:
    """The certificate in shape ``sid`` with its slots bound to ``args``; false for the
    target of a refuted edge (-1: no state may take it)."""
    if sid < 0:
        return z3.BoolVal(False)
    return g.shapes[sid].substitute(cert[sid], args)


def _by_source(g: ShapeGraph) -> dict[int, list[Edge]]:
    """The edges grouped by source shape (shape order, then edge order), refuted edges
    (whose target is -1) last."""
    out: dict[int, list[Edge]] = {sh.sid: [] for sh in g.shapes}
    for e in [*g.edges, *g.refuted]:
        out[e.src].append(e)
    return out


def _target(g: ShapeGraph, e: Edge) -> str:
    return f"S{e.dst}" if e.dst >= 0 else "(refuted by the invariants, not explored)"


def check_certificate(g: ShapeGraph, cert: Cert, prop: str, rlimit: int) -> str | None:
    """Re-check ``cert`` with a fresh plain solver; ``None`` if valid, else why not.

    Initiation; then per source shape, with the parameter constraint and its formula
    asserted once: consecution of each outgoing edge (one check each) and safety."""
    s = make_solver(rlimit)

    def unsat(what: str, *fs: z3.BoolRef) -> str | None:
        a = ask(s, *fs)
        if a.impossible:
            return None
        return f"{what}: solver unknown ({a.reason})" if a.unknown else f"{what}: fails"

    s.add(g.param_constraint)
    err = unsat("initiation", z3.Not(_apply(g, cert, g.init, g.init_args)))
    if err:
        return err
    for sid, out in _by_source(g).items():
        if z3.is_false(cert[sid]):
            continue  # no state: consecution and safety hold vacuously
        with assuming(s, cert[sid]):
            for e in out:
                err = unsat(f"consecution S{e.src}→{_target(g, e)} ({e.step.kind} {e.step.handler or ''} at {e.step.pid})",
                            e.guard, z3.Not(_apply(g, cert, e.dst, e.args)))
                if err:
                    return err
            err = unsat(f"safety in S{sid}", z3.Not(g.shapes[sid].holds[prop]))
            if err:
                return err
    return None


def render_named(g: ShapeGraph, parts: list[Property], method: str) -> str:
    """A k-induction certificate as text: the conjunction of named, readable properties
    (the property and the declared invariants), each instantiated in every shape."""
    lines = [f"inductive invariant ({method}) over {g.scope()}, {len(g.edges)} edges: "
             f"the conjunction of the following, each instantiated in every control shape; "
             f"parameters: {', '.join(str(p) for p in g.params) or 'none'}"]
    lines += [f"  {p.name}: {p.meaning}" for p in parts]
    return "\n".join(lines)


def render_certificate(g: ShapeGraph, cert: Cert, method: str) -> str:
    """The certificate as text: one line per reachable shape with a non-trivial formula."""
    unreachable = sum(1 for c in cert.values() if z3.is_false(c))
    trivial = sum(1 for c in cert.values() if z3.is_true(c))
    lines = [f"inductive invariant ({method}) over {g.scope()}, {len(g.edges)} edges; "
             f"{unreachable} shapes unreachable (false), {trivial} with no data constraint (true); "
             f"parameters: {', '.join(str(p) for p in g.params) or 'none'}"]
    for sh in g.shapes:
        c = cert[sh.sid]
        if z3.is_false(c) or z3.is_true(c):
            continue
        text = str(z3.simplify(c)).replace("\n", " ")
        text = " ".join(text.split())
        lines.append(f"  S{sh.sid} [{sh.summary}]: {text}")
    return "\n".join(lines)


def _kind(g: ShapeGraph, prop: str, invariants: list[str], rlimit: int) -> tuple[Cert | None, str]:
    """1-induction of property ∧ invariants; on failure, the counterexample-to-induction,
    naming the conjuncts (property or declared invariant) that fail."""
    names = [prop, *invariants]
    cert: Cert = {sh.sid: z3.And(*[sh.holds[n] for n in names]) for sh in g.shapes}
    s = make_solver(rlimit)

    def failing(m: z3.ModelRef, sid: int, args: tuple[z3.ArithRef, ...]) -> str:
        sh = g.shapes[sid]
        bad = [n for n in names
               if z3.is_false(m.eval(z3.substitute(sh.holds[n], *zip(sh.vars, args)) if sh.vars else sh.holds[n],
                                     model_completion=True))]
        return ", ".join(bad) or "the candidate"

    s.add(g.param_constraint)
    a = ask(s, z3.Not(_apply(g, cert, g.init, g.init_args)), model=True)
    if a.sat:
        assert a.model is not None
        return None, f"the initial state violates {failing(a.model, g.init, g.init_args)}"
    if a.unknown:
        return None, f"solver unknown ({a.reason})"
    for sid, out in _by_source(g).items():
        with assuming(s, cert[sid]):  # the candidate in the source shape, asserted once for its edges
            why = _kind_edges(g, cert, s, out, failing)
        if why:
            return None, why
    return cert, ""


def _kind_edges(g: ShapeGraph, cert: Cert, s: z3.Solver, out: list[Edge],
                failing: Callable[[z3.ModelRef, int, tuple[z3.ArithRef, ...]], str]) -> str:
    """Consecution of each edge in ``out`` under the source's candidate (asserted in
    ``s``): "" when all hold, else the counterexample-to-induction or solver unknown."""
    for e in out:
        ans = ask(s, e.guard, z3.Not(_apply(g, cert, e.dst, e.args)), model=True)
        if ans.unknown:
            return f"solver unknown ({ans.reason})"
        if ans.sat:
            m = ans.model
            assert m is not None
            src = g.shapes[e.src]
            before = ", ".join(f"{n}={m.eval(v, model_completion=True)}" for n, v in zip(src.names, src.vars))
            params = ", ".join(f"{p}={m.eval(p, model_completion=True)}" for p in g.params)
            if e.dst < 0:
                where = (f"a step the exploration refuted under the invariants {', '.join(g.assumed)}, "
                         f"which this candidate does not exclude")
            else:
                dst = g.shapes[e.dst]
                after = ", ".join(f"{n}={m.eval(a, model_completion=True)}" for n, a in zip(dst.names, e.args))
                where = (f"S{e.dst} [{dst.summary}] with {after or 'no data'}, which violates "
                         f"{failing(m, e.dst, e.args)}")
            return (
                f"counterexample-to-induction (not a violation: the first state need not be reachable): "
                f"state S{e.src} [{src.summary}] with {before or 'no data'} ({params}) satisfies the candidate; "
                f"step {e.step.kind} {e.step.handler or ''} at {e.step.pid} leads to {where}")
    return ""


def _chc(g: ShapeGraph, prop: str, rlimit: int, timeout_ms: int | None) -> tuple[Cert | None, str, bool]:
    """Spacer on one predicate per shape: (certificate, reason, bad state reachable)."""
    s = make_solver(rlimit, timeout_ms, logic="HORN")
    np = len(g.params)
    preds = [z3.Function(f"S{sh.sid}", *([z3.IntSort()] * (len(sh.vars) + np)), z3.BoolSort()) for sh in g.shapes]

    def app(sid: int, args: tuple[z3.ArithRef, ...] | list[z3.ArithRef]) -> z3.BoolRef:
        return preds[sid](*args, *g.params)

    def rule(vs: list[z3.ArithRef], body: z3.BoolRef, head: z3.BoolRef) -> z3.BoolRef:
        return z3.ForAll(vs, z3.Implies(body, head)) if vs else z3.Implies(body, head)

    ps = list(g.params)
    s.add(rule(ps, g.param_constraint, app(g.init, g.init_args)))
    for e in g.edges:
        src = g.shapes[e.src]
        s.add(rule(src.vars + list(e.inputs) + ps, z3.And(app(e.src, src.vars), e.guard), app(e.dst, e.args)))
    for sh in g.shapes:
        if not z3.is_true(sh.holds[prop]):
            s.add(rule(sh.vars + ps, z3.And(app(sh.sid, sh.vars), z3.Not(sh.holds[prop])), z3.BoolVal(False)))
    a = answer(s, model=True)  # one question to a fresh Horn solver: no frame
    if a.unsat:
        return None, "Spacer: a state violating the property is reachable", True
    if a.unknown:
        return None, f"Spacer: unknown ({a.reason})", False
    m = a.model
    assert m is not None
    cert: Cert = {}
    for sh in g.shapes:
        # (model_completion=True turns Spacer's interpretations into False: do not use it)
        f = m.eval(app(sh.sid, sh.vars)) if m[preds[sh.sid]] is not None else z3.BoolVal(False)
        cert[sh.sid] = _quantifier_free(f, rlimit)
    return cert, "", False


def _quantifier_free(f: z3.BoolRef, rlimit: int) -> z3.BoolRef:
    """``f`` without quantifiers (Spacer's inlined predicates carry ∃), when z3 can."""
    f = z3.simplify(f)
    if z3.is_quantifier(f) or "Exists" in str(f) or "ForAll" in str(f):
        try:
            goals = z3.Then("qe", "simplify")(f)
            return z3.simplify(z3.And(*[g.as_expr() for g in goals]))
        except z3.Z3Exception:
            return f
    return f


def _reach(ss: SymSemantics, g: ShapeGraph, max_states: int, rlimit: int) -> tuple[Cert | None, str]:
    """The strongest invariant for finite-depth scenarios: execute the shape graph
    symbolically from the initial shape (pruning infeasible edges) and take, per shape,
    ∃ inputs. ⋁ (path condition ∧ slots = terms). Consecution is re-checked anyway."""
    out: dict[int, list[Edge]] = {sh.sid: [] for sh in g.shapes}
    for e in g.edges:
        out[e.src].append(e)
    solver = make_solver(rlimit)
    start: tuple[int, tuple[Any, ...], tuple[Any, ...]] = (
        g.init, tuple(z3.simplify(a) for a in g.init_args), (g.param_constraint,))
    seen: set[tuple[Any, ...]] = {(start[0], tuple(a.get_id() for a in start[1]))}
    todo = [start]
    disj: dict[int, list[z3.BoolRef]] = {}
    params = set(g.params)
    n = 0
    while todo:
        sid, vals, pc = todo.pop()
        n += 1
        if n > max_states:
            return None, f"symbolic execution of the shape graph stopped at {max_states} states"
        vs = g.shapes[sid].vars
        body = z3.And(*pc, *[v == x for v, x in zip(vs, vals)])
        inputs = [c for c in _free(z3.And(*pc, *[x == x for x in vals])) if c not in params]
        disj.setdefault(sid, []).append(z3.Exists(inputs, body) if inputs else body)
        sub = list(zip(vs, vals))
        for e in out[sid]:
            guard = z3.simplify(z3.substitute(e.guard, *sub)) if sub else e.guard
            if z3.is_false(guard):
                continue
            pc2 = pc if z3.is_true(guard) else pc + (guard,)
            a = ask(solver, *pc2)
            if a.impossible:
                continue
            if a.unknown:
                return None, f"solver unknown ({a.reason})"
            args = tuple(z3.simplify(z3.substitute(a, *sub)) if sub else a for a in e.args)
            key = (e.dst, tuple(a.get_id() for a in args), tuple(c.get_id() for c in pc2))
            if key not in seen:
                seen.add(key)
                todo.append((e.dst, args, pc2))
    cert: Cert = {sh.sid: _quantifier_free(z3.Or(*disj[sh.sid]), rlimit) if sh.sid in disj else z3.BoolVal(False)
                  for sh in g.shapes}
    return cert, ""


def _free(e: z3.ExprRef) -> list[z3.ArithRef]:
    from checker.symbolic.shapes import _consts

    return _consts([e])


def prove(spec: Spec, config: CheckConfig, properties: list[str] | None = None, method: str = "auto",
          rlimit: int = 50 * DEFAULT_RLIMIT, timeout_ms: int | None = None, max_shapes: int = 20_000,
          bmc_depth: int = 40, max_states: int = 50_000,
          progress: Callable[[Stats], None] | None = None) -> CheckResult:
    """Prove always, at-quiescence and response properties for any depth and any data
    values, with the configured number of processes and operations.

    A response property is proved in the form every engine checks it: at every
    quiescent state no obligation is open (its obligations are a ghost of the world).
    ``method``: ``kind`` (1-induction, with the spec's invariants), ``reach`` (strongest
    invariant from an exhaustive symbolic exploration), ``chc`` (Spacer) or ``auto``
    (kind, then reach, then chc). Every PROVED certificate is re-checked independently.
    ``progress`` receives the size of the shape graph being built (unit control shapes).
    """
    start = time.perf_counter()

    def report(shapes: int, edges: int) -> None:
        if progress is not None:
            progress(Stats(states=shapes, transitions=edges, seconds=time.perf_counter() - start,
                           unit="control shapes"))

    # the properties a single state decides (invariants, obligations at quiescence)
    wanted = [p for p in spec.properties if expectation(p).at_worlds
              and (properties is None or p.name in properties)
              and (properties is not None or config.properties is None or p.name in config.properties)]
    plain = [p for p in wanted if expectation(p).form is Form.INVARIANT]
    responses = [p for p in wanted if expectation(p).form is Form.OBLIGATIONS]
    # the declared invariants 1-induction may use: those that hold in every state
    usable = [i for i in spec.invariants if expectation(i).form is Form.INVARIANT and not expectation(i).quiescent_only]
    # one shape graph per group: the obligations ghost multiplies the shapes, so only
    # the graph for response properties carries it
    groups = [(plain, [i for i in usable if i.obligations_of is None])]
    if responses:
        names = {r.name for r in responses}
        groups.append((responses, [i for i in usable if i.obligations_of is None or i.obligations_of in names]))
    results: dict[str, PropertyResult] = {}
    shapes = edges = 0
    limit_hit: str | None = None
    reduction: str | None = None
    scope = scope_text(SymSemantics(spec, config, Oracle(DEFAULT_RLIMIT, timeout_ms)))
    for group, invs in groups:
        if not group:
            continue
        checked = group + [i for i in invs if i.name not in {w.name for w in group}]
        cfg = dataclasses.replace(config, properties=tuple(p.name for p in checked))
        ss = SymSemantics(spec, cfg, Oracle(DEFAULT_RLIMIT, timeout_ms))
        # each as a check on one state: a response property holds where the world is not
        # quiescent or none of its obligations is open (``view.obligations``)
        props = [state_check(p) for p in checked]
        graphs = _Graphs(ss, props, max_shapes, tuple(i.name for i in invs) if method in ("auto", "kind") else (),
                         rlimit, report)
        for p in group:
            results[p.name] = _prove_one(spec, cfg, ss, graphs.get, p, [i.name for i in invs if i.name != p.name],
                                         method, rlimit, timeout_ms, scope, bmc_depth, max_states)
        for g in graphs.built.values():
            shapes, edges = shapes + len(g.shapes), edges + len(g.edges)
            if not g.complete:
                limit_hit = f"max-shapes {max_shapes}"
            if g.symmetry:
                reduction = "symmetry over " + ", ".join(g.symmetry)
    stats = Stats(states=shapes, transitions=edges, seconds=time.perf_counter() - start, limit_hit=limit_hit,
                  reduction=reduction, unit="control shapes")
    return CheckResult(spec_name=spec.name, spec_source=spec.source, scenario=scope, config=config,
                       engine=Engine.PROVE, results=[results[p.name] for p in wanted], stats=stats)


class _Graphs:
    """The shape graph of one group of properties, plain or guided by the group's
    invariants ``assume`` (none: both are the plain graph), each built on first use."""

    def __init__(self, ss: SymSemantics, props: list[StateCheck], max_shapes: int, assume: tuple[str, ...],
                 rlimit: int, progress: Callable[[int, int], None]) -> None:
        self.ss, self.props, self.max_shapes, self.assume = ss, props, max_shapes, assume
        self.rlimit, self.progress = rlimit, progress
        self.built: dict[bool, ShapeGraph] = {}

    def get(self, guided: bool) -> ShapeGraph:
        key = guided and bool(self.assume)
        if key not in self.built:
            self.built[key] = build_graph(self.ss, self.props, self.max_shapes, assume=self.assume if key else (),
                                          rlimit=self.rlimit, progress=self.progress)
        return self.built[key]


def _prove_one(spec: Spec, cfg: CheckConfig, ss: SymSemantics, graph: Callable[[bool], ShapeGraph], p: Property,
               invs: list[str], method: str, rlimit: int, timeout_ms: int | None, scope: str, bmc_depth: int,
               max_states: int) -> PropertyResult:
    """Prove ``p``: 1-induction with the invariants ``invs`` over the graph guided by
    them (``graph(True)``), then, under ``auto``, the other methods over the plain graph."""
    base: dict[str, Any] = dict(name=p.name, kind=p.shown_kind, meaning=p.meaning,
                                expected_to_fail=p.expected_to_fail, engine=Engine.PROVE)
    claim = f"any depth, any data values; {scope}"
    if expectation(p).form is Form.OBLIGATIONS:
        claim += "; response checked as: no open obligation at any quiescent state"
    notes: list[str] = []

    def too_big(g: ShapeGraph) -> str | None:
        if g.complete:
            return None
        return (f"the control-shape limit stopped the graph ({len(g.shapes):,} control shapes found, more remain): "
                f"raise max_shapes or shrink the scenario")

    def unproved(detail: str) -> PropertyResult:
        """Not proved: a real counterexample if BMC finds one (it replays concretely),
        else UNKNOWN with ``detail`` (e.g. a counterexample to induction)."""
        cex = bmc(spec, dataclasses.replace(cfg, properties=(p.name,)), bmc_depth).result(p.name)
        if cex.verdict in (VIOLATED, EXPECTED_FAIL) and cex.trace is not None:
            return PropertyResult(**base, verdict=cex.verdict, bound=cex.bound, trace=cex.trace,
                                  trace_config=cex.trace_config, detail=f"not proved ({detail}); {cex.detail}")
        return PropertyResult(**base, verdict=UNKNOWN, bound=claim,
                              detail=f"{detail}; no concrete counterexample within BMC depth {bmc_depth}")

    if method in ("auto", "kind"):
        for use in ([invs, []] if invs else [[]]):
            g = graph(bool(use))
            big = too_big(g)
            if big:
                return PropertyResult(**base, verdict=UNKNOWN, bound=claim, detail=big)
            cert, why = _kind(g, p.name, use, rlimit)
            if cert is not None:
                how = f"1-induction{' with invariants ' + ', '.join(use) if use else ''}"
                parts = [p, *[i for i in spec.invariants if i.name in use]]
                return _certified(g, cert, p, how, base, claim, rlimit, render_named(g, parts, "1-induction"))
            notes.append(f"1-induction{' with invariants' if use else ''}: {why}")
        if method == "kind":
            return unproved("; ".join(notes))
    g = graph(False)
    big = too_big(g)
    if big:
        return PropertyResult(**base, verdict=UNKNOWN, bound=claim, detail="; ".join([*notes, big]))
    if method in ("auto", "reach"):
        cert0, why0 = _reach(ss, g, max_states, rlimit)
        if cert0 is not None:
            done = _certified(g, cert0, p, "exhaustive symbolic reachability (strongest invariant)", base, claim,
                              rlimit)
            if done.verdict == PROVED:
                return done
            return unproved(done.detail)  # the exact reachable set does not imply the property
        notes.append(f"reach: {why0}")
        if method == "reach":
            return unproved("; ".join(notes))
    cert2, why2, reachable = _chc(g, p.name, rlimit, timeout_ms)
    if cert2 is not None:
        return _certified(g, cert2, p, "CHC/Spacer", base, claim, rlimit)
    notes.append(why2 + (" (Spacer: reachable)" if reachable else ""))
    return unproved("; ".join(notes))


def _certified(g: ShapeGraph, cert: Cert, p: Property, method: str, base: dict[str, Any], claim: str,
               rlimit: int, text: str | None = None) -> PropertyResult:
    """PROVED with the certificate (``text``, else one formula per shape) once the
    separate plain solver accepts ``cert``; otherwise UNKNOWN with the reason."""
    err = check_certificate(g, cert, p.name, rlimit)
    if err is not None:
        return PropertyResult(**base, verdict=UNKNOWN, bound=claim,
                              detail=f"{method} produced an invariant that the independent re-check rejects: {err}")
    return PropertyResult(**base, verdict=PROVED, bound=f"PROVED for {claim} (fixed number of users)",
                          certificate=text if text is not None else render_certificate(g, cert, method),
                          detail=f"{method}; certificate re-checked by a separate solver "
                                 f"(initiation, consecution of {len(g.edges)} edges"
                                 f"{f' and refutation of {len(g.refuted)} more' if g.refuted else ''}, implies the property) "
                                 f"over {g.scope()}")
