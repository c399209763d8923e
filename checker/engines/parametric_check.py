"""Running a parametric view in Python, and checking it against the concrete semantics.

``successors`` interprets a ``ParametricSystem`` over a ``PState`` (finitely many
requests and users); ``request_reach`` explores one request alone (the per-request part of
the inductive invariant); ``check_view`` compares a spec's view with ``Semantics`` on
every world reachable in a scenario: every concrete step must be one rule of the view
(taken by the same kind of process), every rule enabled in a reached view must be taken
by some concrete step, and every property must give the same verdict on the world and on
its view. No z3 here.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys as _sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from checker import stop
from checker.config import CheckConfig
from checker.model.parametric_spec import (
    Add, AllReq, And, Cmp, Ctl, Discharge, Effect, Expr, Fault, In, KeyRule, KeySum, Lin, Not, Or,
    ParametricSystem, ParametricView, PState, Rec, ReqCount, ReqSum, Rule, ToField, ToGlobal, ToUser, ViewError,
    initial_state,
)
from checker.model.property_eval import Judge
from checker.model.semantics import Key, KeyView, Semantics
from checker.model.spec import Spec

# ------------------------------------------------------------------ evaluation (Python)


class _W:
    """A ``PState`` as dicts, for reading (and, copied, for writing) in one step."""

    __slots__ = ("reqs", "users", "glob", "umaps", "kmaps", "params")

    def __init__(self, st: PState) -> None:
        self.reqs = dict(st.reqs)
        self.users = st.users
        self.glob = dict(st.globals)
        self.umaps = {n: dict(m) for n, m in st.user_maps}
        self.kmaps = {n: dict(m) for n, m in st.key_maps}
        self.params = dict(st.params)

    def freeze(self) -> PState:
        return PState.make(self.reqs, self.users, self.glob, self.umaps, self.kmaps, self.params)


class _Env:
    """The scope an expression is evaluated in: a working state, and the request or key
    in scope; sums are computed once per environment family (``memo``)."""

    __slots__ = ("sys", "w", "rec", "key", "cidx", "iidx", "memo")

    def __init__(self, sys: ParametricSystem, w: _W, idx: tuple[dict[str, int], dict[str, int]],
                 rec: Rec | None = None, key: tuple[str, int] | None = None,
                 memo: dict[Any, int] | None = None) -> None:
        self.sys, self.w, self.rec, self.key = sys, w, rec, key
        self.cidx, self.iidx = idx
        self.memo: dict[Any, int] = {} if memo is None else memo

    def at(self, rec: Rec | None = None, key: tuple[str, int] | None = None) -> _Env:
        return _Env(self.sys, self.w, (self.cidx, self.iidx), rec, key, self.memo)

    def user(self) -> str:
        if self.rec is not None:
            return self.rec.user
        assert self.key is not None, "a user map needs a request or a key in scope"
        return self.key[0]


def _indices(sys: ParametricSystem) -> tuple[dict[str, int], dict[str, int]]:
    return {n: i for i, (n, _) in enumerate(sys.control)}, {n: i for i, n in enumerate(sys.int_fields)}


def eval_lin(lin: Lin, env: _Env) -> int:
    """The value of ``lin`` in ``env``."""
    return lin.const + sum(c * _atom(k, n, env) for k, n, c in lin.terms)


def _atom(kind: str, name: str, env: _Env) -> int:
    w = env.w
    if kind == "amount":
        assert env.rec is not None
        return env.rec.amount
    if kind == "field":
        assert env.rec is not None
        return env.rec.ints[env.iidx[name]]
    if kind == "global":
        return w.glob[name]
    if kind == "param":
        return w.params[name]
    if kind == "user":
        return w.umaps[name].get(env.user(), 0)
    if kind == "keyval":
        assert env.key is not None
        return env.key[1]
    memo_key = (kind, name, env.key)
    hit = env.memo.get(memo_key)
    if hit is not None:
        return hit
    if kind == "key":
        assert env.key is not None
        if name in w.kmaps:
            return w.kmaps[name].get(env.key, 0)
        s = env.sys.sum(name)
        assert isinstance(s, ReqCount)
        val = sum(1 for r in w.reqs.values() if r.user == env.key[0] and eval_bool(s.pred, env.at(rec=r))
                  and eval_lin(s.key, env.at(rec=r)) == env.key[1])
    else:
        s = env.sys.sum(name)
        if isinstance(s, ReqSum):
            val = sum(eval_lin(v, env.at(rec=r)) for r in w.reqs.values() for c, v in s.cases
                      if eval_bool(c, env.at(rec=r)))
        else:
            assert isinstance(s, KeySum)
            val = sum(k[1] * n for k, n in w.kmaps[s.map].items())
    env.memo[memo_key] = val
    return val


def _keys(env: _Env) -> list[tuple[str, int]]:
    """The keys where some key map or ReqCount may be non-zero, and one fresh key."""
    keys = {k for m in env.w.kmaps.values() for k in m}
    for s in env.sys.sums:
        if isinstance(s, ReqCount):
            keys |= {(r.user, eval_lin(s.key, env.at(rec=r))) for r in env.w.reqs.values()}
    return sorted(keys) + [("\x00fresh", 0)]


def eval_bool(e: Expr, env: _Env) -> bool:
    """The truth of ``e`` in ``env`` (faults: enabled ones are true)."""
    if isinstance(e, Cmp):
        a, b = eval_lin(e.lhs, env), eval_lin(e.rhs, env)
        return {"==": a == b, "!=": a != b, "<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b}[e.op]
    if isinstance(e, In):
        assert env.rec is not None
        return env.rec.ctl[env.cidx[e.field]] in e.values
    if isinstance(e, Fault):
        return e.name in env.sys.faults
    if isinstance(e, And):
        return all(eval_bool(p, env) for p in e.parts)
    if isinstance(e, Or):
        return any(eval_bool(p, env) for p in e.parts)
    if isinstance(e, Not):
        return not eval_bool(e.part, env)
    if isinstance(e, AllReq):
        return all(eval_bool(e.body, env.at(rec=r)) for r in env.w.reqs.values())
    return all(eval_bool(e.body, env.at(key=k)) for k in _keys(env))


def holds(sys: ParametricSystem, st: PState, e: Expr) -> bool:
    """Whether formula ``e`` holds in ``st``."""
    return eval_bool(e, _Env(sys, _W(st), _indices(sys)))


def sum_value(sys: ParametricSystem, st: PState, name: str, key: tuple[str, int] | None = None) -> int:
    """The value of ghost sum ``name`` in ``st`` (a ``ReqCount`` at ``key``), summed."""
    env = _Env(sys, _W(st), _indices(sys), key=key)
    return _atom("key" if key is not None else "sum", name, env)


# ------------------------------------------------------------------ steps (Python)


@dataclass(frozen=True)
class PStep:
    """One step of the view: the rule, and the request (or key) it acts on."""

    rule: str
    actor: str
    on: str
    faults: tuple[str, ...] = ()


class Stepper:
    """The steps of one system over ``PState``s (rules indexed by the control they match),
    and its formulas evaluated on them."""

    def __init__(self, sys: ParametricSystem) -> None:
        self.sys = sys
        self.idx = _indices(sys)
        self.cidx = self.idx[0]
        self.rules = sys.enabled_rules()
        self._by_ctl: dict[tuple[Ctl, ...], list[Rule]] = {}

    def holds(self, st: PState, formulas: Sequence[Expr]) -> list[bool]:
        """The truth of each of ``formulas`` in ``st`` (sums computed once)."""
        env = _Env(self.sys, _W(st), self.idx)
        return [eval_bool(f, env) for f in formulas]

    def matching(self, ctl: tuple[Ctl, ...]) -> list[Rule]:
        """The enabled rules whose ``pre`` matches control ``ctl``."""
        hit = self._by_ctl.get(ctl)
        if hit is None:
            hit = [r for r in self.rules if all(ctl[self.cidx[f]] in vals for f, vals in r.pre)]
            self._by_ctl[ctl] = hit
        return hit

    def _effects(self, w: _W, rid: str | None, rec: Rec | None, key: tuple[str, int] | None,
                 effects: tuple[Effect, ...]) -> PState:
        """``effects`` in order on ``w`` (a copy), each reading what the ones before left."""
        iidx = self.idx[1]
        for eff in effects:
            env = _Env(self.sys, w, self.idx, rec, key)
            user = env.user()
            if isinstance(eff, Discharge):
                k = (user, eval_lin(eff.key, env))
                if w.kmaps[eff.name].get(k, 0) >= 1:
                    w.kmaps[eff.name][k] -= 1
                continue
            v = eval_lin(eff.value, env)
            t = eff.target
            if isinstance(t, ToField):
                assert rec is not None and rid is not None
                ints = list(rec.ints)
                ints[iidx[t.name]] += v
                rec = Rec(rec.user, rec.amount, rec.ctl, tuple(ints))
                w.reqs[rid] = rec
            elif isinstance(t, ToGlobal):
                w.glob[t.name] += v
            elif isinstance(t, ToUser):
                w.umaps[t.name][user] = w.umaps[t.name].get(user, 0) + v
            else:
                k = (user, eval_lin(t.key, env))
                w.kmaps[t.name][k] = w.kmaps[t.name].get(k, 0) + v
        return w.freeze()

    def apply(self, st: PState, rule: Rule, rid: str, amount: int | None = None) -> PState | None:
        """The state after ``rule`` on request ``rid`` (with ``amount`` for a fresh one), or
        ``None`` when it is not enabled there."""
        w = _W(st)
        rec = w.reqs[rid]
        if rule not in self.matching(rec.ctl):
            return None
        picked = Rec(rec.user, amount if rule.fresh_amount and amount is not None else rec.amount, rec.ctl, rec.ints)
        env = _Env(self.sys, w, self.idx, picked)
        if not all(eval_bool(g, env) for g in rule.guard):
            return None  # guards read the state before the step (with the amount just picked)
        ctl = list(rec.ctl)
        for f, v in rule.post:
            ctl[self.cidx[f]] = v
        new = Rec(picked.user, picked.amount, tuple(ctl), rec.ints)
        w.reqs[rid] = new
        return self._effects(w, rid, new, None, rule.effects)

    def apply_key(self, st: PState, kr: KeyRule, key: tuple[str, int]) -> PState | None:
        """The state after ``kr`` on ``key``, or ``None`` when its source does not hold it."""
        w = _W(st)
        if w.kmaps[kr.source].get(key, 0) < 1:
            return None
        return self._effects(w, None, None, key, kr.effects)

    def successors(self, st: PState, amounts: Sequence[int]) -> Iterator[tuple[PStep, PState]]:
        """Every step of the view from ``st`` (fresh amounts drawn from ``amounts``)."""
        for rid, rec in st.reqs:
            for rule in self.matching(rec.ctl):
                for a in (amounts if rule.fresh_amount else (None,)):
                    nxt = self.apply(st, rule, rid, a)
                    if nxt is not None:
                        yield PStep(rule.name, rule.actor, rid, rule.faults), nxt
        for kr in self.sys.key_rules:
            for key, _ in dict(st.key_maps)[kr.source]:
                nxt = self.apply_key(st, kr, key)
                if nxt is not None:
                    yield PStep(kr.name, kr.actor, f"{key[0]},{key[1]}"), nxt


def successors(sys: ParametricSystem, st: PState, amounts: Sequence[int]) -> Iterator[tuple[PStep, PState]]:
    """``Stepper(sys).successors(st, amounts)``."""
    return Stepper(sys).successors(st, amounts)


# ------------------------------------------------------------------ one request alone


@dataclass(frozen=True)
class Shape:
    """An abstract record of one request: control, each integer field as
    ``coef · amount + const``, and whether the amount has been picked (then ≥ 1)."""

    ctl: tuple[Ctl, ...]
    ints: tuple[tuple[int, int], ...]
    picked: bool


@dataclass
class Reach:
    """The records one request can reach, every guard on other state taken as maybe true
    (an over-approximation: each step changes one request only)."""

    shapes: list[Shape] = field(default_factory=list)
    complete: bool = True


def request_reach(sys: ParametricSystem, limit: int = 10_000) -> Reach:
    """Breadth-first search of one request's records under every enabled rule.

    An integer field's effects must be linear in the amount and the field itself."""
    cidx = {n: i for i, (n, _) in enumerate(sys.control)}
    iidx = {n: i for i, n in enumerate(sys.int_fields)}
    ini = dict(sys.initial)
    start = Shape(tuple(ini[n] for n, _ in sys.control), tuple((0, 0) for _ in sys.int_fields), False)
    seen = {start: None}
    todo = [start]
    out = Reach([start])
    rules = sys.enabled_rules()
    while todo:
        sh = todo.pop(0)
        for rule in rules:
            if not all(sh.ctl[cidx[f]] in vals for f, vals in rule.pre):
                continue
            ctl = list(sh.ctl)
            for f, v in rule.post:
                ctl[cidx[f]] = v
            ints = list(sh.ints)
            for eff in rule.effects:
                if isinstance(eff, Add) and isinstance(eff.target, ToField):
                    c, k = ints[iidx[eff.target.name]]
                    for kind, name, coef in eff.value.terms:
                        if kind == "amount":
                            c += coef
                        elif kind == "field":
                            fc, fk = ints[iidx[name]]
                            c, k = c + coef * fc, k + coef * fk
                        else:
                            raise ValueError(f"{sys.name}: rule {rule.name!r} sets field {eff.target.name} from "
                                             f"{kind} {name}: a field's effects must be linear in the amount")
                    ints[iidx[eff.target.name]] = (c, k + eff.value.const)
            nxt = Shape(tuple(ctl), tuple(ints), sh.picked or rule.fresh_amount)
            if nxt not in seen:
                if len(seen) >= limit:
                    out.complete = False
                    return out
                seen[nxt] = None
                out.shapes.append(nxt)
                todo.append(nxt)
    return out


