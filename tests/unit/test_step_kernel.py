"""The step kernel (``checker.model.step_kernel``): its rules, its order, and the
concrete semantics' specialised ``expand`` against the kernel's definition."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from checker.errors import HandlerError, SpecError
from checker.model import step_kernel
from checker.model.network import KeyedBag
from checker.model.process import Delivery, PythonProcess
from checker.model.semantics import Key, Semantics
from checker.model.spec import ActionDecl, Handler, ProcessDecl, StepInfo, StepKind
from checker.model.step_kernel import Path, Step, Template
from checker.model.values import Message, make_message
from spec.tim3 import SPEC
from tests.tim3_helpers import config


@dataclass
class _Ctx:
    choices: list[tuple[str, Any]]
    sends: list[Message]
    faults_left: int

    def error(self, reason: str) -> Any:
        raise HandlerError(reason)


@dataclass(frozen=True)
class _S:
    n: int


MSG = make_message("a", "b", "Ping", {"N": 1})


def test_a_delivery_path_is_inbox_error_or_a_new_state_with_sends() -> None:
    sent = make_message("b", "a", "Pong", {})
    ctx = _Ctx([("x", 1)], [sent], 0)
    inbox = step_kernel.delivered("b", MSG, Delivery(None, _S(0)), ctx)
    assert (inbox.step.kind, inbox.step.handler, inbox.step.sends, inbox.state) == (StepKind.UNHANDLED, None, (), None)
    err = step_kernel.delivered("b", MSG, Delivery("Ping", _S(0), "no"), ctx)
    assert (err.step.kind, err.step.reason, err.step.sends, err.state) == (StepKind.ERROR, "no", (), None)
    ok = step_kernel.delivered("b", MSG, Delivery("Ping", _S(1)), ctx)
    assert (ok.step.kind, ok.step.sends, ok.step.choices, ok.state) == (StepKind.DELIVER, (sent,), (("x", 1),), _S(1))


def test_handler_error_follows_a_delivery_that_ran_a_handler_with_budget_left() -> None:
    ran = [Path(Step(StepKind.ERROR, "b", "Ping", MSG, (), (), "no"), None, 1)]
    out = step_kernel.with_handler_error(ran, True, 1, "b", MSG)
    assert [(p.step.kind, p.step.handler, p.faults_left) for p in out] == [
        (StepKind.ERROR, "Ping", 1), (StepKind.HANDLER_ERROR, "Ping", 0)]
    assert len(step_kernel.with_handler_error(ran, True, 0, "b", MSG)) == 1  # no budget
    assert len(step_kernel.with_handler_error(ran, False, 1, "b", MSG)) == 1  # fault off
    inbox = [Path(Step(StepKind.UNHANDLED, "b", None, MSG, (), ()), None, 1)]
    assert len(step_kernel.with_handler_error(inbox, True, 1, "b", MSG)) == 1  # no handler ran


def test_an_initiative_path_errors_is_disabled_or_keeps_its_state_type() -> None:
    def refuse(s: _S, ctx: Any) -> Any:
        return ctx.error("later")

    err = step_kernel.initiated("src", "p", "go", refuse, _S(0), _Ctx([], [], 1))
    assert err is not None and (err.step.kind, err.step.reason, err.state) == (StepKind.ERROR, "later", None)
    assert step_kernel.initiated("src", "p", "go", lambda s, c: None, _S(0), _Ctx([], [], 1)) is None
    with pytest.raises(SpecError, match="initiative 'go' of p returned a int, expected its state type _S"):
        step_kernel.initiated("src", "p", "go", lambda s, c: 3, _S(0), _Ctx([], [], 1))
    with pytest.raises(SpecError, match="initiative 'go' of p raised ZeroDivisionError"):
        step_kernel.initiated("src", "p", "go", lambda s, c: 1 // 0, _S(0), _Ctx([], [], 1))
    ok = step_kernel.initiated("src", "p", "go", lambda s, c: _S(s.n + 1), _S(0), _Ctx([], [MSG], 0))
    assert ok is not None and (ok.step.kind, ok.step.sends, ok.state, ok.faults_left) == (StepKind.INITIATIVE, (MSG,), _S(1), 0)


def test_obligations_close_then_open_sorted_by_the_frames_key() -> None:
    ghost = ((("u", 1), ("u", 2)),)
    assert step_kernel.apply_obligations(ghost, ((0, (("u", 0),), (("u", 2),)),)) == ((("u", 0), ("u", 1)),)
    by_last = step_kernel.apply_obligations(ghost, ((0, (("a", 3),), ()),), key=lambda k: -k[1])
    assert by_last == ((("a", 3), ("u", 2), ("u", 1)),)


def test_obligation_changes_of_an_unreadable_step() -> None:
    def trigger(info: StepInfo) -> Iterable[Any]:
        return (info.after.missing,)

    prop = SPEC.prop("update-follows-success")
    assert prop is not None
    info = StepInfo("p", StepKind.DELIVER, "h", MSG, _S(0), _S(1), ())
    with pytest.raises(SpecError, match="response property 'update-follows-success' failed on a step"):
        step_kernel.obligation_changes("src", (prop,), ((trigger, None),), info, strict=True)
    (i, opened, closed), = step_kernel.obligation_changes("src", (prop,), ((trigger, None),), info, strict=False)
    assert i == 0 and closed == () and opened[0].startswith("unreadable step of p (h)")


def _server() -> PythonProcess:
    noop = lambda s, m, c: s  # noqa: E731
    return PythonProcess(ProcessDecl("server", "Server", _S, (Handler("Bump", "Bump", noop),)))


def test_adversary_templates_leave_open_domains_open() -> None:
    actions = (ActionDecl("Bump", (("By", "by"), ("Who", "who"))), ActionDecl("Other", ()))
    doms = {"by": (1, 2), "who": ("x", "y")}
    targets = [("server", _server())]
    closed = step_kernel.adversary_templates("src", actions, targets, doms, lambda d: False)
    assert [(t.dst, t.action, dict(t.fixed), t.open) for t in closed] == [
        ("server", "Bump", {"By": 1, "Who": "x"}, ()), ("server", "Bump", {"By": 1, "Who": "y"}, ()),
        ("server", "Bump", {"By": 2, "Who": "x"}, ()), ("server", "Bump", {"By": 2, "Who": "y"}, ())]
    opened = step_kernel.adversary_templates("src", actions, targets, doms, lambda d: d == "by")
    assert opened == [Template("server", "Bump", {"Who": "x"}, (("By", "by"),)),
                      Template("server", "Bump", {"Who": "y"}, (("By", "by"),))]
    with pytest.raises(SpecError, match="Action Bump tag By uses unknown domain 'by'"):
        step_kernel.adversary_templates("src", actions, targets, {"who": ("x",)}, lambda d: False)


def test_the_bag_keeps_order_by_key_and_delivers_each_distinct_item_once() -> None:
    plain = KeyedBag()
    net = plain.put((), (3, 1, 3, 2))
    assert net == (1, 2, 3, 3) and plain.deliverable(net) == [(0, 1), (1, 2), (2, 3)]
    assert plain.take(net, 2) == (1, 2, 3)
    by_key = KeyedBag(key=lambda x: x % 10, by_key=True)  # 13 and 3 are told apart by key only
    net2 = by_key.put((), (13, 5, 3))
    assert net2 == (13, 3, 5) and by_key.deliverable(net2) == [(0, 13), (2, 5)]
    assert by_key.canonical([5, 3, 13]) == (3, 13, 5)


class _ToyFrame:
    """A frame over a string state whose calls are recorded (the kernel's order)."""

    def __init__(self, faults_left: int, inj: int, loss: bool) -> None:
        self.loss = loss
        self.initiators = (0, 1)
        self.injections = ["i1", "i2"]
        self._b = (faults_left, inj)

    def budgets(self, st: str) -> tuple[int, int]:
        return self._b

    def deliverable(self, st: str) -> list[tuple[int, str]]:
        return [(0, "m1"), (1, "m2")]

    def droppable(self, st: str) -> list[tuple[int, str]]:
        return [(0, "m1")]

    def deliveries(self, st: str, handle: Any, m: str) -> Iterator[tuple[Step, str]]:
        yield step_kernel.ignored(make_message("x", m, "A", {})), f"deliver {m}"

    def lose(self, st: str, handle: Any, m: str) -> tuple[Step, str]:
        return step_kernel.lost(make_message("x", m, "A", {})), f"lose {m}"

    def initiatives(self, st: str, idx: int) -> Iterator[tuple[Step, str]]:
        yield step_kernel.ignored(MSG), f"initiative {idx}"

    def inject(self, st: str, injection: str) -> tuple[Step, str]:
        return step_kernel.injected(MSG), f"inject {injection}"


def test_expand_orders_deliveries_losses_initiatives_injections() -> None:
    every = [s for _, s in step_kernel.expand(_ToyFrame(1, 1, True), "w")]
    assert every == ["deliver m1", "deliver m2", "lose m1", "initiative 0", "initiative 1", "inject i1", "inject i2"]
    spent = [s for _, s in step_kernel.expand(_ToyFrame(0, 0, True), "w")]
    assert spent == ["deliver m1", "deliver m2", "initiative 0", "initiative 1"]
    assert "lose m1" not in [s for _, s in step_kernel.expand(_ToyFrame(1, 0, False), "w")]


# (scenario, keys reachable): every kind of step, both networks, two adversary messages
CASES: list[tuple[dict[str, Any], int]] = [
    (dict(version="v1", users=2, ops=1), 169),
    (dict(version="v2", users=1, ops=2, faults=("lock-fail", "mint-fail", "unlock-fail")), 481),
    (dict(version="v3", users=2, ops=1, faults=("loss", "handler-error")), 555),
    (dict(version="v2", users=1, ops=1, faults=("adversary",)), 875),
    (dict(version="v3", users=1, ops=1, faults=("adversary", "loss"), adversary=2), 27_340),
    (dict(version="v1", users=2, ops=1, network="fifo", faults=("loss", "handler-error")), 387),
]


def _keys(sem: Semantics) -> list[Key]:
    first = sem.initial_key()
    seen = {first: None}
    todo = deque([first])
    while todo:
        for _, k2 in sem.kernel_expand(todo.popleft()):
            if k2 not in seen:
                seen[k2] = None
                todo.append(k2)
    return list(seen)


@pytest.mark.parametrize("case, reachable", CASES, ids=lambda c: "-".join(map(str, c.values())) if isinstance(c, dict) else "")
def test_the_specialised_expand_is_the_kernels(case: dict[str, Any], reachable: int) -> None:
    """``Semantics.expand`` (the explorer's inlined loop) yields exactly what the kernel's
    ``expand`` over ``KeyFrame`` yields: the same step objects, in order, to the same keys."""
    case = dict(case)
    adversary = case.pop("adversary", 1)
    sem = Semantics(SPEC, replace(config(**case), adversary_messages=adversary))
    keys = _keys(sem)
    assert len(keys) == reachable
    for k in keys:
        fast, ref = list(sem.expand(k)), list(sem.kernel_expand(k))
        assert [(id(s), k2) for s, k2 in fast] == [(id(s), k2) for s, k2 in ref]
