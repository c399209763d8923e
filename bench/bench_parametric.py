"""Benchmark of the parameterised proofs (not a timed test). Prints, for coordinator v3
and each fault setting, the time of each property proved alone (one
``prove_parametric`` call each: the view checked against the concrete semantics on its
scenarios, the per-request records, the Houdini 1-induction, the independent re-check,
the property) and of all of them in one call, wall-clock and CPU seconds of this
process; then the parts of one call; then v1's and v2's time to their counterexample.

Usage: python bench/bench_parametric.py [--faults none,all] [--skip-broken]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checker.config import CheckConfig  # noqa: E402
from checker.engines.parametric_check import check_scenarios, request_reach  # noqa: E402
from checker.model.parametric_spec import ParametricSystem  # noqa: E402
from checker.engines.symbolic.parametric import _Enc, _induct, _safe, prove_parametric, recheck  # noqa: E402
from spec.tim3 import SPEC  # noqa: E402
from spec.tim3.parametric import PARAMETRIC  # noqa: E402

T = TypeVar("T")
FIVE = ["positions-match-supply", "positions-match-supply-inflight", "collateral-backs-supply",
        "every-request-answered", "update-follows-success"]
FAULTS = {"none": (), "all": ("lock-fail", "mint-fail", "unlock-fail")}


def cfg(version: str, faults: tuple[str, ...]) -> CheckConfig:
    p = SPEC.default_params().set("version", version)
    return CheckConfig(params=SPEC.resolve(p.set("collateral", None).set("max_supply", None)),
                       faults=frozenset(faults))


def timed(fn: Callable[..., T], *args: Any, **kw: Any) -> tuple[T, float, float]:
    """``fn(*args, **kw)``, its wall-clock and CPU seconds."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faults", default="none,all", help="fault settings: none, all (lock-fail,mint-fail,unlock-fail)")
    ap.add_argument("--skip-broken", action="store_true", help="skip v1/v2")
    a = ap.parse_args()
    print("| faults | property | verdict | wall s | CPU s |")
    print("|---|---|---|---:|---:|")
    for fs in a.faults.split(","):
        c = cfg("v3", FAULTS[fs])
        for name in FIVE:
            res, wall, cpu = timed(prove_parametric, SPEC, c, properties=[name])
            r = res[0]
            print(f"| {fs} | `{name}` | {r.verdict} | {wall:.1f} | {cpu:.1f} |", flush=True)
        res, wall, cpu = timed(prove_parametric, SPEC, c, properties=FIVE)
        verdicts = sorted({str(r.verdict) for r in res})
        print(f"| {fs} | all five in one call | {'/'.join(verdicts)} | {wall:.1f} | {cpu:.1f} |", flush=True)
    parts(cfg("v3", FAULTS["all"]))
    if not a.skip_broken:
        print("\n| version | faults | property | verdict | steps | wall s |")
        print("|---|---|---|---|---:|---:|")
        for v, fs, name in (("v1", (), "update-follows-success"), ("v1", (), "positions-match-supply"),
                            ("v2", ("unlock-fail",), "update-follows-success"), ("v2", (), "collateral-backs-supply")):
            res, wall, _ = timed(prove_parametric, SPEC, cfg(v, fs), properties=[name])
            r = res[0]
            n = len(r.trace) if r.trace is not None else "-"
            print(f"| {v} | {','.join(fs) or 'none'} | `{name}` | {r.verdict} | {n} | {wall:.1f} |", flush=True)


def parts(c: CheckConfig) -> None:
    """The parts of one call (v3, every spec fault)."""
    sysm = PARAMETRIC.system(c.params, c.faults)
    assert isinstance(sysm, ParametricSystem)
    vc, w1, _ = timed(check_scenarios, SPEC, c, PARAMETRIC)
    reach, w2, _ = timed(request_reach, sysm)
    shapes = reach.shapes
    enc = _Enc(sysm, shapes)
    out, w3, _ = timed(_induct, enc, 10**8)
    kept = out.kept
    formulas = [p.formula for p in sysm.properties if p.name in FIVE]
    _, w4, _ = timed(lambda: [_safe(enc, kept, f, 10**8) for f in formulas])
    _, w5, _ = timed(recheck, sysm, shapes, kept, formulas, 10**8)
    print(f"\nparts (v3, all spec faults): view vs concrete {w1:.1f} s ({vc.worlds:,} worlds, "
          f"{vc.steps:,} steps); one request's records {w2:.3f} s ({len(shapes)}); "
          f"induction {w3:.1f} s ({out.checks} obligations); safety of five {w4:.1f} s; "
          f"independent re-check {w5:.1f} s")


if __name__ == "__main__":
    main()
