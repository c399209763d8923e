"""The pytest plugin takes the command line's options (same names, defaults and checks),
its own --tim3check-out / --tim3check-timeout, and names itself in the report header."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.interfaces.pytest_plugin import step_table

PLUGIN = ("-p", "checker.interfaces.pytest_plugin")
MANIFEST = Path(__file__).resolve().parents[1] / "fixtures" / "team_tim3" / "tim3check.toml"
PROP = "positions-match-supply-inflight"


def _run(pytester: pytest.Pytester, body: str, *args: str, quiet: bool = True) -> pytest.RunResult:
    pytester.makepyfile(body)
    from importlib import metadata

    installed = any(ep.value == "checker.interfaces.pytest_plugin" for ep in metadata.entry_points(group="pytest11"))
    plugin = ("-p", "no:tim3check", *PLUGIN) if installed else PLUGIN
    return pytester.runpytest_subprocess(*plugin, *(("-q",) if quiet else ()), *args)


def test_engine_options_reach_the_engines(pytester: pytest.Pytester) -> None:
    r = _run(pytester, f"""
def test_bmc_with_its_depth(tim3check):
    r = tim3check(engine="bmc", depth=6, coordinator="v1", users=1, ops=1, property="{PROP}",
                  expect={{"{PROP}": "VIOLATED"}})
    assert r.engine == "bmc" and len(r.result("{PROP}").trace) == 6

def test_prove_with_its_method(tim3check):
    r = tim3check(engine="prove", method="kind", users=1, ops=1, properties=["{PROP}"])
    assert r.result("{PROP}").verdict == "PROVED"

def test_bad_runs_is_one_line(tim3check):
    tim3check(engine="simulate", runs=0)

def test_unknown_option_is_one_line(tim3check):
    tim3check(bogus=1)

def test_a_manifest(tim3check):
    tim3check(system="{MANIFEST}", ops=1)
""")
    r.assert_outcomes(passed=2, failed=3)
    out = r.stdout.str()
    assert "tim3check: --runs: Invalid value: 0 is not in the range x>=1." in out
    assert "During handling" not in out  # one line, no chained traceback
    assert "tim3check: --bogus: spec 'tim3' has no parameter 'bogus'" in out
    assert "untrusted-change@src/tim3_token.lua:22: VIOLATED" in out


def test_plugin_options_and_header(pytester: pytest.Pytester, tmp_path: Path) -> None:
    out_dir = tmp_path / "ce"
    r = _run(pytester, """
def test_times_out(tim3check):
    tim3check()  # the default scenario, under --tim3check-timeout

def test_own_timeout_wins(tim3check):
    tim3check(users=1, ops=1, timeout=600)

def test_violation_saved_in_out(tim3check):
    tim3check(coordinator="v1", users=1, ops=1, property="update-follows-success")
""", "--tim3check-timeout", "0.001", "--tim3check-out", str(out_dir), quiet=False)
    r.assert_outcomes(passed=1, failed=2)
    out = r.stdout.str()
    header = next(line for line in out.splitlines() if line.startswith("tim3check "))  # the report header
    assert header.endswith(f": counterexamples in {out_dir}; default timeout 0.001 s")
    assert "UNKNOWN" in out and "timeout 0.001s" in out
    saved = sorted(p.name for p in out_dir.iterdir())
    assert saved == ["update-follows-success--v1-amounts1-collateral1-max_supply1-ops1-users1.json",
                     "update-follows-success--v1-amounts1-collateral1-max_supply1-ops1-users1.md"]
    assert f"replay:  tim3check replay {out_dir / saved[0]}" in out


def test_step_table_aligns_and_cuts() -> None:
    rows = [("1", "user1", "MintRequest", "x" * 70, "—", "—")]
    head, row = step_table(rows, width=10)
    assert head.startswith("step | process | handler    | message    | sent")
    assert "xxxxxxxxx…" in row and row.index("|") == head.index("|")
