"""Ctrl-C and SIGTERM stop every engine: the run prints what it established, every other
property is UNKNOWN "interrupted", and the exit code is 130 (SIGINT) / 143 (SIGTERM).

The signal tests start ``python -m checker check`` on scenarios that run for minutes and
signal it after a few seconds; how fast it stops is not asserted (a generous timeout on
``communicate`` only keeps a hung run from hanging the suite)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker import stop
from checker.engines.explore import explore
from checker.result import EXPECTED_FAIL, HOLDS, UNKNOWN, CheckResult
from spec.tim3 import SPEC
from tests.tim3_helpers import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    stop.reset()
    yield
    stop.reset()


def _signalled(tmp_path: Path, sig: signal.Signals, *args: str, wait: float = 3.0) -> tuple[int, str, str]:
    """Run ``check args`` in a child process, send ``sig`` after ``wait`` seconds: (exit code, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-m", "checker", "check", *args, "--out", str(tmp_path / "out")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    time.sleep(wait)
    assert child.poll() is None, "the run ended before the signal: choose a longer scenario"
    child.send_signal(sig)
    out, err = child.communicate(timeout=120)
    return child.returncode, out, err


def _rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = doc["results"]
    assert isinstance(rows, list)
    return rows


def test_sigint_stops_explore_and_prints_what_it_found(tmp_path: Path) -> None:
    code, out, err = _signalled(tmp_path, signal.SIGINT, "--users", "3", "--ops", "2", "--quiet", "--format", "json")
    assert code == 130, err
    doc = json.loads(out)
    assert doc["interrupted"] == "SIGINT" and doc["exit_code"] == 130
    assert doc["stats"]["limit_hit"] == "interrupted (SIGINT)" and doc["stats"]["states"] > 0
    rows = {r["name"]: r for r in _rows(doc)}
    strict = rows.pop("positions-match-supply-strict")  # found before the signal: kept, shortest, saved
    assert strict["verdict"] == EXPECTED_FAIL and strict["trace_length"] == 5
    for r in rows.values():  # (a witness of the sometimes property found before the signal stays too)
        if (r["kind"], r["verdict"]) != ("sometimes", HOLDS):
            assert r["verdict"] == UNKNOWN and "stopped: interrupted (SIGINT)" in r["bound"], r
    assert "Traceback" not in err


def test_sigterm_stops_simulate_with_valid_json(tmp_path: Path) -> None:
    code, out, err = _signalled(tmp_path, signal.SIGTERM, "--users", "3", "--ops", "2", "--engine", "simulate",
                                "--runs", "100000", "--format", "json")
    assert code == 143, err
    doc = json.loads(out)
    assert doc["interrupted"] == "SIGTERM" and doc["exit_code"] == 143
    unknown = [r for r in _rows(doc) if r["verdict"] == UNKNOWN]
    assert unknown and all("stopped: interrupted (SIGTERM)" in r["bound"] for r in unknown)


def test_sigint_stops_prove_inside_graph_building_and_solver_calls(tmp_path: Path) -> None:
    # 2 users x 2 ops: the shape graph alone takes minutes; then one solver call after another
    code, out, err = _signalled(tmp_path, signal.SIGINT, "--users", "2", "--ops", "2", "--engine", "prove",
                                "--method", "kind", "--max-shapes", "500000", "--format", "json", wait=4)
    assert code == 130, err
    doc = json.loads(out)
    assert doc["interrupted"] == "SIGINT"
    assert {r["verdict"] for r in _rows(doc)} == {UNKNOWN}
    assert all("stopped: interrupted (SIGINT)" in r["detail"] for r in _rows(doc))
    assert "max-shapes" not in doc["stats"]["limit_hit"]  # the signal, not the shape limit, is blamed


def test_sigint_stops_prove_auto_in_its_parametric_phase(tmp_path: Path) -> None:
    # no flag: the parametric view is being checked against the concrete semantics (seconds)
    code, out, err = _signalled(tmp_path, signal.SIGINT, "--engine", "prove", "--format", "json", wait=2.5)
    assert code == 130, err
    rows = _rows(json.loads(out))
    assert rows and {r["verdict"] for r in rows} == {UNKNOWN}
    assert all("interrupted (SIGINT)" in r["detail"] for r in rows)


def test_sigint_stops_a_long_solver_call(tmp_path: Path) -> None:
    # CHC/Spacer on 1 user x 2 ops: one Horn query that runs for a long time (z3's own
    # Ctrl-C handler is off; the watcher thread interrupts the call)
    code, out, err = _signalled(tmp_path, signal.SIGINT, "--users", "1", "--ops", "2", "--engine", "prove",
                                "--method", "chc", "--property", "positions-match-supply", "--format", "json",
                                wait=12)
    assert code == 130, err
    (row,) = _rows(json.loads(out))
    assert row["verdict"] == UNKNOWN and "interrupted (SIGINT)" in row["detail"]


def test_sigterm_stops_bmc(tmp_path: Path) -> None:
    code, out, err = _signalled(tmp_path, signal.SIGTERM, "--engine", "bmc", "--depth", "30", "--format", "json",
                                wait=6)
    assert code == 143, err
    doc = json.loads(out)
    assert doc["interrupted"] == "SIGTERM" and doc["stats"]["limit_hit"] == "interrupted (SIGTERM)"
    for r in _rows(doc):  # v3: nothing but the expected failure (5 steps) can be found
        if r["verdict"] == EXPECTED_FAIL:
            assert r["name"] == "positions-match-supply-strict" and r["trace_length"] == 5
        else:
            assert r["verdict"] == UNKNOWN and "interrupted (SIGTERM)" in r["bound"] + r["detail"], r


def test_text_report_says_the_run_was_interrupted(tmp_path: Path) -> None:
    code, out, err = _signalled(tmp_path, signal.SIGINT, "--users", "3", "--ops", "2")
    assert code == 130, err
    assert "interrupted by SIGINT" in out and "every other property is UNKNOWN" in out


def test_a_stop_request_ends_explore_with_unknown() -> None:
    """The engines poll ``checker.stop`` where they poll their limits (no signal needed)."""
    stop.request("interrupted (SIGINT)", "SIGINT")
    r: CheckResult = explore(SPEC, config(users=2, ops=2))
    assert r.stats.limit_hit == "interrupted (SIGINT)"
    assert r.stats.states == 512  # found by the first 256 expanded states, where the first poll is (44,253 in all)
    assert all(x.verdict in (UNKNOWN, EXPECTED_FAIL) for x in r.results)
    assert r.exit_code == 3  # the engine does not know of a signal: the CLI sets ``interrupted``
    r.interrupted = "SIGINT"
    assert r.exit_code == 130
