"""Benchmark of ``Semantics.expand`` alone (a script, not a test).

Every reachable key of a scenario is expanded again with the outcome memo warm; the
figure is the best of 7 repeats in CPU time (``time.process_time``), so it is steadier
than wall time on a shared machine. ``--kernel`` times the step kernel's generic
``expand`` over ``KeyFrame`` instead (``Semantics.kernel_expand``), the definition that
``expand`` inlines.

    python bench/bench_expand.py [--kernel]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checker.config import CheckConfig  # noqa: E402
from checker.model.semantics import Key, Semantics  # noqa: E402
from spec.tim3 import SPEC  # noqa: E402


def _keys(sem: Semantics) -> list[Key]:
    first = sem.initial_key()
    seen = {first: None}
    todo = deque([first])
    while todo:
        for _, k2 in sem.expand(todo.popleft()):
            if k2 not in seen:
                seen[k2] = None
                todo.append(k2)
    return list(seen)


def _row(version: str, users: int, ops: int, faults: tuple[str, ...], kernel: bool, reps: int = 7) -> None:
    p = SPEC.default_params().set("version", version).set("users", users).set("ops", ops)
    p = SPEC.resolve(p.set("collateral", None).set("max_supply", None))
    sem = Semantics(SPEC, CheckConfig(params=p, faults=frozenset(faults)))
    keys = _keys(sem)
    expand = sem.kernel_expand if kernel else sem.expand
    best, n = float("inf"), 0
    for _ in range(reps):
        start, n = time.process_time(), 0
        for k in keys:
            for _ in expand(k):
                n += 1
        best = min(best, time.process_time() - start)
    name = f"{version} u{users}o{ops} {'+'.join(faults) or 'none'}"
    print(f"{name:<30}{len(keys):>10,}{n:>12,}{best:>9.3f}{n / best / 1e3:>12,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", action="store_true", help="time Semantics.kernel_expand (the generic kernel loop)")
    args = ap.parse_args()
    print(f"{'scenario':<30}{'keys':>10}{'successors':>12}{'cpu s':>9}{'k succ/s':>12}")
    _row("v3", 2, 2, (), args.kernel)
    _row("v3", 2, 2, ("loss", "handler-error"), args.kernel)
    _row("v1", 1, 2, ("adversary",), args.kernel)


if __name__ == "__main__":
    main()
