"""k-induction with TIM3's declared strengthening invariants (spec/tim3/invariants.py):
v3's always-properties are PROVED by 1-induction (method pinned), the invariants are
proved with them and never assumed, and v1 / the mutants are never PROVED."""

from __future__ import annotations

import dataclasses

import pytest

from checker.engines.explore import explore
from checker.engines.symbolic.prove import prove
from checker.result import HOLDS, PROVED, UNKNOWN, VIOLATED
from checker.model.spec import Property, View
from spec.tim3 import SPEC
from spec.tim3.invariants import INVARIANTS
from tests.symbolic.mutants import MUTANT_SCENARIOS, mutants
from tests.tim3_helpers import config

PROPS = ["positions-match-supply-inflight", "collateral-backs-supply"]
SPEC_FAULTS = ("lock-fail", "mint-fail", "unlock-fail")
INV_NAMES = [i.name for i in INVARIANTS if i.obligations_of is None]  # those the always-properties use


def _kind_proved(users: int, ops: int, faults: tuple[str, ...] = ()) -> None:
    res = prove(SPEC, config(version="v3", users=users, ops=ops, faults=faults), properties=PROPS, method="kind")
    for r in res.results:
        assert r.verdict == PROVED, (r.name, r.detail)
        assert r.detail.startswith("1-induction with invariants " + ", ".join(INV_NAMES)), r.detail
        assert "re-checked by a separate solver" in r.detail
        assert r.certificate is not None and "inductive invariant (1-induction)" in r.certificate
        for name in [r.name, *INV_NAMES]:
            assert f"  {name}: " in r.certificate


def test_spec_declares_the_invariants() -> None:
    assert SPEC.invariants == INVARIANTS and all(i.kind == "always" and i.meaning for i in INVARIANTS)


@pytest.mark.parametrize("users, ops", [(1, 1), (1, 2), (2, 1)])
def test_v3_proved_by_kind_with_invariants(users: int, ops: int) -> None:
    _kind_proved(users, ops)


def test_v3_proved_by_kind_with_invariants_under_spec_faults_one_op() -> None:
    _kind_proved(1, 1, SPEC_FAULTS)


@pytest.mark.slow
@pytest.mark.parametrize("users, ops", [(1, 2), (2, 1)])
def test_v3_proved_by_kind_with_invariants_under_spec_faults(users: int, ops: int) -> None:
    _kind_proved(users, ops, SPEC_FAULTS)


@pytest.mark.slow
def test_v3_proved_by_kind_with_invariants_three_users() -> None:
    """3 users × 1 op (7,770 shapes up to symmetry); 2 × 2 passes the shape limit."""
    _kind_proved(3, 1)


def test_invariants_hold_in_explicit_search() -> None:
    """Independent sanity check: the explicit engine finds no state violating one."""
    spec = dataclasses.replace(SPEC, properties=INVARIANTS, invariants=())
    res = explore(spec, config(version="v3", users=2, ops=1, amounts=(1, 2), faults=SPEC_FAULTS))
    assert [r.verdict for r in res.results] == [HOLDS] * len(INVARIANTS)


def test_v1_never_proved_by_kind() -> None:
    """Induction fails; the prover then hands back BMC's real counterexample (which
    replays concretely) or, where it finds none, UNKNOWN with the counterexample to
    induction — never PROVED."""
    res = prove(SPEC, config(version="v1", users=1, ops=1), properties=PROPS, method="kind")
    for r in res.results:
        assert r.verdict in (VIOLATED, UNKNOWN), r.name
        assert "counterexample-to-induction" in r.detail or "initial state" in r.detail
        if r.verdict == VIOLATED:
            assert r.trace is not None and r.trace_config is not None


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if MUTANT_SCENARIOS[n]["ops"] > 1 else n
                                  for n in sorted(MUTANT_SCENARIOS)])
