"""Every limit, everywhere: ``--timeout`` and ``--max-memory`` end every engine in
UNKNOWN with the limit named, soon after the limit (generous upper bounds only)."""

from __future__ import annotations

import dataclasses
import time

from checker.config import Limits
from checker.engines.explore import explore
from checker.result import EXPECTED_FAIL, HOLDS, UNKNOWN
from checker.engines.simulate import simulate
from checker.engines.symbolic.prove import prove
from checker.engines.symmetry import MAX_TIE_ORDERS, _tie_count
from spec.tim3 import SPEC
from tests.tim3_helpers import config


def _all_unknown_naming(result: object, limit: str) -> None:
    results = result.results  # type: ignore[attr-defined]
    # nothing undecided is reported as decided (an expected failure found in time stays)
    assert results and all(r.verdict == UNKNOWN for r in results if not r.expected_to_fail), \
        [(r.name, r.verdict) for r in results]
    assert result.stats.limit_hit == limit  # type: ignore[attr-defined]
    assert result.exit_code == 3  # type: ignore[attr-defined]


def test_symmetry_with_many_tied_users_honours_the_timeout() -> None:
    # 11 tied users have 39,916,800 orders: they must never be built
    assert _tie_count([0] * 11) > MAX_TIE_ORDERS
    cfg = dataclasses.replace(config(users=11), limits=Limits(timeout=2))
    t = time.monotonic()
    r = explore(SPEC, cfg)
    assert time.monotonic() - t < 20
    _all_unknown_naming(r, "timeout 2s")


def test_simulate_honours_the_timeout() -> None:
    cfg = dataclasses.replace(config(users=3, ops=2), limits=Limits(timeout=1))
    t = time.monotonic()
    r = simulate(SPEC, cfg)
    assert time.monotonic() - t < 20
    for res in r.results:  # what was found within the second stays (how many runs fit varies): the expected
        # failure and the witnesses of the sometimes property, each with its run; nothing else is decided
        if (res.verdict, res.expected_to_fail) == (EXPECTED_FAIL, True) or (res.verdict, res.kind) == (HOLDS, "sometimes"):
            assert res.trace is not None
        else:
            assert res.verdict == UNKNOWN and "stopped: timeout 1s" in res.bound, (res.name, res.bound)
    assert r.stats.limit_hit == "timeout 1s" and r.exit_code == 3


def test_prove_honours_the_timeout() -> None:
    cfg = dataclasses.replace(config(users=2, ops=2), limits=Limits(timeout=2))
    t = time.monotonic()
    r = prove(SPEC, cfg, method="kind")
    assert time.monotonic() - t < 25
    _all_unknown_naming(r, "timeout 2s")
    assert all("stopped: timeout 2s" in res.detail for res in r.results)


def test_prove_honours_the_memory_limit() -> None:
    cfg = dataclasses.replace(config(users=2, ops=2), limits=Limits(max_memory_mb=1))
    r = prove(SPEC, cfg, method="kind")
    _all_unknown_naming(r, "max-memory 1 MB")
