"""All pending tests of a state judged in one memo (``PendingMemo``) agree with each test
judged directly, as the explorer uses it (a test leaves once it fires)."""

from __future__ import annotations

from typing import Any

import pytest

from checker.errors import SpecError
from checker.model.expectation import Form, expectation
from checker.model.property_eval import (
    MEMO_TRIAL,
    QUIET,
    CheckMemo,
    Judge,
    KeyTest,
    PendingMemo,
    goal_met,
    required_goals,
    violated_at,
)
from checker.model.semantics import Semantics, World, action_serials
from checker.model.spec import Property
from spec.tim3 import SPEC
from tests.tim3_helpers import config
from tests.unit.test_world_keys import reachable

Wanted = list[tuple[Property, str | None]]


def _wanted(sem: Semantics) -> Wanted:
    """Every property's violation test (those never violated at a world too: ``None``
    tests), then every required goal: the explorer's order."""
    props = list(SPEC.properties) + list(SPEC.invariants)
    goals: Wanted = [(p, g) for p in props if expectation(p).form is Form.REACHABLE for g in required_goals(sem, p)]
    return [(p, None) for p in props] + goals


def _fires(sem: Semantics, p: Property, g: str | None, w: World) -> bool:
    """The test judged directly on the world (no memo)."""
    return violated_at(sem, p, w) if g is None else goal_met(sem, p, g, sem.view(w))


def _first_firings(sem: Semantics, worlds: list[World]) -> tuple[dict[tuple[str, str | None], int], int]:
    """Run the pending tests over ``worlds`` in order as the explorer does; check every
    answer against direct evaluation; return where each test first fired and how many
    tests were still pending at the end."""
    pending = _wanted(sem)
    memo = Judge(sem).pending_memo(pending)
    first: dict[tuple[str, str | None], int] = {}
    for i, w in enumerate(worlds):
        fired = memo(sem.key_of(w))
        assert list(fired) == [j for j, (p, g) in enumerate(pending) if _fires(sem, p, g, w)], i
        for j in fired:
            first[(pending[j][0].name, pending[j][1])] = i
        pending = [t for j, t in enumerate(pending) if j not in fired]
        memo = memo.without(fired)
        assert len(memo.tests) == len(pending)
    return first, len(pending)


# a scenario; the worlds visited (BFS, the first 3000 or so), the tests that fire, those left pending
CASES = [
    (dict(version="v1", users=2, ops=2), (3625, 8, 11)),
    (dict(version="v3", users=2, ops=1, faults=("loss",)), (555, 12, 6)),
    (dict(version="v2", users=1, ops=2, faults=("unlock-fail",), network="fifo"), (168, 11, 8)),
    (dict(version="v1", users=2, ops=1, faults=("handler-error",)), (377, 12, 6)),
]


@pytest.mark.parametrize("case,pinned", CASES, ids=[str(i) for i in range(len(CASES))])
def test_pending_memo_agrees_with_direct_evaluation(case: dict[str, Any], pinned: tuple[int, int, int]) -> None:
    sem = Semantics(SPEC, config(**case))
    worlds = reachable(sem, 3000)
    first, left = _first_firings(sem, worlds)
    assert (len(worlds), len(first), left) == pinned  # tests fired and left; the others stayed to the end
    # where each test first fires is where direct evaluation first says so
    for (name, g), i in first.items():
        p = next(q for q, h in _wanted(sem) if q.name == name and h == g)
        assert not any(_fires(sem, p, g, w) for w in worlds[:i]), (name, g)


def test_first_firings_are_pinned_for_v1() -> None:
    """v1 2 × 2: where (BFS index) each test first fires, several at the same state."""
    sem = Semantics(SPEC, config(version="v1", users=2, ops=2))
    first, _ = _first_firings(sem, reachable(sem, 3000))
    assert first == {
        ("positions-match-supply-strict", None): 169, ("mint-and-burn-reachable", "a request is refused"): 266,
        ("positions-match-supply-inflight", None): 381, ("positions-match-per-user", None): 381,
        ("inv-obligations-are-owed-updates", None): 381, ("update-follows-success", None): 763,
        ("positions-match-supply", None): 763, ("mint-and-burn-reachable", "mint succeeds"): 763,
    }


def test_one_walk_per_state_and_each_part_read_once() -> None:
    """Once warm, a state costs one trie walk: no test's own memo is consulted, and no
    part is read twice on any path."""
    sem = Semantics(SPEC, config(version="v3", users=2, ops=2))
    keys = [sem.key_of(w) for w in reachable(sem, 2000)]
    judge = Judge(sem)
    wanted = [(p, None) for p in SPEC.properties if expectation(p).at_worlds]
    memo = judge.pending_memo(wanted)
    first = [memo(k) for k in keys]
    inner = [t.memo for t in memo.tests if t is not None and t.memo is not None]
    before = [(m.hits, m.misses) for m in inner]
    misses = memo.misses
    assert [memo(k) for k in keys] == first
    assert [(m.hits, m.misses) for m in inner] == before and memo.misses == misses
    assert memo.hits >= len(keys)
    assert misses < len(keys) // 2  # the memo pays: most states share a recorded path

    def paths(node: Any, seen: tuple[Any, ...]) -> int:
        if type(node) is not list:
            return 1
        assert node[0] not in seen, node[0]
        children = [node[2]] if len(node) == 3 else list(node[1].values())
        assert len(node) == 3 or len(children) >= 2  # a node with one child is the short form
        return sum(paths(child, seen + (node[0],)) for child in children)

    assert paths(memo.root, ()) == misses
    assert memo.root[0] == QUIET  # the first test is at-quiescence: its gate is read first


