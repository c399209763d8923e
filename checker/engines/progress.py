"""Non-progress cycles (kind ``progress``, ``Form.PROGRESS``) on the explored graph.

A *non-progress cycle* is a reachable cycle of states none of which is a progress state
(SPIN's non-progress cycles; for TIM3 the progress states are the quiescent ones: a
retry loop that never settles). The explorer deduplicates states, so such a cycle is a
finite strongly connected piece of its graph. When a progress property is checked, the
explorer notes the back edges of its graph in an ``EdgeRecorder`` (``explore.py`` makes
one; no property of that kind, no recorder and no cost); ``non_progress_cycle`` then
looks for a nontrivial strongly connected component of the non-progress states
(networkx), entered at the state of smallest BFS depth (a shortest stem), closed by a
shortest cycle through that state.

``lasso`` turns it into a concrete ``LassoTrace`` (stem, then cycle: the world after the
last step equals the world after step ``cycle_start``); with symmetry reduction the
cycle through representatives is followed concretely until a concrete world repeats.
``judge_lasso`` is what replay checks: the cycle closes and avoids every progress state.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import networkx as nx

from checker.errors import InternalError
from checker.model.expectation import Form, expectation
from checker.model.semantics import Key, Semantics, Step
from checker.model.spec import Property, Spec
from checker.result import UNKNOWN, Engine, PropertyResult, Trace

W = TypeVar("W")  # a world (any value with equality, for replay's judge)
NOT_ON_PATHS = ("not checked by {engine}: a non-progress cycle is found on the explored state graph "
                "(run --engine explore)")


@dataclass(frozen=True)
class LassoTrace(Trace):
    """A trace whose steps after ``cycle_start`` form a cycle: the world after the last
    step equals the world after step ``cycle_start`` (0: the initial world), and the run
    can repeat those steps forever."""

    cycle_start: int = 0

    @property
    def cycle_length(self) -> int:
        return len(self.steps) - self.cycle_start


class EdgeRecorder:
    """What a non-progress cycle needs of the explored graph, in memory proportional to its
    *back edges*: an edge ``i -> j`` to a state already stored at a depth ``<= depth[i]``.
    Every cycle has one (depths cannot grow all the way round), so no back edge between
    non-progress states means no non-progress cycle, and the explorer's graph is never
    stored.

    The explorer notes them itself, in its successor loop (``explore.py``: no call per
    edge): a successor already stored that was not found while expanding ``i``'s level is
    a back edge; ``src`` gets ``i`` and ``dst`` the target's packed key (its index is
    resolved only when a graph is needed). ``expanded``: states ``0 .. expanded-1`` were
    expanded (in index order). Only when a back edge joins two non-progress states does
    ``graph()`` rebuild ``succ[i]`` (the indices of the successors of state ``i``, their
    representatives under symmetry, duplicates kept, in expansion order) by expanding the
    explored states again (outcomes are memoised)."""

    def __init__(self, expand: Callable[[Key], Iterator[tuple[Step, Key]]],
                 canon: Callable[[Key], Key] | None, pack: Callable[[Key], bytes]) -> None:
        self._expand, self._canon, self._pack = expand, canon, pack
        self.src: array[int] = array("i")  # back edge n: from state src[n] ...
        self.noted: list[bytes] = []  # ... to the state packed as dst[n], as the pure-Python loop notes them
        self.dst: Sequence[bytes] = self.noted  # (the compiled core's: its own table of indices)
        self.expanded = 0

    def note(self, i: int, target: bytes) -> None:
        """Record the back edge from state ``i`` to the state packed as ``target``."""
        self.src.append(i)
        self.noted.append(target)

    def back(self, packed: Sequence[bytes]) -> list[tuple[int, int]]:
        """The back edges as ``(i, j)`` state indices (``packed``: the explorer's states)."""
        index = {b: j for j, b in enumerate(packed)}
        return [(i, index[b]) for i, b in zip(self.src, self.dst)]

    def graph(self, keys: Sequence[Key], packed: Sequence[bytes]) -> dict[int, list[int]]:
        """``succ`` of every expanded state, rebuilt by expanding each once more
        (``keys``/``packed``: the explorer's states, unpacked and packed)."""
        index = {b: j for j, b in enumerate(packed)}
        pack, canon = self._pack, self._canon
        succ: dict[int, list[int]] = {}
        for i in range(self.expanded):
            out = succ[i] = []
            for _, k2 in self._expand(keys[i]):
                j = index.get(pack(k2))
                if j is None and canon is not None:
                    j = index.get(pack(canon(k2)))
                if j is not None:
                    out.append(j)
        return succ


def non_progress_cycle(succ: Mapping[int, Sequence[int]], progress: Callable[[int], bool],
                       depth: Sequence[int]) -> list[int] | None:
    """A cycle of non-progress states as state indices ``[s, ..., s]`` (``s`` first and
    last), ``s`` of smallest depth among the states on any such cycle (ties: smallest
    index), the cycle a shortest one through ``s``; ``None`` when there is none."""
    quiet = {i: progress(i) for i in succ}
    edges = {i: [j for j in out if j in quiet and not quiet[j]] for i, out in succ.items() if not quiet[i]}
    core = _cyclic_core(edges)
    if not core:
        return None
    g = nx.DiGraph()
    g.add_nodes_from(sorted(core))
    g.add_edges_from((i, j) for i in sorted(core) for j in edges[i] if j in core)
    on_cycle: set[int] = set()
    comp_of: dict[int, frozenset[int]] = {}
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1 or any(g.has_edge(i, i) for i in comp):
            members = frozenset(comp)
            on_cycle |= members
            for i in comp:
                comp_of[i] = members
    if not on_cycle:
        return None
    s = min(on_cycle, key=lambda i: (depth[i], i))
    return _shortest_cycle(s, edges, comp_of[s])


def _cyclic_core(edges: Mapping[int, Sequence[int]]) -> set[int]:
    """The nodes left after repeatedly removing nodes without incoming edges (Kahn): empty
    iff the graph is acyclic, so an acyclic graph (the usual case) costs one linear pass."""
    indeg = dict.fromkeys(edges, 0)
    for out in edges.values():
        for j in out:
            indeg[j] += 1
    todo = [i for i, d in indeg.items() if d == 0]
    left = set(edges)
    while todo:
        i = todo.pop()
        left.discard(i)
        for j in edges[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                todo.append(j)
    return left


def _shortest_cycle(s: int, edges: Mapping[int, Sequence[int]], comp: frozenset[int]) -> list[int]:
    """A shortest path ``s → … → s`` inside ``comp`` (BFS, successors in recorded order)."""
    parent: dict[int, int] = {}
    queue = deque([s])
    seen = {s}
    while queue:
        i = queue.popleft()
        for j in edges[i]:
            if j not in comp:
                continue
            if j == s:
                path = [i]
                while path[-1] != s:
                    path.append(parent[path[-1]])
                return [*reversed(path), s]
            if j not in seen:
                seen.add(j)
                parent[j] = i
                queue.append(j)
    raise InternalError("a strongly connected component without a cycle through one of its states")


def lasso(sem: Semantics, stem: Trace, cycle: list[int], keys: Sequence[Key],
          canon: Callable[[Key], Key] | None) -> LassoTrace:
    """The concrete lasso: ``stem`` (a run to a world whose representative is
    ``keys[cycle[0]]``), then steps through the representatives of ``cycle``, repeated
    (under symmetry) until a concrete world repeats; the cycle starts at its first visit."""
    steps: list[tuple[Step, Key]] = []
    current = sem.key_of(stem.steps[-1][1] if stem.steps else stem.initial)
    seen: dict[Key, int] = {current: 0}
    while True:
        for target in cycle[1:]:
            for step, k2 in sem.expand(current):
                if (k2 if canon is None else canon(k2)) == keys[target]:
                    steps.append((step, k2))
                    current = k2
                    break
            else:
                raise InternalError("non-progress cycle: no concrete step reaches the next state of the cycle")
        if current in seen:
            start = seen[current]
            break
        seen[current] = len(steps)
    pre = steps[:start]
    loop = steps[start:]
    tail = tuple((step, sem.world_of(k)) for step, k in pre + loop)
    return LassoTrace(stem.initial, stem.steps + tail, cycle_start=len(stem.steps) + len(pre))


def is_progress(p: Property) -> bool:
    """Whether ``p`` is judged as non-progress cycles (``Form.PROGRESS``)."""
    return expectation(p).form is Form.PROGRESS


def unchecked(p: Property, engine: Engine, bound: str) -> PropertyResult:
    """The UNKNOWN row of a progress property for an engine that does not look for cycles."""
    return PropertyResult(p.name, p.shown_kind, p.meaning, UNKNOWN, bound, p.expected_to_fail,
                          detail=NOT_ON_PATHS.format(engine=engine), engine=engine)


def unchecked_named(spec: Spec, names: Sequence[str] | None, engine: Engine, bound: str) -> list[PropertyResult]:
    """``unchecked`` rows for the progress properties the user named (``--property``);
    none for the default selection, where such an engine lists only what it decides (as
    ``prove`` leaves out ``sometimes`` properties)."""
    if names is None:
        return []
    return [unchecked(p, engine, bound) for p in spec.properties if p.name in names and is_progress(p)]


def judge_lasso(progress: Callable[[W], bool], worlds: Sequence[W], cycle_start: int) -> str | None:
    """``None`` if ``worlds`` (the initial world, then one per step) is a lasso whose cycle
    (the worlds from ``cycle_start`` on) has at least one step, closes (the last world
    equals the world at ``cycle_start``) and avoids every progress state; else why not."""
    last = len(worlds) - 1
    if not 0 <= cycle_start < last:
        return f"the cycle must start before the last step (cycle start {cycle_start}, {last} steps)"
    if worlds[cycle_start] != worlds[last]:
        return f"the cycle does not close: the world after step {last} differs from the world after step {cycle_start}"
    for n in range(cycle_start, last + 1):
        if progress(worlds[n]):
            return f"the cycle passes a progress state (after step {n})"
    return None
