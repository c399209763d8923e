"""Unbounded proofs: v3's always-properties are PROVED (with a re-checked certificate);
v1 and the mutants are never PROVED."""

from __future__ import annotations

import pytest

from checker.engines.symbolic.prove import prove
from checker.result import PROVED, UNKNOWN, VIOLATED
from checker.engines.symbolic.prove import check_certificate
from spec.tim3 import SPEC
from tests.symbolic.mutants import MUTANT_SCENARIOS, mutants
from tests.tim3_helpers import config

PROPS = ["positions-match-supply-inflight", "collateral-backs-supply"]


@pytest.mark.parametrize("users, ops", [(1, 1), pytest.param(1, 2, marks=pytest.mark.slow),
                                        pytest.param(2, 1, marks=pytest.mark.slow)])
def test_v3_always_properties_proved(users: int, ops: int) -> None:
    res = prove(SPEC, config(version="v3", users=users, ops=ops), properties=PROPS)
    assert res.engine == "prove"
    for r in res.results:
        assert r.verdict == PROVED, (r.name, r.detail)
        assert r.certificate is not None and "inductive invariant" in r.certificate
        assert "any depth" in r.bound and f"users {users}" in r.bound and "(fixed number of user processes)" in r.bound
        assert "re-checked by a separate solver" in r.detail


def test_v3_at_quiescence_property_proved_through_always_form() -> None:
    r = prove(SPEC, config(version="v3", users=1, ops=1), properties=["positions-match-supply"]).results[0]
    assert r.verdict == PROVED


def test_v1_never_proved() -> None:
    res = prove(SPEC, config(version="v1", users=1, ops=1),
                properties=["positions-match-supply-inflight", "positions-match-supply"])
    for r in res.results:
        assert r.verdict in (VIOLATED, UNKNOWN), r.name
        assert r.verdict != PROVED


def test_kind_alone_reports_counterexample_to_induction_not_violation() -> None:
    import dataclasses

    bare = dataclasses.replace(SPEC, invariants=())  # the property alone is not inductive
    r = prove(bare, config(version="v3", users=1, ops=1), properties=["positions-match-supply-inflight"],
              method="kind").results[0]
    assert r.verdict == UNKNOWN
    assert "counterexample-to-induction" in r.detail


def test_certificate_checker_rejects_a_wrong_certificate() -> None:
    import z3

    from checker.engines.symbolic.semantics import SymSemantics
    from checker.engines.symbolic.shapes import build_graph
    from checker.engines.symbolic.values import Oracle

    cfg = config(version="v3", users=1, ops=1)
    ss = SymSemantics(SPEC, cfg, Oracle())
    prop = SPEC.prop("collateral-backs-supply")
    assert prop is not None
    g = build_graph(ss, [prop], 1000)
    everything = {sh.sid: z3.BoolVal(True) for sh in g.shapes}
    assert check_certificate(g, everything, prop.name, 10**7) is not None  # True does not imply the property
    nothing = {sh.sid: z3.BoolVal(False) for sh in g.shapes}
    assert check_certificate(g, nothing, prop.name, 10**7) == "initiation: fails"


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if MUTANT_SCENARIOS[n]["ops"] > 1 else n
                                  for n in sorted(MUTANT_SCENARIOS)])
def test_mutants_never_proved(name: str) -> None:
    """auto tries 1-induction, reach, CHC, then BMC finds the real counterexample. The
    2-operation mutants' symbolic reachability never ends (a path condition per unrolling):
    at the default 50,000 states it costs hours, so reach stops at 2,000 here (the 1-operation
    mutants' reach ends well before)."""
    spec = mutants()[name]
    sc = MUTANT_SCENARIOS[name]
    res = prove(spec, config(version="v3", users=1, ops=sc["ops"]), properties=list(
        p for p in sc["props"] if SPEC.prop(p).kind in ("always", "at-quiescence")),  # type: ignore[union-attr]
        max_states=2_000)
    assert res.results
    for r in res.results:
        assert r.verdict == VIOLATED, (name, r.name, r.detail)
        assert r.trace is not None
