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
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Any

import z3

from checker import stop
from checker.config import CheckConfig
from checker.model.expectation import Form, StateCheck, expectation, state_check
from checker.result import EXPECTED_FAIL, PROVED, UNKNOWN, VIOLATED, CheckResult, Engine, PropertyResult, Stats
from checker.model.spec import Property, Spec
from checker.engines.progress import unchecked_named
from checker.engines.symbolic.bmc import bmc, scope_text
from checker.engines.symbolic.semantics import SymSemantics
from checker.engines.symbolic.shapes import Edge, ShapeGraph, build_graph
from checker.engines.symbolic.solver import (
    LimitReached,
    answer,
    ask,
    assuming,
    calling,
    check_limits,
    limits,
    make_solver,
    recover,
    share,
    time_left,
)
from checker.engines.symbolic.values import DEFAULT_RLIMIT, Oracle

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
        check_limits()
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
        check_limits()  # building the rules of a large graph takes seconds: stop requests, --timeout
        src = g.shapes[e.src]
        s.add(rule(src.vars + list(e.inputs) + ps, z3.And(app(e.src, src.vars), e.guard), app(e.dst, e.args)))
    for sh in g.shapes:
        check_limits()
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
        check_limits()
        # (model_completion=True turns Spacer's interpretations into False: do not use it)
        f = m.eval(app(sh.sid, sh.vars)) if m[preds[sh.sid]] is not None else z3.BoolVal(False)
        cert[sh.sid] = _quantifier_free(f, rlimit)
    return cert, "", False


def _quantifier_free(f: z3.BoolRef, rlimit: int) -> z3.BoolRef:
    """``f`` without quantifiers (Spacer's inlined predicates carry ∃), when z3 can."""
    f = z3.simplify(f)
    if z3.is_quantifier(f) or "Exists" in str(f) or "ForAll" in str(f):
        try:
            with calling(f.ctx):  # quantifier elimination can take long: a stop request interrupts it
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
    from checker.engines.symbolic.shapes import _consts

    return _consts([e])


@dataclass(frozen=True)
class ProveOptions:
    """The settings of one ``prove`` call (see ``prove``)."""

    method: str = "auto"
    rlimit: int = 50 * DEFAULT_RLIMIT
    timeout_ms: int | None = None
    max_shapes: int = 20_000
    bmc_depth: int = 40
    max_states: int = 50_000


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
    opts = ProveOptions(method, rlimit, timeout_ms, max_shapes, bmc_depth, max_states)
    start = time.perf_counter()
    wanted = provable(spec, config, properties)
    scope = scope_text(SymSemantics(spec, config, Oracle(DEFAULT_RLIMIT, timeout_ms)))
    report = _reporter(progress, start)
    results: dict[str, PropertyResult] = {}
    graphs: list[ShapeGraph] = []
    stopped: list[str] = []  # the limit (--timeout, --max-memory) that stopped the proof
    with limits(config.limits.timeout, config.limits.max_memory_mb):
        for group, invs in proof_groups(spec, wanted):
            done, built = _prove_group(spec, config, group, invs, opts, scope, report, stopped)
            results.update(done)
            graphs += built
    stats = _graph_stats(graphs, max_shapes, start)
    if stopped:
        stats.limit_hit = stopped[0]
    named = list(properties) if properties is not None else config.properties
    skipped = unchecked_named(spec, named, Engine.PROVE, scope)  # progress properties: named, so UNKNOWN
    return CheckResult(spec_name=spec.name, spec_source=spec.source, scenario=scope, config=config,
                       engine=Engine.PROVE, results=[results[p.name] for p in wanted] + skipped, stats=stats)


def provable(spec: Spec, config: CheckConfig, properties: list[str] | None) -> list[Property]:
    """The properties to prove, in spec order: those a single state decides (invariants,
    obligations at quiescence), named in ``properties`` or else selected by the config."""
    return [p for p in spec.properties if expectation(p).at_worlds
            and (properties is None or p.name in properties)
            and (properties is not None or config.properties is None or p.name in config.properties)]


