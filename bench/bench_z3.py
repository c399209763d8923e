"""Benchmark of the z3 engines (not a timed test). Prints:

* time to v1's BMC counterexample (each violated property, 2 users, 2 ops);
* per v3 proof scenario (users×ops) and symmetry setting: the control-shape graph
  (shapes, edges, seconds to build it), then the time to prove each always-property
  (PROVED or not; each a separate ``prove`` call, graph build included) per method
  (``kind`` = 1-induction with the spec's declared invariants; ``reach``; ``auto``);
* v3 BMC with and without the adversary (1 user, 2 ops, depth 14);
* the deepest BMC depth finished on v3 within a time budget (default 60 s).

Usage: python bench/bench_z3.py [--budget 60] [--prove 1x1,1x2,2x1] [--methods kind]
       [--symmetry on,off] [--max-shapes 20000] [--bmc-users 2] [--bmc-ops 2]
       [--adversary-depth 14] [--skip-bmc]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checker.engines.symbolic.bmc import bmc  # noqa: E402
from checker.config import CheckConfig, Limits  # noqa: E402
from checker.engines.symbolic.prove import prove  # noqa: E402
from checker.result import Stats  # noqa: E402
from checker.engines.symbolic.semantics import SymSemantics  # noqa: E402
from checker.engines.symbolic.shapes import build_graph  # noqa: E402
from checker.engines.symbolic.values import Oracle  # noqa: E402
from spec.tim3 import SPEC  # noqa: E402


def cfg(version: str, users: int, ops: int) -> CheckConfig:
    p = SPEC.default_params().set("version", version).set("users", users).set("ops", ops)
    return CheckConfig(params=SPEC.resolve(p.set("collateral", None).set("max_supply", None)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for the deepest-BMC-depth run on v3")
    ap.add_argument("--prove", default="1x1,1x2,2x1,3x1", help="v3 proof scenarios, users x ops, comma-separated")
    ap.add_argument("--methods", default="kind", help="prove methods to time (kind, reach, chc, auto)")
    ap.add_argument("--adversary-depth", type=int, default=14, help="BMC depth with/without the adversary (0: skip)")
    ap.add_argument("--symmetry", default="on", help="shape symmetry settings to time: on, off or on,off")
    ap.add_argument("--max-shapes", type=int, default=20_000, help="prove's control-shape limit (hit: UNKNOWN)")
    ap.add_argument("--bmc-users", type=int, default=2)
    ap.add_argument("--bmc-ops", type=int, default=2)
    ap.add_argument("--skip-bmc", action="store_true", help="only the proof scenarios")
    a = ap.parse_args()

    if not a.skip_bmc:
        bmc_counterexamples(a.bmc_users, a.bmc_ops)
    for scen in filter(None, a.prove.split(",")):
        users, ops = (int(x) for x in scen.split("x"))
        for sym in a.symmetry.split(","):
            proofs(users, ops, sym == "on", a.methods.split(","), a.max_shapes)
    if not a.skip_bmc:
        bmc_runs(a.adversary_depth, a.budget, a.bmc_users, a.bmc_ops)


def proofs(users: int, ops: int, symmetry: bool, methods: list[str], max_shapes: int) -> None:
    """The shape graph of the scenario (plain, and guided by the declared invariants as
    ``kind`` builds it), then one ``prove`` call per always-property and for the
    response property ``update-follows-success``."""
    c = dataclasses.replace(cfg("v3", users, ops), symmetry=symmetry)
    props = [p for p in SPEC.properties if p.kind in ("always", "response") and not p.expected_to_fail]
    invs = [i for i in SPEC.invariants if i.kind == "always" and i.obligations_of is None]
    checked = [p for p in props if p.kind == "always"] + invs
    ss = SymSemantics(SPEC, dataclasses.replace(c, properties=tuple(p.name for p in checked)), Oracle())
    for assume in ((), tuple(i.name for i in invs)):
        t = time.perf_counter()
        g = build_graph(ss, checked, max_shapes, assume=assume)
        print(f"== v3 proofs ({users} users, {ops} ops, symmetry {'on' if symmetry else 'off'}, "
              f"{'guided by the invariants' if assume else 'plain graph'}): "
              f"{g.scope().split(';')[0]}, {len(g.edges):,} edges, {len(g.refuted):,} refuted, "
              f"built in {time.perf_counter() - t:.1f} s"
              f"{'' if g.complete else f' (stopped: more than {max_shapes:,} shapes)'}", flush=True)
    for method in methods:
        print(f"  -- method {method}")
        for p in props:
            t = time.perf_counter()
            res = prove(SPEC, c, properties=[p.name], method=method, max_shapes=max_shapes)
            r = res.results[0]
            print(f"  {p.name:34s} {r.verdict:9s} {time.perf_counter() - t:6.2f} s  "
                  f"({res.stats.states} shapes, {res.stats.transitions} edges) {r.detail[:60]}", flush=True)


def bmc_counterexamples(users: int, ops: int) -> None:
    """Time to v1's BMC counterexample of each violated property."""
    print(f"== v1 BMC counterexamples ({users} users, {ops} ops, symbolic amounts/collateral/cap)")
    for prop in ("update-follows-success", "positions-match-supply", "positions-match-supply-inflight"):
        c = dataclasses.replace(cfg("v1", users, ops), properties=(prop,))
        t = time.perf_counter()
        r = bmc(SPEC, c, 20).result(prop)
        n = len(r.trace) if r.trace else None
        print(f"  {prop:34s} {r.verdict:9s} {n} steps  {time.perf_counter() - t:6.2f} s")


def bmc_runs(adversary_depth: int, budget: float, users: int, ops: int) -> None:
    """v3 BMC with/without the adversary; the deepest depth within ``budget`` seconds."""
    if adversary_depth:
        print(f"== v3 BMC, 1 user, 2 ops, depth {adversary_depth}: without / with the adversary")
        for faults in (frozenset(), frozenset({"adversary"})):
            c = dataclasses.replace(cfg("v3", 1, 2), faults=faults)
            t = time.perf_counter()
            res = bmc(SPEC, c, adversary_depth)
            print(f"  faults {', '.join(faults) or 'none':10s} {time.perf_counter() - t:7.2f} s "
                  f"({res.stats.states:,} symbolic states, {res.stats.transitions:,} transitions)")

    print(f"== v3 BMC depth within {budget:g} s ({users} users, {ops} ops)")
    reached: list[tuple[int, float, int]] = []
    start = time.perf_counter()

    def progress(s: Stats) -> None:
        reached.append((s.max_depth, time.perf_counter() - start, s.states))

    c = dataclasses.replace(cfg("v3", users, ops), limits=Limits(timeout=budget))
    res = bmc(SPEC, c, 1000, progress=progress)
    d, secs, states = reached[-1] if reached else (0, 0.0, 0)
    print(f"  deepest depth finished: {d} at {secs:.1f} s ({states:,} symbolic states); stop: {res.stats.limit_hit}")


if __name__ == "__main__":
    main()
