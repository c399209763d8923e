"""The release candidate (v3) and the seed's fix (v2): what holds, in which scenario.

Distinct-state counts of every shipped configuration are pinned: a change to the
model or the explorer that alters the reachable state space must update them knowingly.
"""

from __future__ import annotations

import pytest

from tests.quality._support import ALL_BUT_STRICT
from tests.tim3_helpers import run, verdicts


@pytest.mark.parametrize(
    ("version", "reduced", "full"),
    [("v1", 17578, 34969), ("v2", 38503, 76729), ("v3", 44253, 88209)],
)
def test_default_scenario_state_counts(version: str, reduced: int, full: int) -> None:
    """2 users, 2 ops each, amounts {1}: the default scenario of `tim3check check`,
    with symmetry reduction over users (the default) and without it."""
    r = run(version=version)
    assert r.stats.states == reduced
    assert r.stats.limit_hit is None
    f = run(version=version, symmetry=False)
    assert f.stats.states == full
    assert verdicts(r) == verdicts(f)


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_fixed_versions_hold_everything_without_faults(version: str) -> None:
    r = run(version=version, users=1, ops=2, amounts=(1, 2))
    assert verdicts(r) == ALL_BUT_STRICT
    assert r.exit_code == 0


@pytest.mark.parametrize(
    ("faults", "states"),
    [
        (("lock-fail",), 1417),
        (("mint-fail",), 1645),
        (("unlock-fail",), 1375),
        (("lock-fail", "mint-fail", "unlock-fail"), 2175),
    ],
)
def test_v3_survives_spec_faults(faults: tuple[str, ...], states: int) -> None:
    r = run(version="v3", users=1, ops=2, amounts=(1, 2), faults=faults)
    assert verdicts(r) == ALL_BUT_STRICT
    assert r.stats.states == states


def test_v3_survives_the_adversary() -> None:
    r = run(version="v3", users=1, ops=2, faults=("adversary",))
    assert verdicts(r) == ALL_BUT_STRICT
    assert r.stats.states == 17820


@pytest.mark.parametrize("fault", ["loss", "handler-error"])
def test_no_design_without_retries_survives_loss(fault: str) -> None:
    """Without acknowledgements and retries a lost UpdatePosition is never made good."""
    r = run(version="v3", users=1, ops=1, faults=(fault,))
    v = verdicts(r)
    assert v["positions-match-supply"] == "VIOLATED"
    assert v["update-follows-success"] == "VIOLATED"


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_default_scenario_holds(version: str) -> None:
    r = run(version=version)
    assert verdicts(r) == ALL_BUT_STRICT


def test_v3_survives_all_spec_faults_with_two_users() -> None:
    r = run(version="v3", faults=("lock-fail", "mint-fail", "unlock-fail"))
    assert verdicts(r) == ALL_BUT_STRICT
    assert r.stats.states == 131381


def test_fifo_network_is_a_restriction_of_unordered() -> None:
    """Per-pair FIFO removes reorderings: fewer states, same verdicts for v3."""
    fifo = run(version="v3", network="fifo")
    assert verdicts(fifo) == ALL_BUT_STRICT
    assert fifo.stats.states == 16875
    assert fifo.stats.states < run(version="v3").stats.states