def proof_groups(spec: Spec, wanted: list[Property]) -> list[tuple[list[Property], list[Property]]]:
    """One (properties, the declared invariants 1-induction may use for them) per shape
    graph: the invariants, then the properties with obligations on a graph of their own
    (the obligations ghost multiplies the shapes, so only that graph carries it)."""
    plain = [p for p in wanted if expectation(p).form is Form.INVARIANT]
    responses = [p for p in wanted if expectation(p).form is Form.OBLIGATIONS]
    # the declared invariants that hold in every state
    usable = [i for i in spec.invariants if expectation(i).form is Form.INVARIANT and not expectation(i).quiescent_only]
    groups = [(plain, [i for i in usable if i.obligations_of is None])]
    if responses:
        names = {r.name for r in responses}
        groups.append((responses, [i for i in usable if i.obligations_of is None or i.obligations_of in names]))
    return [(group, invs) for group, invs in groups if group]


def _prove_group(spec: Spec, config: CheckConfig, group: list[Property], invs: list[Property], opts: ProveOptions,
                 scope: str, report: Callable[[int, int], None],
                 stopped: list[str]) -> tuple[dict[str, PropertyResult], list[ShapeGraph]]:
    """Prove each property of ``group`` over the shape graphs of the group and its
    invariants (built once, on first use); the results and the graphs built. Once a
    limit stops a proof (``LimitReached``, appended to ``stopped``), every property not
    yet decided is UNKNOWN with that limit."""
    checked = group + [i for i in invs if i.name not in {w.name for w in group}]
    cfg = dataclasses.replace(config, properties=tuple(p.name for p in checked))
    ss = SymSemantics(spec, cfg, Oracle(DEFAULT_RLIMIT, opts.timeout_ms))
    # each as a check on one state: a response property holds where the world is not
    # quiescent or none of its obligations is open (``view.obligations``)
    props = [state_check(p) for p in checked]
    assume = tuple(i.name for i in invs) if opts.method in ("auto", "kind") else ()
    graphs = _Graphs(ss, props, opts.max_shapes, assume, opts.rlimit, report)
    results: dict[str, PropertyResult] = {}
    for p in group:
        attempt = _Attempt(spec, cfg, ss, p, [i.name for i in invs if i.name != p.name], opts, scope)
        if not stopped:
            try:
                results[p.name] = attempt.run(graphs.get)
                continue
            except LimitReached as e:
                stopped.append(str(e))
            except stop.Stopped as e:  # a handler stopped mid-delivery (checker.stop)
                stopped.append(e.reason)
            except z3.Z3Exception:  # a z3 call (simplify, a tactic) cut short by a stop request
                reason = stop.requested()
                if reason is None:
                    raise
                stopped.append(reason)
        results[p.name] = attempt._unknown("; ".join([*attempt.notes, f"stopped: {stopped[0]}"]))
    if stop.requested() is not None:
        recover()
    return results, list(graphs.built.values())


def _reporter(progress: Callable[[Stats], None] | None, start: float) -> Callable[[int, int], None]:
    """``(shapes, edges)`` as ``Stats`` (unit control shapes) to ``progress``."""

    def report(shapes: int, edges: int) -> None:
        if progress is not None:
            progress(Stats(states=shapes, transitions=edges, seconds=time.perf_counter() - start,
                           unit="control shapes"))

    return report


def _graph_stats(graphs: list[ShapeGraph], max_shapes: int, start: float) -> Stats:
    """The statistics of a proof: the size of the graphs built, the limit they hit, the
    reduction they are up to."""
    limit_hit = f"max-shapes {max_shapes}" if any(not g.complete for g in graphs) else None
    symmetric = [g.symmetry for g in graphs if g.symmetry]
    return Stats(states=sum(len(g.shapes) for g in graphs), transitions=sum(len(g.edges) for g in graphs),
                 seconds=time.perf_counter() - start, limit_hit=limit_hit,
                 reduction="symmetry over " + ", ".join(symmetric[-1]) if symmetric else None, unit="control shapes")


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


