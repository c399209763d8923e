"""``check --format sarif|junit|markdown``, GitHub Actions annotations, ``audit --format markdown``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import Result

from tests.unit._support import run

V1_FAILS = {"update-follows-success", "positions-match-supply", "positions-match-supply-inflight",
            "positions-match-per-user"}  # v1 books no position: per user neither (issue 9 item 6)


def v1(tmp_path: Path, fmt: str, env: dict[str, str] | None = None) -> Result:
    return run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path), "--format", fmt, env=env)


def test_sarif_of_v1_has_four_results(tmp_path: Path) -> None:
    r = v1(tmp_path, "sarif")
    assert r.exit_code == 1, r.output
    log = json.loads(r.stdout)
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert len(results) == 4 and {x["ruleId"] for x in results} == V1_FAILS
    assert all(x["codeFlows"][0]["threadFlows"][0]["locations"] for x in results)


def test_junit_of_v1(tmp_path: Path) -> None:
    r = v1(tmp_path, "junit")
    assert r.exit_code == 1, r.output
    suite = ET.fromstring(r.stdout)
    assert suite.get("failures") == "4" and suite.get("errors") == "0"
    failed = {c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None}
    assert failed == V1_FAILS


def test_markdown_of_v3_passes(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v3", "--ops", "1", "--no-save", "--format", "markdown")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("**tim3check** `tim3`")
    assert "| `positions-match-supply` | at-quiescence | ✅ HOLDS |" in r.stdout


@pytest.mark.parametrize("fmt, stream", [("text", "stdout"), ("markdown", "stdout"), ("sarif", "stderr"),
                                         ("json", "stderr")])
def test_github_annotations(tmp_path: Path, fmt: str, stream: str) -> None:
    r = v1(tmp_path, fmt, env={"GITHUB_ACTIONS": "true"})
    assert r.exit_code == 1, r.output
    ann = [x for x in getattr(r, stream).splitlines() if x.startswith("::error ")]
    assert len(ann) == 4, r.output
    if fmt in ("sarif", "json"):
        json.loads(r.stdout)  # the document stays valid: the annotations went to stderr


def test_no_annotations_outside_github_actions(tmp_path: Path) -> None:
    r = v1(tmp_path, "text", env={"GITHUB_ACTIONS": ""})
    assert "::error" not in r.stdout + r.stderr


def test_audit_markdown() -> None:
    r = run("audit", "--ops", "1", "--fault-set", "none", "--fault-set", "unlock-fail", "--z3", "none",
            "--format", "markdown")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.startswith("**tim3check audit** `tim3`")
    assert "**version v3 (release candidate)**" in out and "| property | none | unlock-fail |" in out
    assert "| `positions-match-supply` | ✗ | ✗ |" in out  # v1
    assert "**release gate PASSED**: v3 holds" in out


def test_audit_rejects_ci_formats() -> None:
    r = run("audit", "--format", "sarif")
    assert r.exit_code == 2 and "--format" in r.stderr
