"""The cost of the fix and of the release, counted from explored runs.

* ``request_costs(version, fault)``: every run of one request (a mint or a burn) of one
  user, for coordinator ``version`` of ``spec.tim3`` under at most one ``fault``;
  the user starts holding 1 TIM3 (its collateral locked, its position recorded) so
  that a burn can succeed. Per (operation, outcome): the messages the request causes
  (the request and the answer included), how many of them are ``UpdatePosition``, and
  the longest chain of messages from the request to its answer (each message sent
  while handling the previous one).
* ``operator_costs(plan, users)``: over every run of the migration (``spec.tim3.migration``,
  1 op per user) that completes the release (switched, backfilled, quiescent, no
  rollback) or rolls back (switched back, quiescent): the fewest and the most messages
  sent by or to the operator (``None`` = unbounded: a loop, such as re-inspecting a
  busy old coordinator, can repeat any number of times).

``python -m spec.tim3.migration_cost`` prints both tables.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from checker.config import CheckConfig
from checker.model.semantics import Key, Semantics, Step, World
from checker.model.spec import Params, ProcessInstance, Spec
from checker.model.values import FrozenMap, Message
from spec.tim3 import SPEC as TIM3
from spec.tim3 import build as tim3_build
from spec.tim3.migration import SPEC as MIGRATION
from spec.tim3.states import LockState, PositionState, TokenState

N = TypeVar("N", bound=Hashable)  # a node of a graph (a world key)
MAX_RUNS = 100_000  # a guard: the one-request scenarios have a few dozen runs


@dataclass(frozen=True)
class RequestCost:
    """What one request costs in one kind of run (min–max over the runs of that kind)."""

    version: str
    fault: str
    op: str
    outcome: str
    messages: tuple[int, int]
    updates: tuple[int, int]
    chain: tuple[int, int]
    runs: int


def _holding_build(params: Params) -> tuple[ProcessInstance, ...]:
    """``spec.tim3``'s system where every user already holds 1 TIM3, fully recorded."""
    built = tim3_build(params)
    users = [i.pid for i in built if i.pid.startswith("user")]
    one = FrozenMap({u: 1 for u in users})
    out = []
    for inst in built:
        if isinstance(inst.init, TokenState):
            inst = dataclasses.replace(inst, init=TokenState(one, len(users), FrozenMap()))
        elif isinstance(inst.init, LockState):
            inst = dataclasses.replace(inst, init=LockState(inst.init.free, one))
        elif isinstance(inst.init, PositionState):
            inst = dataclasses.replace(inst, init=PositionState(one))
        out.append(inst)
    return tuple(out)


def cost_spec() -> Spec:
    """``spec.tim3`` with the holding start of ``_holding_build``."""
    return dataclasses.replace(TIM3, build=_holding_build)


def _runs(sem: Semantics) -> Iterator[tuple[tuple[Step, ...], World]]:
    """Every maximal run from the initial world (depth-first; the scenarios are acyclic)."""
    stack: list[tuple[World, tuple[Step, ...]]] = [(sem.initial(), ())]
    count = 0
    while stack:
        world, path = stack.pop()
        nxt = list(sem.successors(world))
        if not nxt:
            count += 1
            if count > MAX_RUNS:
                raise RuntimeError(f"more than {MAX_RUNS} runs: the scenario is too large to enumerate")
            yield path, world
            continue
        for step, w in reversed(nxt):
            stack.append((w, path + (step,)))


def _chain(path: tuple[Step, ...]) -> int:
    """The number of messages on the causal chain ending in the user's answer."""
    depth: dict[Message, list[int]] = {}
    best = 0
    for step in path:
        base = 0
        if step.msg is not None and step.kind in ("deliver", "error", "unhandled"):
            base = depth[step.msg].pop(0)
            if step.pid.startswith("user"):
                best = max(best, base)
        for m in step.sends:
            depth.setdefault(m, []).append(base + 1)
    return best


def request_costs(version: str, fault: str = "none", faults: frozenset[str] | None = None) -> list[RequestCost]:
    """The cost of one request per (operation, outcome) for ``version`` under at most one
    fault: ``fault`` (``"none"``: no fault) or, when given, any one of ``faults``."""
    spec = cost_spec()
    params = TIM3.default_params().set("version", version).set("users", 1).set("ops", 1)
    params = params.set("collateral", 1).set("max_supply", 10)
    if faults is None:
        faults = frozenset() if fault == "none" else frozenset({fault})
    else:
        fault = ",".join(sorted(faults)) or "none"
    sem = Semantics(spec, CheckConfig(params=params, faults=faults, max_faults=1))
    seen: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for path, world in _runs(sem):
        user = world.procs[sem.index["user1"]]
        if not user.requests:
            continue  # the user never sent its request
        (req,) = user.requests.values()
        sends = [m for step in path for m in step.sends]
        updates = sum(1 for m in sends if m.action == "UpdatePosition")
        seen.setdefault((req.op, req.status), []).append((len(sends), updates, _chain(path)))
    out = []
    for (op, outcome), rows in sorted(seen.items()):
        def span(i: int) -> tuple[int, int]:
            return (min(r[i] for r in rows), max(r[i] for r in rows))

        out.append(RequestCost(version, fault, op, outcome, span(0), span(1), span(2), len(rows)))
    return out


