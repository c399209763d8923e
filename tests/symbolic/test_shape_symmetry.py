"""The shape graph up to symmetry of users (checker/engines/symbolic/shape_symmetry.py): a
permuted state has the same canonical shape; proofs give the same verdicts with and
without it (v3 PROVED, mutants never PROVED); shape counts pinned; limits are UNKNOWN."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
import z3

from checker.errors import SpecError
from checker.engines.symbolic.prove import prove
from checker.result import PROVED, UNKNOWN
from checker.model.semantics import World
from checker.model.spec import Params, ProcessInstance
from checker.engines.symbolic.semantics import SymSemantics, SymState
from checker.engines.symbolic.shape_symmetry import ShapeCanon
from checker.engines.symbolic.shapes import build_graph
from checker.engines.symbolic.translate import order_key
from checker.engines.symbolic.values import Oracle, SymInt
from checker.model.values import FrozenMap, Message
from spec.tim3 import SPEC
from tests.symbolic.mutants import MUTANT_SCENARIOS, mutants
from tests.tim3_helpers import config

PROPS = ["positions-match-supply-inflight", "collateral-backs-supply"]


# -- an independent renaming of symbolic states (data leaves kept) ---------------------------

def _ren(v: Any, ren: dict[str, str]) -> Any:
    if isinstance(v, str):
        head, sep, tail = v.partition("#")
        return ren.get(v, ren[head] + sep + tail if sep and head in ren else v)
    if isinstance(v, (SymInt, int, bool)) or v is None:
        return v
    if isinstance(v, Message):
        return Message(_ren(v.src, ren), _ren(v.dst, ren), v.action, tuple((k, _ren(x, ren)) for k, x in v.tags))
    if isinstance(v, tuple):
        return tuple(_ren(x, ren) for x in v)
    if isinstance(v, FrozenMap):
        return FrozenMap({_ren(k, ren): _ren(x, ren) for k, x in v.items()})
    assert dataclasses.is_dataclass(v) and not isinstance(v, type)
    return type(v)(**{f.name: _ren(getattr(v, f.name), ren) for f in dataclasses.fields(v) if f.init})


def _permuted(ss: SymSemantics, st: SymState, ren: dict[str, str]) -> SymState:
    """``st`` with the users renamed by ``ren``: local states moved, network re-sorted,
    fresh-name counters renamed."""
    pids = [inst.pid for inst in ss.instances]
    procs = list(st.world.procs)
    for i, p in enumerate(pids):
        procs[pids.index(ren.get(p, p))] = _ren(st.world.procs[i], ren)
    net = tuple(sorted((_ren(m, ren) for m in st.world.net), key=order_key))
    fresh = FrozenMap({k.rpartition("@")[0] + "@" + ren.get(k.rpartition("@")[2], k.rpartition("@")[2]): n
                       for k, n in st.fresh.items()})
    w = st.world
    ghost = tuple(tuple(sorted((_ren(k, ren) for k in g), key=order_key)) for g in w.ghost)
    return SymState(World(tuple(procs), net, ghost, w.faults_left, w.injections_left), fresh, st.pc)


def _states(ss: SymSemantics, depth: int) -> list[SymState]:
    """Every symbolic state within ``depth`` steps of the initial one."""
    layer = [ss.initial()]
    out = list(layer)
    for _ in range(depth):
        layer = [st2 for st in layer for _, st2 in ss.successors(st)]
        out += layer
    return out


@pytest.mark.parametrize("users, depth", [(3, 4), (2, 7)])
def test_canonical_shape_of_a_permuted_state_is_the_same(users: int, depth: int) -> None:
    """(All properties selected: the response property's obligations are in the state.)"""
    ss = SymSemantics(SPEC, config(version="v3", users=users, ops=1), Oracle())
    assert ss.response_props
    canon = ShapeCanon(ss, True)
    assert canon.enabled and len(canon.perms) == (6 if users == 3 else 2)
    names = [f"user{i + 1}" for i in range(users)]
    states = _states(ss, depth)
    assert len(states) > 500
    assert any(any(g) for st in states for g in st.world.ghost) == (depth >= 7)  # mint, then obligations
    distinct = set()
    for st in states:
        key, terms, _ = canon.canonical(st)
        distinct.add(key)
        for perm in itertools.permutations(names):
            ren = {u: v for u, v in zip(names, perm) if u != v}
            key2, terms2, _ = canon.canonical(_permuted(ss, st, ren))
            assert key2 == key, (ren, st.world)
            # the same data, in the representative's slot order (up to its automorphisms)
            assert sorted(t.get_id() for t in terms2) == sorted(t.get_id() for t in terms)
    without = ShapeCanon(ss, False)
    assert not without.enabled
    assert len({without.canonical(st)[0] for st in states}) > len(distinct)


def test_canonical_terms_rebuild_the_state() -> None:
    """Instantiating the representative with the returned terms gives the same data per
    slot path as the state renamed by the chosen permutation: checked by evaluating every
    property on both under one model."""
    ss = SymSemantics(SPEC, config(version="v3", users=2, ops=1), Oracle())
    canon = ShapeCanon(ss, True)
    for st in _states(ss, 5)[::7]:
        _, terms, template = canon.canonical(st)
        rep = canon.instantiate(template, list(terms))
        for p in SPEC.properties:
            if p.kind != "always" or p.check is None:
                continue
            a, b = ss.holds(SymState(st.world, st.fresh, ()), p.check), ss.holds(rep, p.check)
            s = z3.Solver()
            s.add(*st.pc, a != b)
            assert s.check() == z3.unsat, p.name


def _graph(users: int, ops: int, symmetry: bool, prop: str = "collateral-backs-supply") -> tuple[int, int, tuple[str, ...]]:
    """Shapes, edges and symmetric kinds of the graph prove builds for ``prop`` (a
    response property's graph carries its obligations)."""
    cfg = dataclasses.replace(config(version="v3", users=users, ops=ops, symmetry=symmetry), properties=(prop,))
    backs = SPEC.prop("collateral-backs-supply")
    assert backs is not None
    g = build_graph(SymSemantics(SPEC, cfg, Oracle()), [backs], 100_000)
    assert g.complete
    return len(g.shapes), len(g.edges), g.symmetry


def test_shape_counts_pinned() -> None:
    assert _graph(2, 1, True) == (630, 1512, ("user",))
    assert _graph(2, 1, False) == (1225, 2940, ())
    assert _graph(1, 2, True) == (1066, 2575, ())  # one user: nothing to permute


@pytest.mark.slow
def test_shape_counts_pinned_with_obligations() -> None:
    assert _graph(2, 1, True, "update-follows-success") == (1326, 3744, ("user",))
    assert _graph(2, 1, False, "update-follows-success") == (2601, 7344, ())


@pytest.mark.slow
def test_shape_counts_pinned_three_users() -> None:
    assert _graph(3, 1, True) == (7770, 27972, ("user",))


@pytest.mark.parametrize("users, ops", [(1, 2), (2, 1)])
def test_same_verdicts_with_and_without_symmetry(users: int, ops: int) -> None:
    out = {}
    for symmetry in (True, False):
        res = prove(SPEC, config(version="v3", users=users, ops=ops, symmetry=symmetry), properties=PROPS,
                    method="kind")
        out[symmetry] = [r.verdict for r in res.results]
        for r in res.results:
            assert r.verdict == PROVED, (symmetry, r.name, r.detail)
            assert r.certificate is not None
            up_to = symmetry and users > 1
            assert ("up to symmetry of users" in r.certificate) == up_to
            assert ("up to symmetry of users" in r.detail) == up_to
    assert out[True] == out[False]


def _mutant_verdicts(name: str, users: int, symmetry: bool) -> list[str]:
    sc = MUTANT_SCENARIOS[name]
    cfg = config(version="v3", users=users, ops=sc["ops"], faults=sc["faults"], symmetry=symmetry)
    res = prove(mutants()[name], cfg, properties=list(sc["props"]), method="kind", bmc_depth=0)
    for r in res.results:
        assert r.verdict != PROVED, (name, r.name, symmetry)
    return [r.verdict for r in res.results]


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if MUTANT_SCENARIOS[n]["ops"] > 1 else n
                                  for n in sorted(MUTANT_SCENARIOS)])