def test_mutants_never_proved_by_kind(name: str) -> None:
    sc = MUTANT_SCENARIOS[name]
    res = prove(mutants()[name], config(version="v3", users=1, ops=sc["ops"], faults=sc["faults"]),
                properties=list(sc["props"]), method="kind")  # the properties the mutant breaks
    assert sorted(r.name for r in res.results) == sorted(sc["props"])  # each once, in the spec's order
    for r in res.results:
        assert r.verdict in (VIOLATED, UNKNOWN), (name, r.name)
        assert r.verdict != VIOLATED or r.trace is not None


def _supply_never_moves(w: View) -> bool:
    return bool(w.token.supply == 0)


def test_false_declared_invariant_is_reported_not_assumed() -> None:
    bogus = Property("inv-bogus-supply-zero", "always", "(deliberately false) the supply is always 0",
                     check=_supply_never_moves)
    spec = dataclasses.replace(SPEC, invariants=(*INVARIANTS, bogus))
    cfg = config(version="v3", users=1, ops=1)
    for r in prove(spec, cfg, properties=PROPS, method="kind").results:
        assert r.verdict == UNKNOWN
        assert "counterexample-to-induction" in r.detail and "inv-bogus-supply-zero" in r.detail
        assert r.certificate is None
    # under auto the properties are still proved, by a certificate that does not use it
    for r in prove(spec, cfg, properties=PROPS).results:
        assert r.verdict == PROVED
        assert "inv-bogus-supply-zero" not in (r.certificate or "")
        assert "inv-bogus-supply-zero" in r.detail or not r.detail.startswith("1-induction with invariants")


RESPONSE = "update-follows-success"


def _response(spec: object, version: str, users: int, ops: int, faults: tuple[str, ...] = ()) -> object:
    (r,) = prove(spec, config(version=version, users=users, ops=ops, faults=faults),  # type: ignore[arg-type]
                 properties=[RESPONSE], method="kind").results
    return r


@pytest.mark.parametrize("users, ops, faults", [(1, 1, ()), (1, 1, SPEC_FAULTS), (1, 2, ())])
def test_v3_response_proved_by_kind_with_the_obligation_invariant(users: int, ops: int,
                                                                  faults: tuple[str, ...]) -> None:
    r = _response(SPEC, "v3", users, ops, faults)
    assert r.verdict == PROVED, r.detail  # type: ignore[attr-defined]
    assert "inv-obligations-are-owed-updates" in r.detail  # type: ignore[attr-defined]
    assert "no open obligation at any quiescent state" in r.bound  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.parametrize("users, ops, faults", [(2, 1, ()), (1, 2, SPEC_FAULTS)])
def test_v3_response_proved_by_kind_larger(users: int, ops: int, faults: tuple[str, ...]) -> None:
    assert _response(SPEC, "v3", users, ops, faults).verdict == PROVED  # type: ignore[attr-defined]


def test_response_needs_the_obligation_invariant() -> None:
    """Without an invariant about the obligations, 1-induction fails on the response
    property (a counterexample to induction), and the result is UNKNOWN, not PROVED."""
    bare = dataclasses.replace(SPEC, invariants=tuple(i for i in INVARIANTS if i.obligations_of is None))
    r = _response(bare, "v3", 1, 1)  # already at 1 user x 1 op (1 x 2 is the same in 100x the time)
    assert r.verdict == UNKNOWN and "counterexample-to-induction" in r.detail  # type: ignore[attr-defined]


def test_v1_response_never_proved() -> None:
    """v1 never sends UpdatePosition: prove hands back BMC's real counterexample."""
    r = _response(SPEC, "v1", 1, 1)
    assert r.verdict == VIOLATED and r.trace is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize("version, holds", [("v3", True), ("v1", False)])
def test_obligation_invariant_in_explicit_search(version: str, holds: bool) -> None:
    """With update-follows-success tracked, the explicit engine finds the obligation
    invariant true in every reachable state of v3, and false for v1 (not vacuous)."""
    inv = next(i for i in INVARIANTS if i.obligations_of == RESPONSE)
    spec = dataclasses.replace(SPEC, properties=(inv, SPEC.prop(RESPONSE)), invariants=())  # type: ignore[arg-type]
    res = explore(spec, config(version=version, users=1, ops=2, amounts=(1, 2), faults=SPEC_FAULTS))
    assert (res.result(inv.name).verdict == HOLDS) is holds
