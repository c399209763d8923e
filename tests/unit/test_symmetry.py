"""Symmetry reduction is sound: same verdicts, same shortest lengths, concrete traces."""

from __future__ import annotations

import dataclasses

import pytest

from checker.errors import SpecError
from checker.model.semantics import Semantics
from checker.engines.symmetry import Symmetry, rename_value
from checker.model.values import FrozenMap, make_message
from spec.tim3 import SPEC
from spec.tim3.states import LockState
from tests.tim3_helpers import config, run, verdicts

CASES = [
    dict(version="v1", users=2, ops=1),
    dict(version="v2", users=2, ops=1, faults=("unlock-fail",)),
    dict(version="v2", users=3, ops=1, faults=("mint-fail",)),
    dict(version="v3", users=2, ops=1, amounts=(1, 2)),
    dict(version="v2", users=2, ops=1, faults=("adversary",)),
    dict(version="v1", users=2, ops=2, network="fifo"),
    dict(version="v3", users=2, ops=1, faults=("loss",)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_same_verdicts_and_shortest_lengths(case: dict) -> None:  # type: ignore[type-arg]
    reduced, full = run(**case), run(symmetry=False, **case)
    assert verdicts(reduced) == verdicts(full)
    assert reduced.stats.states < full.stats.states
    for a, b in zip(reduced.results, full.results):
        if b.verdict in ("VIOLATED", "EXPECTED-FAIL"):
            assert a.trace is not None and b.trace is not None
            assert len(a.trace) == len(b.trace), a.name


def test_counterexample_from_reduced_search_is_a_real_run() -> None:
    """Every step of a reduced-search counterexample is a real successor of the last."""
    r = run(version="v2", users=3, ops=1, faults=("mint-fail",))
    trace = r.result("collateral-backs-supply").trace
    assert trace is not None
    sem = Semantics(SPEC, config(version="v2", users=3, ops=1, faults=("mint-fail",)))
    w = sem.initial()
    assert w == trace.initial
    for step, after in trace.steps:
        assert (step, after) in list(sem.successors(w))
        w = after


def test_rename_rewrites_ids_and_derived_ids() -> None:
    ren = {"user1": "user2", "user2": "user1"}
    m = make_message("user1", "coordinator", "MintTIM3", {"Request": "user1#0", "User": "user2"})
    r = rename_value(m, ren)
    assert (r.src, r["Request"], r["User"]) == ("user2", "user2#0", "user1")
    s = LockState(FrozenMap({"user1": 1, "user2": 2}), FrozenMap())
    assert rename_value(s, ren) == LockState(FrozenMap({"user1": 2, "user2": 1}), FrozenMap())


def test_asymmetric_initial_state_is_rejected() -> None:
    def build(params):  # type: ignore[no-untyped-def]
        procs = SPEC.build(params)
        lock = procs[1]
        skewed = LockState(lock.init.free.set("user1", 0), lock.init.locked)
        return tuple(dataclasses.replace(p, init=skewed) if p.pid == "lock" else p for p in procs)

    spec = dataclasses.replace(SPEC, build=build)
    with pytest.raises(SpecError, match="declared symmetric"):
        Symmetry(Semantics(spec, config(users=2, ops=1)))
