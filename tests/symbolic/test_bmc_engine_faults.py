"""Explicit search and BMC agree under the engine faults (adversary, loss, handler-error)
at small bounds, and every BMC counterexample replays concretely to the same violation."""

from __future__ import annotations

import pytest

from checker.engines.symbolic.bmc import bmc
from checker.engines.explore import explore
from checker.result import EXPECTED_FAIL, VIOLATED
from spec.tim3 import SPEC
from tests.symbolic.helpers import replays_to_violation
from tests.tim3_helpers import config

BAD = (VIOLATED, EXPECTED_FAIL)


def _agree(version: str, fault: str, ops: int, depth: int) -> None:
    """Same verdict per property (explicit with amounts {1, 2}; BMC with any amount, the
    collateral and cap concrete), same shortest counterexample length, and each BMC
    counterexample replays, also in a fresh explicit search of its own scenario."""
    cfg = config(version=version, users=1, ops=ops, amounts=(1, 2), faults=(fault,))
    ex = explore(SPEC, cfg)
    bm = bmc(SPEC, cfg, depth, symbolic_params=())
    for e in ex.results:
        if e.kind == "progress":  # cycles are judged by the explorer only: bmc leaves them out
            continue
        b = bm.result(e.name)
        if e.verdict in BAD:
            assert b.verdict == e.verdict, (e.name, e.verdict, b.verdict)
            assert e.trace is not None and b.trace is not None and len(b.trace) == len(e.trace), e.name
        if b.verdict in BAD and e.kind != "sometimes":
            assert e.verdict in BAD, (e.name, e.verdict, b.verdict)
            assert replays_to_violation(SPEC, b), e.name
            assert b.trace_config is not None
            assert explore(SPEC, b.trace_config).result(e.name).verdict == b.verdict


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@pytest.mark.parametrize("fault", ["adversary", "loss", "handler-error"])
def test_explicit_and_bmc_agree_under_engine_faults_one_op(version: str, fault: str) -> None:
    _agree(version, fault, 1, 14)


@pytest.mark.parametrize("version", ["v1", pytest.param("v2", marks=pytest.mark.slow)])
def test_adversary_counterexamples_replay_two_ops(version: str) -> None:
    """The reported repro: v1/v2, 1 user × 2 ops, adversary, depth 14 (injections used to
    replay as the first injection of the concrete order instead of the chosen one)."""
    cfg = config(version=version, users=1, ops=2, faults=("adversary",))
    res = bmc(SPEC, cfg, 8)
    bad = [r for r in res.results if r.verdict in BAD and r.kind != "sometimes"]
    assert bad
    for r in bad:
        assert replays_to_violation(SPEC, r), r.name
    assert any(s.kind == "inject" for r in bad for s, _ in (r.trace.steps if r.trace else ()))


@pytest.mark.slow
@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@pytest.mark.parametrize("fault", ["adversary", "loss", "handler-error"])
def test_explicit_and_bmc_agree_under_engine_faults_two_ops(version: str, fault: str) -> None:
    _agree(version, fault, 2, 12)
