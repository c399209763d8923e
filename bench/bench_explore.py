"""Benchmark of the explicit-state explorer (a script, not a test).

Prints, for coordinator v3 with users 1..3 × ops 1..2 (amounts {1}), and for the time
to v1's first (shortest) counterexample: distinct states, transitions, seconds (wall),
CPU seconds, states/s, peak memory (max RSS of a fresh process per row) and bytes per
stored state (the peak's growth during the search over the states stored: the visited
set, the BFS tree, and what the semantics interned for them). Each row runs in its own
process so memory figures do not accumulate; a row that reaches ``--timeout`` is
reported with the states it reached. On a shared machine the time figures are noisy
(CPU seconds less so); the memory figures are not.

    python bench/bench_explore.py [--timeout 120] [--users 3] [--ops 2] [--no-symmetry] [--only u3o2] [--python-loop]

``--python-loop`` runs the pure-Python loop (``TIM3CHECK_CORE=python``) instead of the compiled
core; the last column says which explorer ran each row.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _row(kind: str, users: int, ops: int, timeout: float, symmetry: bool, out: Any) -> None:
    from checker.config import CheckConfig, Limits
    from checker.engines.explore import explore
    from spec.tim3 import SPEC

    version = "v1" if kind == "v1-first-cex" else "v3"
    p = SPEC.default_params().set("version", version).set("users", users).set("ops", ops)
    params = SPEC.resolve(p.set("collateral", None).set("max_supply", None))
    limits = Limits(timeout=timeout, stop_at_first_violation=kind == "v1-first-cex")
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    r = explore(SPEC, CheckConfig(params=params, limits=limits, symmetry=symmetry))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    per_state = (peak_kb - base_kb) * 1024 / max(r.stats.states, 1)
    out.put((r.stats.states, r.stats.transitions, seconds, cpu, r.stats.limit_hit, peak_kb / 1024, per_state,
             r.stats.explorer))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per row (default 120)")
    ap.add_argument("--users", type=int, default=3)
    ap.add_argument("--ops", type=int, default=2)
    ap.add_argument("--no-symmetry", action="store_true", help="explore without symmetry reduction over users")
    ap.add_argument("--only", default=None, help="one v3 row, e.g. u3o2")
    ap.add_argument("--python-loop", action="store_true", help="the pure-Python loop, not the compiled core")
    args = ap.parse_args()
    if args.python_loop:
        os.environ["TIM3CHECK_CORE"] = "python"  # inherited by each row's process
    rows = [("v1-first-cex", 2, 2)] + [("v3", u, o) for u in range(1, args.users + 1) for o in range(1, args.ops + 1)]
    if args.only:
        rows = [r for r in rows if r[0] == "v3" and f"u{r[1]}o{r[2]}" == args.only]
    print("symmetry reduction over users:", "off" if args.no_symmetry else "on")
    ctx = mp.get_context("spawn")
    print(f"{'config':<22}{'states':>12}{'transitions':>14}{'seconds':>10}{'CPU s':>9}{'states/s':>12}"
          f"{'peak MB':>10}{'B/state':>9}  note")
    for kind, users, ops in rows:
        q = ctx.Queue()
        proc = ctx.Process(target=_row, args=(kind, users, ops, args.timeout, not args.no_symmetry, q))
        proc.start()
        states, transitions, seconds, cpu, limit, rss, per_state, explorer = q.get()
        proc.join()
        name = f"{kind} u{users} o{ops}"
        note = f"{limit or 'exhaustive'}; {explorer}"
        print(f"{name:<22}{states:>12,}{transitions:>14,}{seconds:>10.2f}{cpu:>9.2f}{states / seconds:>12,.0f}"
              f"{rss:>10.0f}{per_state:>9.0f}  {note}")


if __name__ == "__main__":
    main()
