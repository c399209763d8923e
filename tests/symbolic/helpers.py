"""Shared helpers for the z3-engine tests: independent concrete replay of a trace."""

from __future__ import annotations

from checker.result import PropertyResult
from checker.model.semantics import Semantics
from checker.model.spec import Spec


def replays_to_violation(spec: Spec, r: PropertyResult) -> bool:
    """Walk ``r.trace`` step by step in the concrete ``Semantics`` of ``r.trace_config``
    and check that its last world violates the property concretely."""
    assert r.trace is not None and r.trace_config is not None
    sem = Semantics(spec, r.trace_config)
    w = sem.initial()
    assert w == r.trace.initial
    for step, after in r.trace.steps:
        nxt = [w2 for s, w2 in sem.successors(w) if s.key() == step.key()]
        assert nxt, f"step {step.kind} {step.pid} {step.handler} does not replay"
        assert after in nxt
        w = after
    prop = spec.prop(r.name)
    assert prop is not None
    view = sem.view(w)
    if prop.kind == "response":
        i = [p.name for p in sem.response_props].index(prop.name)
        return not w.net and bool(w.ghost[i])
    assert prop.check is not None
    if prop.kind == "at-quiescence" and w.net:
        return False
    return not bool(prop.check(view))