def test_quiescence_gates_at_quiescence_tests() -> None:
    """An at-quiescence test whose check would crash off quiescence is never evaluated there."""
    sem = Semantics(SPEC, config(version="v3", users=1, ops=1))
    keys = [sem.key_of(w) for w in reachable(sem, 300)]
    calls: list[bool] = []

    def check(v: Any) -> bool:
        calls.append(v.quiescent)
        return True

    memo = PendingMemo(sem, [KeyTest(lambda k: False, True, CheckMemo(sem, check)), None])
    assert all(memo(k) == () for k in keys)
    assert calls and all(calls)


def test_an_impure_check_is_refused() -> None:
    sem = Semantics(SPEC, config(version="v3", users=2, ops=1))
    key = sem.key_of(reachable(sem, 10)[0])

    def off(memo: CheckMemo) -> CheckMemo:  # evaluated on every call: only the combined memo can see it
        memo.enabled, memo.root, memo.view = False, None, sem.key_view(key)
        return memo

    flip = iter(range(10**6))
    reads = off(CheckMemo(sem, lambda v: bool(v.token if next(flip) % 2 == 0 else v.coordinator)))
    memo = PendingMemo(sem, [KeyTest(reads, False, reads)])
    memo(key)  # reads the token
    with pytest.raises(SpecError, match="read the world differently.*pure functions"):
        memo._miss(key)  # the same world, but now it reads the coordinator

    answers = iter(range(10**6))
    flipping = off(CheckMemo(sem, lambda v: v.token is not None and next(answers) % 2 == 0))
    memo = PendingMemo(sem, [KeyTest(flipping, False, flipping)])
    memo(key)
    with pytest.raises(SpecError, match="two results.*pure functions"):
        memo._miss(key)


def test_a_pending_memo_that_mostly_misses_is_switched_off() -> None:
    sem = Semantics(SPEC, config(version="v3", users=2, ops=2))
    keys = [sem.key_of(w) for w in reachable(sem, MEMO_TRIAL + 500)]
    net = CheckMemo(sem, lambda v: len(v.in_flight) < 3)
    memo = PendingMemo(sem, [KeyTest(lambda k: not net(k), False, net)])
    assert [bool(memo(k)) for k in keys] == [len(sem.knet.serials(k[sem.nprocs])) >= 3 for k in keys]
    assert not memo.enabled and memo.root is None
    assert memo.misses == MEMO_TRIAL


def test_key_test_shapes() -> None:
    sem = Semantics(SPEC, config(version="v3", users=1, ops=1))
    judge = Judge(sem)
    by_name = {p.name: p for p in SPEC.properties}
    inv = judge.key_test(by_name["supply-within-cap"], None)
    quiet = judge.key_test(by_name["every-request-answered"], None)
    obl = judge.key_test(by_name["update-follows-success"], None)
    goal = judge.key_test(by_name["mint-and-burn-reachable"], "mint succeeds")
    assert inv is not None and (inv.at_quiescence, inv.fires_on) == (False, False) and inv.memo is not None
    assert quiet is not None and quiet.at_quiescence
    assert obl is not None and obl.memo is None and obl.at_quiescence and obl.ghost == 0
    assert goal is not None and goal.fires_on and not goal.at_quiescence
    assert judge.key_test(by_name["no-non-progress-cycle"], None) is None
    assert judge.key_test(by_name["mint-and-burn-reachable"], None) is None


@pytest.mark.parametrize("network", ["unordered", "fifo"])
def test_action_serials_by_table_equal_reading_each_message(network: str) -> None:
    sem = Semantics(SPEC, config(version="v3", users=2, ops=1, network=network))
    keys = [sem.key_of(w) for w in reachable(sem, 500)]
    for action in ("UpdatePosition", "Mint", "no-such-action"):
        got = [action_serials(sem, k, action) for k in keys]
        assert got == [tuple(s for s in sem.knet.serials(k[sem.nprocs]) if sem.msg_views[s].action == action)
                       for k in keys]
    assert any(action_serials(sem, k, "UpdatePosition") for k in keys)


def test_check_memo_records_a_part_read_twice_once() -> None:
    sem = Semantics(SPEC, config(version="v3", users=2, ops=1))
    keys = [sem.key_of(w) for w in reachable(sem, 300)]
    memo = CheckMemo(sem, lambda v: bool(len(v.coordinator.pending) <= 9 and v.token.supply >= len(v.coordinator.pending) - 9))
    assert all(memo(k) for k in keys)

    def depths(node: Any) -> set[int]:
        return {0} if type(node) is not list else {1 + d for c in node[1].values() for d in depths(c)}

    assert depths(memo.root) == {2}  # coordinator, token: the second coordinator read is not a node
    assert memo.root[0] == sem.index["coordinator"]