# ------------------------------------------------------------------ the view against the concrete semantics


@dataclass
class ViewCheck:
    """The comparison of a view with the concrete semantics: worlds and steps compared,
    and the first problem (``None``: none)."""

    worlds: int = 0
    steps: int = 0
    scenarios: list[str] = field(default_factory=list)
    problem: str | None = None
    taken: set[str] = field(default_factory=set)  # the rules some concrete step took


def check_view(spec: Spec, config: CheckConfig, pview: ParametricView, max_worlds: int = 200_000) -> ViewCheck:
    """Check ``pview`` against ``Semantics`` on every world reachable in ``config``.

    Every concrete step must be a step of the view by the same kind of process; every
    step of the view from a reached view must be taken by a concrete step (a fault only
    while the fault budget lasts; a user's send up to which of its unsent requests it
    is); each property of the view must agree with the concrete property on every world."""
    out = ViewCheck(scenarios=[spec.describe(config.params)])
    _compare(spec, config, pview, out, max_worlds)
    return out


def _compare(spec: Spec, config: CheckConfig, pview: ParametricView, out: ViewCheck, max_worlds: int) -> None:
    cfg = dataclasses.replace(config, properties=None)
    sys = pview.system(cfg.params, cfg.faults)
    if isinstance(sys, str):
        out.problem = sys
        return
    sem = Semantics(spec, cfg)
    judge = Judge(sem)
    props = [(p, judge.violation_test(p), sys.prop(p.name)) for p in spec.properties if sys.prop(p.name)]
    amounts = tuple(cfg.params["amounts"])
    stepper = Stepper(sys)
    formulas = [pp.formula for _, _, pp in props if pp is not None]
    n = sem.nprocs
    views: dict[Key, PState] = {}

    def view(key: Key) -> PState:
        v = views.get(key)
        if v is None:
            v = pview.view(KeyView(sem, key), cfg.params)
            views[key] = v
        return v

    init = sem.initial_key()
    try:
        v0 = view(init)
    except ViewError as e:
        out.problem = f"the initial world has no view: {e}"
        return
    reqs = {r: rec.user for r, rec in v0.reqs}
    expected = initial_state(sys, reqs, v0.users, dict(v0.params))
    if v0 != expected:
        out.problem = f"the initial world's view is not the view's initial state: {v0.describe(sys)}"
        return
    seen = {init}
    todo = [init]
    where = spec.describe(cfg.params)
    while todo:
        key = todo.pop()
        out.worlds += 1
        if (out.worlds & 255) == 0:
            stop.poll()  # Ctrl-C, SIGTERM, the deadline: Stopped (checker/stop.py)
        if out.worlds > max_worlds:
            out.problem = f"more than {max_worlds} worlds in {where}: the comparison stopped"
            return
        v = view(key)
        verdicts = stepper.holds(v, formulas)
        for (p, violated, pp), ok in zip(props, verdicts):
            if violated(key) == ok:
                out.problem = (f"{p.name} is {'violated' if violated(key) else 'satisfied'} in a world of {where} "
                               f"but not in its view {v.describe(sys)}")
                return
        by_state: dict[PState, list[PStep]] = {}
        for ps, nv in stepper.successors(v, amounts):
            by_state.setdefault(nv, []).append(ps)
        realised: set[PState] = set()
        for step, k2 in sem.expand(key):
            out.steps += 1
            try:
                v2 = view(k2)
            except ViewError as e:
                out.problem = f"after {_step_text(step)} in {where}: {e}"
                return
            kind = sem.kind_of(step.pid)
            matched = [ps.rule for ps in by_state.get(v2, []) if ps.actor == kind]
            out.taken.update(matched)
            if not matched:
                out.problem = (f"the concrete step {_step_text(step)} in {where} is no step of the view: from "
                               f"{v.describe(sys)} to {v2.describe(sys)}")
                return
            realised.add(v2)
            if k2 not in seen:
                seen.add(k2)
                todo.append(k2)
        faults_left = key[n + 2]
        for nv, pss in by_state.items():
            if nv in realised or _renamed_send(v, nv, pss, realised):
                continue
            if all(ps.faults and faults_left <= 0 for ps in pss):
                continue
            out.problem = (f"the view's step {pss[0].rule} on {pss[0].on} from {v.describe(sys)} in {where} "
                           f"is taken by no concrete step")
            return


