"""How much partial-order reduction could remove: the steps invisible to every checked property.

A script, not a test. Partial-order reduction may postpone a step only if it is invisible
to every checked property (it changes nothing a property reads) and independent of the
other enabled steps. This script explores a scenario exhaustively (symmetry off), records
which parts of the world each property's check reads (the processes, the network, its
quiescence, the Actions in flight, the obligations: ``CheckMemo``'s parts, plus the
quiescence and obligations that at-quiescence and response properties read), and counts
the transitions that change none of them: the only candidates for an ample set.

    python bench/bench_por.py [--version v3] [--users 2] [--ops 2]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parts_of(node: Any, out: set[Any]) -> None:
    """Every part named in a ``CheckMemo`` trie."""
    if type(node) is list:
        out.add(node[0])
        for child in node[1].values():
            parts_of(child, out)


def main() -> None:
    from checker.config import CheckConfig
    from checker.engines.explore import _Explorer
    from checker.model.expectation import Form, expectation
    from checker.model.property_eval import GHOST, NET, QUIET
    from checker.model.semantics import Semantics, action_serials
    from spec.tim3 import SPEC

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", default="v3")
    ap.add_argument("--users", type=int, default=2)
    ap.add_argument("--ops", type=int, default=2)
    args = ap.parse_args()
    p = SPEC.default_params().set("version", args.version).set("users", args.users).set("ops", args.ops)
    sem = Semantics(SPEC, CheckConfig(params=SPEC.resolve(p), symmetry=False))
    ex = _Explorer(sem, list(SPEC.properties), None)
    # every check evaluated on every state: the parts they read are then complete for this space
    judge_tests = list(ex.pending)
    ex.run()
    n = sem.nprocs
    reads: dict[str, set[Any]] = {}
    for prop in SPEC.properties:
        e = expectation(prop)
        got: set[Any] = set()
        for (name, _goal), memo in ex_memos(judge_tests):
            if name == prop.name:
                if not memo.enabled:  # a memo switched off records nothing: assume it reads everything
                    got |= set(range(n)) | {NET}
                parts_of(memo.root, got)
        if e.form is Form.OBLIGATIONS:
            got |= {QUIET, GHOST}
        if e.quiescent_only:
            got.add(QUIET)
        reads[prop.name] = got

    def value(key: Any, part: Any) -> Any:
        if type(part) is int:
            return key[part] if part >= 0 else key[n] if part == NET else not key[n] if part == QUIET else key[n + 1]
        if type(part) is str:
            return action_serials(sem, key, part)
        return tuple(key[i] for i in part)

    def label(part: Any) -> str:
        if type(part) is int:
            return str(sem.pids[part]) if part >= 0 else {NET: "network", QUIET: "quiescence", GHOST: "obligations"}[part]
        if type(part) is str:
            return f"{part} in flight"
        return f"all {sem.impls[part[0]].kind}s"

    for name, got in reads.items():
        print(f"{name:<36} reads {', '.join(sorted(map(label, got)))}")
    every = set().union(*reads.values())
    invisible = 0
    total = 0
    by_kind: Counter[str] = Counter()
    for key in ex.keys:
        for step, k2 in sem.expand(key):
            total += 1
            if all(value(key, part) == value(k2, part) for part in every):
                invisible += 1
                by_kind[f"{step.pid}:{step.handler}"] += 1
    print(f"{args.version} {args.users}x{args.ops}: {len(ex.keys):,} states, {total:,} transitions; "
          f"invisible to every checked property: {invisible:,} ({100 * invisible / max(total, 1):.1f}%)")
    for what, count in by_kind.most_common():
        print(f"  {what}: {count:,}")


def ex_memos(tests: list[Any]) -> list[tuple[tuple[str, str | None], Any]]:
    """(property, goal) and the ``CheckMemo`` behind each pending test (where there is one)."""
    out = []
    for name, goal, fn in tests:
        memo = _memo_in(fn)
        if memo is not None:
            out.append(((name, goal), memo))
    return out


def _memo_in(fn: Any) -> Any:
    """The ``CheckMemo`` a test is, or closes over."""
    from checker.model.property_eval import CheckMemo

    if isinstance(fn, CheckMemo):
        return fn
    for cell in getattr(fn, "__closure__", None) or ():
        if isinstance(cell.cell_contents, CheckMemo):
            return cell.cell_contents
    return None


if __name__ == "__main__":
    main()
