"""Benchmark of the z3 engines (not a timed test). Prints:

* time to v1's BMC counterexample (each violated property, 2 users, 2 ops);
* time to prove each always-property of v3 (PROVED or not, with the shape count), per
  scenario (users×ops) and per method (``kind`` = 1-induction with the spec's declared
  invariants; ``reach``; ``auto``);
* v3 BMC with and without the adversary (1 user, 2 ops, depth 14);
* the deepest BMC depth finished on v3 within a time budget (default 60 s).

Usage: python bench/bench_z3.py [--budget 60] [--prove 1x1,1x2,2x1] [--methods kind]
       [--bmc-users 2] [--bmc-ops 2] [--adversary-depth 14]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checker.bmc import bmc  # noqa: E402
from checker.config import CheckConfig, Limits  # noqa: E402
from checker.prove import prove  # noqa: E402
from checker.result import Stats  # noqa: E402
from spec.tim3 import SPEC  # noqa: E402


def cfg(version: str, users: int, ops: int) -> CheckConfig:
    p = SPEC.default_params().set("version", version).set("users", users).set("ops", ops)
    return CheckConfig(params=SPEC.resolve(p.set("collateral", None).set("max_supply", None)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for the deepest-BMC-depth run on v3")
    ap.add_argument("--prove", default="1x1,1x2,2x1", help="v3 proof scenarios, users x ops, comma-separated")
    ap.add_argument("--methods", default="kind", help="prove methods to time (kind, reach, chc, auto)")
    ap.add_argument("--adversary-depth", type=int, default=14, help="BMC depth with/without the adversary (0: skip)")
    ap.add_argument("--bmc-users", type=int, default=2)
    ap.add_argument("--bmc-ops", type=int, default=2)
    a = ap.parse_args()

    print(f"== v1 BMC counterexamples ({a.bmc_users} users, {a.bmc_ops} ops, symbolic amounts/collateral/cap)")
    for prop in ("update-follows-success", "positions-match-supply", "positions-match-supply-inflight"):
        c = dataclasses.replace(cfg("v1", a.bmc_users, a.bmc_ops), properties=(prop,))
        t = time.perf_counter()
        r = bmc(SPEC, c, 20).result(prop)
        n = len(r.trace) if r.trace else None
        print(f"  {prop:34s} {r.verdict:9s} {n} steps  {time.perf_counter() - t:6.2f} s")

    for scen in a.prove.split(","):
        users, ops = (int(x) for x in scen.split("x"))
        for method in a.methods.split(","):
            print(f"== v3 proofs ({users} users, {ops} ops, method {method})")
            for p in SPEC.properties:
                if p.kind != "always" or p.expected_to_fail:
                    continue
                t = time.perf_counter()
                res = prove(SPEC, cfg("v3", users, ops), properties=[p.name], method=method)
                r = res.results[0]
                print(f"  {p.name:34s} {r.verdict:9s} {time.perf_counter() - t:6.2f} s  "
                      f"({res.stats.states} shapes, {res.stats.transitions} edges) {r.detail[:60]}")

    if a.adversary_depth:
        print(f"== v3 BMC, 1 user, 2 ops, depth {a.adversary_depth}: without / with the adversary")
        for faults in (frozenset(), frozenset({"adversary"})):
            c = dataclasses.replace(cfg("v3", 1, 2), faults=faults)
            t = time.perf_counter()
            res = bmc(SPEC, c, a.adversary_depth)
            print(f"  faults {', '.join(faults) or 'none':10s} {time.perf_counter() - t:7.2f} s "
                  f"({res.stats.states:,} symbolic states, {res.stats.transitions:,} transitions)")

    print(f"== v3 BMC depth within {a.budget:g} s ({a.bmc_users} users, {a.bmc_ops} ops)")
    reached: list[tuple[int, float, int]] = []
    start = time.perf_counter()

    def progress(s: Stats) -> None:
        reached.append((s.max_depth, time.perf_counter() - start, s.states))

    c = dataclasses.replace(cfg("v3", a.bmc_users, a.bmc_ops), limits=Limits(timeout=a.budget))
    res = bmc(SPEC, c, 1000, progress=progress)
    d, secs, states = reached[-1] if reached else (0, 0.0, 0)
    print(f"  deepest depth finished: {d} at {secs:.1f} s ({states:,} symbolic states); stop: {res.stats.limit_hit}")


if __name__ == "__main__":
    main()