def _figure(span: tuple[int, int]) -> int | list[int]:
    return span[0] if span[0] == span[1] else [span[0], span[1]]


def request_figures(version: str, faults: frozenset[str] = frozenset(), prefix: str = "") -> dict[str, Any]:
    """The cost of one request of ``version`` (``request_costs`` under at most one of
    ``faults``) as named figures: per completed (``success``) or refused (``error``) mint
    and burn, the messages it causes (request and answer included), how many are
    ``UpdatePosition``, the longest chain to the answer; then the longest chain over all.
    Each name starts with ``prefix``."""
    costs = request_costs(version, faults=faults)
    under = f"at most one fault of {', '.join(sorted(faults))}" if faults else "no fault"
    out: dict[str, Any] = {f"{prefix}request costs": f"coordinator {version} (the model), one request of one user, {under}"}
    for c in sorted(costs, key=lambda c: (c.op != "mint", c.outcome != "success")):
        what = f"{'completed' if c.outcome == 'success' else 'refused'} {c.op}"
        out[f"{prefix}messages per {what}"] = _figure(c.messages)
        out[f"{prefix}UpdatePosition per {what}"] = _figure(c.updates)
        out[f"{prefix}longest chain from a {what} to its answer"] = _figure(c.chain)
    if costs:
        out[f"{prefix}longest chain from a request to its answer"] = max(c.chain[1] for c in costs)
    return out


def check_statistics(config: CheckConfig) -> dict[str, Any]:
    """``spec.tim3``'s ``Spec.statistics`` (printed by ``check``): ``request_figures`` of
    the checked coordinator version under the check's spec faults."""
    return request_figures(str(config.params["version"]), frozenset(config.faults) & frozenset(TIM3.faults))


def migration_statistics(config: CheckConfig) -> dict[str, Any]:
    """``spec.tim3.migration``'s ``Spec.statistics``: ``request_figures`` of the old
    coordinator (v1) and of the new one, side by side (no faults: the release is
    checked without)."""
    return {**request_figures("v1", prefix="old: "),
            **request_figures(str(config.params["version"]), prefix="new: ")}


# ---------------------------------------------------------------- the operator's messages


def _graph(sem: Semantics) -> tuple[list[Key], dict[Key, list[tuple[Key, int]]]]:
    """Every reachable key and its edges, weighted by the operator's messages on the step."""
    start = sem.initial_key()
    edges: dict[Key, list[tuple[Key, int]]] = {}
    todo = [start]
    order = []
    while todo:
        k = todo.pop()
        if k in edges:
            continue
        order.append(k)
        out = []
        for step, nk in sem.expand(k):
            w = sum(1 for m in step.sends if "operator" in (m.src, m.dst))
            out.append((nk, w))
            if nk not in edges:
                todo.append(nk)
        edges[k] = out
    return order, edges


def _bounds(start: N, edges: dict[N, list[tuple[N, int]]], target: Callable[[N], bool]) -> tuple[int, int | None] | None:
    """(fewest, most) weight of a path from ``start`` to a target; most is None when a
    positive cycle lies on such a path; None when no target is reachable."""
    dist = {start: 0}
    heap = [(0, 0, start)]
    tie = 0
    while heap:
        d, _, k = heapq.heappop(heap)
        if d > dist[k]:
            continue
        for nk, w in edges[k]:
            if d + w < dist.get(nk, 1 << 60):
                dist[nk] = d + w
                tie += 1
                heapq.heappush(heap, (d + w, tie, nk))
    targets = [k for k in dist if target(k)]
    if not targets:
        return None
    fewest = min(dist[k] for k in targets)
    # nodes on some start→target path
    back: dict[N, list[tuple[N, int]]] = {}
    for k, out in edges.items():
        for nk, w in out:
            back.setdefault(nk, []).append((k, w))
    useful = set(targets)
    todo = list(targets)
    while todo:
        k = todo.pop()
        for pk, _ in back.get(k, ()):
            if pk not in useful and pk in dist:
                useful.add(pk)
                todo.append(pk)
    sub = {k: [(nk, w) for nk, w in edges[k] if nk in useful] for k in useful}
    comp = _components(start, sub)
    if any(w > 0 and comp[k] == comp[nk] for k, out in sub.items() for nk, w in out):
        return fewest, None  # a cycle that sends operator messages can repeat any number of times
    most: dict[int, int] = {}  # per component, in reverse topological order (Tarjan's output order)
    members: dict[int, list[N]] = {}
    for k, c in comp.items():
        members.setdefault(c, []).append(k)
    for c in sorted(members):
        best = -1
        for k in members[c]:
            if target(k):
                best = max(best, 0)
            for nk, w in sub[k]:
                if comp[nk] != c and most.get(comp[nk], -1) >= 0:
                    best = max(best, most[comp[nk]] + w)
        most[c] = best
    return fewest, most[comp[start]]


