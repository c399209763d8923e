"""Regression data: every committed counterexample still reproduces its violation,
and the same trace does not reproduce it against the release candidate (v3)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from checker.interfaces.counterexample import load_counterexample
from checker.interfaces.replay import replay
from spec.tim3 import SPEC

ROOT = Path(__file__).resolve().parents[2] / "counterexamples"
FILES = sorted(ROOT.rglob("*.json"))


def test_there_is_regression_data() -> None:
    versions = {load_counterexample(f)["config"]["params"]["version"] for f in FILES}
    assert {"v1", "v2"} <= versions


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_committed_trace_still_violates(path: Path) -> None:
    data = load_counterexample(path)
    outcome = replay(SPEC, data)
    assert outcome.status == "violates", outcome.message
    md = path.with_suffix(".md")
    assert md.exists(), f"{md.name} (the Markdown rendering) is missing"


@pytest.mark.parametrize(
    "path", [f for f in FILES if "strict" not in f.name], ids=lambda p: p.stem
)
def test_release_candidate_does_not_reproduce_it(path: Path) -> None:
    data = copy.deepcopy(load_counterexample(path))
    data["config"]["params"]["version"] = "v3"
    outcome = replay(SPEC, data)
    assert outcome.status != "violates", outcome.message