class _Attempt:
    """Proving one property ``p``: 1-induction with the invariants ``invs`` over the graph
    guided by them (``graph(True)``), then, under ``auto``, exact reachability and CHC over
    the plain graph; when none proves it, BMC looks for a real counterexample."""

    def __init__(self, spec: Spec, cfg: CheckConfig, ss: SymSemantics, p: Property, invs: list[str],
                 opts: ProveOptions, scope: str) -> None:
        self.spec, self.cfg, self.ss, self.p, self.invs, self.opts = spec, cfg, ss, p, invs, opts
        self.base: dict[str, Any] = dict(name=p.name, kind=p.shown_kind, meaning=p.meaning,
                                         expected_to_fail=p.expected_to_fail, engine=Engine.PROVE)
        self.claim = f"any depth, any data values; {scope}"
        self.fixed = fixed_scope(spec)
        if expectation(p).form is Form.OBLIGATIONS:
            self.claim += "; response checked as: no open obligation at any quiescent state"
        self.notes: list[str] = []  # why each method tried did not prove it

    def run(self, graph: Callable[[bool], ShapeGraph]) -> PropertyResult:
        method = self.opts.method
        if method in ("auto", "kind"):
            done = self._by_induction(graph)
            if done is not None:
                return done
            if method == "kind":
                return self._unproved("; ".join(self.notes))
        g = graph(False)
        big = _too_big(g)
        if big:
            return self._unknown("; ".join([*self.notes, big]))
        if method in ("auto", "reach"):
            done = self._by_reachability(g)
            if done is not None:
                return done
            if method == "reach":
                return self._unproved("; ".join(self.notes))
        return self._by_chc(g)

    def _by_induction(self, graph: Callable[[bool], ShapeGraph]) -> PropertyResult | None:
        """1-induction with the invariants (over the graph they guide), then without."""
        p = self.p
        for use in ([self.invs, []] if self.invs else [[]]):
            g = graph(bool(use))
            big = _too_big(g)
            if big:
                return self._unknown(big)
            cert, why = _kind(g, p.name, use, self.opts.rlimit)
            if cert is not None:
                how = f"1-induction{' with invariants ' + ', '.join(use) if use else ''}"
                parts = [p, *[i for i in self.spec.invariants if i.name in use]]
                return self._certified(g, cert, how, render_named(g, parts, "1-induction"))
            self.notes.append(f"1-induction{' with invariants' if use else ''}: {why}")
        return None

    def _by_reachability(self, g: ShapeGraph) -> PropertyResult | None:
        cert, why = _reach(self.ss, g, self.opts.max_states, self.opts.rlimit)
        if cert is None:
            self.notes.append(f"reach: {why}")
            return None
        done = self._certified(g, cert, "exhaustive symbolic reachability (strongest invariant)")
        if done.verdict == PROVED:
            return done
        return self._unproved(done.detail)  # the exact reachable set does not imply the property

    def _by_chc(self, g: ShapeGraph) -> PropertyResult:
        cert, why, reachable = _chc(g, self.p.name, self.opts.rlimit, self.opts.timeout_ms)
        if cert is not None:
            return self._certified(g, cert, "CHC/Spacer")
        self.notes.append(why + (" (Spacer: reachable)" if reachable else ""))
        return self._unproved("; ".join(self.notes))

    def _unknown(self, detail: str) -> PropertyResult:
        return PropertyResult(**self.base, verdict=UNKNOWN, bound=self.claim, detail=detail)

    def _unproved(self, detail: str) -> PropertyResult:
        """Not proved: a real counterexample if BMC finds one (it replays concretely),
        else UNKNOWN with ``detail`` (e.g. a counterexample to induction)."""
        p, depth = self.p, self.opts.bmc_depth
        cex = bmc(self.spec, dataclasses.replace(self.cfg, properties=(p.name,)), depth).result(p.name)
        check_limits()  # a limit that stopped the BMC stops the proof (bmc reports it as UNKNOWN)
        if cex.verdict in (VIOLATED, EXPECTED_FAIL) and cex.trace is not None:
            return PropertyResult(**self.base, verdict=cex.verdict, bound=cex.bound, trace=cex.trace,
                                  trace_config=cex.trace_config, detail=f"not proved ({detail}); {cex.detail}")
        return self._unknown(f"{detail}; no concrete counterexample within BMC depth {depth}")

    def _certified(self, g: ShapeGraph, cert: Cert, method: str, text: str | None = None) -> PropertyResult:
        """PROVED with the certificate (``text``, else one formula per shape) once the
        separate plain solver accepts ``cert``; otherwise UNKNOWN with the reason."""
        err = check_certificate(g, cert, self.p.name, self.opts.rlimit)
        if err is not None:
            return self._unknown(f"{method} produced an invariant that the independent re-check rejects: {err}")
        return PropertyResult(**self.base, verdict=PROVED, bound=f"PROVED for {self.claim} ({self.fixed})",
                              certificate=text if text is not None else render_certificate(g, cert, method),
                              detail=f"{method}; certificate re-checked by a separate solver "
                                     f"(initiation, consecution of {len(g.edges)} edges"
                                     f"{f' and refutation of {len(g.refuted)} more' if g.refuted else ''}, "
                                     f"implies the property) over {g.scope()}")


