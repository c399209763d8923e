"""The explorer's compact world keys and key-level symmetry agree with plain worlds.

``Semantics.expand`` (memoised outcomes, serial-numbered states and messages) is
checked against a direct, unmemoised statement of the step relation on ``World``
values; ``Symmetry.canonical_key`` against every renaming of a world's users.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.model.choices import all_paths
from checker.errors import HandlerError
from checker.model.network import network_for
from checker.model.semantics import ADVERSARY, Semantics, Step, StepContext, World, _apply_obligations
from checker.model.process import PythonProcess
from checker.model.spec import StepInfo, StepKind
from checker.engines.symmetry import Symmetry, rename_value
from spec.tim3 import SPEC
from tests.tim3_helpers import config

CASES: list[dict[str, Any]] = [
    dict(version="v1", users=2, ops=1),
    dict(version="v2", users=2, ops=1, faults=("mint-fail", "unlock-fail")),
    dict(version="v3", users=2, ops=1, faults=("loss", "handler-error")),
    dict(version="v2", users=1, ops=1, faults=("adversary",)),
    dict(version="v1", users=2, ops=1, network="fifo", faults=("loss",)),
    dict(version="v3", users=3, ops=1),
]


def reference_successors(sem: Semantics, w: World) -> Iterator[tuple[Step, World]]:
    """The step relation of the module docstring of ``checker.model.semantics``, stated
    directly on worlds: no memo, no serials."""
    net: Any = network_for(sem.config.network)

    def world(procs: tuple[Any, ...], n: Any, ghost: Any, faults: int, inj: int) -> World:
        return World(procs, n, ghost, faults, inj)

    def outcomes(idx: int, name: str, fn: Any, msg: Any, handle: Any = None) -> Iterator[tuple[Step, World]]:
        pid, before = sem.pids[idx], w.procs[idx]
        kind = StepKind.DELIVER if msg is not None else StepKind.INITIATIVE
        rest = net.take(w.net, handle) if msg is not None else w.net

        def one(ch: Any) -> tuple[str, Any, StepContext]:
            ctx = StepContext(sem, pid, ch, w.faults_left)
            try:
                return "ok", (fn(before, ctx) if msg is None else fn(before, msg, ctx)), ctx
            except HandlerError as e:
                return "error", e.reason, ctx

        for _, (status, value, ctx) in all_paths(one):
            if status == "error":
                yield Step(StepKind.ERROR, pid, name, msg, tuple(ctx.choices), (), value), world(
                    w.procs, rest, w.ghost, ctx.faults_left, w.injections_left)
                continue
            if value is None:
                continue
            sends = tuple(ctx.sends)
            gops = sem._obligation_changes(StepInfo(pid, kind, name, msg, before, value, sends))
            ghost = _apply_obligations(w.ghost, gops) if gops else w.ghost
            procs = w.procs[:idx] + (value,) + w.procs[idx + 1:]
            yield Step(kind, pid, name, msg, tuple(ctx.choices), sends), world(
                procs, net.put(rest, sends) if sends else rest, ghost, ctx.faults_left, w.injections_left)

    for handle, msg in net.deliverable(w.net):
        idx = sem.index[msg.dst]
        rest = net.take(w.net, handle)
        impl = sem.impls[idx] if idx >= 0 else None
        assert impl is None or isinstance(impl, PythonProcess)
        h = None if impl is None else impl.match(msg)
        if h is None:
            yield Step(StepKind.UNHANDLED, msg.dst, None, msg, (), ()), world(w.procs, rest, w.ghost, w.faults_left, w.injections_left)
            continue
        yield from outcomes(idx, h.name, h.fn, msg, handle)
        if sem.handler_error and w.faults_left > 0:
            yield Step(StepKind.HANDLER_ERROR, msg.dst, h.name, msg, (), ()), world(
                w.procs, rest, w.ghost, w.faults_left - 1, w.injections_left)
    if sem.loss and w.faults_left > 0:
        for handle, msg in net.droppable(w.net):
            yield Step(StepKind.LOSE, msg.dst, None, msg, (), ()), world(
                w.procs, net.take(w.net, handle), w.ghost, w.faults_left - 1, w.injections_left)
    for idx, impl in enumerate(sem.impls):
        for it in impl.initiatives():
            yield from outcomes(idx, it.name, it.fn, None)
    if w.injections_left > 0:
        for m in sem._adversary_messages():
            yield Step(StepKind.INJECT, ADVERSARY, None, None, (), (m,)), world(
                w.procs, net.put(w.net, (m,)), w.ghost, w.faults_left, w.injections_left - 1)


def reachable(sem: Semantics, limit: int = 400) -> list[World]:
    seen = {sem.initial(): None}
    frontier = list(seen)
    while frontier and len(seen) < limit:
        nxt = []
        for w in frontier:
            for _, w2 in sem.successors(w):
                if w2 not in seen:
                    seen[w2] = None
                    nxt.append(w2)
        frontier = nxt
    return list(seen)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_expand_matches_the_direct_step_relation(case: dict[str, Any]) -> None:
    sem = Semantics(SPEC, config(**case))
    for w in reachable(sem):
        assert sem.world_of(sem.key_of(w)) == w
        assert list(sem.successors(w)) == list(reference_successors(sem, w))


def _renamings(sem: Semantics) -> list[dict[str, str]]:
    users = sem.pids_of_kind["user"]
    return [dict(zip(users, perm)) for perm in itertools.permutations(users)]


def _renamed(sem: Semantics, w: World, ren: dict[str, str]) -> World:
    procs: list[Any] = list(w.procs)
    for i, state in enumerate(w.procs):
        procs[sem.index[ren.get(sem.pids[i], sem.pids[i])]] = rename_value(state, ren)
    msgs = [rename_value(m, ren) for m in sem.net.messages(w.net)]
    net = sem.net.canonical(msgs)
    ghost = tuple(tuple(sorted(rename_value(k, ren) for k in g)) for g in w.ghost)
    return World(tuple(procs), net, ghost, w.faults_left, w.injections_left)


@pytest.mark.parametrize("case", [c for c in CASES if c.get("users", 2) >= 2], ids=lambda c: "-".join(str(v) for v in c.values()))
def test_canonical_form_is_one_member_per_orbit(case: dict[str, Any]) -> None:
    """Every renaming of a world has the same representative, and it is in the orbit."""
    sem = Semantics(SPEC, config(**case))
    sym = Symmetry(sem)
    for w in reachable(sem, 250):
        orbit = [_renamed(sem, w, ren) for ren in _renamings(sem)]
        reps = {sym.canonical(x) for x in orbit}
        assert len(reps) == 1
        assert reps.pop() in orbit


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_canonical_form_on_random_runs(rnd: Any) -> None:
    """Random runs of 3 users × 2 ops, canonicalised in a random order: keys round-trip,
    every renaming of a world has the same representative, a member of its orbit."""
    cfg = config(version="v3", users=3, ops=2, faults=("loss",))
    sem = Semantics(SPEC, cfg)
    sym = Symmetry(sem)
    w = sem.initial()
    for _ in range(18):
        succ = list(sem.successors(w))
        if not succ:
            break
        w = rnd.choice(succ)[1]
        assert sem.world_of(sem.key_of(w)) == w
        orbit = [_renamed(sem, w, ren) for ren in _renamings(sem)]
        rnd.shuffle(orbit)
        rep = sym.canonical(orbit[0])
        assert rep in orbit
        assert all(sym.canonical(x) == rep for x in orbit)


def test_reduced_counterexamples_do_not_depend_on_the_hash_seed() -> None:
    """Representatives are chosen by numbers given in order of first appearance, never by
    ``hash()``: the same command gives the same trace under any ``PYTHONHASHSEED``."""
    import os
    import subprocess
    import sys

    code = (
        "from tests.tim3_helpers import run\n"
        "r = run(version='v2', users=2, ops=1, faults=('adversary',))\n"
        "print(r.stats.states, r.stats.transitions)\n"
        "for p in r.results:\n"
        "    print(p.name, p.verdict, [s.key() for s, _ in p.trace.steps] if p.trace else None)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    outs = {
        subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "13", "22")
    }
    assert len(outs) == 1
