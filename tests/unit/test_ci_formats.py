"""SARIF, JUnit, Markdown and GitHub annotations of check results."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from checker.interfaces.ci_formats import github_annotations, junit, markdown, sarif
from checker.config import CheckConfig
from checker.engines.explore import explore
from checker.interfaces.loader import load_spec
from spec.tim3 import SPEC
from tests.tim3_helpers import config

TEAM = Path(__file__).resolve().parent.parent / "fixtures" / "team_tim3" / "tim3check.toml"


def test_sarif_of_v1_in_lua_points_at_the_lua_line() -> None:
    r = explore(SPEC, config(version="v1", users=1, ops=1, impl="lua", symmetry=False))
    log = json.loads(json.dumps(sarif(r)))
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == {p.name for p in SPEC.properties}
    failed = {x["ruleId"] for x in run["results"]}
    assert failed == {"update-follows-success", "positions-match-supply", "positions-match-supply-inflight",
                      "positions-match-per-user"}  # v1 never books a position: per user neither
    flow = run["results"][0]["codeFlows"][0]["threadFlows"][0]["locations"]
    uris = {loc["location"]["physicalLocation"]["artifactLocation"]["uri"] for loc in flow}
    assert any(u.endswith("coordinator_v1.lua") for u in uris)


def test_sarif_of_a_finding_is_located_at_its_file_and_line() -> None:
    spec, _ = load_spec(str(TEAM))
    r = explore(spec, CheckConfig(params=spec.default_params().set("ops", 1)))
    run = sarif(r)["runs"][0]
    hit = [x for x in run["results"] if x["ruleId"] == "untrusted-change"]
    assert hit and hit[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 22
    assert hit[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/tim3_token.lua"


def test_junit_markdown_and_annotations() -> None:
    r = explore(SPEC, config(version="v1", users=1, ops=1))
    suite = ET.fromstring(junit(r))
    assert suite.get("failures") == "4" and suite.get("errors") == "0"  # with positions-match-per-user
    assert len(suite.findall("testcase")) == len(SPEC.properties)
    md = markdown(r)
    assert "| `positions-match-supply` | at-quiescence | ❌ VIOLATED |" in md
    ann = github_annotations(r).splitlines()
    assert len(ann) == 4 and all(a.startswith("::error file=") for a in ann)
