"""The shape graph guided by declared invariants: steps whose guard contradicts them are
refuted instead of followed. Fewer shapes, the same verdicts; a certificate over such a
graph must refute every refuted step (the re-check enforces it), and a false invariant
never leads to PROVED."""

from __future__ import annotations

import dataclasses

import z3

from checker.engines.symbolic.prove import prove
from checker.result import PROVED
from checker.engines.symbolic.prove import check_certificate
from checker.engines.symbolic.semantics import SymSemantics
from checker.engines.symbolic.shapes import ShapeGraph, build_graph
from checker.engines.symbolic.values import Oracle
from spec.tim3 import SPEC
from spec.tim3.invariants import INVARIANTS
from tests.tim3_helpers import config

PROP = "collateral-backs-supply"
INVS = [i for i in INVARIANTS if i.obligations_of is None]


def _graph(users: int, ops: int, guided: bool) -> ShapeGraph:
    prop = SPEC.prop(PROP)
    assert prop is not None
    props = [prop, *INVS]
    cfg = dataclasses.replace(config(version="v3", users=users, ops=ops), properties=tuple(p.name for p in props))
    assume = tuple(i.name for i in INVS) if guided else ()
    g = build_graph(SymSemantics(SPEC, cfg, Oracle()), props, 100_000, assume=assume)
    assert g.complete
    return g


def test_guided_graph_is_smaller_and_pinned() -> None:
    plain, guided = _graph(2, 1, False), _graph(2, 1, True)
    assert (len(plain.shapes), len(plain.edges), len(plain.refuted)) == (630, 1512, 0)
    assert (len(guided.shapes), len(guided.edges), len(guided.refuted)) == (289, 592, 35)
    assert guided.assumed == tuple(i.name for i in INVS) and all(e.dst == -1 for e in guided.refuted)


def test_certificate_must_refute_the_refuted_steps() -> None:
    """``true`` in every shape passes initiation, every followed edge and safety of a
    trivial property, but not the refuted steps: the re-check rejects it. With the
    invariants the certificate passes."""
    g = _graph(2, 1, True)
    for sh in g.shapes:
        sh.holds["trivial"] = z3.BoolVal(True)
    everything = {sh.sid: z3.BoolVal(True) for sh in g.shapes}
    err = check_certificate(g, everything, "trivial", 10_000_000)
    assert err is not None and "refuted by the invariants" in err
    full = {sh.sid: z3.And(sh.holds[PROP], *[sh.holds[i.name] for i in INVS]) for sh in g.shapes}
    assert check_certificate(g, full, PROP, 10_000_000) is None


def test_same_verdicts_guided_or_not() -> None:
    """``kind`` uses the guided graph; ``reach`` the plain one: both prove v3 1 × 1."""
    for method in ("kind", "reach"):
        res = prove(SPEC, config(version="v3", users=1, ops=1), properties=[PROP], method=method)
        assert [r.verdict for r in res.results] == [PROVED], method


def test_prove_reports_progress_in_control_shapes() -> None:
    seen: list[object] = []
    res = prove(SPEC, config(version="v3", users=2, ops=1), properties=[PROP], method="kind",
                progress=seen.append)
    sizes = [s.states for s in seen]  # type: ignore[attr-defined]
    assert len(sizes) >= 2 and sizes == sorted(sizes) and sizes[-1] <= res.stats.states
    assert all(s.unit == "control shapes" for s in seen) and res.stats.unit == "control shapes"  # type: ignore[attr-defined]
