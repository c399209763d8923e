"""Parameterised proofs (checker/engines/symbolic/parametric.py) on TIM3's per-request view
(spec/tim3/parametric.py): v3 PROVED for any number of users and operations, v1, v2 and
the mutants never; the view checked against the concrete semantics step by step; the z3
encoding of every rule checked against the Python interpretation of the same rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import z3

from checker.config import CheckConfig
from checker.engines.parametric_check import (
    Stepper, check_scenarios, check_view, find_view, request_reach, scenario_configs, sum_value,
)
from checker.model.parametric_spec import (
    KeySum, ParametricSystem, PState, ReqCount, ReqSum, Rule, eq, glob, validate,
)
from checker.errors import SpecError
from checker.result import EXPECTED_FAIL, PROVED, UNKNOWN, VIOLATED
from checker.engines.symbolic.parametric import PROVED_TEXT, _Enc, _induct, prove_parametric, recheck
from spec.tim3 import SPEC
from spec.tim3.parametric import PARAMETRIC, parametric_system
from tests.symbolic.mutants import MUTANT_SCENARIOS, mutants
from tests.tim3_helpers import config

FIVE = ["positions-match-supply-inflight", "collateral-backs-supply", "positions-match-supply",
        "every-request-answered", "update-follows-success"]
SPEC_FAULTS = ("lock-fail", "mint-fail", "unlock-fail")
FAULT_SETTINGS = [(), ("lock-fail",), ("mint-fail",), ("unlock-fail",), SPEC_FAULTS]


def _system(version: str, faults: tuple[str, ...] = ()) -> ParametricSystem:
    cfg = config(version=version, faults=faults)
    sys = parametric_system(cfg.params, cfg.faults)
    assert isinstance(sys, ParametricSystem), sys
    return sys


def _rule_names(sys: ParametricSystem) -> set[str]:
    return {r.name for r in sys.enabled_rules()} | {k.name for k in sys.key_rules}


# ------------------------------------------------------------------ the proofs


@pytest.mark.parametrize("faults", [(), SPEC_FAULTS], ids=["no-fault", "all-spec-faults"])
def test_v3_proved_for_any_number_of_users_and_operations(faults: tuple[str, ...]) -> None:
    res = {r.name: r for r in prove_parametric(SPEC, config(version="v3", faults=faults))}
    assert sorted(res) == sorted([*FIVE, "positions-match-supply-strict"])
    strict = res.pop("positions-match-supply-strict")  # expected to fail, with a real 5-step trace
    assert strict.verdict == EXPECTED_FAIL and strict.trace is not None and len(strict.trace) == 5
    for r in res.values():
        assert r.verdict == PROVED, (r.name, r.detail)
        assert r.bound.startswith(f"{PROVED_TEXT}, any amount ≥ 1, any collateral ≥ 0, any max_supply ≥ 0; "), r.bound
        assert "re-checked by a separate solver" in r.detail and "view checked against the concrete" in r.detail
        assert r.certificate is not None and "per-request: ∀r." in r.certificate
        assert "supply-accounted" in r.certificate and "obligations-are-owed-updates" in r.certificate


def test_v1_is_not_proved_and_its_real_counterexample_shows() -> None:
    res = {r.name: r for r in prove_parametric(SPEC, config(version="v1"), properties=FIVE)}
    ufs = res["update-follows-success"]
    assert ufs.verdict == VIOLATED and ufs.trace is not None and len(ufs.trace) == 7  # the seed's bug, 7 steps
    assert "counterexample to induction" in ufs.detail and "no UpdatePosition" in ufs.detail
    assert ufs.trace_config is not None and ufs.trace_config.params["users"] == 1
    for name in ("positions-match-supply", "positions-match-supply-inflight", "collateral-backs-supply"):
        assert res[name].verdict == VIOLATED and res[name].trace is not None, name
    # v1 does answer every request exactly once: true, and proved as such
    assert res["every-request-answered"].verdict == PROVED


def test_v2_is_not_proved() -> None:
    r = prove_parametric(SPEC, config(version="v2", faults=("unlock-fail",)), properties=["update-follows-success"])[0]
    assert r.verdict == VIOLATED and r.trace is not None and len(r.trace) == 15  # the refused unlock
    res = {r.name: r for r in prove_parametric(SPEC, config(version="v2"), bmc_depth=8,
                                               properties=["collateral-backs-supply", "update-follows-success"])}
    assert res["collateral-backs-supply"].verdict == VIOLATED  # a binding cap, found with symbolic data
    # true without unlock-fail, but v2's per-request records include a refused unlock
    assert res["update-follows-success"].verdict == UNKNOWN
    assert "counterexample to induction" in res["update-follows-success"].detail


@pytest.mark.parametrize("name", sorted(MUTANT_SCENARIOS))
def test_mutants_are_never_proved(name: str) -> None:
    sc = MUTANT_SCENARIOS[name]
    res = prove_parametric(mutants()[name], config(version="v3", faults=sc["faults"]), properties=[sc["props"][-1]])
    for r in res:
        assert r.verdict == VIOLATED and r.trace is not None, (name, r.name, r.detail)
        assert "does not match the concrete semantics" in r.detail, r.detail


@pytest.mark.slow
@pytest.mark.parametrize("faults", FAULT_SETTINGS)
@pytest.mark.parametrize("name", sorted(MUTANT_SCENARIOS))
def test_mutants_are_never_proved_any_property(name: str, faults: tuple[str, ...]) -> None:
    for r in prove_parametric(mutants()[name], config(version="v3", faults=faults)):
        assert r.verdict != PROVED, (name, faults, r.name)


@pytest.mark.slow
@pytest.mark.parametrize("faults", FAULT_SETTINGS[1:4])
def test_v3_proved_under_each_fault(faults: tuple[str, ...]) -> None:
    for r in prove_parametric(SPEC, config(version="v3", faults=faults), properties=FIVE):
        assert r.verdict == PROVED, (r.name, r.detail)


def test_engine_faults_and_lua_are_unknown_with_the_reason() -> None:
    r = prove_parametric(SPEC, config(version="v3", faults=("loss",)), properties=["positions-match-supply"])[0]
    assert r.verdict == UNKNOWN and "does not model the fault(s) loss" in r.detail
    cfg = config(version="v3")
    lua = dataclasses.replace(cfg, params=cfg.params.set("impl", "lua"))
    assert prove_parametric(SPEC, lua, properties=["positions-match-supply"])[0].verdict == UNKNOWN


def test_solver_limit_is_unknown_never_proved() -> None:
    r = prove_parametric(SPEC, config(version="v3", users=1, ops=1), properties=["positions-match-supply-inflight"],
                         rlimit=2_000, bmc_depth=4)[0]
    assert r.verdict == UNKNOWN and "unknown" in r.detail


def test_the_spec_declares_its_view() -> None:
    assert find_view(SPEC) is PARAMETRIC
    assert find_view(mutants()["missing-burn-update"]) is PARAMETRIC  # same source: the check must catch it


# ------------------------------------------------------------------ the certificate


def test_recheck_accepts_the_certificate_and_rejects_broken_ones() -> None:
    sys = _system("v3")
    reach = request_reach(sys).shapes
    out = _induct(_Enc(sys, reach), 10**8)
    assert out.unknown is None and not out.dropped
    formula = sys.prop("positions-match-supply")
    assert formula is not None
    bogus = eq(glob("positions"), glob("supply"))  # an invariant that does not imply the property
    assert recheck(sys, reach, out.kept, [formula.formula, bogus], 10**8) == [None, "safety: fails"]
    # without the per-request records the ghost-sum equations are not inductive
    err = recheck(sys, reach, [n for n in out.kept if n != "per-request"], [formula.formula], 10**8)[0]
    assert err is not None and err.startswith("consecution")
    # a record left out: the step into it breaks consecution
    err = recheck(sys, reach[:-1], out.kept, [formula.formula], 10**8)[0]
    assert err is not None and "consecution" in err



def test_per_request_records_of_v3() -> None:
    reach = request_reach(_system("v3"))
    assert reach.complete and len(reach.shapes) == 26
    stages = {sh.ctl[0] for sh in reach.shapes}
    assert stages == {"unsent", "new", "locking", "minting", "rollback", "burning", "unlocking", "closed"}
    # a closed request with nothing in flight has had exactly one answer
    assert all(sh.ints[1] == (0, 1) for sh in reach.shapes if sh.ctl[0] == "closed" and sh.ctl[1] == "none")


def test_a_sum_reading_more_than_its_request_is_rejected() -> None:
    sys = _system("v3")
    bad = dataclasses.replace(sys, sums=sys.sums + (ReqSum("odd", ((eq(glob("supply"), 0), glob("supply")),)),))
    with pytest.raises(SpecError, match="only the request's own amount and fields"):
        validate(bad)


# ------------------------------------------------------------------ the view against the concrete semantics


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@pytest.mark.parametrize("faults", [f if len(f) != 1 else pytest.param(f, marks=pytest.mark.slow)
                                    for f in FAULT_SETTINGS])
def test_view_matches_the_concrete_semantics(version: str, faults: tuple[str, ...]) -> None:
    """1×1, 1×2, 2×1 (and tight data: refusals for collateral, cap and balance)."""
    vc = check_scenarios(SPEC, config(version=version, faults=faults), PARAMETRIC)
    assert vc.problem is None, vc.problem
    assert vc.worlds > 500 and vc.steps > vc.worlds
    sys = _system(version, faults)
    never = _rule_names(sys) - vc.taken
    # only the unlock the Lock Manager refuses for want of locked collateral never happens
    # (and what follows it) — with unlock-fail it happens as a fault
    allowed = {"lock: UnlockCollateral refused (locked < amount)",
               "coordinator: UnlockCollateral-Failed (answers error)",
               "coordinator: UnlockCollateral-Failed (retry the unlock)", "state: UpdatePosition applied"}
    assert never <= allowed, never
    if "unlock-fail" in faults:
        assert never == {"lock: UnlockCollateral refused (locked < amount)"} | (
            {"state: UpdatePosition applied"} if version == "v1" else set())


@pytest.mark.slow
@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@pytest.mark.parametrize("faults", FAULT_SETTINGS)
def test_view_matches_the_concrete_semantics_2x2(version: str, faults: tuple[str, ...]) -> None:
    vc = check_view(SPEC, config(version=version, users=2, ops=2, faults=faults), PARAMETRIC, max_worlds=2_000_000)
    assert vc.problem is None, vc.problem


def test_view_check_pins_counts() -> None:
    vc = check_view(SPEC, config(version="v3", users=2, ops=1), PARAMETRIC)
    assert (vc.worlds, vc.steps, vc.problem) == (225, 450, None)  # every world, no symmetry


@pytest.mark.parametrize("name", sorted(MUTANT_SCENARIOS))
def test_view_check_catches_every_mutant(name: str) -> None:
    vc = check_scenarios(mutants()[name], config(version="v3", faults=MUTANT_SCENARIOS[name]["faults"]), PARAMETRIC)
    assert vc.problem is not None, name


def test_view_check_names_the_divergent_step() -> None:
    vc = check_view(mutants()["missing-burn-update"], config(version="v3", users=1, ops=2), PARAMETRIC)
    assert vc.problem is not None and "Burn-Response" in vc.problem and "is no step of the view" in vc.problem


# ------------------------------------------------------------------ z3 encoding = Python interpretation


def _pin(enc: _Enc, st: PState) -> tuple[list[z3.BoolRef], Any, dict[str, Any], dict[str, Any]]:
    """Constraints fixing the symbolic pre-state to ``st`` (a finite model)."""
    sys = enc.sys
    pre = enc.state("pre")
    reqs = {rid: z3.Const(f"req_{rid}", enc.Req) for rid, _ in st.reqs}
    users = {u: z3.Const(f"usr_{u}", enc.User) for u in st.users}
    x, u, v = z3.Const("x", enc.Req), z3.Const("u", enc.User), z3.Const("v", enc.Int)
    cs: list[z3.BoolRef] = [z3.Distinct(*reqs.values()), z3.ForAll([x], z3.Or(*[x == r for r in reqs.values()]))]
    if len(users) > 1:
        cs.append(z3.Distinct(*users.values()))
    cs.append(z3.ForAll([u], z3.Or(*[u == w for w in users.values()])))
    cs.append(enc.param_ok)
    cs += [enc.params[p] == val for p, val in st.params]
    for rid, rec in st.reqs:
        r = reqs[rid]
        cs.append(enc.user_of(r) == users[rec.user])
        cs += [pre.ctl[f](r) == enc.enum[f][1][val] for (f, _), val in zip(sys.control, rec.ctl)]
        cs.append(pre.amount(r) == rec.amount)
        cs += [pre.ints[f](r) == val for f, val in zip(sys.int_fields, rec.ints)]
    cs += [pre.glob[g] == val for g, val in st.globals]
    cs += [pre.umaps[m](users[w]) == val for m, vals in st.user_maps for w, val in vals]

    def table(counts: dict[tuple[str, int], int], f: Any) -> z3.BoolRef:
        body: Any = enc.num(0)
        for (w, k), n in counts.items():
            body = z3.If(z3.And(u == users[w], v == k), n, body)
        return z3.ForAll([u, v], f(u, v) == body)

    cs += [table(dict(m), pre.kmaps[name]) for name, m in st.key_maps]
    for s in sys.sums:
        if isinstance(s, ReqCount):
            keys = {(rec.user, k) for _, rec in st.reqs for k in range(-4, 5)}
            cs.append(table({k: sum_value(sys, st, s.name, k) for k in keys}, pre.sums[s.name]))
        else:
            cs.append(pre.sums[s.name] == sum_value(sys, st, s.name))
    return cs, pre, reqs, users


def _agree(enc: _Enc, st: PState, rule: Any, on: Any, amount: int | None, py: PState | None) -> str | None:
    cs, pre, reqs, users = _pin(enc, st)
    guard, post, _, own = enc.step(rule, pre)
    if isinstance(rule, Rule):
        cs.append(own["r0"] == reqs[on])
        if own["a0"] is not None:
            cs.append(own["a0"] == amount)
    else:
        cs += [own["key"][0] == users[on[0]], own["key"][1] == on[1]]
    s = enc.solver(10**8)
    s.add(*cs, guard)
    enabled = s.check()
    if enabled == z3.unknown or (enabled == z3.sat) != (py is not None):
        return f"{rule.name} on {on}: z3 says {enabled}, Python {'enabled' if py else 'disabled'}"
    if py is None:
        return None
    sys = enc.sys
    diffs: list[z3.BoolRef] = []
    for rid, rec in py.reqs:
        r = reqs[rid]
        diffs += [post.ctl[f](r) != enc.enum[f][1][val] for (f, _), val in zip(sys.control, rec.ctl)]
        diffs.append(post.amount(r) != rec.amount)
        diffs += [post.ints[f](r) != val for f, val in zip(sys.int_fields, rec.ints)]
    diffs += [post.glob[g] != val for g, val in py.globals]
    diffs += [post.umaps[m](users[w]) != val for m, vals in py.user_maps for w, val in vals]
    keys = {k for _, m in st.key_maps for k, _ in m} | {k for _, m in py.key_maps for k, _ in m} | {
        (rec.user, k) for _, rec in py.reqs for k in range(-4, 5)}
    for name, m in py.key_maps:
        diffs += [post.kmaps[name](users[w], k) != dict(m).get((w, k), 0) for w, k in keys]
    for sm in sys.sums:
        if isinstance(sm, ReqCount):
            diffs += [post.sums[sm.name](users[w], k) != sum_value(sys, py, sm.name, (w, k)) for w, k in keys]
        elif isinstance(sm, (ReqSum, KeySum)):
            diffs.append(post.sums[sm.name] != sum_value(sys, py, sm.name))
    s.add(enc.disj(diffs))
    r = s.check()
    return None if r == z3.unsat else f"{rule.name} on {on}: the z3 post-state differs from Python's ({r})"


def _sample_views(version: str, faults: tuple[str, ...], every: int) -> list[PState]:
    from checker.model.semantics import KeyView, Semantics

    out: list[PState] = []
    for cfg in scenario_configs(SPEC, config(version=version, faults=faults), PARAMETRIC)[3:]:
        cfg = dataclasses.replace(cfg, properties=None)
        sem = Semantics(SPEC, cfg)
        seen, todo, n = {sem.initial_key()}, [sem.initial_key()], 0
        while todo:
            key = todo.pop(0)
            if n % every == 0:
                out.append(PARAMETRIC.view(KeyView(sem, key), cfg.params))
            n += 1
            for _, k2 in sem.expand(key):
                if k2 not in seen:
                    seen.add(k2)
                    todo.append(k2)
    return out


@pytest.mark.parametrize("version, faults", [("v3", SPEC_FAULTS), pytest.param("v1", (), marks=pytest.mark.slow),
                                             pytest.param("v2", ("unlock-fail",), marks=pytest.mark.slow)])
def test_z3_encoding_of_every_rule_agrees_with_python(version: str, faults: tuple[str, ...]) -> None:
    """On sampled reachable views (tight data: refusals happen): every rule, on every
    request (key), is enabled in z3 exactly when in Python, with the same post-state,
    ghost sums included."""
    sys = _system(version, faults)
    enc = _Enc(sys, request_reach(sys).shapes)
    stepper = Stepper(sys)
    tried: dict[str, int] = {}
    for st in _sample_views(version, faults, every=1):
        for rule in stepper.rules:
            for rid, rec in st.reqs:
                if rule not in stepper.matching(rec.ctl) or tried.get(rule.name, 0) >= 3:
                    continue  # control does not match (both sides disabled), or tried enough
                for a in ((1, 2) if rule.fresh_amount else (None,)):
                    err = _agree(enc, st, rule, rid, a, stepper.apply(st, rule, rid, a))
                    assert err is None, err
                tried[rule.name] = tried.get(rule.name, 0) + 1
        for kr in sys.key_rules:
            for key, _ in dict(st.key_maps)[kr.source]:
                if tried.get(kr.name, 0) < 3:
                    err = _agree(enc, st, kr, key, None, stepper.apply_key(st, kr, key))
                    assert err is None, err
                    tried[kr.name] = tried.get(kr.name, 0) + 1
    taken: set[str] = set()
    for cfg in scenario_configs(SPEC, config(version=version, faults=faults), PARAMETRIC)[3:]:
        taken |= check_view(SPEC, cfg, PARAMETRIC).taken
    assert taken <= set(tried), sorted(taken - set(tried))  # every rule the concrete system takes there
    assert len(tried) >= len(_rule_names(sys)) - 2


def test_ghost_sums_match_their_sums_on_views() -> None:
    """The inductive invariant's equations hold on every sampled reachable view of v3."""
    sys = _system("v3", SPEC_FAULTS)
    st = Stepper(sys)
    for v in _sample_views("v3", SPEC_FAULTS, every=7):
        assert all(st.holds(v, [f for _, _, f in sys.invariants])), v.describe(sys)
        assert sum_value(sys, v, "unsent_changes") == dict(v.globals)["supply"] - dict(v.globals)["positions"] - \
            sum_value(sys, v, "updates_in_flight")


def test_scenario_configs_derive_defaults_again() -> None:
    cfgs = scenario_configs(SPEC, config(version="v3", users=3, ops=3), PARAMETRIC)
    assert [(c.params["users"], c.params["ops"]) for c in cfgs[:3]] == [(1, 1), (1, 2), (2, 1)]
    assert cfgs[0].params["collateral"] == 1 and cfgs[1].params["max_supply"] == 2  # derived, not 3×3's
    assert all(isinstance(c, CheckConfig) and c.properties is None and c.network == "unordered" for c in cfgs)