def fixed_scope(spec: Spec) -> str:
    """What a shape-graph proof leaves fixed, in the spec's words (its symmetric kinds; as
    ``registry.parametric_scope`` says what a parametric proof covers)."""
    kinds = "/".join(spec.symmetric_kinds)
    return f"fixed number of {kinds} processes" if kinds else "fixed number of processes"


def _too_big(g: ShapeGraph) -> str | None:
    """Why ``g`` cannot prove anything when the control-shape limit stopped it."""
    if g.complete:
        return None
    return (f"the control-shape limit stopped the graph ({len(g.shapes):,} control shapes found, more remain): "
            f"raise --max-shapes or shrink the scenario")


# --------------------------------------------------------------------- --engine prove

PARAMETRIC_SHARE = 0.5  # of --timeout: what ``auto`` gives the parametric proof before the shape graph


def prove_engine(spec: Spec, config: CheckConfig, scenarios: Sequence[CheckConfig] = (), method: str = "auto",
                 max_shapes: int = 20_000, progress: Callable[[Stats], None] | None = None) -> CheckResult:
    """``--engine prove``: ``parametric`` alone; ``kind``/``reach``/``chc`` over the shape
    graph of ``config`` (or of each of ``scenarios``, prove's defaults); ``auto`` first
    the parametric proof when the spec declares a parametric view (seconds, any number of
    users; at most ``PARAMETRIC_SHARE`` of ``--timeout``) and then, for each property it
    did not decide, the shape-graph methods (kind, reach, chc) on the scenarios (it decides
    by PROVED; by a counterexample in one of the view's scenarios only when ``scenarios``,
    i.e. no scenario was asked for). A property appears once per scenario it was tried
    on; ``--timeout`` bounds the whole."""
    from checker.engines.parametric_check import find_view
    from checker.engines.registry import merge_prove_scenarios, parametric_scope

    scope = parametric_scope(spec)

    lim = config.limits
    with limits(lim.timeout, lim.max_memory_mb):
        if method == "parametric":
            results, stats, _ = _parametric(spec, config, None)
            return CheckResult(spec.name, spec.source, scope, config, Engine.PROVE, results, stats)
        decided: dict[str, PropertyResult] = {}
        note = ""
        pstats = Stats(unit="control shapes")
        if method == "auto" and find_view(spec) is not None:
            results, pstats, note = _parametric(spec, config, PARAMETRIC_SHARE)
            # PROVED for any number of users holds in every scenario; a counterexample in one of the
            # view's scenarios answers only when no scenario was asked for (prove's defaults)
            kept = (PROVED, VIOLATED, EXPECTED_FAIL) if scenarios else (PROVED,)
            decided = {r.name: r for r in results if r.verdict in kept}
            for r in results:  # a counterexample elsewhere: BMC looks for one in the asked scenario first
                if r.name not in decided and r.verdict in (VIOLATED, EXPECTED_FAIL):
                    found = _counterexample_here(spec, config, r.name)
                    if found is not None:
                        decided[r.name] = found
        names = [p.name for p in provable(spec, config, None) if p.name not in decided]
        rest: CheckResult | None = None
        if names:
            configs = list(scenarios) or [config]
            parts = [prove(spec, c, properties=names, method=method, max_shapes=max_shapes, progress=progress)
                     for c in configs]
            rest = parts[0] if not scenarios else merge_prove_scenarios(spec, parts, configs)
    if rest is None:
        return CheckResult(spec.name, spec.source, scope, config, Engine.PROVE,
                           list(decided.values()), pstats)
    if note:
        for r in rest.results:
            r.detail = f"{r.detail}; {note}" if r.detail else note
    if not decided:
        return rest
    order = {p.name: i for i, p in enumerate(spec.properties)}
    rows = sorted([*decided.values(), *rest.results], key=lambda r: order.get(r.name, len(order)))
    scenario = f"{scope} for {', '.join(decided)}; {rest.scenario} for the others"
    return dataclasses.replace(rest, scenario=scenario, results=rows)




