"""The command line through click's CliRunner: exit codes, files, JSON, errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from checker.interfaces.cli_audit import render_audit, run_audit
from checker.engines.explore import explore
from checker.interfaces.report import to_plain_text
from spec.tim3 import SPEC
from tests.unit._support import one_error_line, run

JSON_FIELDS = {"tool", "version", "schema_version", "spec", "scenario", "config", "engine", "results", "stats", "exit_code"}
RESULT_FIELDS = {"name", "kind", "meaning", "verdict", "bound", "detail", "expected_to_fail", "counterexample"}


def test_v1_violates_and_writes_counterexamples(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path))
    assert r.exit_code == 1, r.output
    assert "VIOLATED" in r.stdout and "expected-fail observed" in r.stdout
    assert "never fired" in r.stdout and "state:UpdatePosition" in r.stdout
    files = sorted(p.name for p in tmp_path.iterdir())
    assert any(f.startswith("update-follows-success--") and f.endswith(".json") for f in files), files
    assert any(f.startswith("positions-match-supply--") and f.endswith(".md") for f in files), files


def test_default_subcommand_is_check(tmp_path: Path) -> None:
    r = run("--coordinator", "v1", "--ops", "1", "--out", str(tmp_path), "--quiet")
    assert r.exit_code == 1 and "VIOLATED" in r.stdout


def test_v3_holds(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v3", "--ops", "1", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "HOLDS within bound" in r.stdout and "VIOLATED" not in r.stdout


def test_no_save_writes_nothing(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path / "ce"), "--no-save")
    assert r.exit_code == 1
    assert not (tmp_path / "ce").exists()


def test_unknown_version_is_one_line() -> None:
    r = run("check", "--coordinator", "v9")
    assert r.exit_code == 2
    line = one_error_line(r)
    assert "--coordinator" in line and "v1, v2, v3" in line


@pytest.mark.parametrize("args, fragment", [
    (["--fault", "bogus"], "unknown fault 'bogus'"),
    (["--fault", "loss,bogus"], "unknown fault 'bogus'"),
    (["--users", "x"], "--users"),
    (["--amounts", "1,a"], "--amounts"),
    (["--network", "lifo"], "--network"),
    (["--no-such-flag"], "--no-such-flag"),
    (["--spec", "nosuch.model"], "nosuch"),
    (["--engine", "bogus"], "--engine"),
])
def test_bad_input_exits_2(args: list[str], fragment: str) -> None:
    r = run("check", *args)
    assert r.exit_code == 2
    assert fragment in one_error_line(r)


def test_limit_reached_is_unknown(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v3", "--max-states", "10", "--out", str(tmp_path))
    assert r.exit_code == 3, r.output
    assert "UNKNOWN" in r.stdout and "max-states 10" in r.stdout


def test_json_format(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path), "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert JSON_FIELDS <= doc.keys()
    assert doc["tool"] == "tim3check" and doc["engine"] == "explore" and doc["exit_code"] == 1
    assert doc["spec"]["module"] == "spec.tim3"
    assert doc["config"]["params"]["version"] == "v1"
    by_name = {x["name"]: x for x in doc["results"]}
    for x in doc["results"]:
        assert RESULT_FIELDS <= x.keys()
    bad = by_name["positions-match-supply"]
    assert bad["verdict"] == "VIOLATED" and bad["counterexample"] and Path(bad["counterexample"]).is_file()
    assert by_name["positions-match-supply-strict"]["verdict"] == "EXPECTED-FAIL"
    assert {"states", "transitions", "max_depth", "coverage", "never_fired"} <= doc["stats"].keys()


def _saved(tmp_path: Path, version: str = "v1") -> Path:
    r = run("check", "--coordinator", version, "--ops", "1", "--out", str(tmp_path), "--quiet", "--save-expected")
    assert r.exit_code in (0, 1)
    return next(tmp_path.glob("positions-match-supply--*.json"))


def test_show_and_replay_saved_counterexample(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    r = run("show", str(path))
    assert r.exit_code == 0 and "positions-match-supply" in r.stdout
    r = run("replay", str(path))
    assert r.exit_code == 1, r.output
    assert "still violates" in r.stdout


def test_replay_diverged_exits_3(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    data = json.loads(path.read_text())
    data["config"]["params"]["version"] = "v2"  # v2 sends an UpdatePosition the v1 trace does not show
    other = tmp_path / "as-v2.json"
    other.write_text(json.dumps(data))
    r = run("replay", str(other))
    assert r.exit_code == 3, r.output
    assert "diverged" in r.stdout and "inconclusive" in r.stdout


def test_replay_of_a_cut_trace_never_holds_now(tmp_path: Path) -> None:
    # (issue 9 item 5: a trace cut short used to replay as "holds now", exit 0)
    path = _saved(tmp_path)
    data = json.loads(path.read_text())
    data["steps"] = data["steps"][:-1]  # stop before quiescence: the property is not violated there
    other = tmp_path / "truncated.json"
    other.write_text(json.dumps(data))
    r = run("replay", str(other))
    assert r.exit_code == 2 and "records length 7 but holds 6 steps" in r.output, r.output
    del data["length"]
    other.write_text(json.dumps(data))
    r = run("replay", str(other))
    assert r.exit_code == 3 and "does not reproduce" in r.stdout and "holds now" not in r.stdout, r.output


def test_replay_of_expected_fail_exits_0(tmp_path: Path) -> None:
    _saved(tmp_path)
    path = next(tmp_path.glob("positions-match-supply-strict--*.json"))
    r = run("replay", str(path))
    assert r.exit_code == 0, r.output
    assert "expected to fail" in r.stdout


@pytest.mark.parametrize("command", ["show", "replay"])
@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"schema_version": 1}'])
def test_malformed_file_exits_2_naming_it(tmp_path: Path, command: str, content: str) -> None:
    bad = tmp_path / "broken-trace.json"
    bad.write_text(content)
    r = run(command, str(bad))
    assert r.exit_code == 2
    assert "broken-trace.json" in one_error_line(r)


@pytest.mark.parametrize("command", ["show", "replay"])
def test_missing_file_exits_2(tmp_path: Path, command: str) -> None:
    r = run(command, str(tmp_path / "nope.json"))
    assert r.exit_code == 2
    assert "nope.json" in one_error_line(r)


def test_audit_prints_matrix() -> None:
    r = run("audit", "--users", "1", "--ops", "1", "--fault-set", "none", "--fault-set", "mint-fail", "--fault-set", "loss")
    assert r.exit_code == 0, r.output
    for text in ("v1", "v2", "v3", "release candidate", "mint-fail", "loss*", "✗", "✓", "legend", "release gate PASSED"):
        assert text in r.stdout, text


def test_informational_settings_never_gate() -> None:
    r = run("audit", "--users", "1", "--ops", "1", "--fault-set", "loss,mint-fail", "--format", "json")
    doc = json.loads(r.stdout)
    assert doc["settings"] == [{"name": "loss,mint-fail", "faults": ["loss", "mint-fail"], "informational": True}]
    v3 = {x["name"]: x["verdict"] for x in doc["cells"][-1]["results"]}
    assert v3["positions-match-supply"] == "VIOLATED"  # loss breaks every design ...
    assert doc["gate"]["passed"] is True and r.exit_code == 0  # ... but it is informational


def test_audit_gate_fails_when_the_candidate_violates() -> None:
    version = SPEC.param("version")
    assert version is not None
    reordered = dataclasses.replace(version, choices=("v3", "v1"))  # make v1 the release candidate
    spec = dataclasses.replace(SPEC, params=tuple(reordered if p.name == "version" else p for p in SPEC.params))
    matrix = run_audit(spec, {"ops": 1}, ["none"], None, explore)
    assert matrix.candidate == "v1"
    assert ("none", "positions-match-supply", "VIOLATED") in matrix.gate_failures()
    assert matrix.exit_code == 1
    assert "release gate FAILED" in to_plain_text(render_audit(matrix))


def test_audit_json() -> None:
    # explicit verdicts only: the z3 column is exercised by test_audit_prints_matrix (30 s less)
    r = run("audit", "--z3", "none", "--fault-set", "none", "--fault-set", "unlock-fail", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["versions"] == ["v1", "v2", "v3"] and doc["release_candidate"] == "v3"
    assert len(doc["cells"]) == 6
    cell = next(c for c in doc["cells"] if c["version"] == "v2" and c["setting"] == "unlock-fail")
    verdicts = {x["name"]: x["verdict"] for x in cell["results"]}
    assert verdicts["positions-match-supply"] == "VIOLATED"  # the seed's fix is incomplete
    assert doc["gate"] == {"passed": True, "required_settings": ["none", "unlock-fail"], "failures": []}


def test_audit_bad_fault_set() -> None:
    r = run("audit", "--fault-set", "bogus")
    assert r.exit_code == 2
    assert "--fault-set" in one_error_line(r)


def test_version_flag_prints_the_tools_version() -> None:
    from importlib.metadata import version

    r = run("--version")
    assert r.exit_code == 0
    assert r.output.strip() == f"tim3check {version('tim3check')}"


def test_python_dash_m_checker_is_the_same_command() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "checker", "--version"], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.startswith("tim3check ")
