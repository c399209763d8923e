"""The API of a *parametric view*: a model as a transition system over an unbounded set
of requests, for proofs for any number of users and operations (pure data, no z3).

A spec that wants ``prove --users any`` declares, beside its processes, one
``ParametricView``: a ``ParametricSystem`` per scenario (its version and faults) and a
map from each concrete world to a ``PState``. Engines trust neither: the view is checked
step by step against the concrete semantics (``checker.symbolic.parametric.check_view``)
before anything is PROVED.

The system. *Requests* form a set of any finite size; each belongs to a *user* (of a set
of any finite size). A request's record is its control (fields with finite domains), its
``amount`` (0 until a rule with ``fresh_amount`` picks any amount ≥ 1) and integer
fields (start 0). Besides: integer *globals* (start 0), *user maps* (an integer per user,
starting at a parameter's value or a constant), *key maps* (multisets of ``(user, int)``
keys, start empty) and integer *parameters* (any value ≥ a minimum).

A ``Rule`` is one step of one request ``r``: enabled when ``r``'s control matches
``pre`` and every ``guard`` holds; it sets ``r``'s control to ``post`` and applies its
``effects`` in order (each reads the state left by the ones before). A ``KeyRule`` is a
step on a key ``(u, v)`` of a key map holding it (an ``UpdatePosition`` delivered).
Nothing else changes: the contract the concrete check verifies.

*Ghost sums* (``ReqSum``, ``ReqCount``, ``KeySum``) are sums over all requests or keys;
an engine keeps them as variables updated on every write (a step changes one request,
so a sum changes by that request's new term minus its old one). Formulas (``invariants``,
``properties``, ``quiescent``) are boolean expressions over globals, parameters and
sums, with ``AllReq``/``AllKeys`` quantifying over requests and keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from checker.spec import Params, View

Ctl = str | bool | int

# ------------------------------------------------------------------ expressions

# atom kinds: amount / field (the request in scope), global, param, sum (global scope),
# user (the user map at the user in scope), key (a key map or ReqCount at the key in
# scope), keyval (the integer part of the key in scope)
ATOM_KINDS = ("amount", "field", "global", "param", "sum", "user", "key", "keyval")


@dataclass(frozen=True)
class Lin:
    """A linear integer expression: ``const + Σ coef · atom``; atoms are ``(kind, name)``."""

    terms: tuple[tuple[str, str, int], ...] = ()
    const: int = 0

    def __add__(self, other: Lin | int) -> Lin:
        o = other if isinstance(other, Lin) else Lin((), other)
        acc: dict[tuple[str, str], int] = {}
        for k, n, c in self.terms + o.terms:
            acc[(k, n)] = acc.get((k, n), 0) + c
        return Lin(tuple((k, n, c) for (k, n), c in acc.items() if c), self.const + o.const)

    __radd__ = __add__

    def __neg__(self) -> Lin:
        return Lin(tuple((k, n, -c) for k, n, c in self.terms), -self.const)

    def __sub__(self, other: Lin | int) -> Lin:
        return self + (-(other if isinstance(other, Lin) else Lin((), other)))

    def __rsub__(self, other: int) -> Lin:
        return Lin((), other) - self

    def __mul__(self, k: int) -> Lin:
        return Lin(tuple((a, n, c * k) for a, n, c in self.terms if c * k), self.const * k)

    __rmul__ = __mul__

    def __str__(self) -> str:
        parts = [f"{'' if c == 1 else '-' if c == -1 else f'{c}·'}{_atom_text(k, n)}" for k, n, c in self.terms]
        if self.const or not parts:
            parts.append(str(self.const))
        return " + ".join(parts).replace("+ -", "- ")


def _atom_text(kind: str, name: str) -> str:
    return {"amount": "amount(r)", "keyval": "v"}.get(kind) or (
        f"{name}(r)" if kind == "field" else f"{name}[user]" if kind == "user" else f"{name}[u,v]" if kind == "key"
        else name)


def atom(kind: str, name: str = "") -> Lin:
    if kind not in ATOM_KINDS:
        raise ValueError(f"unknown atom kind {kind!r}")
    return Lin(((kind, name, 1),))


AMOUNT = atom("amount")
KEYVAL = atom("keyval")


def fld(name: str) -> Lin:
    return atom("field", name)


def glob(name: str) -> Lin:
    return atom("global", name)


def param(name: str) -> Lin:
    return atom("param", name)


def total(name: str) -> Lin:
    return atom("sum", name)


def umap(name: str) -> Lin:
    return atom("user", name)


def kmap(name: str) -> Lin:
    return atom("key", name)


def const(n: int) -> Lin:
    return Lin((), n)


@dataclass(frozen=True)
class Cmp:
    """``lhs op rhs``, ``op`` one of ``== != <= < >= >``."""

    lhs: Lin
    op: str
    rhs: Lin


@dataclass(frozen=True)
class In:
    """The control field ``field`` of the request in scope has one of ``values``."""

    field: str
    values: tuple[Ctl, ...]


@dataclass(frozen=True)
class Fault:
    """A spec fault: enabled (a nondeterministic choice) iff the scenario enables it."""

    name: str


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    part: Expr


@dataclass(frozen=True)
class AllReq:
    """``body`` holds for every request (request scope)."""

    body: Expr


@dataclass(frozen=True)
class AllKeys:
    """``body`` holds at every key ``(u, v)`` (key scope)."""

    body: Expr


Expr = Union[Cmp, In, Fault, And, Or, Not, AllReq, AllKeys]
TRUE: Expr = And(())


def implies(a: Expr, b: Expr) -> Expr:
    return Or((Not(a), b))


def eq(a: Lin | int, b: Lin | int) -> Cmp:
    return Cmp(_lin(a), "==", _lin(b))


def le(a: Lin | int, b: Lin | int) -> Cmp:
    return Cmp(_lin(a), "<=", _lin(b))


def lt(a: Lin | int, b: Lin | int) -> Cmp:
    return Cmp(_lin(a), "<", _lin(b))


def ge(a: Lin | int, b: Lin | int) -> Cmp:
    return Cmp(_lin(a), ">=", _lin(b))


def ne(a: Lin | int, b: Lin | int) -> Cmp:
    return Cmp(_lin(a), "!=", _lin(b))


def _lin(x: Lin | int) -> Lin:
    return x if isinstance(x, Lin) else Lin((), x)


def text(e: Expr) -> str:
    """``e`` as one readable line."""
    if isinstance(e, Cmp):
        return f"{e.lhs} {e.op} {e.rhs}"
    if isinstance(e, In):
        vals = ", ".join(map(str, e.values))
        return f"{e.field}(r) = {vals}" if len(e.values) == 1 else f"{e.field}(r) ∈ {{{vals}}}"
    if isinstance(e, Fault):
        return f"fault {e.name}"
    if isinstance(e, And):
        return "true" if not e.parts else " ∧ ".join(f"({text(p)})" if isinstance(p, Or) else text(p) for p in e.parts)
    if isinstance(e, Or):
        if len(e.parts) == 2 and isinstance(e.parts[0], Not):
            return f"({text(e.parts[0].part)}) ⇒ ({text(e.parts[1])})"
        return "false" if not e.parts else " ∨ ".join(f"({text(p)})" for p in e.parts)
    if isinstance(e, Not):
        return f"¬({text(e.part)})"
    if isinstance(e, AllReq):
        return f"∀r. {text(e.body)}"
    return f"∀(u,v). {text(e.body)}"


# ------------------------------------------------------------------ steps and sums


@dataclass(frozen=True)
class ToField:
    name: str


@dataclass(frozen=True)
class ToGlobal:
    name: str


@dataclass(frozen=True)
class ToUser:
    """The user map ``name`` at the user of the request (or key) in scope."""

    name: str


@dataclass(frozen=True)
class ToKey:
    """The key map ``name`` at ``(user in scope, key)``."""

    name: str
    key: Lin


Target = Union[ToField, ToGlobal, ToUser, ToKey]


@dataclass(frozen=True)
class Add:
    target: Target
    value: Lin


@dataclass(frozen=True)
class Discharge:
    """Remove one ``(user in scope, key)`` from key map ``name`` if it holds one."""

    name: str
    key: Lin


Effect = Union[Add, Discharge]


@dataclass(frozen=True)
class Rule:
    """One step of one request; ``actor`` is the process that takes it (a kind)."""

    name: str
    actor: str
    pre: tuple[tuple[str, tuple[Ctl, ...]], ...]
    post: tuple[tuple[str, Ctl], ...]
    guard: tuple[Expr, ...] = ()
    effects: tuple[Effect, ...] = ()
    fresh_amount: bool = False

    @property
    def faults(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.guard if isinstance(g, Fault))


@dataclass(frozen=True)
class KeyRule:
    """One step on a key ``(u, v)`` held by key map ``source`` (``KEYVAL`` is ``v``)."""

    name: str
    actor: str
    source: str
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class ReqSum:
    """``name = Σ_r Σ_{(cond, value) in cases, cond(r)} value(r)`` (request scope)."""

    name: str
    cases: tuple[tuple[Expr, Lin], ...]
    meaning: str = ""


@dataclass(frozen=True)
class ReqCount:
    """``name[u, v] = #{r : pred(r), user(r) = u, key(r) = v}``."""

    name: str
    pred: Expr
    key: Lin
    meaning: str = ""


