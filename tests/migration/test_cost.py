"""The cost of the fix ("Performance analysis: impact of additional State Manager calls"
in the seed) and of the release plans, counted from explored runs and pinned."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner, Result

from checker.interfaces.cli import main

from spec.tim3.migration_cost import _bounds, operator_costs, request_costs, request_table


def _by_outcome(version: str, fault: str = "none") -> dict[tuple[str, str], tuple[object, ...]]:
    return {(c.op, c.outcome): (c.messages, c.updates, c.chain) for c in request_costs(version, fault)}


@pytest.mark.parametrize(("version", "messages", "updates"), [("v1", 6, 0), ("v2", 7, 1), ("v3", 7, 1)])
def test_a_completed_mint_or_burn(version: str, messages: int, updates: int) -> None:
    """The fix adds exactly one message (the UpdatePosition) to a successful mint and to
    a successful burn, and it is sent beside the answer: the chain stays 6 hops."""
    costs = _by_outcome(version)
    assert costs == {
        ("mint", "success"): ((messages, messages), (updates, updates), (6, 6)),
        ("burn", "success"): ((messages, messages), (updates, updates), (6, 6)),
    }


def test_refusals_and_retries() -> None:
    """v3 pays for its corrections only when something is refused: a refused mint costs
    2 more messages (the lock is rolled back), a refused unlock 2 per retry."""
    assert _by_outcome("v1", "mint-fail")[("mint", "error")] == ((6, 6), (0, 0), (6, 6))
    assert _by_outcome("v2", "mint-fail")[("mint", "error")] == ((6, 6), (0, 0), (6, 6))
    assert _by_outcome("v3", "mint-fail")[("mint", "error")] == ((8, 8), (0, 0), (8, 8))
    assert _by_outcome("v2", "unlock-fail")[("burn", "error")] == ((6, 6), (0, 0), (6, 6))
    assert _by_outcome("v3", "unlock-fail")[("burn", "success")] == ((7, 9), (1, 1), (6, 8))
    assert ("burn", "error") not in _by_outcome("v3", "unlock-fail")  # v3 retries, never gives up
    assert _by_outcome("v3", "lock-fail")[("mint", "error")] == ((4, 4), (0, 0), (4, 4))


def test_request_table_has_a_row_per_outcome() -> None:
    table = request_table(faults=("none",))
    assert table.count("\n") == 1 + 3 * 2
    assert "| v2 | none | mint | success | 7 | 1 | 6 |" in table


@pytest.mark.parametrize(("plan", "expected"), [
    ("seed", {"release complete": (4, 4), "rolled back": (2, 5)}),
    ("cutoff", {"release complete": (6, 6), "rolled back": (4, 7)}),
    ("corrected", {"release complete": (10, None), "rolled back": (3, None)}),
])
def test_operator_messages_per_plan(plan: str, expected: dict[str, tuple[int, int | None]]) -> None:
    """1 user: seed = switch + 3 for the backfill; cutoff + Record-Cutoff and its Ack;
    corrected + 2 Retire, 2 Acks, ≥ 1 inspection (2 each, repeated while the old
    coordinator is busy: unbounded) instead of the cut-off."""
    got = {c.ending: (c.fewest, c.most) for c in operator_costs(plan)}
    assert got == expected


def test_bounds_on_small_graphs() -> None:
    """The path bounds behind operator_costs: fewest, most, an unbounded loop."""
    dag = {"a": [("b", 1), ("c", 3)], "b": [("d", 1)], "c": [("d", 0)], "d": []}
    assert _bounds("a", dag, lambda k: k == "d") == (2, 3)
    loop = {"a": [("b", 1)], "b": [("a", 2), ("d", 0)], "d": []}
    assert _bounds("a", loop, lambda k: k == "d") == (1, None)
    zero_loop = {"s": [("a", 1)], "a": [("b", 0)], "b": [("a", 0), ("d", 5)], "d": []}
    assert _bounds("s", zero_loop, lambda k: k == "d") == (6, 6)
    assert _bounds("a", dag, lambda k: k == "z") is None


# ---------------------------------------------------------------- in `check`'s statistics


def _check(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", "--users", "1", "--ops", "1", "--no-save", *args])


@pytest.mark.parametrize(("version", "messages", "updates", "exit_code"), [("v1", 6, 0, 1), ("v2", 7, 1, 0), ("v3", 7, 1, 0)])
def test_check_prints_the_cost_per_completed_request_in_json(version: str, messages: int, updates: int,
                                                            exit_code: int) -> None:
    """1 user, 1 op, no fault: v1 fails (no UpdatePosition); v2's bug needs unlock-fail."""
    r = _check("--coordinator", version, "--format", "json")
    assert r.exit_code == exit_code, r.output
    stats = json.loads(r.stdout)["spec_statistics"]
    assert stats == {
        "request costs": f"coordinator {version} (the model), one request of one user, no fault",
        "messages per completed mint": messages,
        "UpdatePosition per completed mint": updates,
        "longest chain from a completed mint to its answer": 6,
        "messages per completed burn": messages,
        "UpdatePosition per completed burn": updates,
        "longest chain from a completed burn to its answer": 6,
        "longest chain from a request to its answer": 6,
    }


def test_check_text_shows_the_costs_under_the_checks_faults() -> None:
    """Under the check's spec faults the refused requests appear too; a span is low–high."""
    r = _check("--fault", "mint-fail", "--fault", "unlock-fail")
    assert r.exit_code == 0, r.output
    text = r.stdout
    assert "spec statistics" in text
    assert "request costs: coordinator v3 (the model), one request of one user, at most one fault of mint-fail, unlock-fail" in text
    assert "messages per refused mint: 8" in text
    assert "messages per completed burn: 7–9" in text  # a refused unlock is retried (2 messages)
    assert "longest chain from a request to its answer: 8" in text


def test_the_migration_prints_the_old_and_the_new_coordinators_costs() -> None:
    r = CliRunner().invoke(main, ["check", "--spec", "spec.tim3.migration", "--param", "plan=seed", "--no-save",
                                  "--format", "json"])
    assert r.exit_code == 1, r.output
    stats = json.loads(r.stdout)["spec_statistics"]
    assert {k: v for k, v in stats.items() if "messages per" in k or "UpdatePosition" in k} == {
        "old: messages per completed mint": 6, "old: UpdatePosition per completed mint": 0,
        "old: messages per completed burn": 6, "old: UpdatePosition per completed burn": 0,
        "new: messages per completed mint": 7, "new: UpdatePosition per completed mint": 1,
        "new: messages per completed burn": 7, "new: UpdatePosition per completed burn": 1,
    }
    assert stats["old: request costs"].startswith("coordinator v1") and stats["new: request costs"].startswith("coordinator v3")


def test_a_spec_without_statistics_prints_none() -> None:
    from checker.engines.explore import explore
    from checker.interfaces.report import check_text, result_json
    from spec.tim3 import SPEC
    from tests.tim3_helpers import config

    r = explore(dataclasses.replace(SPEC, statistics=None), config(users=1, ops=1))
    assert r.spec_statistics == {}
    assert result_json(r, "spec.tim3")["spec_statistics"] == {}
    assert "spec statistics" not in check_text(r) and "handler coverage" in check_text(r)
