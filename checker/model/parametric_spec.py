"""The API of a *parametric view*: a model as a transition system over an unbounded set
of requests, for proofs for any number of users and operations (pure data, no z3).

A spec that wants ``prove --users any`` declares, beside its processes, one
``ParametricView``: a ``ParametricSystem`` per scenario (its version and faults) and a
map from each concrete world to a ``PState``. Engines trust neither: the view is checked
step by step against the concrete semantics (``checker.engines.parametric_check.check_view``)
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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from checker.errors import SpecError
from checker.model.spec import Params, View

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


# Nodes of one shape share a frozen dataclass base; a subclass keeps its own type (equality,
# isinstance dispatch and repr tell And from Or, ToField from ToGlobal).


@dataclass(frozen=True)
class _Junction:
    parts: tuple[Expr, ...]


class And(_Junction):
    """Every part holds (``And(())`` is true)."""


class Or(_Junction):
    """Some part holds (``Or(())`` is false)."""


@dataclass(frozen=True)
class Not:
    part: Expr


@dataclass(frozen=True)
class _Quantified:
    body: Expr


class AllReq(_Quantified):
    """``body`` holds for every request (request scope)."""


class AllKeys(_Quantified):
    """``body`` holds at every key ``(u, v)`` (key scope)."""


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
        if not e.parts:
            return "true"
        return " ∧ ".join(f"({text(p)})" if isinstance(p, Or) else text(p) for p in e.parts)
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
class _Named:
    name: str


class ToField(_Named):
    """The integer field ``name`` of the request in scope."""


class ToGlobal(_Named):
    """The integer global ``name``."""


class ToUser(_Named):
    """The user map ``name`` at the user of the request (or key) in scope."""


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
    concrete semantics before it reports PROVED (the engine finds a spec's view as
    ``PARAMETRIC`` in the module ``parametric`` beside the spec's own). A view models the
    unordered network; FIFO runs are among its runs."""

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


# ------------------------------------------------------------------ validation

_REQUEST_ATOMS = frozenset({"amount", "field"})


def validate(sys: ParametricSystem) -> None:
    """Reject a system an engine cannot encode soundly (``SpecError`` saying what to fix):
    unknown fields, values outside their domains, sums whose terms read more than their
    own request, key maps changed by a non-constant."""
    dom = dict(sys.control)
    where = f"parametric system {sys.name!r}"

    def bad(msg: str) -> SpecError:
        return SpecError(f"{where}: {msg}")

    if set(dict(sys.initial)) != set(dom) or any(v not in dom[f] for f, v in sys.initial):
        raise bad("initial must give every control field one value of its domain")
    names = {s.name for s in sys.sums}
    known = {"field": set(sys.int_fields), "global": set(sys.globals), "param": {p for p, _ in sys.params},
             "sum": names, "user": {m for m, _ in sys.user_maps},
             "key": set(sys.key_maps) | {s.name for s in sys.sums if isinstance(s, ReqCount)}}

    def lin(e: Lin, what: str, kinds: frozenset[str] | None = None) -> None:
        for kind, name, _ in e.terms:
            if kinds is not None and kind not in kinds:
                raise bad(f"{what} reads {kind} {name!r}: only the request's own amount and fields are allowed")
            if kind in known and name not in known[kind]:
                raise bad(f"{what} reads unknown {kind} {name!r}")

    def expr(e: Expr, what: str, local: bool) -> None:
        if isinstance(e, Cmp):
            lin(e.lhs, what, _REQUEST_ATOMS if local else None)
            lin(e.rhs, what, _REQUEST_ATOMS if local else None)
        elif isinstance(e, In):
            if e.field not in dom or any(v not in dom[e.field] for v in e.values):
                raise bad(f"{what}: {e.field} ∈ {e.values} is outside the control fields and their domains")
        elif isinstance(e, (And, Or)):
            for p in e.parts:
                expr(p, what, local)
        elif isinstance(e, Not):
            expr(e.part, what, local)
        elif isinstance(e, (AllReq, AllKeys)):
            if local:
                raise bad(f"{what} quantifies: a sum's term is about its own request only")
            expr(e.body, what, local)
        elif local:
            raise bad(f"{what} reads a fault")

    for s in sys.sums:
        if isinstance(s, ReqSum):
            for c, val in s.cases:
                expr(c, f"sum {s.name}", True)
                lin(val, f"sum {s.name}", _REQUEST_ATOMS)
        elif isinstance(s, ReqCount):
            expr(s.pred, f"count {s.name}", True)
            lin(s.key, f"count {s.name}", _REQUEST_ATOMS)
        elif s.map not in sys.key_maps:
            raise bad(f"sum {s.name} is over unknown key map {s.map!r}")
    rules: list[Rule | KeyRule] = [*sys.rules, *sys.key_rules]
    for rule in rules:
        what = f"rule {rule.name!r}"
        if isinstance(rule, Rule):
            for fname, vals in rule.pre:
                expr(In(fname, vals), what, False)
            for fname, value in rule.post:
                expr(In(fname, (value,)), what, False)
            for g in rule.guard:
                expr(g, what, False)
        elif rule.source not in sys.key_maps:
            raise bad(f"{what} takes keys of unknown key map {rule.source!r}")
        for eff in rule.effects:
            if isinstance(eff, Discharge):
                if eff.name not in sys.key_maps:
                    raise bad(f"{what} discharges unknown key map {eff.name!r}")
                lin(eff.key, what)
                continue
            lin(eff.value, what)
            t = eff.target
            ok = (t.name in sys.int_fields and isinstance(rule, Rule) if isinstance(t, ToField) else
                  t.name in sys.globals if isinstance(t, ToGlobal) else
                  t.name in known["user"] if isinstance(t, ToUser) else t.name in sys.key_maps)
            if not ok:
                raise bad(f"{what} writes unknown (or, in a key rule, a request's) {type(t).__name__} {t.name!r}")
            if isinstance(t, ToKey) and eff.value.terms:
                raise bad(f"{what} changes key map {t.name} by {eff.value}: a key map changes by a constant")
    for n, _, formula in sys.invariants:
        expr(formula, f"invariant {n}", False)
    for p in sys.properties:
        expr(p.formula, f"property {p.name}", False)
    expr(sys.quiescent, "quiescent", False)