@dataclass(frozen=True)
class KeySum:
    """``name = Σ_(u,v) v · map[u, v]``."""

    name: str
    map: str
    meaning: str = ""


Sum = Union[ReqSum, ReqCount, KeySum]


@dataclass(frozen=True)
class PProperty:
    """A property of the view: ``formula`` holds in every reachable state."""

    name: str
    formula: Expr
    meaning: str = ""


@dataclass(frozen=True)
class ParametricSystem:
    """A per-request transition system (see the module docstring). ``invariants`` are the
    declared global part of the inductive invariant ``(name, meaning, formula)``; the
    engine adds the per-request part (the reachable records of one request) itself."""

    name: str
    control: tuple[tuple[str, tuple[Ctl, ...]], ...]
    initial: tuple[tuple[str, Ctl], ...]
    int_fields: tuple[str, ...]
    globals: tuple[str, ...]
    user_maps: tuple[tuple[str, str | int], ...]
    key_maps: tuple[str, ...]
    params: tuple[tuple[str, int], ...]
    rules: tuple[Rule, ...]
    key_rules: tuple[KeyRule, ...]
    sums: tuple[Sum, ...]
    invariants: tuple[tuple[str, str, Expr], ...]
    quiescent: Expr
    properties: tuple[PProperty, ...]
    faults: frozenset[str] = frozenset()

    def enabled_rules(self) -> tuple[Rule, ...]:
        """The rules the scenario enables (a rule guarded by a disabled fault is not)."""
        return tuple(r for r in self.rules if all(f in self.faults for f in r.faults))

    def prop(self, name: str) -> PProperty | None:
        return next((p for p in self.properties if p.name == name), None)

    def sum(self, name: str) -> Sum:
        for s in self.sums:
            if s.name == name:
                return s
        raise KeyError(f"{self.name}: no ghost sum {name!r}")

    def domain(self, name: str) -> tuple[Ctl, ...]:
        return dict(self.control)[name]


