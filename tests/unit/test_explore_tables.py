"""The explorer's BFS tables (``checker.engines.explore._Explorer``): depths from level
boundaries, parents and step numbers in C arrays, checked against the graph itself."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

from checker.engines.explore import Depths, _Explorer
from checker.model.semantics import Semantics
from spec.tim3 import SPEC
from tests.tim3_helpers import config


def explored(**params: Any) -> tuple[Semantics, _Explorer]:
    sem = Semantics(SPEC, config(**params))
    ex = _Explorer(sem, list(SPEC.properties), None)
    ex.run()
    return sem, ex


@pytest.mark.parametrize("params", [
    dict(version="v3", users=2, ops=1, faults=("loss",)),
    dict(version="v3", users=2, ops=1, network="fifo", symmetry=False),
])
def test_depths_parents_and_steps_describe_the_bfs_tree(params: dict[str, Any]) -> None:
    sem, ex = explored(**params)
    keys = list(ex.keys)
    index = {k: j for j, k in enumerate(keys)}
    canon = ex.canon

    def rep(k: Any) -> Any:
        return k if k in index or canon is None else canon(k)

    # BFS distances, computed afresh over the representatives
    dist = {keys[0]: 0}
    todo = deque([keys[0]])
    while todo:
        k = todo.popleft()
        for _, k2 in sem.expand(k):
            r = rep(k2)
            if r not in dist:
                dist[r] = dist[k] + 1
                todo.append(r)
    assert len(dist) == len(keys)
    assert list(ex.depth) == [dist[k] for k in keys]
    assert ex.depth[-1] == max(dist.values()) and len(ex.depth) == len(keys)
    assert ex.parent[0] == -1 and ex.step_table[ex.via[0]] is None
    for j in range(1, len(keys)):
        i = ex.parent[j]
        step = ex.step_table[ex.via[j]]
        assert ex.depth[i] + 1 == ex.depth[j]
        assert any(s is step and rep(k2) == keys[j] for s, k2 in sem.expand(keys[i]))


def test_depths_from_level_boundaries() -> None:
    d = Depths([0, 1, 3, 6], list(range(7)))
    assert list(d) == [0, 1, 1, 2, 2, 2, 3]
    assert d[-1] == 3 and d[2:5] == [1, 2, 2] and len(d) == 7
    with pytest.raises(IndexError):
        d[7]
