"""Parameterised proofs: properties PROVED for any number of users and operations.

The engine works on a spec's declared per-request view (``checker.model.parametric_spec``):
requests and users are uninterpreted z3 sorts, each per-request field an uninterpreted
function of the request, each user map one of the user, each multiset over
``(user, int)`` keys one of the key (a write is an ``If`` on the written point), and every
sum over requests or keys a *ghost* variable that each step updates by the change of the
one request (or key) it touches. Each encoder has its own z3 context.

The inductive invariant is the conjunction of

* the *per-request invariant* ``∀r. record(r) ∈ R``, where ``R`` is the set of records
  one request reaches on its own with every guard on the rest of the state taken as
  maybe true (``request_reach``: finite control, integer fields as ``k·amount + c``);
  inductive by construction, since a step changes one request only;
* every key map is ≥ 0 at every key (they are multisets);
* the spec's declared global invariants (ghost-sum equations), kept by a Houdini loop
  (those that are not inductive together are dropped, so a false one costs a proof, never
  soundness).

Obligations (initiation, consecution of every rule for every conjunct, safety of every
property) are one z3 query each; the quantifiers are over requests and keys only, with
the bound variables used only as arguments of uninterpreted functions (the essentially
uninterpreted fragment, which z3's MBQI decides), and ``unknown`` is never a pass. Sums are linked to their terms by
valid lemmas about finite sums, asserted as axioms: *zero* ``(∀x. t(x) = 0) ⇒ S = 0`` and
*non-negative* ``(∀x. t(x) ≥ 0) ⇒ S ≥ 0``. A certificate is re-checked from scratch by a
second encoder with fresh solvers (the whole invariant at once) before PROVED.

The view itself is trusted only after ``checker.engines.parametric_check.check_view`` has
compared it with the concrete semantics on the spec's small scenarios: every concrete
step must be one rule of the view (the same actor), every rule enabled in a reachable
view must be taken by some concrete step, and every property must give the same verdict
on the concrete world and on its view. A property that is not proved gets a real counterexample from BMC on small
scenarios where one exists (VIOLATED, replayable), else UNKNOWN with the reason.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from checker.config import CheckConfig
from checker.engines.parametric_check import Shape, check_scenarios, find_view, request_reach, scenario_configs
from checker.model.parametric_spec import (
    Add, AllKeys, AllReq, And, Cmp, Discharge, Expr, Fault, In, KeyRule, KeySum, Lin, Not, Or, ParametricSystem,
    ParametricView, ReqCount, ReqSum, Rule, ToField, ToGlobal, ToUser, text, validate,
)
from checker.result import EXPECTED_FAIL, PROVED, UNKNOWN, VIOLATED, Engine, PropertyResult
from checker.model.spec import Spec
from checker.engines.symbolic.solver import bounded, calling, check_limits
from checker.engines.symbolic.values import DEFAULT_RLIMIT

Fn = Callable[..., Any]  # a field of a symbolic state: request (or user, or key) ↦ z3 term


def _const1(c: Any) -> Fn:
    return lambda x: c


def _const2(c: Any) -> Fn:
    return lambda u, v: c


def _upd1(old: Fn, at: Any, val: Any) -> Fn:
    """``old`` with ``at`` ↦ ``val`` (a write to one request or user)."""
    return lambda x: z3.If(x == at, val, old(x))


def _upd2(old: Fn, u0: Any, k0: Any, val: Any) -> Fn:
    """``old`` with ``(u0, k0)`` ↦ ``val`` (a write to one key)."""
    return lambda u, v: z3.If(z3.And(u == u0, v == k0), val, old(u, v))


PROVED_TEXT = "PROVED for any number of users and operations; any depth"


def proved_text(sys: ParametricSystem) -> str:
    """PROVED's bound: ``PROVED_TEXT`` and what else the proof leaves open, in the view's
    words (any amount when a rule picks one; any value of each parameter from its minimum)."""
    anys = ["any amount ≥ 1"] if any(r.fresh_amount for r in sys.rules) else []
    anys += [f"any {name} ≥ {low}" for name, low in sys.params]
    return PROVED_TEXT + "".join(f", {a}" for a in anys)

# ------------------------------------------------------------------ the encoding


@dataclass
class _St:
    """One symbolic state: z3 terms per field (see the module docstring)."""

    ctl: dict[str, Fn]
    amount: Fn
    ints: dict[str, Fn]
    glob: dict[str, z3.ArithRef]
    umaps: dict[str, Fn]
    kmaps: dict[str, Fn]
    sums: dict[str, Any]

    def copy(self) -> _St:
        return _St(dict(self.ctl), self.amount, dict(self.ints), dict(self.glob), dict(self.umaps),
                   dict(self.kmaps), dict(self.sums))


@dataclass
class _Scope:
    """What an expression is about: a request (with its amount) or a key."""

    r: Any = None
    amount: Any = None
    key: tuple[Any, Any] | None = None

    def user(self, enc: _Enc) -> Any:
        if self.r is not None:
            return enc.user_of(self.r)
        assert self.key is not None
        return self.key[0]


class _Enc:
    """The z3 encoding of one parametric system (fresh sorts per instance)."""

    def __init__(self, sys: ParametricSystem, reach: list[Shape]) -> None:
        self.sys, self.reach = sys, reach
        self.ctx = ctx = z3.Context()  # its own context: encoders share nothing
        self.Req = z3.DeclareSort("Req", ctx)
        self.User = z3.DeclareSort("User", ctx)
        self.Int = z3.IntSort(ctx)
        self.user_of = z3.Function("user", self.Req, self.User)
        self.enum: dict[str, tuple[z3.SortRef, dict[Any, z3.ExprRef]]] = {}
        for f, dom in sys.control:
            sort, vals = z3.EnumSort(f, [f"{f}_{i}" for i in range(len(dom))], ctx=ctx)
            self.enum[f] = (sort, dict(zip(dom, vals)))
        self.params = {p: z3.Int(p, ctx) for p, _ in sys.params}
        self.param_ok = self.conj([self.params[p] >= lo for p, lo in sys.params])
        self.fresh = itertools.count()

    def conj(self, xs: list[Any]) -> z3.BoolRef:
        return z3.And(*xs, self.ctx)

    def disj(self, xs: list[Any]) -> z3.BoolRef:
        return z3.Or(*xs, self.ctx)

    def num(self, n: int) -> z3.ArithRef:
        return z3.IntVal(n, self.ctx)

    def var_r(self) -> Any:
        return z3.Const(f"r{next(self.fresh)}", self.Req)

    def var_key(self) -> tuple[Any, Any]:
        return z3.Const(f"u{next(self.fresh)}", self.User), z3.Const(f"v{next(self.fresh)}", self.Int)

    def solver(self, rlimit: int) -> z3.Solver:
        """A plain solver in this encoder's context with a deterministic work limit."""
        s = z3.Solver(ctx=self.ctx)
        s.set("rlimit", rlimit)
        s.set("ctrl_c", False)  # a stop request interrupts this context (checker.stop)
        return s

    def const(self, name: str, sort: z3.SortRef) -> Any:
        return z3.Const(f"{name}!{next(self.fresh)}", sort)

    def state(self, tag: str) -> _St:
        I, R, U = self.Int, self.Req, self.User
        sums: dict[str, Any] = {}
        for s in self.sys.sums:
            sums[s.name] = (z3.Function(f"{s.name}_{tag}", U, I, I) if isinstance(s, ReqCount)
                            else z3.Int(f"{s.name}_{tag}", self.ctx))
        return _St({f: z3.Function(f"{f}_{tag}", R, self.enum[f][0]) for f, _ in self.sys.control},
                   z3.Function(f"amount_{tag}", R, I),
                   {f: z3.Function(f"{f}_{tag}", R, I) for f in self.sys.int_fields},
                   {g: z3.Int(f"{g}_{tag}", self.ctx) for g in self.sys.globals},
                   {m: z3.Function(f"{m}_{tag}", U, I) for m, _ in self.sys.user_maps},
                   {m: z3.Function(f"{m}_{tag}", U, I, I) for m in self.sys.key_maps}, sums)

    def initial(self) -> _St:
        zero, zero2 = _const1(self.num(0)), _const2(self.num(0))
        ini = dict(self.sys.initial)
        return _St({f: _const1(self.enum[f][1][ini[f]]) for f, _ in self.sys.control},
                   zero, {f: zero for f in self.sys.int_fields},
                   {g: self.num(0) for g in self.sys.globals},
                   {m: _const1(self.params[v] if isinstance(v, str) else self.num(v)) for m, v in self.sys.user_maps},
                   {m: zero2 for m in self.sys.key_maps},
                   {s.name: zero2 if isinstance(s, ReqCount) else self.num(0) for s in self.sys.sums})

    # -- expressions

    def lin(self, e: Lin, st: _St, sc: _Scope) -> z3.ArithRef:
        out: z3.ArithRef = self.num(e.const)
        for kind, name, c in e.terms:
            out = out + c * self.atom(kind, name, st, sc)
        return out

    def atom(self, kind: str, name: str, st: _St, sc: _Scope) -> Any:
        if kind == "amount":
            return sc.amount if sc.amount is not None else st.amount(sc.r)
        if kind == "field":
            return st.ints[name](sc.r)
        if kind == "global":
            return st.glob[name]
        if kind == "param":
            return self.params[name]
        if kind == "sum":
            return st.sums[name]
        if kind == "user":
            return st.umaps[name](sc.user(self))
        assert sc.key is not None, f"{kind} {name} needs a key in scope"
        if kind == "keyval":
            return sc.key[1]
        src = st.kmaps[name] if name in st.kmaps else st.sums[name]
        return src(sc.key[0], sc.key[1])

    def boolean(self, e: Expr, st: _St, sc: _Scope) -> z3.BoolRef:
        if isinstance(e, Cmp):
            a, b = self.lin(e.lhs, st, sc), self.lin(e.rhs, st, sc)
            return {"==": a == b, "!=": a != b, "<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b}[e.op]
        if isinstance(e, In):
            vals = self.enum[e.field][1]
            return self.disj([st.ctl[e.field](sc.r) == vals[v] for v in e.values])
        if isinstance(e, Fault):
            return z3.BoolVal(e.name in self.sys.faults, self.ctx)
        if isinstance(e, And):
            return self.conj([self.boolean(p, st, sc) for p in e.parts])
        if isinstance(e, Or):
            return self.disj([self.boolean(p, st, sc) for p in e.parts])
        if isinstance(e, Not):
            return z3.Not(self.boolean(e.part, st, sc))
        if isinstance(e, AllReq):
            x = self.var_r()
            return z3.ForAll([x], self.boolean(e.body, st, _Scope(r=x)))
        u, v = self.var_key()
        return z3.ForAll([u, v], self.boolean(e.body, st, _Scope(key=(u, v))))

    def negated(self, e: Expr, st: _St, keys: list[tuple[Any, Any]]) -> z3.BoolRef:
        """¬e, its outermost ∃ (from ¬∀) as fresh constants; keys so made go to ``keys``."""
        if isinstance(e, And):
            return self.disj([self.negated(p, st, keys) for p in e.parts])
        if isinstance(e, Or):
            return self.conj([self.negated(p, st, keys) for p in e.parts])
        if isinstance(e, Not):
            return self.boolean(e.part, st, _Scope())
        if isinstance(e, AllReq):
            return z3.Not(self.boolean(e.body, st, _Scope(r=self.const("rq", self.Req))))
        if isinstance(e, AllKeys):
            k = (self.const("uq", self.User), self.const("vq", self.Int))
            keys.append(k)
            return z3.Not(self.boolean(e.body, st, _Scope(key=k)))
        return z3.Not(self.boolean(e, st, _Scope()))

    # -- the invariant

    def per_request(self, st: _St, r: Any) -> z3.BoolRef:
        """The record of ``r`` is one of the reachable records (``reach``)."""
        ctl = {f: st.ctl[f](r) for f, _ in self.sys.control}
        a = st.amount(r)
        ints = {f: st.ints[f](r) for f in self.sys.int_fields}
        pos, zero = a >= 1, a == 0
        return self.disj([self.conj([*[ctl[f] == self.enum[f][1][v] for (f, _), v in zip(self.sys.control, sh.ctl)],
                                   *[ints[f] == (c * a + k if c else self.num(k))
                                     for f, (c, k) in zip(self.sys.int_fields, sh.ints)],
                                   pos if sh.picked else zero]) for sh in self.reach])

    def conjuncts(self) -> list[tuple[str, str, Any]]:
        """(name, meaning, formula builder over a state) of the candidate invariant."""
        out: list[tuple[str, str, Any]] = [
            ("per-request", f"every request's record is one of the {len(self.reach)} records one request reaches",
             AllReq(And(()))),  # placeholder: encoded by ``per_request``
        ]
        out += [(f"{m}-nonnegative", f"{m}[u,v] ≥ 0 at every key (a multiset)", None) for m in self.sys.key_maps]
        out += [(n, meaning, f) for n, meaning, f in self.sys.invariants]
        return out

    def holds_conj(self, name: str, st: _St) -> z3.BoolRef:
        if name == "per-request":
            x = self.var_r()
            return z3.ForAll([x], self.per_request(st, x))
        if name.endswith("-nonnegative") and name[: -len("-nonnegative")] in st.kmaps:
            m = st.kmaps[name[: -len("-nonnegative")]]
            u, v = self.var_key()
            return z3.ForAll([u, v], m(u, v) >= 0)
        f = dict((n, e) for n, _, e in self.sys.invariants)[name]
        return self.boolean(f, st, _Scope())

    def violated_conj(self, name: str, st: _St, keys: list[tuple[Any, Any]]) -> z3.BoolRef:
        if name == "per-request":
            return z3.Not(self.per_request(st, self.const("rq", self.Req)))
        if name.endswith("-nonnegative") and name[: -len("-nonnegative")] in st.kmaps:
            k = (self.const("uq", self.User), self.const("vq", self.Int))
            keys.append(k)
            return st.kmaps[name[: -len("-nonnegative")]](k[0], k[1]) < 0
        f = dict((n, e) for n, _, e in self.sys.invariants)[name]
        return self.negated(f, st, keys)

    def lemmas(self, st: _St, keys: list[tuple[Any, Any]]) -> list[z3.BoolRef]:
        """Valid facts about the finite sums of ``st`` (zero, non-negative), the keyed
        ones at ``keys``."""
        return self.sum_lemmas(st) + self.key_lemmas(st, keys)

    def sum_lemmas(self, st: _St) -> list[z3.BoolRef]:
        """The lemmas of ``lemmas`` that need no key."""
        out: list[z3.BoolRef] = []
        for s in self.sys.sums:
            if isinstance(s, ReqSum):
                x = self.var_r()
                t = self.term(s, st, _Scope(r=x))
                out += [z3.Implies(z3.ForAll([x], t == 0), st.sums[s.name] == 0),
                        z3.Implies(z3.ForAll([x], t >= 0), st.sums[s.name] >= 0)]
            elif isinstance(s, ReqCount):
                u, v = self.var_key()
                out.append(z3.ForAll([u, v], st.sums[s.name](u, v) >= 0))
            else:
                u, v = self.var_key()
                out.append(z3.Implies(z3.ForAll([u, v], st.kmaps[s.map](u, v) == 0), st.sums[s.name] == 0))
        return out

    def key_lemmas(self, st: _St, keys: list[tuple[Any, Any]]) -> list[z3.BoolRef]:
        """The zero lemma of every keyed count of ``st`` at each of ``keys``."""
        out: list[z3.BoolRef] = []
        for s in self.sys.sums:
            if isinstance(s, ReqCount):
                for ku, kv in keys:
                    x = self.var_r()
                    member = self.conj([self.boolean(s.pred, st, _Scope(r=x)), self.user_of(x) == ku,
                                       self.lin(s.key, st, _Scope(r=x)) == kv])
                    out.append(z3.Implies(z3.ForAll([x], z3.Not(member)), st.sums[s.name](ku, kv) == 0))
        return out

    def sums_start_at_zero(self) -> z3.BoolRef:
        """Every sum's term is 0 on the initial record (so the ghosts start right at 0)."""
        init, out = self.initial(), []
        for s in self.sys.sums:
            x = self.var_r()
            if isinstance(s, ReqSum):
                out.append(z3.ForAll([x], self.term(s, init, _Scope(r=x)) == 0))
            elif isinstance(s, ReqCount):
                out.append(z3.ForAll([x], z3.Not(self.boolean(s.pred, init, _Scope(r=x)))))
        return self.conj(out)

    def term(self, s: ReqSum, st: _St, sc: _Scope) -> z3.ArithRef:
        out: z3.ArithRef = self.num(0)
        for cond, val in s.cases:
            out = out + z3.If(self.boolean(cond, st, sc), self.lin(val, st, sc), 0)
        return out

    # -- steps

    def step(self, rule: Rule | KeyRule, pre: _St) -> tuple[z3.BoolRef, _St, list[tuple[Any, Any]], dict[str, Any]]:
        """(guard, post-state, keys touched, the step's own variables) of ``rule``."""
        post = pre.copy()
        keys: list[tuple[Any, Any]] = []
        if isinstance(rule, KeyRule):
            k = (self.const("u0", self.User), self.const("v0", self.Int))
            keys.append(k)
            sc = _Scope(key=k)
            guard: z3.BoolRef = pre.kmaps[rule.source](k[0], k[1]) >= 1
            own: dict[str, Any] = {"key": k}
        else:
            r0 = self.const("r0", self.Req)
            a0 = self.const("a0", self.Int) if rule.fresh_amount else None
            sc = _Scope(r=r0, amount=a0)
            vals = {f: self.enum[f][1] for f, _ in self.sys.control}
            guard = self.conj([*[self.disj([pre.ctl[f](r0) == vals[f][v] for v in vs]) for f, vs in rule.pre],
                              *[self.boolean(g, pre, sc) for g in rule.guard], *([a0 >= 1] if a0 is not None else [])])
            for f, v in rule.post:
                post.ctl[f] = _upd1(pre.ctl[f], r0, vals[f][v])
            if a0 is not None:
                post.amount = _upd1(pre.amount, r0, a0)
            sc = _Scope(r=r0)
            own = {"r0": r0, "a0": a0}
        for eff in rule.effects:
            self._effect(eff, post, sc, keys)
        if sc.r is not None:
            for s in self.sys.sums:
                if isinstance(s, ReqSum):
                    post.sums[s.name] = pre.sums[s.name] - self.term(s, pre, sc) + self.term(s, post, sc)
                elif isinstance(s, ReqCount):
                    u = self.user_of(sc.r)
                    W = pre.sums[s.name]
                    for st, sign in ((pre, -1), (post, 1)):
                        k = self.lin(s.key, st, sc)
                        keys.append((u, k))
                        W = _upd2(W, u, k, W(u, k) + z3.If(self.boolean(s.pred, st, sc), sign, 0))
                    post.sums[s.name] = W
        return guard, post, keys, own

    def _effect(self, eff: Add | Discharge, st: _St, sc: _Scope, keys: list[tuple[Any, Any]]) -> None:
        user = sc.user(self)
        if isinstance(eff, Discharge):
            k = self.lin(eff.key, st, sc)
            M = st.kmaps[eff.name]
            has = M(user, k) >= 1
            self._keysum(eff.name, st, k, None, has)
            st.kmaps[eff.name] = _upd2(M, user, k, z3.If(has, M(user, k) - 1, M(user, k)))
            keys.append((user, k))
            return
        v = self.lin(eff.value, st, sc)
        t = eff.target
        if isinstance(t, ToField):
            st.ints[t.name] = _upd1(st.ints[t.name], sc.r, st.ints[t.name](sc.r) + v)
        elif isinstance(t, ToGlobal):
            st.glob[t.name] = st.glob[t.name] + v
        elif isinstance(t, ToUser):
            st.umaps[t.name] = _upd1(st.umaps[t.name], user, st.umaps[t.name](user) + v)
        else:
            k = self.lin(t.key, st, sc)
            M = st.kmaps[t.name]
            if eff.value.terms:
                raise ValueError(f"{self.sys.name}: a key map changes by a constant (got {eff.value})")
            self._keysum(t.name, st, k, eff.value.const, None)
            st.kmaps[t.name] = _upd2(M, user, k, M(user, k) + v)
            keys.append((user, k))

    def _keysum(self, kmap: str, st: _St, k: Any, delta: int | None, dec_if: Any) -> None:
        for s in self.sys.sums:
            if isinstance(s, KeySum) and s.map == kmap:
                st.sums[s.name] = st.sums[s.name] + (delta * k if delta is not None else z3.If(dec_if, -k, 0))


# ------------------------------------------------------------------ induction


@dataclass
class _Outcome:
    """The result of the induction: the kept conjuncts, why others were dropped, the
    counterexamples to induction, and a solver ``unknown`` if one happened."""

    kept: list[str]
    dropped: dict[str, str] = field(default_factory=dict)
    unknown: str | None = None
    checks: int = 0


def _query(s: z3.Solver, fs: list[z3.BoolRef]) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """Check ``fs`` in a frame of ``s``: the result, and the model when sat."""
    s.push()
    try:
        s.add(*fs)
        bounded(s)  # --timeout, --max-memory, stop requests: LimitReached
        with calling(s.ctx):
            r = s.check()
        if r == z3.unknown:
            check_limits()  # cut short by the deadline or a stop: the limit, not a solver unknown
        return r, (s.model() if r == z3.sat else None)
    finally:
        s.pop()


def _rules(sys: ParametricSystem) -> list[Rule | KeyRule]:
    return [*sys.enabled_rules(), *sys.key_rules]


def _induct(enc: _Enc, rlimit: int) -> _Outcome:
    """Houdini: the largest subset of the candidate conjuncts that is inductive (the
    per-request invariant included), one query per (rule, conjunct); a conjunct that a
    rule does not preserve is dropped with its counterexample to induction, and the
    passes repeat until one drops nothing."""
    names = [n for n, _, _ in enc.conjuncts()]
    out = _Outcome(kept=list(names))
    s = enc.solver(rlimit)
    s.add(enc.param_ok)
    init = enc.initial()
    r0, _ = _query(s, [z3.Not(enc.sums_start_at_zero())])
    if r0 != z3.unsat:
        out.unknown = (f"ghost sums at the start: solver unknown ({s.reason_unknown()})" if r0 == z3.unknown else
                       "a ghost sum does not start at its sum (a term is not 0 on the initial record)")
        return out
    for n in list(out.kept):
        keys: list[tuple[Any, Any]] = []
        r, _ = _query(s, [enc.violated_conj(n, init, keys)])
        out.checks += 1
        if r == z3.unknown:
            out.unknown = f"initiation of {n}: solver unknown ({s.reason_unknown()})"
            return out
        if r == z3.sat:
            out.kept.remove(n)
            out.dropped[n] = "fails in the initial state"
    pre = enc.state("pre")
    hyp = {n: enc.holds_conj(n, pre) for n in names}
    base = enc.sum_lemmas(pre)
    steps = []
    for rule in _rules(enc.sys):
        guard, post, keys, own = enc.step(rule, pre)
        bad: dict[str, tuple[z3.BoolRef, list[z3.BoolRef]]] = {}
        for n in names:
            ks: list[tuple[Any, Any]] = []
            f = enc.violated_conj(n, post, ks)
            bad[n] = (f, enc.key_lemmas(pre, ks))
        steps.append((rule, guard, post, enc.key_lemmas(pre, keys), own, bad))
    changed = True
    while changed:  # passes over every rule until one drops nothing
        changed = False
        for rule, guard, post, klemmas, own, bad in steps:
            hyp_now = list(out.kept)  # the hypothesis of this rule's checks
            s.push()
            try:
                s.add(*[hyp[n] for n in hyp_now], *base, *klemmas, guard)
                for n in hyp_now:
                    r, m = _query(s, [bad[n][0], *bad[n][1]])
                    out.checks += 1
                    if r == z3.unknown:
                        out.unknown = f"consecution of {n} under {rule.name}: solver unknown ({s.reason_unknown()})"
                        return out
                    if m is not None:
                        out.dropped[n] = _cti(enc, rule, m, pre, post, own)
                        out.kept.remove(n)
                        changed = True
            finally:
                s.pop()
    return out


def _cti(enc: _Enc, rule: Rule | KeyRule, m: z3.ModelRef, pre: _St, post: _St, own: dict[str, Any]) -> str:
    """A counterexample to induction in words: the step and the acting request or key."""
    def ev(t: Any) -> str:
        return str(m.eval(t, model_completion=True))

    glob = ", ".join(f"{g}: {ev(pre.glob[g])} → {ev(post.glob[g])}" for g in enc.sys.globals)
    sums = ", ".join(f"{s.name}: {ev(pre.sums[s.name])} → {ev(post.sums[s.name])}"
                     for s in enc.sys.sums if not isinstance(s, ReqCount))
    if "r0" in own:
        r0 = own["r0"]
        back = {f: {v: k for k, v in enc.enum[f][1].items()} for f, _ in enc.sys.control}
        rec = ", ".join(f"{f}={back[f].get(m.eval(pre.ctl[f](r0), model_completion=True), '?')}"
                        for f, _ in enc.sys.control)
        rec += "".join(f", {f}={ev(pre.ints[f](r0))}" for f in enc.sys.int_fields) + f", amount={ev(pre.amount(r0))}"
        what = f"on a request with {rec}"
    else:
        u, v = own["key"]
        what = f"on key (user, {ev(v)})"
    params = ", ".join(f"{p}={ev(t)}" for p, t in enc.params.items())
    return (f"counterexample to induction (the first state need not be reachable): step '{rule.name}' {what} "
            f"({params}); {glob}; {sums}")


def _safe(enc: _Enc, kept: list[str], formula: Expr, rlimit: int) -> tuple[bool | None, str]:
    """Does the invariant ``kept`` imply ``formula``? (True, "") / (False, why) / (None, unknown)."""
    s = enc.solver(rlimit)
    st = enc.state("s")
    keys: list[tuple[Any, Any]] = []
    bad = enc.negated(formula, st, keys)
    r, _ = _query(s, [enc.param_ok, *[enc.holds_conj(n, st) for n in kept], *enc.lemmas(st, keys), bad])
    if r == z3.unknown:
        return None, f"solver unknown ({s.reason_unknown()})"
    if r == z3.sat:
        return False, "the kept invariant (" + ", ".join(kept) + ") does not imply it"
    return True, ""


def recheck(sys: ParametricSystem, reach: list[Shape], kept: list[str], formulas: list[Expr],
            rlimit: int) -> list[str | None]:
    """Re-check a certificate from scratch (a fresh encoder, a fresh solver per
    obligation, the whole invariant at once): initiation and the consecution of every
    rule, then, per formula, that the invariant implies it. One entry per formula:
    ``None`` if valid, else what fails."""
    enc = _Enc(sys, reach)

    def whole(st: _St) -> z3.BoolRef:
        return enc.conj([enc.holds_conj(n, st) for n in kept])

    def unsat(what: str, fs: list[z3.BoolRef]) -> str | None:
        s = enc.solver(rlimit)
        s.add(enc.param_ok, *fs)
        bounded(s)
        with calling(s.ctx):
            r = s.check()
        if r == z3.unknown:
            check_limits()
        if r == z3.unsat:
            return None
        return f"{what}: {'solver unknown (' + s.reason_unknown() + ')' if r == z3.unknown else 'fails'}"

    err = unsat("initiation", [z3.Not(enc.conj([whole(enc.initial()), enc.sums_start_at_zero()]))])
    pre = enc.state("pre")
    inv, base = whole(pre), enc.sum_lemmas(pre)
    for rule in _rules(sys):
        if err:
            break
        guard, post, keys, _ = enc.step(rule, pre)
        qk: list[tuple[Any, Any]] = []
        bad = enc.disj([enc.violated_conj(n, post, qk) for n in kept])
        err = unsat(f"consecution under {rule.name}", [inv, *base, *enc.key_lemmas(pre, keys + qk), guard, bad])
    out: list[str | None] = []
    st = enc.state("s")
    for f in formulas:
        keys2: list[tuple[Any, Any]] = []
        bad2 = enc.negated(f, st, keys2)
        out.append(err or unsat("safety", [whole(st), *enc.lemmas(st, keys2), bad2]))
    return out


def certificate_text(sys: ParametricSystem, reach: list[Shape], kept: list[str], dropped: dict[str, str]) -> str:
    """The inductive invariant as text: the per-request records, the declared part."""
    names = [n for n, _ in sys.control]
    lines = [f"inductive invariant of {sys.name} (for every finite set of users and requests), the conjunction of:",
             f"  per-request: ∀r. the record of r is one of these {len(reach)} (k·amount + c for integer fields):"]
    for sh in reach:
        ctl = ", ".join(f"{n}={v}" for n, v in zip(names, sh.ctl))
        ints = ", ".join(f"{f}={_kc(c, k)}" for f, (c, k) in zip(sys.int_fields, sh.ints))
        lines.append(f"    {ctl}, {ints}, amount {'≥ 1' if sh.picked else '= 0'}")
    meaning = {n: (m, f) for n, m, f in sys.invariants}
    for n in kept:
        if n in meaning:
            lines.append(f"  {n}: {text(meaning[n][1])}   ({meaning[n][0]})")
        elif n != "per-request":
            lines.append(f"  {n}: ∀(u,v). {n[: -len('-nonnegative')]}[u,v] ≥ 0")
    for n, why in dropped.items():
        lines.append(f"  (dropped, not inductive: {n}: {why})")
    lines.append("  ghost sums, each updated on every write: " + "; ".join(
        f"{s.name} = " + (" + ".join(f"Σ_r [{text(c)}]·({v})" for c, v in s.cases) if isinstance(s, ReqSum) else
                          f"#{{r : {text(s.pred)}}} by (user(r), {s.key})" if isinstance(s, ReqCount) else
                          f"Σ_(u,v) v·{s.map}[u,v]") for s in sys.sums))
    lines.append("  sum lemmas (valid for finite sums): (∀x. t(x) = 0) ⇒ Σ t = 0; "
                 "(∀x. t(x) ≥ 0) ⇒ Σ t ≥ 0")
    lines.append(f"  quiescent (nothing in flight): {text(sys.quiescent)}")
    lines.append(f"  faults: {', '.join(sorted(sys.faults)) or 'none'} (each any number of times)")
    return "\n".join(lines)


def _kc(c: int, k: int) -> str:
    if c == 0:
        return str(k)
    a = "amount" if c == 1 else "-amount" if c == -1 else f"{c}·amount"
    return a if k == 0 else f"{a} + {k}"


# ------------------------------------------------------------------ the entry point


def prove_parametric(spec: Spec, config: CheckConfig, properties: list[str] | None = None,
                     view: ParametricView | None = None, rlimit: int = 20 * DEFAULT_RLIMIT,
                     bmc_depth: int = 16) -> list[PropertyResult]:
    """Prove the spec's properties for any number of users and operations (any depth,
    amount and value of the view's parameters) on its parametric view (``view``, else the one
    the spec declares: ``find_view``); ``config`` gives the version, faults and network.

    PROVED only when the view agrees with the concrete semantics on the view's small
    scenarios, z3 answered unsat on every obligation and the re-check accepted the
    certificate. A property not proved gets a concrete counterexample from BMC (data
    symbolic, depth ``bmc_depth``) in those scenarios where one exists (VIOLATED, or
    EXPECTED-FAIL), else UNKNOWN saying why; solver ``unknown`` (``rlimit``) is UNKNOWN.
    One result per property: ``properties``, else ``config.properties``, else every
    property the view restates."""
    start = time.perf_counter()
    pview = view or find_view(spec)
    names = properties if properties is not None else config.properties
    sys = pview.system(config.params, config.faults) if pview is not None else "the spec declares no parametric view"
    if names is not None:
        wanted = [p for p in spec.properties if p.name in names]
    else:
        wanted = [p for p in spec.properties if isinstance(sys, ParametricSystem) and sys.prop(p.name) is not None]
    base: dict[str, dict[str, Any]] = {p.name: dict(name=p.name, kind=p.shown_kind, meaning=p.meaning,
                                                    expected_to_fail=p.expected_to_fail, engine=Engine.PROVE)
                                       for p in wanted}
    claim = "for any number of users and operations (not proved)"
    if not isinstance(sys, ParametricSystem) or pview is None:
        return [PropertyResult(**base[p.name], verdict=UNKNOWN, bound=claim, detail=str(sys)) for p in wanted]
    validate(sys)
    formulas = {p.name: f.formula for p in wanted for f in [sys.prop(p.name)] if f is not None}
    vc = check_scenarios(spec, config, pview)
    reach = request_reach(sys)
    enc = _Enc(sys, reach.shapes)
    outcome = _induct(enc, rlimit) if vc.problem is None and reach.complete else None
    safe: dict[str, tuple[bool | None, str]] = {}
    rechecked: dict[str, str | None] = {}
    if outcome is not None and outcome.unknown is None:
        safe = {n: _safe(enc, outcome.kept, f, rlimit) for n, f in formulas.items()}
        proved = [n for n, (ok, _) in safe.items() if ok]
        if proved:
            rechecked = dict(zip(proved, recheck(sys, reach.shapes, outcome.kept, [formulas[n] for n in proved],
                                                 rlimit)))
    faults = ", ".join(sorted(config.faults)) or "none"
    also = f" (so also {config.network}: its runs are unordered runs)" if config.network != "unordered" else ""
    times = " (each any number of times)" if config.faults else ""
    scope = f"; {sys.name}; faults: {faults}{times}; network unordered{also}"
    never = [r.name for r in _rules(sys) if r.name not in vc.taken]
    untaken = f"; rules no concrete step took there: {', '.join(never)}" if never else "; every rule taken there"
    results = []
    for p in wanted:
        if p.name not in formulas:
            results.append(PropertyResult(**base[p.name], verdict=UNKNOWN, bound=claim,
                                          detail="the parametric view does not restate this property"))
            continue
        if vc.problem is not None:
            why = f"the parametric view does not match the concrete semantics: {vc.problem}"
        elif not reach.complete:
            why = "one request's records are not finite (the search stopped)"
        elif outcome is None or outcome.unknown is not None:
            why = outcome.unknown if outcome is not None and outcome.unknown else "induction not run"
        else:
            ok, why = safe[p.name]
            err = rechecked.get(p.name) if ok else None
            if ok and err is None:
                results.append(PropertyResult(
                    **base[p.name], verdict=PROVED, bound=proved_text(sys) + scope,
                    certificate=certificate_text(sys, reach.shapes, outcome.kept, outcome.dropped),
                    detail=(f"1-induction over the per-request view ({len(_rules(sys))} rules, "
                            f"{len(reach.shapes)} request records, {outcome.checks} obligations, "
                            f"{time.perf_counter() - start:.1f} s); certificate re-checked by a separate solver "
                            f"(initiation, consecution of every rule, implies the property); view checked against "
                            f"the concrete semantics on {vc.worlds:,} worlds and {vc.steps:,} steps "
                            f"({'; '.join(vc.scenarios)}){untaken}")))
                continue
            if ok:
                why = f"the re-check rejects the certificate: {err}"
            elif ok is False and outcome.dropped:
                why += "; dropped as not inductive: " + "; ".join(f"{n}: {w}" for n, w in outcome.dropped.items())
        results.append(_unproved(spec, config, pview, p.name, base[p.name], why, claim, bmc_depth))
    return results


def _unproved(spec: Spec, config: CheckConfig, pview: ParametricView, name: str, base: dict[str, Any], why: str,
              claim: str, depth: int) -> PropertyResult:
    """Not proved: a concrete counterexample from BMC (data symbolic) in the view's
    scenarios if there is one (VIOLATED / EXPECTED-FAIL, replayable), else UNKNOWN."""
    from checker.engines.symbolic.bmc import bmc

    tried: set[tuple[Any, ...]] = set()
    for cfg in scenario_configs(spec, config, pview):
        shape = tuple((k, v) for k, v in cfg.params.items() if k not in spec.symbolic_params
                      and not isinstance(v, tuple))  # BMC makes data (amounts, symbolic params) symbolic
        if shape in tried:
            continue
        tried.add(shape)
        r = bmc(spec, dataclasses.replace(cfg, properties=(name,)), depth).result(name)
        if r.verdict in (VIOLATED, EXPECTED_FAIL) and r.trace is not None:
            return PropertyResult(**base, verdict=r.verdict, bound=r.bound, trace=r.trace,
                                  trace_config=r.trace_config,
                                  detail=f"a counterexample in {spec.describe(cfg.params)}: {r.detail}; "
                                         f"not proved for any number of users: {why}")
    return PropertyResult(**base, verdict=UNKNOWN, bound=claim,
                          detail=f"{why}; no concrete counterexample by BMC (depth {depth}, data symbolic) in the "
                                 f"view's {len(tried)} scenario(s)")
