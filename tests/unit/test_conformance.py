"""--conform: every step of an implementation is checked against the model's step.

The implementation here is a third kind of process (a delegating wrapper, neither a
``PythonProcess`` nor a Lua process): the engines run it unchanged, which is the
process seam's promise; the Lua conformance tests live in tests/lua_tim3/.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from checker.config import CheckConfig
from checker.model.conformance import CONFORMANCE, typed
from checker.engines.explore import explore
from checker.model.process import Delivery, PythonProcess
from checker.result import HOLDS, VIOLATED
from checker.model.spec import Ctx, Handler, Initiative, ProcessDecl, ProcessInstance
from checker.model.values import Message
from spec.tim3 import SPEC, build
from spec.tim3.managers import STATE_MANAGER
from spec.tim3.states import PositionState
from tests.tim3_helpers import config


class Wrapped:
    """A process implementation that delegates to a ProcessDecl (not a PythonProcess)."""

    def __init__(self, decl: ProcessDecl) -> None:
        self._inner = PythonProcess(decl)
        self.kind, self.label, self.symbolic = decl.kind, decl.label + " (wrapped)", False

    def handled_actions(self) -> frozenset[str]:
        return self._inner.handled_actions()

    def handler_names(self) -> tuple[str, ...]:
        return self._inner.handler_names()

    def initiatives(self) -> tuple[Initiative, ...]:
        return ()

    def deliver(self, state: Any, msg: Message, ctx: Ctx) -> Delivery:
        return self._inner.deliver(state, msg, ctx)

    # what properties see: the state and messages as they are
    observe = staticmethod(lambda state: state)
    observe_message = staticmethod(lambda msg: msg)
    describe_state = staticmethod(lambda state: state)


def _overwrite(s: PositionState, msg: Message, ctx: Ctx) -> PositionState:
    """The bug: the position is overwritten by the delta instead of adding it."""
    return PositionState(s.positions.set(msg.tag("User"), msg.tag("Amount")))


OVERWRITING = dataclasses.replace(STATE_MANAGER, handlers=(Handler("UpdatePosition", "UpdatePosition", _overwrite, sender="coordinator"),))


def _spec(decl: ProcessDecl) -> Any:
    def built(params: Any) -> tuple[ProcessInstance, ...]:
        insts = build(params.set("impl", "python"))
        if params["impl"] == "python":
            return insts
        return tuple(ProcessInstance(i.pid, Wrapped(decl), i.init) if i.pid == "state" else i for i in insts)

    return dataclasses.replace(SPEC, build=built)


def _cfg(**params: Any) -> CheckConfig:
    return dataclasses.replace(config(**params), conform=True)


def test_a_conforming_implementation_holds_with_the_models_state_count() -> None:
    spec = _spec(STATE_MANAGER)
    r = explore(spec, _cfg(impl="lua", users=1, ops=2))
    model = explore(SPEC, config(users=1, ops=2))
    assert r.result(CONFORMANCE.name).verdict == HOLDS
    assert r.stats.states == model.stats.states == 297
    assert {p.name: p.verdict for p in r.results if p.name != CONFORMANCE.name} == {p.name: p.verdict for p in model.results}


def test_a_diverging_step_is_a_counterexample_ending_in_that_step() -> None:
    spec = _spec(OVERWRITING)
    r = explore(spec, _cfg(impl="lua", users=1, ops=2))
    res = r.result(CONFORMANCE.name)
    assert res.verdict == VIOLATED
    assert res.trace is not None
    last = res.trace.steps[-1][0]
    assert (last.pid, last.handler) == ("state", "UpdatePosition")
    # a mint of 1 (overwriting 0 with +1 is what adding does), then a burn of 1: the
    # position becomes -1 where the model has 0
    assert len(res.trace) == 12
    assert "the code's state holds PositionState(positions={'user1': -1}), the model's " \
           "PositionState(positions={'user1': 0})" in res.detail


def test_typed_comparison_tells_one_from_one_point_zero() -> None:
    assert typed(1) != typed(1.0)
    assert typed(True) != typed(1)
    assert typed((1, "a")) == typed((1, "a"))


def test_a_divergence_saves_and_replays() -> None:
    from checker.interfaces.counterexample import counterexample_data
    from checker.interfaces.replay import VIOLATES, replay
    from checker.model.semantics import Semantics

    spec = _spec(OVERWRITING)
    cfg = _cfg(impl="lua", users=1, ops=2)
    r = explore(spec, cfg)
    res = r.result(CONFORMANCE.name)
    data = counterexample_data(r, res, Semantics(spec, cfg))
    assert data["property"]["kind"] == "step"
    assert data["violation"].startswith("the last step is not a step of the model: step 12: state on UpdatePosition")
    assert data["config_label"].endswith("-conform")
    import json

    out = replay(spec, json.loads(json.dumps(data)))
    assert out.status == VIOLATES, out.message
    assert "step 12 still diverges" in out.message
    # against a conforming implementation the same trace replays and no longer diverges
    fixed = replay(_spec(STATE_MANAGER), json.loads(json.dumps(data)))
    assert fixed.status != VIOLATES