def _components(start: N, sub: dict[N, list[tuple[N, int]]]) -> dict[N, int]:
    """Tarjan's strongly connected components of ``sub`` reachable from ``start``,
    numbered in the order they complete (successor components first)."""
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    on: set[N] = set()
    stack: list[N] = []
    comp: dict[N, int] = {}
    count = 0
    work: list[tuple[N, int]] = [(start, 0)]
    while work:
        k, i = work.pop()
        if i == 0:
            index[k] = low[k] = len(index)
            stack.append(k)
            on.add(k)
        out = sub[k]
        if i < len(out):
            work.append((k, i + 1))
            nk = out[i][0]
            if nk not in index:
                work.append((nk, 0))
            elif nk in on:
                low[k] = min(low[k], index[nk])
            continue
        for nk, _ in out:
            if nk in on:  # a child still on the stack: same component as k or an ancestor's
                low[k] = min(low[k], low[nk])
        if low[k] == index[k]:
            c = count
            count += 1
            while True:
                m = stack.pop()
                on.discard(m)
                comp[m] = c
                if m == k:
                    break
    return comp



@dataclass(frozen=True)
class OperatorCost:
    """The operator's messages in the runs of ``plan`` that end as ``ending``."""

    plan: str
    users: int
    ending: str
    fewest: int
    most: int | None


def operator_costs(plan: str, users: int = 1) -> list[OperatorCost]:
    """Fewest/most operator messages over the runs that complete the release or roll back."""
    params = MIGRATION.default_params().set("plan", plan).set("users", users)
    sem = Semantics(MIGRATION, CheckConfig(params=MIGRATION.resolve(params)))
    _, edges = _graph(sem)
    n, op_i, st_i = sem.nprocs, sem.index["operator"], sem.index["state"]

    def op(k: Key) -> Any:
        return sem.states[op_i][k[op_i]]

    def complete(k: Key) -> bool:
        o = op(k)
        return not k[n] and o.switched and not o.rolled_back and bool(sem.states[st_i][k[st_i]].backfilled)

    def rolled_back(k: Key) -> bool:
        return not k[n] and op(k).switched_back

    out = []
    for ending, target in (("release complete", complete), ("rolled back", rolled_back)):
        b = _bounds(sem.initial_key(), edges, target)
        if b is not None:
            out.append(OperatorCost(plan, users, ending, b[0], b[1]))
    return out


def _span(s: tuple[int, int]) -> str:
    return str(s[0]) if s[0] == s[1] else f"{s[0]}–{s[1]}"


def request_table(faults: tuple[str, ...] = ("none", "lock-fail", "mint-fail", "unlock-fail")) -> str:
    """The per-request cost table (Markdown)."""
    lines = ["| version | fault | request | outcome | messages | of which UpdatePosition | longest chain to the answer |",
             "|---|---|---|---|---|---|---|"]
    for v in ("v1", "v2", "v3"):
        for f in faults:
            for c in request_costs(v, f):
                lines.append(f"| {v} | {f} | {c.op} | {c.outcome} | {_span(c.messages)} | {_span(c.updates)} | "
                             f"{_span(c.chain)} |")
    return "\n".join(lines)


def operator_table(users: tuple[int, ...] = (1, 2)) -> str:
    """The operator's messages per plan (Markdown)."""
    lines = ["| plan | users | ending | operator messages (fewest–most) |", "|---|---|---|---|"]
    for plan in ("seed", "cutoff", "corrected"):
        for n in users:
            for c in operator_costs(plan, n):
                most = "unbounded" if c.most is None else str(c.most)
                lines.append(f"| {plan} | {n} | {c.ending} | {c.fewest}–{most} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(request_table())
    print()
    print(operator_table())