def test_mutants_never_proved_with_or_without_symmetry(name: str) -> None:
    users = 2 if MUTANT_SCENARIOS[name]["ops"] == 1 else 1
    assert _mutant_verdicts(name, users, True) == _mutant_verdicts(name, users, False)


def test_shape_limit_is_unknown_not_proved() -> None:
    res = prove(SPEC, config(version="v3", users=2, ops=1), properties=PROPS, method="kind", max_shapes=50)
    for r in res.results:
        assert r.verdict == UNKNOWN and "control shapes" in r.detail
    assert res.stats.limit_hit == "max-shapes 50"


def test_asymmetric_initial_state_is_rejected() -> None:
    """Declaring users symmetric when their initial collateral differs is a spec error."""

    def build(params: Params) -> tuple[ProcessInstance, ...]:
        insts = SPEC.build(params)
        out = []
        for inst in insts:
            if inst.pid == "lock":
                free = inst.init.free
                inst = dataclasses.replace(inst, init=dataclasses.replace(
                    inst.init, free=free.set("user2", free["user2"] + 1)))
            out.append(inst)
        return tuple(out)

    spec = dataclasses.replace(SPEC, build=build)
    ss = SymSemantics(spec, config(version="v3", users=2, ops=1), Oracle())
    with pytest.raises(SpecError, match="declared symmetric"):
        ShapeCanon(ss, True)
    assert not ShapeCanon(ss, False).enabled


@pytest.mark.slow  # 3 x 1 by kind also runs in the default run's test_prove_with_no_flag_proves_v3_...
def test_v3_three_users_proved_by_kind() -> None:
    """The 3-user goal: over the graph guided by the declared invariants (2,534 shapes
    up to symmetry, against 7,770 unguided)."""
    res = prove(SPEC, config(version="v3", users=3, ops=1), properties=PROPS, method="kind")
    assert res.stats.states == 2534
    for r in res.results:
        assert r.verdict == PROVED, (r.name, r.detail)
        assert "2534 control shapes up to symmetry of users; 379 steps refuted by the invariants" in r.detail
