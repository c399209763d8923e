"""The release plans: the seed's migration fails, the corrected one holds.

Every scenario pins its distinct-state count and the length of the shortest
counterexample of each failing property (BFS: shortest), so a change to the model or
the explorer that alters them must update them knowingly. Default scenario: 1 user,
1 operation during the release, each user holding 1 TIM3 minted through the old
coordinator (which never reported it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from checker.result import HOLDS
from checker.model.spec import Property
from spec.tim3.migration import SPEC, build
from tests.migration.helpers import failures, run

ALL = [p.name for p in SPEC.properties]

SEED_V3 = {"release-positions-match-supply": 13, "no-double-count": 11, "rollback-positions-flagged": 4}
SEED_V2 = {"release-positions-match-supply": 13, "no-double-count": 13, "rollback-positions-flagged": 4}
CUTOFF_V3 = {"release-positions-match-supply": 15, "no-double-count": 13, "rollback-positions-flagged": 6}
CUTOFF_V2 = {"release-positions-match-supply": 15, "no-double-count": 15, "rollback-positions-flagged": 6}


@pytest.mark.parametrize(
    ("version", "plan", "states", "expected"),
    [
        ("v3", "seed", 1241, SEED_V3),
        ("v2", "seed", 1187, SEED_V2),
        ("v3", "cutoff", 2003, CUTOFF_V3),
        ("v2", "cutoff", 1919, CUTOFF_V2),
        ("v3", "corrected", 14295, {}),
        ("v2", "corrected", 13851, {}),
    ],
)
def test_plan_verdicts(version: str, plan: str, states: int, expected: dict[str, int]) -> None:
    r = run(version=version, plan=plan)
    assert r.stats.limit_hit is None
    assert r.stats.states == states
    assert failures(r) == expected
    assert r.exit_code == (1 if expected else 0)


def test_the_seed_is_right_about_the_backup() -> None:
    """With managers that accept both coordinators, keeping the old one loses no request
    and the rollback leaves it working: those two claims of the seed hold."""
    r = run(plan="seed")
    v = {x.name: x.verdict for x in r.results}
    assert v["no-request-lost"] == v["rollback-old-keeps-working"] == v["release-collateral-backs-supply"] == HOLDS
    assert v["migration-reachable"] == HOLDS  # not vacuous: the rollback and a mint after it are reachable


def _handlers(r: object, prop: str) -> list[str | None]:
    trace = r.result(prop).trace  # type: ignore[attr-defined]
    assert trace is not None
    return [s.handler for s, _ in trace.steps]


def test_seed_double_count_is_an_update_in_flight_across_the_overwrite() -> None:
    """The backfill's snapshot already holds the new coordinator's burn; its UpdatePosition
    arrives after the overwrite and counts it a second time."""
    r = run(plan="seed")
    h = _handlers(r, "no-double-count")
    assert h[-2:] == ["Backfill", "UpdatePosition"]
    assert h.index("GetHistory") > h.index("Burn")
    trace = r.result("no-double-count").trace
    assert trace is not None
    pids = [i.pid for i in build(r.config.params)]
    assert trace.steps[-1][1].procs[pids.index("state")].counted["user1#0"] == 2


def test_seed_loses_an_old_request_that_completes_after_the_backfill() -> None:
    """A request sent to the old coordinator before the user's frontend switched
    completes after the backfill read the history: nobody ever reports it."""
    r = run(plan="seed")
    trace = r.result("release-positions-match-supply").trace
    assert trace is not None
    steps = [s for s, _ in trace.steps]
    backfill = next(i for i, s in enumerate(steps) if s.handler == "Backfill")
    mint = next(i for i, s in enumerate(steps) if s.handler == "Mint")
    msg = steps[mint].msg
    assert msg is not None and msg.src == "old"
    assert backfill < mint


def test_seed_rollback_leaves_positions_wrong_and_unflagged() -> None:
    """Switch and switch back: the State Manager still has none of the old coordinator's
    mints (it never reported them) and nothing says its positions are not current."""
    r = run(plan="seed")
    assert _handlers(r, "rollback-positions-flagged") == ["switch", "SetFrontend", "rollback", "SetFrontend"]


def test_cutoff_double_counts_the_new_coordinators_entries_before_the_cutoff() -> None:
    """The literal "backfill up to a cut-off": the new coordinator was live before the
    cut-off was recorded, so its entries there are reported and backfilled."""
    r = run(plan="cutoff")
    h = _handlers(r, "no-double-count")
    assert "Record-Cutoff" in h and h.index("Burn") < h.index("Record-Cutoff")


def test_single_id_managers_lose_requests_and_break_the_rollback() -> None:
    """Managers that accept one coordinator id (Configure replaces it, as spec/tim3/lua):
    the switch's Configure silently drops the old coordinator's requests in flight, and
    after the rollback the old coordinator is no longer accepted anywhere."""
    r = run(plan="seed", auth="single")
    assert r.stats.states == 9104
    assert failures(r) == {
        "release-positions-match-supply": 14, "no-double-count": 13, "no-request-lost": 8,
        "rollback-old-keeps-working": 10, "rollback-positions-flagged": 7, "release-collateral-backs-supply": 10,
    }
    h = _handlers(r, "no-request-lost")
    assert h[-2:] == ["MintTIM3", "LockCollateral"]  # the Lock Manager no longer accepts the old coordinator


def test_no_prior_history() -> None:
    """Without mints before the release the same failures remain (the rollback one needs
    a mint through the old coordinator during the release)."""
    r = run(plan="seed", prior=0)
    assert failures(r) == {"release-positions-match-supply": 13, "no-double-count": 13,
                           "rollback-positions-flagged": 11}
    assert failures(run(plan="corrected", prior=0)) == {}


def test_two_users_with_and_without_symmetry() -> None:
    """2 users: the same failures and trace lengths with and without symmetry reduction."""
    a, b = run(plan="seed", users=2), run(plan="seed", users=2, symmetry=False)
    assert (a.stats.states, b.stats.states) == (123232, 246097)
    assert failures(a) == failures(b) == {"release-positions-match-supply": 14, "no-double-count": 11,
                                          "rollback-positions-flagged": 6}


@pytest.mark.slow
@pytest.mark.parametrize(("params", "states", "expected"), [
    ({"plan": "cutoff", "users": 2}, 221864,
     {"release-positions-match-supply": 16, "no-double-count": 13, "rollback-positions-flagged": 8}),
    ({"plan": "corrected", "users": 2}, 838594, {}),
    ({"plan": "corrected", "ops": 2}, 499707, {}),
    ({"plan": "corrected", "ops": 2, "version": "v2"}, 470639, {}),
])
def test_larger_scenarios(params: dict[str, Any], states: int, expected: dict[str, int]) -> None:
    r = run(**params)
    assert r.stats.states == states
    assert failures(r) == expected


def test_seed_overwrite_erases_a_report_that_arrived_before_it() -> None:
    """The third way the seed's overwrite goes wrong: the history was read before a mint
    through the new coordinator, whose UpdatePosition is applied before the Backfill
    arrives; the overwrite erases it. (14 steps; release-positions-match-supply's
    shortest trace is another one, so this pins the mechanism with its own check.)"""

    def report_survives(w: Any) -> bool:
        st = w.state
        if not (st.backfilled and w.quiescent):
            return True
        return all(st.counted.get(e.req, 0) >= 1 for e in w.token.log if e.origin == "new")

    prop = Property("new-report-survives-backfill", "always", "a reported change is still counted", check=report_survives)
    r = run(dataclasses.replace(SPEC, properties=(prop,)), plan="seed")
    assert failures(r) == {"new-report-survives-backfill": 14}
    h = _handlers(r, "new-report-survives-backfill")
    assert h.index("History") < h.index("Mint") < h.index("UpdatePosition") < h.index("Backfill") == len(h) - 1


def test_seed_reconstruction_does_not_last() -> None:
    """Backfilled, then rolled back: the old coordinator's next mint is reported by nobody
    and nothing flags the positions (15 steps)."""

    def flagged(w: Any) -> bool:
        if not (w.quiescent and w.operator.rolled_back and w.state.backfilled):
            return True
        pos, bal = w.state.positions, w.token.balances
        return bool(w.state.stale) or all(pos.get(u, 0) == bal.get(u, 0) for u in set(pos) | set(bal))

    prop = Property("reconstructed-then-rolled-back", "always", "flagged or right", check=flagged)
    r = run(dataclasses.replace(SPEC, properties=(prop,)), plan="seed")
    assert failures(r) == {"reconstructed-then-rolled-back": 15}
    h = _handlers(r, "reconstructed-then-rolled-back")
    assert h.index("Backfill") < h.index("rollback") < h.index("Mint")