def _counterexample_here(spec: Spec, config: CheckConfig, name: str) -> PropertyResult | None:
    """BMC's counterexample to ``name`` in ``config``'s scenario (the parametric proof found
    one in another), or None (none within its depth, or a limit stopped it)."""
    try:
        cex = bmc(spec, dataclasses.replace(config, properties=(name,)), ProveOptions.bmc_depth)
        check_limits()
    except LimitReached:
        return None
    found = cex.result(name)
    if found.verdict not in (VIOLATED, EXPECTED_FAIL) or found.trace is None:
        return None
    why = "not proved: the parametric proof found a counterexample in another scenario, BMC this one"
    return dataclasses.replace(found, engine=Engine.PROVE, detail=f"{found.detail}; {why}" if found.detail else why)


def _parametric(spec: Spec, config: CheckConfig, part: float | None) -> tuple[list[PropertyResult], Stats, str]:
    """The parametric proof (within ``part`` of the time left, if given): its results,
    statistics, and a note on why it did not decide (for the verdicts that follow)."""
    from checker.engines.registry import parametric_scope
    from checker.engines.symbolic.parametric import prove_parametric

    start = time.perf_counter()
    left = time_left()
    seconds = left * part if left is not None and part is not None else None
    names = [p.name for p in provable(spec, config, None)]
    try:
        with share(seconds, f"parametric's time share ({part or 0:.0%} of the time left)"):
            results = prove_parametric(spec, config)
        note = ""
    except (LimitReached, stop.Stopped, z3.Z3Exception) as e:
        # its share, the run's limit or a stop (then the methods that follow stop too)
        if isinstance(e, z3.Z3Exception) and stop.requested() is None:
            raise
        if stop.requested() is not None:
            recover()
        results = [PropertyResult(p.name, p.shown_kind, p.meaning, UNKNOWN, parametric_scope(spec), p.expected_to_fail,
                                  detail=f"stopped: {stop.requested() or e}", engine=Engine.PROVE)
                   for p in spec.properties if p.name in names]
        note = f"parametric proof stopped by {stop.requested() or e}"
    undecided = [r.name for r in results if r.verdict == UNKNOWN]
    if undecided and not note:
        note = "the parametric proof did not decide it (see --method parametric)"
    return results, Stats(seconds=time.perf_counter() - start, unit="control shapes"), note
