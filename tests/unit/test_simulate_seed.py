"""simulate: ``--seed`` (fixed default, printed in the verdict), verdicts that say what
random runs establish, and v2's 15-step ``unlock-fail`` bug found within the default
budget (swarm-biased runs, shrunk by delta debugging)."""

from __future__ import annotations

import json

from checker.engines.simulate import DEFAULT_RUNS, DEFAULT_SEED, DEFAULT_STEPS, simulate
from checker.config import CheckConfig
from checker.model.semantics import Semantics, Step, World
from checker.result import EXPECTED_FAIL, HOLDS, UNKNOWN, VIOLATED
from spec.tim3 import SPEC
from tests.tim3_helpers import config
from tests.unit._support import run


def _is_a_run(cfg: CheckConfig, steps: tuple[tuple[Step, World], ...]) -> None:
    sem = Semantics(SPEC, cfg)
    w = sem.initial()
    for step, after in steps:
        assert (step, after) in list(sem.successors(w))
        w = after


def test_finds_v2_unlock_fail_bug_at_its_shortest_length_with_the_defaults() -> None:
    cfg = config(version="v2", users=2, ops=2, faults=("unlock-fail",))
    r = simulate(SPEC, cfg)
    for name, shortest in (("update-follows-success", 15), ("positions-match-supply", 15),
                           ("positions-match-supply-inflight", 11), ("collateral-backs-supply", 15)):
        res = r.result(name)  # explore's shortest lengths: 15, 15, 11, 15
        assert res.verdict == VIOLATED and res.trace is not None, (name, res.bound)
        assert len(res.trace) == shortest, (name, len(res.trace))
        assert f"seed {DEFAULT_SEED}" in res.bound
        _is_a_run(cfg, res.trace.steps)
    assert r.result("positions-match-supply-strict").verdict == EXPECTED_FAIL
    assert r.exit_code == 1


def test_an_unviolated_property_is_unknown_saying_what_was_tried() -> None:
    r = simulate(SPEC, config(version="v3", users=1, ops=2), runs=40, seed=7)
    res = r.result("every-request-answered")
    assert res.verdict == UNKNOWN
    assert res.bound.startswith("no violation in 40 runs of ≤ 60 steps, seed 7 (random simulation: not "
                                "exhaustive, never proves); coordinator v3, 1 users")
    assert r.result("mint-and-burn-reachable").verdict == HOLDS
    assert r.exit_code == 3


def test_same_seed_same_trace_other_seed_other_runs() -> None:
    cfg = config(version="v1", users=2, ops=2)
    a = simulate(SPEC, cfg, runs=60, seed=3).result("positions-match-supply")
    b = simulate(SPEC, cfg, runs=60, seed=3).result("positions-match-supply")
    c = simulate(SPEC, cfg, runs=60, seed=4).result("positions-match-supply")
    assert a.trace is not None and b.trace is not None and c.trace is not None
    assert a.trace.steps == b.trace.steps and a.bound == b.bound
    assert "seed 3, run" in a.bound and "seed 4, run" in c.bound
    _is_a_run(cfg, c.trace.steps)
    assert len(a.trace) == len(c.trace) == 7  # both shrink to the shortest


def test_the_cli_passes_the_seed_and_the_defaults() -> None:
    assert (DEFAULT_RUNS, DEFAULT_STEPS, DEFAULT_SEED) == (300, 60, 0)
    r = run("check", "--users", "1", "--ops", "1", "--engine", "simulate", "--runs", "10", "--seed", "5",
            "--no-save", "--format", "json")
    assert r.exit_code == 3, r.output
    rows = {x["name"]: x for x in json.loads(r.stdout)["results"]}
    assert rows["positions-match-supply"]["bound"].startswith("no violation in 10 runs of ≤ 60 steps, seed 5 ")
    r = run("check", "--engine", "simulate", "--seed", "-1")
    assert r.exit_code == 2
