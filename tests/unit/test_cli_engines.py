"""The z3 and simulation engines through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit._support import run


def test_bmc_counterexample_is_saved_and_replays(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v1", "--users", "1", "--ops", "1", "--engine", "bmc", "--depth", "8",
            "--out", str(tmp_path), "--property", "positions-match-supply", "--quiet")
    assert r.exit_code == 1, r.output
    files = sorted(tmp_path.glob("*-bmc.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text())
    assert data["engine"] == "bmc" and len(data["steps"]) == 7
    again = run("replay", str(files[0]))
    assert again.exit_code == 1, again.output  # still violates, in the explicit engine


def test_prove_prints_the_certificate_and_passes_for_v3() -> None:
    r = run("check", "--coordinator", "v3", "--users", "1", "--ops", "1", "--engine", "prove", "--no-save")
    assert r.exit_code == 0, r.output
    assert "PROVED" in r.output and "certificate of positions-match-supply-inflight" in r.output


def test_simulate_never_passes() -> None:
    r = run("check", "--coordinator", "v3", "--users", "1", "--ops", "1", "--engine", "simulate", "--runs", "20",
            "--no-save", "--format", "json")
    assert r.exit_code == 3, r.output
    doc = json.loads(r.stdout)
    assert {x["verdict"] for x in doc["results"] if x["name"] == "positions-match-supply"} == {"UNKNOWN"}
