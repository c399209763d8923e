"""Which files ``check`` writes: violations and findings by default, expected-fail traces
only with ``--save-expected``; paths and replay commands on lines of their own."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from checker.interfaces.cli import main

COMMITTED = Path(__file__).resolve().parents[2] / "counterexamples"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_a_passing_run_writes_no_files(tmp_path: Path) -> None:
    out = tmp_path / "ce"
    r = run("check", "--ops", "1", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "expected-fail observed" in r.stdout and "(not saved: --save-expected)" in r.stdout
    assert not out.exists()


def test_save_expected_writes_the_expected_fail_trace(tmp_path: Path) -> None:
    r = run("check", "--ops", "1", "--out", str(tmp_path), "--save-expected", "--format", "json")
    assert r.exit_code == 0, r.output
    strict = {x["name"]: x for x in json.loads(r.stdout)["results"]}["positions-match-supply-strict"]
    assert strict["verdict"] == "EXPECTED-FAIL" and Path(strict["counterexample"]).is_file()
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".md"]


def test_violations_are_saved_with_copyable_lines(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path))
    assert r.exit_code == 1, r.output
    names = sorted(p.name.split("--", 1)[0] for p in tmp_path.glob("*.json"))
    assert names == ["positions-match-per-user", "positions-match-supply", "positions-match-supply-inflight",
                     "update-follows-success"]
    lines = [x.strip() for x in r.stdout.splitlines()]
    for path in tmp_path.glob("*.json"):
        shown = next(x for x in lines if x.endswith(path.name) and not x.startswith("tim3check"))
        assert Path(shown).resolve() == path.resolve()
        assert f"tim3check replay {shown}" in lines
    replay = next(x for x in lines if x.startswith("tim3check replay "))
    again = run("replay", replay.split(" ", 2)[2])
    assert again.exit_code == 1 and "still violates" in again.stdout


def test_committed_counterexamples_are_untouched(tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in COMMITTED.rglob("*") if p.is_file()}
    run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path))
    after = {p: p.read_bytes() for p in COMMITTED.rglob("*") if p.is_file()}
    assert before == after