@dataclass(frozen=True)
class ParametricView:
    """What a spec declares for parameterised proofs.

    ``system(params, faults)`` gives the per-request system of a scenario (its version
    and faults), or a string saying why there is none. ``view(world, params)`` maps a
    concrete world (its ``View``) to the ``PState`` it stands for; it raises
    ``ViewError`` when the world has no such state. ``scenarios`` are parameter
    overrides of small scenarios on which the engine checks the view against the
    concrete semantics before it reports PROVED."""

    system: Callable[[Params, frozenset[str]], ParametricSystem | str]
    view: Callable[[View, Params], PState]
    scenarios: tuple[Mapping[str, Any], ...] = ()


class ViewError(Exception):
    """A concrete world that has no parametric view (it says why)."""


# ------------------------------------------------------------------ concrete states


@dataclass(frozen=True)
class Rec:
    """One request's record: its user, amount, control (in ``control`` order) and
    integer fields (in ``int_fields`` order)."""

    user: str
    amount: int
    ctl: tuple[Ctl, ...]
    ints: tuple[int, ...]


@dataclass(frozen=True)
class PState:
    """A state of a parametric system over finitely many requests and users (values
    kept sorted; key maps without zero entries)."""

    reqs: tuple[tuple[str, Rec], ...]
    users: tuple[str, ...]
    globals: tuple[tuple[str, int], ...]
    user_maps: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    key_maps: tuple[tuple[str, tuple[tuple[tuple[str, int], int], ...]], ...]
    params: tuple[tuple[str, int], ...]

    @staticmethod
    def make(reqs: Mapping[str, Rec], users: Sequence[str], globals_: Mapping[str, int],
             user_maps: Mapping[str, Mapping[str, int]], key_maps: Mapping[str, Mapping[tuple[str, int], int]],
             params: Mapping[str, int]) -> PState:
        return PState(
            tuple(sorted(reqs.items())), tuple(sorted(users)), tuple(sorted(globals_.items())),
            tuple(sorted((n, tuple(sorted((u, m.get(u, 0)) for u in users))) for n, m in user_maps.items())),
            tuple(sorted((n, tuple(sorted((k, c) for k, c in m.items() if c))) for n, m in key_maps.items())),
            tuple(sorted(params.items())))

    def rec(self, rid: str) -> Rec:
        return dict(self.reqs)[rid]

    def describe(self, sys: ParametricSystem) -> str:
        ctl = [n for n, _ in sys.control]
        reqs = "; ".join(f"{r}: user {x.user}, amount {x.amount}, "
                         + ", ".join(f"{n}={v}" for n, v in zip(ctl, x.ctl))
                         + "".join(f", {n}={v}" for n, v in zip(sys.int_fields, x.ints)) for r, x in self.reqs)
        rest = ", ".join(f"{n}={v}" for n, v in self.globals)
        keys = ", ".join(f"{n}={dict(m)}" for n, m in self.key_maps)
        return f"{reqs} | {rest} | {keys}"


