"""The pytest plugin, run inside pytester: passing checks pass, failing ones fail with the
verdict table and the rendered counterexample in the message."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ("-p", "checker.interfaces.pytest_plugin")


def _run(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    pytester.makepyfile(body)
    # The entry point registers the plugin when tim3check is installed; -p covers a checkout.
    args = ("-p", "no:tim3check", *PLUGIN) if _installed() else PLUGIN
    return pytester.runpytest_subprocess(*args, "-q")


def _installed() -> bool:
    from importlib import metadata

    return any(ep.value == "checker.interfaces.pytest_plugin" for ep in metadata.entry_points(group="pytest11"))


def test_holding_check_passes(pytester: pytest.Pytester) -> None:
    r = _run(pytester, """
def test_ok(tim3check):
    result = tim3check(version="v3", ops=1)
    assert result.exit_code == 0

def test_holds_helper(tim3check):
    r = tim3check.holds("positions-match-supply", version="v3", ops=1, fault="mint-fail")
    assert r.verdict == "HOLDS"
""")
    r.assert_outcomes(passed=2)


def test_violation_fails_with_a_short_message_and_a_replayable_file(pytester: pytest.Pytester) -> None:
    r = _run(pytester, """
def test_v1(tim3check):
    tim3check(version="v1", ops=1)
""")
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert "tim3check: 4 of 10 properties not as expected" in out
    assert "positions-match-supply: VIOLATED" in out and "update-follows-success: VIOLATED" in out
    assert "meaning: no message in flight and nothing pending" in out  # the property's meaning
    assert "step | process" in out and "sequenceDiagram" not in out  # the step table, not the whole page
    assert "collateral-backs-supply" not in out  # properties that hold are not repeated
    # pytest repeats the whole failure message in its short summary when CI is set: count distinct files
    replays = sorted(set(re.findall(r"replay:  tim3check replay (\S+\.json)", out)))
    assert len(replays) == 4 and all(Path(p).is_file() for p in replays)
    assert all(f"{os.sep}tim3check{os.sep}" in p for p in replays)  # under the test's tmp_path
    done = subprocess.run([sys.executable, "-m", "checker", "replay", replays[0]], capture_output=True, text=True,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1 and "still violates" in done.stdout, done.stdout + done.stderr


def test_expected_verdicts_pass(pytester: pytest.Pytester) -> None:
    r = _run(pytester, """
def test_v1_known_bug(tim3check):
    tim3check(version="v1", ops=1, expect={"update-follows-success": "VIOLATED",
              "positions-match-supply": "VIOLATED", "positions-match-supply-inflight": "VIOLATED",
              "positions-match-per-user": "VIOLATED"})

def test_violates_helper(tim3check):
    r = tim3check.violates("positions-match-supply", version="v2", ops=2, users=1, faults=["unlock-fail"])
    assert r.trace is not None
""")
    r.assert_outcomes(passed=2)


def test_wrong_expectation_fails(pytester: pytest.Pytester) -> None:
    r = _run(pytester, """
def test_wrong(tim3check):
    tim3check(version="v3", ops=1, expect={"positions-match-supply": "VIOLATED"})
""")
    r.assert_outcomes(failed=1)
    assert "expected VIOLATED, got HOLDS" in r.stdout.str()


def test_holds_helper_fails_on_violation(pytester: pytest.Pytester) -> None:
    r = _run(pytester, """
def test_holds_v1(tim3check):
    tim3check.holds("update-follows-success", version="v1", ops=1)
""")
    r.assert_outcomes(failed=1)
    assert "update-follows-success: VIOLATED" in r.stdout.str()


def test_unknown_fails(pytester: pytest.Pytester) -> None:
    r = _run(pytester, """
def test_limited(tim3check):
    tim3check(version="v3", max_states=10)
""")
    r.assert_outcomes(failed=1)
    assert "UNKNOWN" in r.stdout.str()
