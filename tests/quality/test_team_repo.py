"""Quality: tim3check finds the bugs planted in a repository it was not designed for.

``tests/fixtures/team_tim3`` is a second TIM3 written the way a team grows one by hand
(five processes, ids in a ``Purpose`` tag and in JSON ``Data``, ``*-Error`` replies, a
collateral ratio of 1.5); ``tim3check.toml`` beside it was written from its README only.
Each planted bug (``BUGS.md``) must come out of execution as the finding or property a
release engineer would expect, with a shortest trace ending where the bug is.

The default run explores to depth 12 (11,464 states; every planted bug's shortest trace
is at most 10 steps, and BFS finds the same shortest traces within the bound); the
exhaustive run (1,864,564 states) is marked slow and pins the same findings and lengths.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pytest

from checker.config import CheckConfig
from checker.engines.explore import explore
from checker.interfaces.loader import load_spec
from checker.result import HOLDS, VIOLATED, CheckResult

MANIFEST = Path(__file__).resolve().parent.parent / "fixtures" / "team_tim3" / "tim3check.toml"


BOUNDED_DEPTH = 12


@functools.lru_cache(maxsize=None)
def _explore(max_depth: int | None) -> CheckResult:
    spec, _ = load_spec(str(MANIFEST))
    config = CheckConfig(params=spec.default_params())
    return explore(spec, dataclasses.replace(config, limits=dataclasses.replace(config.limits, max_depth=max_depth)))


@pytest.fixture(scope="module", params=["bounded", pytest.param("exhaustive", marks=pytest.mark.slow)])
def result(request: pytest.FixtureRequest) -> CheckResult:
    return _explore(BOUNDED_DEPTH if request.param == "bounded" else None)


def finding(r: CheckResult, name: str) -> tuple[int, str]:
    res = r.result(name)
    assert res.verdict == VIOLATED and res.kind == "finding", res
    assert res.trace is not None
    return len(res.trace), res.detail


def test_bug1_update_position_tags_the_state_manager_does_not_read(result: CheckResult) -> None:
    n, why = finding(result, "contract-mismatch@src/state_manager.lua:33")
    assert "reads Tags field 'Amount', which coordinator does not set on UpdatePosition" in why
    assert n == 9
    assert result.result("positions-match-supply").verdict == VIOLATED
    assert result.result("update-follows-success").verdict == VIOLATED


def test_bug2_a_success_reply_without_the_request_id(result: CheckResult) -> None:
    n, why = finding(result, "contract-mismatch@src/coordinator.lua:149")
    assert "'Purpose', which tim3-token does not set on Mint-Success" in why and n == 8
    n, why = finding(result, "handler-error@src/coordinator.lua:150")
    assert "attempt to index a nil value" in why and n == 8


def test_bug3_configure_without_a_sender_check(result: CheckResult) -> None:
    n, why = finding(result, "untrusted-change@src/tim3_token.lua:22")
    assert "Configure from mallory" in why and n == 2


def test_bug4_an_unlock_matched_by_comparing_amounts_as_strings(result: CheckResult) -> None:
    n, why = finding(result, "value-hazard@src/lock_manager.lua:72")
    assert "'3.0'" in why and n == 3
    assert result.result("stall").verdict == VIOLATED


def test_bug5_an_error_reply_nobody_handles(result: CheckResult) -> None:
    n, why = finding(result, "unhandled-message@coordinator:Mint-Error")
    assert "Mint-Error from tim3-token" in why and n == 10
    assert result.result("collateral-backs-supply").verdict == VIOLATED


def test_bug6_a_timeout_in_seconds_against_os_time_in_milliseconds(result: CheckResult) -> None:
    res = result.result("no-early-timeout")
    assert res.verdict == VIOLATED and res.trace is not None
    assert len(res.trace) == 10
    # a wallet's second operation, 1 s after the first, sweeps out another wallet's
    # request whose lock is still in flight: its "30 s" timeout was 30 ms
    last = res.trace.steps[-1][0]
    assert last.msg is not None and last.msg.action == "Request-Timeout"


def test_the_bound_is_stated_and_the_state_count_pinned(result: CheckResult) -> None:
    if result.stats.limit_hit:
        assert result.stats.limit_hit == f"max-depth {BOUNDED_DEPTH}" and result.stats.states == 11_464
    else:
        # every hop takes 1 s and a wallet's operations are 1 s apart ([time]); the timestamps
        # travel with the messages, so more states than without time (274,140)
        assert result.stats.states == 1_864_564


@pytest.mark.slow
def test_the_flows_themselves_are_reachable() -> None:
    assert _explore(None).result("mint-and-burn-reachable").verdict == HOLDS


def test_findings_are_reported_once_per_kind_and_place(result: CheckResult) -> None:
    names = [r.name for r in result.results if r.kind == "finding"]
    assert len(names) == len(set(names))


def test_a_finding_trace_saves_and_replays(result: CheckResult, tmp_path: Path) -> None:
    from checker.interfaces.counterexample import counterexample_data, write_counterexample
    from checker.interfaces.replay import VIOLATES, replay_file
    from checker.model.semantics import Semantics

    spec, _ = load_spec(str(MANIFEST))
    res = result.result("untrusted-change@src/tim3_token.lua:22")
    data = counterexample_data(result, res, Semantics(spec, result.config), str(MANIFEST))
    path = write_counterexample(data, tmp_path)
    assert replay_file(spec, path).status == VIOLATES
