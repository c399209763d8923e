"""The machinery behind the new properties: premises (``Property.premise``), the kind
``progress`` and the cycle search of ``checker.engines.progress``, and how each engine
treats a progress property (explore judges it; bmc, prove and simulate say they do not)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest

import checker.engines.explore as explore_module
from checker.engines.explore import explore
from checker.config import CheckConfig
from checker.engines.progress import EdgeRecorder, LassoTrace, _cyclic_core, judge_lasso, non_progress_cycle
from checker.engines.simulate import simulate
from checker.engines.symbolic.bmc import bmc
from checker.engines.symbolic.prove import prove
from checker.model.expectation import Form, PropertyError, expectation
from checker.model.spec import ActionDecl, Handler, Initiative, ProcessDecl, ProcessInstance, Property, Spec
from checker.model.values import FrozenMap
from checker.result import HOLDS, UNKNOWN, VIOLATED
from spec.tim3 import SPEC
from tests.tim3_helpers import config

PROGRESS = "no-non-progress-cycle"

# ------------------------------------------------------------------ premises and the progress kind


def test_a_premise_travels_with_the_check_unchanged() -> None:
    p = Property("p", "at-quiescence", "", check=lambda v: not v["applies"] or v["ok"], premise=lambda v: v["applies"])
    e = expectation(p)
    assert e.form is Form.INVARIANT and e.quiescent_only
    assert e.premise is p.premise and e.check is p.check  # engines judge the check as declared


def test_only_invariants_take_a_premise() -> None:
    with pytest.raises(PropertyError, match="has a premise; only always and at-quiescence"):
        expectation(Property("r", "response", "", trigger=lambda i: (), discharge=lambda i: (),
                             premise=lambda v: True))
    with pytest.raises(PropertyError, match="has a premise"):
        expectation(Property("c", "progress", "", check=lambda v: True, premise=lambda v: True))


def test_a_progress_property_needs_its_progress_states() -> None:
    with pytest.raises(PropertyError, match="progress property 'c' has no check"):
        expectation(Property("c", "progress", ""))
    e = expectation(Property("c", "progress", "", check=lambda v: True))
    assert e.form is Form.PROGRESS and not e.at_worlds and e.state_check() is None


# ------------------------------------------------------------------ the cycle search


def depths(n: int) -> list[int]:
    return list(range(n))


def test_an_acyclic_graph_has_no_core_and_no_cycle() -> None:
    succ = {0: [1, 2], 1: [3], 2: [3], 3: []}
    assert _cyclic_core(succ) == set()
    assert non_progress_cycle(succ, lambda i: False, depths(4)) is None


def test_a_cycle_through_a_progress_state_is_progress() -> None:
    succ = {0: [1], 1: [2], 2: [1]}
    assert non_progress_cycle(succ, lambda i: i == 2, depths(3)) is None
    assert non_progress_cycle(succ, lambda i: i == 0, depths(3)) == [1, 2, 1]


def test_a_self_loop_is_a_cycle() -> None:
    assert non_progress_cycle({0: [1], 1: [1]}, lambda i: False, depths(2)) == [1, 1]


def test_the_cycle_entered_first_in_bfs_order_and_a_shortest_cycle_through_it() -> None:
    # two cycles: 5 → 6 → 5 (deep) and 1 → 2 → 3 → 1 with a shortcut 1 → 3 → 1
    succ = {0: [1, 4], 1: [2, 3], 2: [3], 3: [1], 4: [5], 5: [6], 6: [5]}
    depth = [0, 1, 2, 2, 1, 2, 3]
    assert non_progress_cycle(succ, lambda i: False, depth) == [1, 3, 1]
    # with the first cycle broken by a progress state, the other one is found
    assert non_progress_cycle(succ, lambda i: i == 3, depth) == [5, 6, 5]


def test_successors_never_expanded_are_not_on_a_cycle() -> None:
    assert non_progress_cycle({0: [1], 1: [2]}, lambda i: False, depths(3)) is None


def _toy_pack(k: Any) -> bytes:
    return repr(k).encode()


def test_the_recorder_rebuilds_the_graph_on_demand() -> None:
    graph = {("a",): [("b",), ("a",)], ("b",): [("a",), ("c",)], ("c",): [("b",)]}

    def expand(k: Any) -> Any:
        for k2 in graph.get(k, []):
            yield None, k2

    keys = [("a",), ("b",), ("c",)]
    packed = [_toy_pack(k) for k in keys]
    rec = EdgeRecorder(expand, None, _toy_pack)
    rec.note(0, packed[0])
    rec.note(2, packed[1])
    assert rec.back(packed) == [(0, 0), (2, 1)]
    rec.expanded = 3
    assert rec.graph(keys, packed) == {0: [1, 0], 1: [0, 2], 2: [1]}
    rec.expanded = 2  # only states expanded so far are rebuilt
    assert rec.graph(keys, packed) == {0: [1, 0], 1: [0, 2]}


def test_the_recorder_resolves_successors_through_their_representatives() -> None:
    graph = {("a",): [("B",)], ("b",): [("A",)]}  # upper case: another member of the orbit

    def expand(k: Any) -> Any:
        for k2 in graph.get(k, []):
            yield None, k2

    keys = [("a",), ("b",)]
    rec = EdgeRecorder(expand, lambda k: (k[0].lower(),), _toy_pack)
    rec.expanded = 2
    assert rec.graph(keys, [_toy_pack(k) for k in keys]) == {0: [1], 1: [0]}


def _brute_back_edges(spec: Spec, cfg: CheckConfig) -> tuple[list[tuple[int, int]], list[Any]]:
    """Every edge ``i -> j`` of the explored graph with ``depth[j] <= depth[i]``, computed
    from the whole graph (every state's successors, their representatives under symmetry)."""
    from checker.engines.explore import _Explorer
    from checker.model.semantics import Semantics

    sem = Semantics(spec, cfg)
    ex = _Explorer(sem, list(spec.properties), None)
    ex.run()
    keys = list(ex.keys)
    index = {k: j for j, k in enumerate(keys)}
    depth = list(ex.depth)
    canon = ex.canon
    edges = []
    for i, k in enumerate(keys):
        for _, k2 in sem.expand(k):
            j = index.get(k2)
            if j is None and canon is not None:
                j = index[canon(k2)]
            assert j is not None
            if depth[j] <= depth[i]:
                edges.append((i, j))
    assert ex.recorder is not None
    return edges, ex.recorder.back(ex.packed)


@pytest.mark.parametrize("symmetry", [True, False])
def test_the_explorer_notes_exactly_the_back_edges(symmetry: bool) -> None:
    edges, noted = _brute_back_edges(BALL, CheckConfig(params=FrozenMap(), symmetry=symmetry))
    assert edges and noted == edges


@pytest.mark.parametrize("symmetry", [True, False])
@pytest.mark.parametrize("network", ["unordered", "fifo"])
def test_the_explorer_notes_the_back_edges_of_a_retry_loop(symmetry: bool, network: str) -> None:
    from tests.quality.test_property_gaps import RETRY, STUCK_RETRY

    edges, noted = _brute_back_edges(STUCK_RETRY, config(symmetry=symmetry, network=network, **RETRY))
    assert edges and noted == edges


def test_judge_lasso_says_what_is_wrong() -> None:
    assert judge_lasso(lambda w: False, ["i", "a", "b", "a"], 1) is None
    assert "does not close" in (judge_lasso(lambda w: False, ["i", "a", "b", "c"], 1) or "")
    assert "passes a progress state (after step 2)" in (judge_lasso(lambda w: w == "b", ["i", "a", "b", "a"], 1) or "")
    assert "must start before the last step" in (judge_lasso(lambda w: False, ["i", "a"], 1) or "")


# ------------------------------------------------------------------ engines


def test_explore_records_edges_only_when_a_progress_property_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    real = EdgeRecorder

    def counting(*a: Any) -> Any:
        made.append(1)
        return real(*a)

    monkeypatch.setattr(explore_module, "EdgeRecorder", counting)
    others = tuple(p.name for p in SPEC.properties if p.name != PROGRESS)
    r = explore(SPEC, dataclasses.replace(config(users=1, ops=2), properties=others))
    assert made == [] and PROGRESS not in {x.name for x in r.results}
    r = explore(SPEC, config(users=1, ops=2))
    assert made == [1] and r.result(PROGRESS).verdict == HOLDS
    assert r.stats.states == 297


def test_a_limit_makes_an_unfound_cycle_unknown() -> None:
    cfg = config(users=1, ops=2)
    r = explore(SPEC, dataclasses.replace(cfg, limits=dataclasses.replace(cfg.limits, max_states=50)))
    assert r.result(PROGRESS).verdict == UNKNOWN


def test_z3_engines_and_simulation_do_not_judge_cycles() -> None:
    named = dataclasses.replace(config(users=1, ops=1), properties=(PROGRESS, "supply-within-cap"))
    for result in (bmc(SPEC, named, 9), prove(SPEC, named), simulate(SPEC, named, runs=5, max_steps=10)):
        row = result.result(PROGRESS)
        assert row.verdict == UNKNOWN and "run --engine explore" in row.detail, result.engine
    default = config(users=1, ops=1)
    assert PROGRESS not in {x.name for x in bmc(SPEC, default, 9).results}
    assert PROGRESS not in {x.name for x in prove(SPEC, default).results}


# ------------------------------------------------------------------ a lasso under symmetry


@dataclass(frozen=True, slots=True)
class Count:
    n: int


def _other(ctx: Any) -> str:
    return str(next(u for u in ctx.pids("user") if u != ctx.self_id))


def _pass_on(s: Count, msg: Any, ctx: Any) -> Count:
    ctx.send(_other(ctx), "Ping")  # whoever sent it, the ball goes to the other user
    return s


def _throw_in(s: Count, ctx: Any) -> Count | None:
    if s.n:
        return None
    ctx.send(ctx.choose("to", ctx.pids("user")), "Ping")
    return Count(1)


USER = ProcessDecl("user", "User", Count, (Handler("Ping", "Ping", _pass_on),))
STARTER = ProcessDecl("starter", "Starter", Count, initiatives=(Initiative("throw-in", _throw_in),))
QUIET = Property("settles", "progress", "the ball stops", check=lambda v: v.quiescent)
BALL = Spec(
    name="ball", source=__file__, actions=(ActionDecl("Ping"),), params=(), faults={},
    process_decls=(STARTER, USER),
    build=lambda p: (ProcessInstance("starter", STARTER, Count(0)), ProcessInstance("u1", USER, Count(0)),
                     ProcessInstance("u2", USER, Count(0))),
    domains=lambda p: {}, properties=(QUIET,), symmetric_kinds=("user",),
)


@pytest.mark.parametrize("symmetry", [True, False])
def test_a_cycle_through_a_renaming_is_followed_until_the_concrete_world_repeats(symmetry: bool) -> None:
    """Passing the ball u1 → u2 is, up to renaming the users, a step back to the same
    state: a self-loop of representatives; the concrete lasso takes it twice."""
    r = explore(BALL, CheckConfig(params=FrozenMap(), symmetry=symmetry))
    res = r.result("settles")
    assert res.verdict == VIOLATED
    trace = res.trace
    assert isinstance(trace, LassoTrace)
    assert (trace.cycle_start, trace.cycle_length) == (2, 2)  # throw-in, first catch; then two passes
    assert trace.steps[-1][1] == trace.steps[1][1]
    assert trace.steps[2][1] != trace.steps[1][1]  # one pass alone does not close it concretely
    assert r.stats.states == (3 if symmetry else 5)