def _renamed_send(v: PState, nv: PState, pss: list[PStep], realised: set[PState]) -> bool:
    """A send of one unsent request that the concrete user makes with another of its
    unsent requests (it sends them in order): the same state up to their swap."""
    for ps in pss:
        if ps.on not in dict(v.reqs):
            continue
        me = v.rec(ps.on)
        for other, rec in v.reqs:
            if other != ps.on and rec.user == me.user and rec == me:
                swapped = dict(nv.reqs)
                swapped[ps.on], swapped[other] = swapped[other], swapped[ps.on]
                if dataclasses.replace(nv, reqs=tuple(sorted(swapped.items()))) in realised:
                    return True
    return False


def _step_text(step: Any) -> str:
    what = step.msg.describe() if step.msg is not None else step.handler or ""
    return f"{step.kind} {step.handler or ''} at {step.pid} ({what})"


def find_view(spec: Spec) -> ParametricView | None:
    """The spec's ``PARAMETRIC`` view, from the module ``parametric`` beside the spec's
    own module (``spec.tim3`` → ``spec.tim3.parametric``), if it declares one."""
    for name, mod in list(_sys.modules.items()):
        if getattr(mod, "__file__", None) == spec.source:
            base = name if spec.source.endswith("__init__.py") else name.rpartition(".")[0]
            try:
                found = importlib.import_module(f"{base}.parametric")
            except ImportError:
                return None
            pv = getattr(found, "PARAMETRIC", None)
            return pv if isinstance(pv, ParametricView) else None
    return None


def scenario_configs(spec: Spec, config: CheckConfig, pview: ParametricView) -> list[CheckConfig]:
    """``config`` in each of the view's scenarios: the scenario's parameters over
    ``config``'s, derived parameters (default ``None``) derived again, every property,
    the unordered network (what a view models; a FIFO run is one of its runs)."""
    out = []
    for over in pview.scenarios:
        params = config.params
        for p in spec.params:
            if p.default is None and p.name not in over:
                params = params.set(p.name, None)
        for k, v in over.items():
            params = params.set(k, v)
        out.append(dataclasses.replace(config, params=spec.resolve(params), properties=None, network="unordered"))
    return out


def check_scenarios(spec: Spec, config: CheckConfig, pview: ParametricView) -> ViewCheck:
    """``check_view`` on each of the view's scenarios (``config``'s version, faults and
    network; users, ops and data from the scenario), up to the first problem."""
    total = ViewCheck()
    for cfg in scenario_configs(spec, config, pview):
        vc = check_view(spec, cfg, pview)
        total.worlds += vc.worlds
        total.steps += vc.steps
        total.scenarios += vc.scenarios
        total.taken |= vc.taken
        if vc.problem is not None:
            total.problem = vc.problem
            return total
    return total
