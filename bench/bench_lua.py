"""Benchmark of the Lua engine (a script, not a test): TIM3 v3 in Lua, explored.

Prints, for ``--impl lua`` at the given scenario (default 2 users × 2 ops, symmetry
off as for every Lua run): distinct states, transitions, seconds, distinct states/s,
Lua deliveries run and deliveries/s — once with the outcome memo of ``Semantics``
(each (state, message) is run once; on the compiled core where it is built) and once
without it (every transition runs its delivery again: the raw speed of the runtime behind
the seam; on the pure-Python loop, whose memo can be switched off). The note says which
explorer ran.

    python bench/bench_lua.py [--users 2] [--ops 2] [--coordinator v3] [--no-memo-limit 200000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class _NoMemo(dict[Any, Any]):
    """A memo that never remembers (every delivery is run again)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        return None


def run(users: int, ops: int, version: str, memo: bool, max_states: int | None) -> dict[str, Any]:
    from checker.ao.runtime import AoProcess
    from checker.config import CheckConfig, Limits
    from checker.engines.explore import _Explorer
    from checker.model.semantics import Semantics
    from spec.tim3 import SPEC

    params = SPEC.default_params().set("collateral", None).set("max_supply", None)
    params = SPEC.resolve(params.set("users", users).set("ops", ops).set("version", version).set("impl", "lua"))
    cfg = CheckConfig(params=params, symmetry=False, limits=Limits(max_states=max_states))
    sem = Semantics(SPEC, cfg)
    calls = [0]
    original = AoProcess.deliver

    def counted(self: Any, *a: Any, **k: Any) -> Any:
        calls[0] += 1
        return original(self, *a, **k)

    AoProcess.deliver = counted  # type: ignore[method-assign]
    try:
        if not memo:
            sem._memo = [_NoMemo() for _ in sem._memo]
        props = list(SPEC.properties)
        t0 = time.perf_counter()
        # the compiled core keeps its own outcome memo: without a memo, the pure-Python loop
        result = _Explorer(sem, props, None, None if memo else "the run without memo").run()
        secs = time.perf_counter() - t0
    finally:
        AoProcess.deliver = original  # type: ignore[method-assign]
    st = result.stats
    return {"states": st.states, "transitions": st.transitions, "seconds": secs, "deliveries": calls[0],
            "limit": f"{st.limit_hit or 'exhaustive'}; {st.explorer}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--users", type=int, default=2)
    ap.add_argument("--ops", type=int, default=2)
    ap.add_argument("--coordinator", default="v3")
    ap.add_argument("--no-memo-limit", type=int, default=200_000, help="max states for the run without memo")
    a = ap.parse_args()
    print(f"TIM3 {a.coordinator} in Lua, {a.users} users x {a.ops} ops, symmetry off")
    print(f"{'run':<12}{'states':>10}{'transitions':>13}{'seconds':>9}{'states/s':>10}{'deliveries':>12}{'deliv/s':>10}  note")
    for memo in (True, False):
        r = run(a.users, a.ops, a.coordinator, memo, None if memo else a.no_memo_limit)
        print(f"{'memo' if memo else 'no memo':<12}{r['states']:>10,}{r['transitions']:>13,}{r['seconds']:>9.2f}"
              f"{r['states'] / r['seconds']:>10,.0f}{r['deliveries']:>12,}{r['deliveries'] / r['seconds']:>10,.0f}  {r['limit']}")


if __name__ == "__main__":
    main()
