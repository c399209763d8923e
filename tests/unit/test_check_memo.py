"""Memoised property checks (``CheckMemo``/``Judge``) agree with direct evaluation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.errors import SpecError
from checker.model.property_eval import MEMO_TRIAL, CheckMemo, Judge, goal_met, required_goals, violated_at
from checker.model.semantics import KeyView, Semantics
from spec.tim3 import SPEC
from tests.tim3_helpers import config
from tests.unit.test_world_keys import reachable


def _judge_agrees(sem: Semantics, worlds: list[Any]) -> None:
    judge = Judge(sem)
    for w in worlds:
        key = sem.key_of(w)
        view = sem.view(w)
        for p in SPEC.properties + SPEC.invariants:
            assert judge.violated(p, key) == violated_at(sem, p, w), p.name
            if p.kind == "sometimes":
                for g in required_goals(sem, p):
                    assert judge.goal(p, g, key) == goal_met(sem, p, g, view), g


@pytest.mark.parametrize(
    "case",
    [dict(version="v1", users=2, ops=2), dict(version="v3", users=2, ops=1, faults=("loss",)),
     dict(version="v2", users=1, ops=2, faults=("unlock-fail",), network="fifo")],
    ids=lambda c: "-".join(str(v) for v in c.values()),
)
def test_memoised_checks_equal_direct_evaluation(case: dict[str, Any]) -> None:
    sem = Semantics(SPEC, config(**case))
    worlds = reachable(sem, 1500)
    _judge_agrees(sem, worlds)
    _judge_agrees(sem, list(reversed(worlds)))  # memo filled in another order


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_memoised_checks_on_random_runs(rnd: Any) -> None:
    sem = Semantics(SPEC, config(version="v1", users=3, ops=2, faults=("handler-error",)))
    w, worlds = sem.initial(), []
    for _ in range(25):
        succ = list(sem.successors(w))
        if not succ:
            break
        w = rnd.choice(succ)[1]
        worlds.append(w)
    _judge_agrees(sem, worlds)


def test_key_view_reads_what_the_world_view_reads() -> None:
    sem = Semantics(SPEC, config(version="v3", users=2, ops=1))
    for w in reachable(sem, 200):
        kv, v = KeyView(sem, sem.key_of(w)), sem.view(w)
        assert (kv.coordinator, kv["token"], kv.of_kind("user")) == (v.coordinator, v["token"], v.of_kind("user"))
        assert (kv.in_flight, kv.quiescent) == (v.in_flight, v.quiescent)
        for action in ("UpdatePosition", "Mint", "no-such-action"):
            assert kv.in_flight_of(action) == v.in_flight_of(action) == tuple(
                m for m in v.in_flight if m.action == action)
        assert kv.obligations("update-follows-success") == v.obligations("update-follows-success")
        assert kv.obligations("no-such-property") is None


def test_memo_hits_reads_only_what_was_read_and_detects_impure_checks() -> None:
    sem = Semantics(SPEC, config(version="v3", users=2, ops=1))
    worlds = reachable(sem, 300)
    calls = []

    def check(v: Any) -> bool:
        calls.append(1)
        return bool(v.token.supply <= 1)

    memo = CheckMemo(sem, check)
    results = [memo(sem.key_of(w)) for w in worlds]
    assert results == [w.procs[sem.index["token"]].supply <= 1 for w in worlds]
    assert len(calls) == len({id(w.procs[sem.index["token"]]) for w in worlds})  # one per token state

    flip = iter(range(10**6))
    impure = CheckMemo(sem, lambda v: bool(v.token if next(flip) % 2 == 0 else v.coordinator))
    key = sem.key_of(worlds[0])
    impure(key)  # reads the token
    with pytest.raises(SpecError, match="pure functions"):
        impure._miss(key)  # the same world, but now it reads the coordinator


def test_a_memo_that_mostly_misses_is_switched_off() -> None:
    sem = Semantics(SPEC, config(version="v3", users=2, ops=2))
    keys = [sem.key_of(w) for w in reachable(sem, MEMO_TRIAL + 500)]
    memo = CheckMemo(sem, lambda v: len(v.in_flight) < 3)
    assert [memo(k) for k in keys] == [len(sem.knet.serials(k[sem.nprocs])) < 3 for k in keys]
    assert not memo.enabled and memo.root is None


@pytest.mark.parametrize("network", ["unordered", "fifo"])
def test_memo_keyed_by_the_messages_of_one_action(network: str) -> None:
    """A check reading only ``in_flight_of(action)`` is evaluated once per distinct set of
    such messages (and other parts read), not once per network, and agrees with direct
    evaluation."""
    sem = Semantics(SPEC, config(version="v3", users=2, ops=2, network=network))
    worlds = reachable(sem, 2000)
    calls = []

    def check(v: Any) -> bool:
        calls.append(1)
        return sum(m.tag("Amount") for m in v.in_flight_of("UpdatePosition")) <= 1  # type: ignore[no-any-return]

    memo = CheckMemo(sem, check)
    assert [memo(sem.key_of(w)) for w in worlds] == [check(sem.view(w)) for w in worlds]
    distinct = {tuple(m for m in sem.view(w).in_flight if m.action == "UpdatePosition") for w in worlds}
    assert len(calls) == len(distinct) + len(worlds)  # memo misses + the direct evaluations above
    assert len({sem.key_of(w)[sem.nprocs] for w in worlds}) > 2 * len(distinct)  # networks differ far more
