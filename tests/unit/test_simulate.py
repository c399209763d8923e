"""The simulation engine finds seeded bugs, shrinks them, and never claims a pass."""

from __future__ import annotations

from checker.result import HOLDS, UNKNOWN, VIOLATED
from checker.model.semantics import Semantics
from checker.engines.simulate import simulate
from spec.tim3 import SPEC
from tests.tim3_helpers import config


def test_finds_and_shrinks_v1_bug_to_the_shortest_length() -> None:
    cfg = config(version="v1", users=2, ops=2)
    r = simulate(SPEC, cfg, runs=200)
    res = r.result("positions-match-supply")
    assert res.verdict == VIOLATED and res.trace is not None
    assert len(res.trace) == 7  # BFS's shortest is 7: shrinking reaches it
    sem = Semantics(SPEC, cfg)
    w = sem.initial()
    for step, after in res.trace.steps:  # a real run
        assert (step, after) in list(sem.successors(w))
        w = after


def test_never_reports_holds_for_a_safety_property() -> None:
    r = simulate(SPEC, config(version="v3", users=1, ops=2), runs=50)
    assert r.result("positions-match-supply").verdict == UNKNOWN
    assert "never proves" in r.result("positions-match-supply").bound
    assert r.result("mint-and-burn-reachable").verdict == HOLDS
    assert r.exit_code == 3


def test_deterministic() -> None:
    """Same verdicts and traces, whatever else was imported before (Hypothesis mixes the
    constants of loaded modules into integer draws; the engine draws booleans only)."""
    cfg = config(version="v1", users=2, ops=2)
    a = simulate(SPEC, cfg, runs=100).result("positions-match-supply").trace
    import checker.engines.symbolic.prove  # noqa: F401  (loads many modules with many constants)
    import checker.engines.symbolic.shapes  # noqa: F401

    b = simulate(SPEC, cfg, runs=100).result("positions-match-supply").trace
    assert a is not None and b is not None and a.steps == b.steps