def initial_state(sys: ParametricSystem, reqs: Mapping[str, str], users: Sequence[str],
                  params: Mapping[str, int]) -> PState:
    """The initial state with requests ``reqs`` (id → user) and ``users``."""
    ini = dict(sys.initial)
    ctl = tuple(ini[n] for n, _ in sys.control)
    records = {r: Rec(u, 0, ctl, tuple(0 for _ in sys.int_fields)) for r, u in reqs.items()}
    umaps = {n: {u: (params[v] if isinstance(v, str) else v) for u in users} for n, v in sys.user_maps}
    return PState.make(records, users, {g: 0 for g in sys.globals}, umaps, {k: {} for k in sys.key_maps}, params)


# ------------------------------------------------------------------ evaluation (Python)


class _Env:
    """The scope an expression is evaluated in over a ``PState``."""

    def __init__(self, sys: ParametricSystem, st: PState, rec: Rec | None = None,
                 key: tuple[str, int] | None = None) -> None:
        self.sys, self.st, self.rec, self.key = sys, st, rec, key
        self.cidx = {n: i for i, (n, _) in enumerate(sys.control)}
        self.iidx = {n: i for i, n in enumerate(sys.int_fields)}

    def at(self, rec: Rec | None = None, key: tuple[str, int] | None = None) -> _Env:
        e = _Env.__new__(_Env)
        e.sys, e.st, e.rec, e.key, e.cidx, e.iidx = self.sys, self.st, rec, key, self.cidx, self.iidx
        return e

    def user(self) -> str:
        if self.rec is not None:
            return self.rec.user
        assert self.key is not None, "a user map needs a request or a key in scope"
        return self.key[0]


def eval_lin(lin: Lin, env: _Env) -> int:
    """The value of ``lin`` in ``env``."""
    return lin.const + sum(c * _atom(k, n, env) for k, n, c in lin.terms)


def _atom(kind: str, name: str, env: _Env) -> int:
    st = env.st
    if kind == "amount":
        assert env.rec is not None
        return env.rec.amount
    if kind == "field":
        assert env.rec is not None
        return env.rec.ints[env.iidx[name]]
    if kind == "global":
        return dict(st.globals)[name]
    if kind == "param":
        return dict(st.params)[name]
    if kind == "user":
        return dict(dict(st.user_maps)[name]).get(env.user(), 0)
    if kind == "keyval":
        assert env.key is not None
        return env.key[1]
    if kind == "key":
        assert env.key is not None
        if name in dict(st.key_maps):
            return dict(dict(st.key_maps)[name]).get(env.key, 0)
        s = env.sys.sum(name)
        assert isinstance(s, ReqCount)
        return sum(1 for _, r in st.reqs if r.user == env.key[0] and eval_bool(s.pred, env.at(rec=r))
                   and eval_lin(s.key, env.at(rec=r)) == env.key[1])
    assert kind == "sum"
    s = env.sys.sum(name)
    if isinstance(s, ReqSum):
        return sum(eval_lin(v, env.at(rec=r)) for _, r in st.reqs for c, v in s.cases if eval_bool(c, env.at(rec=r)))
    assert isinstance(s, KeySum)
    return sum(k[1] * n for k, n in dict(st.key_maps)[s.map])


def _keys(env: _Env) -> list[tuple[str, int]]:
    """The keys where some key map or ReqCount may be non-zero, and one fresh key."""
    keys = {k for _, m in env.st.key_maps for k, _ in m}
    for s in env.sys.sums:
        if isinstance(s, ReqCount):
            keys |= {(r.user, eval_lin(s.key, env.at(rec=r))) for _, r in env.st.reqs}
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
        return all(eval_bool(e.body, env.at(rec=r)) for _, r in env.st.reqs)
    return all(eval_bool(e.body, env.at(key=k)) for k in _keys(env))


