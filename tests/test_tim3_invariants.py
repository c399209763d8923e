"""The TIM3 invariants as the release team runs them: through the pytest fixture.

A failure here prints the verdict table and the rendered counterexample.
"""

from __future__ import annotations

from typing import Any

import pytest

SPEC_FAULTS = ["lock-fail", "mint-fail", "unlock-fail"]


def test_release_candidate_default_scenario(tim3check: Any) -> None:
    """v3 on the default scenario: every property holds (strict: expected-fail)."""
    result = tim3check()
    assert result.exit_code == 0


@pytest.mark.parametrize("fault", SPEC_FAULTS + ["adversary"])
def test_release_candidate_survives(tim3check: Any, fault: str) -> None:
    tim3check(version="v3", users=1, ops=2, amounts="1,2" if fault != "adversary" else "1", faults=[fault])


@pytest.mark.parametrize(
    "prop", ["update-follows-success", "positions-match-supply", "positions-match-supply-inflight"]
)
def test_deployed_coordinator_never_updates_positions(tim3check: Any, prop: str) -> None:
    r = tim3check.violates(prop, version="v1", users=1, ops=1)
    assert r.trace is not None and len(r.trace) <= 7


def test_seed_fix_loses_the_burn_update_when_unlock_fails(tim3check: Any) -> None:
    r = tim3check.violates("positions-match-supply", version="v2", users=1, ops=2, faults=["unlock-fail"])
    assert r.trace is not None
    assert any(dict(s.choices).get("unlock-fail") for s, _ in r.trace.steps)


def test_positions_inflight_holds_for_v3_with_two_amounts(tim3check: Any) -> None:
    r = tim3check.holds("positions-match-supply-inflight", version="v3", users=2, ops=1, amounts="1,2")
    assert "exhaustive" in r.bound