def holds(sys: ParametricSystem, st: PState, e: Expr) -> bool:
    """Whether formula ``e`` holds in ``st``."""
    return eval_bool(e, _Env(sys, st))


# ------------------------------------------------------------------ steps (Python)


@dataclass(frozen=True)
class PStep:
    """One step of the view: the rule, and the request (or key) it acts on."""

    rule: str
    actor: str
    on: str
    faults: tuple[str, ...] = ()


def _matches(sys: ParametricSystem, rule: Rule, rec: Rec) -> bool:
    cidx = {n: i for i, (n, _) in enumerate(sys.control)}
    return all(rec.ctl[cidx[f]] in vals for f, vals in rule.pre)


def _apply(sys: ParametricSystem, st: PState, rid: str | None, rec: Rec | None, key: tuple[str, int] | None,
           effects: tuple[Effect, ...]) -> PState:
    reqs = dict(st.reqs)
    glob_ = dict(st.globals)
    umaps = {n: dict(m) for n, m in st.user_maps}
    kmaps = {n: dict(m) for n, m in st.key_maps}
    iidx = {n: i for i, n in enumerate(sys.int_fields)}
    cur = st
    for eff in effects:
        env = _Env(sys, cur, rec, key)
        user = env.user()
        if isinstance(eff, Discharge):
            k = (user, eval_lin(eff.key, env))
            if kmaps[eff.name].get(k, 0) >= 1:
                kmaps[eff.name][k] -= 1
        else:
            v = eval_lin(eff.value, env)
            t = eff.target
            if isinstance(t, ToField):
                assert rec is not None and rid is not None
                ints = list(rec.ints)
                ints[iidx[t.name]] += v
                rec = Rec(rec.user, rec.amount, rec.ctl, tuple(ints))
                reqs[rid] = rec
            elif isinstance(t, ToGlobal):
                glob_[t.name] += v
            elif isinstance(t, ToUser):
                umaps[t.name][user] = umaps[t.name].get(user, 0) + v
            else:
                k = (user, eval_lin(t.key, env))
                kmaps[t.name][k] = kmaps[t.name].get(k, 0) + v
        cur = PState.make(reqs, st.users, glob_, umaps, kmaps, dict(st.params))
    return cur


def apply_rule(sys: ParametricSystem, st: PState, rule: Rule, rid: str, amount: int | None = None) -> PState | None:
    """The state after ``rule`` on request ``rid`` (with ``amount`` for a fresh one), or
    ``None`` when it is not enabled there."""
    rec = st.rec(rid)
    if not _matches(sys, rule, rec):
        return None
    cidx = {n: i for i, (n, _) in enumerate(sys.control)}
    picked = Rec(rec.user, amount if rule.fresh_amount and amount is not None else rec.amount, rec.ctl, rec.ints)
    if not all(eval_bool(g, _Env(sys, st, picked)) for g in rule.guard):
        return None  # guards read the state before the step (with the amount just picked)
    ctl = list(rec.ctl)
    for f, v in rule.post:
        ctl[cidx[f]] = v
    new = Rec(picked.user, picked.amount, tuple(ctl), rec.ints)
    reqs = dict(st.reqs)
    reqs[rid] = new
    mid = PState(tuple(sorted(reqs.items())), st.users, st.globals, st.user_maps, st.key_maps, st.params)
    return _apply(sys, mid, rid, new, None, rule.effects)


def apply_key_rule(sys: ParametricSystem, st: PState, kr: KeyRule, key: tuple[str, int]) -> PState | None:
    """The state after ``kr`` on ``key``, or ``None`` when its source does not hold it."""
    if dict(dict(st.key_maps)[kr.source]).get(key, 0) < 1:
        return None
    return _apply(sys, st, None, None, key, kr.effects)


def successors(sys: ParametricSystem, st: PState, amounts: Sequence[int]) -> Iterator[tuple[PStep, PState]]:
    """Every step of the view from ``st`` (fresh amounts drawn from ``amounts``)."""
    for rule in sys.enabled_rules():
        for rid, _ in st.reqs:
            for a in (amounts if rule.fresh_amount else (None,)):
                nxt = apply_rule(sys, st, rule, rid, a)
                if nxt is not None:
                    yield PStep(rule.name, rule.actor, rid, rule.faults), nxt
    for kr in sys.key_rules:
        for key, _ in dict(st.key_maps)[kr.source]:
            nxt = apply_key_rule(sys, st, kr, key)
            if nxt is not None:
                yield PStep(kr.name, kr.actor, f"{key[0]},{key[1]}"), nxt


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
