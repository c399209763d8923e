"""The process seam: how every engine runs a process, whatever implements it.

A *process implementation* (``ProcessImpl``) delivers a message to a local state through a
``Ctx`` and says which handler ran (or none: the message goes to the Inbox), the new
state and (through ``ctx.send``) the messages sent. It also names its initiatives, the
Actions it handles (for the adversary and validation), what properties see of its state
(``observe``) and of the messages it sends (``observe_message``).

Two implementations exist: ``PythonProcess`` (a spec's ``ProcessDecl``: pure Python
handlers, the only kind the z3 engines run) and ``checker.ao.impl.LuaProcess`` (aos Lua
run by this project's runtime). The engines see only this protocol: a third kind of
implementation is one new class, and ``impl_of`` is how a built ``ProcessInstance``
becomes one.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from checker import stop
from checker.errors import HandlerError, InternalError, SpecError, UserError
from checker.model.spec import Ctx, Handler, Initiative, InitiativeFn, ProcessDecl
from checker.model.values import Message


FINDING_KINDS: dict[str, str] = {
    "contract-mismatch": "a handler reads a tag or JSON Data field that the sending process never sets",
    "unhandled-message": "a message from a process of the system that no handler matches (it lands in the Inbox)",
    "handler-error": "a Lua runtime error in a handler (AO rolls the delivery back)",
    "untrusted-change": "a handler changed the process's state on a message from a sender not trusted for that Action",
    "value-hazard": "a tag value that is not a string, or an integer amount written as a float (\"1.0\")",
    "order-dependence": "the effects of a delivery change with the iteration order of pairs()",
    "stall": "at quiescence a wallet's operation is still unanswered: the flow cannot complete",
    "unknown-target": "a message sent to a process id that is not in the system (on AO nobody would receive it)",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong seen while executing the code (not a property of the model):
    ``kind`` (one of ``FINDING_KINDS``), where in the code, the handler, and one line.
    Reported once per ``key`` with the shortest trace to its first occurrence."""

    kind: str
    where: str
    handler: str | None
    text: str

    @property
    def key(self) -> str:
        """The result name: ``<kind>@<where>`` (one row per kind and place)."""
        return f"{self.kind}@{self.where}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """The result of one execution path of delivering a message.

    ``handler`` is the handler that ran (``None``: no handler matched, Inbox); ``state``
    the new local state; ``error`` the reason when the handler raised (AO keeps the old
    state and sends nothing: the caller discards ``ctx``'s sends); ``where`` the source
    location of the handler (``file:line``); ``notes`` anything else the implementation
    wants a trace to show (printed lines, the Lua globals that changed, ...).
    """

    handler: str | None
    state: Any
    error: str | None = None
    where: str | None = None
    notes: tuple[tuple[str, Any], ...] = ()
    findings: tuple[Finding, ...] = ()


@runtime_checkable
class ProcessImpl(Protocol):
    """One kind of process implementation (see the module docstring).

    ``deliver`` and the initiatives must be pure functions of (state, message, the
    choices made through ``ctx``): engines re-execute them to enumerate branches and
    memoise their outcomes. States must be immutable and hashable.
    """

    @property
    def kind(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def symbolic(self) -> bool:
        """True when the z3 engines can run it over symbolic values (Python handlers)."""
        ...

    def handled_actions(self) -> frozenset[str]: ...

    def handler_names(self) -> tuple[str, ...]: ...

    def initiatives(self) -> tuple[Initiative, ...]: ...

    def deliver(self, state: Any, msg: Message, ctx: Ctx) -> Delivery: ...

    def observe(self, state: Any) -> Any:
        """What properties see of ``state`` (the model's view of it)."""
        ...

    def observe_message(self, msg: Message) -> Message:
        """What properties see of a message this process sent."""
        ...

    def describe_state(self, state: Any) -> Any:
        """The state as a counterexample shows it (a value of checker.model.values types)."""
        ...


class SeenAsIs:
    """For implementations whose states and messages properties see as they are."""

    def observe(self, state: Any) -> Any:
        return state

    def observe_message(self, msg: Message) -> Message:
        return msg

    def describe_state(self, state: Any) -> Any:
        return state


class PythonProcess(SeenAsIs):
    """A ``ProcessDecl`` (pure Python handlers) behind the process seam.

    Matching is aos ``hasMatchingTag('Action', a)`` plus the optional ``msg.From``
    check, in list order; the first handler that matches runs (its result is the new
    state, which must have the type of the old one); ``ctx.error`` is a rollback.
    """

    __slots__ = ("decl", "source", "_by_action", "_actions", "_where", "_initiatives")

    def __init__(self, decl: ProcessDecl, source: str = "") -> None:
        self.decl = decl
        self.source = source
        by_action: dict[str, list[Handler]] = {}
        for h in decl.handlers:
            by_action.setdefault(h.action, []).append(h)
        self._by_action = {a: tuple(hs) for a, hs in by_action.items()}
        self._actions = frozenset(by_action)
        self._where: dict[str, str | None] = {}
        self._initiatives = tuple(dataclasses.replace(i, fn=_watched(i.name, i.fn)) for i in decl.initiatives)

    @property
    def kind(self) -> str:
        return self.decl.kind

    @property
    def label(self) -> str:
        return self.decl.label

    @property
    def symbolic(self) -> bool:
        return True

    def handled_actions(self) -> frozenset[str]:
        return self._actions

    def handler_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.decl.handlers)

    def initiatives(self) -> tuple[Initiative, ...]:
        """The declared initiatives, each run under the watchdog (``checker.stop``)."""
        return self._initiatives

    def match(self, msg: Message) -> Handler | None:
        """The first handler whose pattern matches ``msg`` (aos list order)."""
        for h in self._by_action.get(msg.action, ()):
            if h.sender is None or h.sender == msg.src:
                return h
        return None

    def deliver(self, state: Any, msg: Message, ctx: Ctx) -> Delivery:
        h = self.match(msg)
        if h is None:
            return Delivery(None, state)
        mark = stop.enter_handler(h.name, ctx.self_id, msg)  # the watchdog of a handler that never returns
        try:
            after = h.fn(state, msg, ctx)
        except HandlerError as e:
            return Delivery(h.name, state, e.reason)
        except (UserError, InternalError, MemoryError):
            raise
        except Exception as e:  # the spec contract: a handler refuses with ctx.error, never raises
            if stop.requested() is not None:  # e.g. a z3 call inside a symbolic run, cut short by the stop
                raise stop.Stopped(stop.requested() or "") from e
            raise HandlerRaised(raised_text(self.source, "handler", h.name, ctx.self_id, e, msg), e) from e
        finally:
            stop.leave_handler(mark)
        if after is None:
            raise SpecError(f"{self.source}: handler {h.name!r} of {ctx.self_id} returned None; return the new state")
        if type(after) is not type(state):
            raise SpecError(
                f"{self.source}: deliver {h.name!r} of {ctx.self_id} returned a {type(after).__name__}, "
                f"expected its state type {type(state).__name__}"
            )
        return Delivery(h.name, after)

    def where(self, handler: str) -> str | None:
        """``file:line`` of a handler's function (for traces)."""
        if handler not in self._where:
            fns: list[Any] = [h.fn for h in self.decl.handlers if h.name == handler]
            fns += [i.fn for i in self.decl.initiatives if i.name == handler]
            fn = fns[0] if fns else None
            try:
                self._where[handler] = f"{inspect.getsourcefile(fn)}:{inspect.getsourcelines(fn)[1]}" if fn else None
            except (OSError, TypeError):
                self._where[handler] = None
        return self._where[handler]


def _watched(name: str, fn: InitiativeFn) -> InitiativeFn:
    """``fn`` marked as running for the watchdog of code that never returns (``checker.stop``)."""

    def run(state: Any, ctx: Ctx) -> Any:
        mark = stop.enter_handler(name, ctx.self_id, None)
        try:
            return fn(state, ctx)
        finally:
            stop.leave_handler(mark)

    return run


class HandlerRaised(SpecError):
    """A handler raised a Python exception (``cause``) instead of returning or ``ctx.error``."""

    def __init__(self, text: str, cause: Exception) -> None:
        super().__init__(text)
        self.cause = cause


def raised_text(source: str, what: str, name: str, pid: str, e: BaseException, msg: Message | None) -> str:
    """The one line for a handler (or initiative) that raised a Python exception."""
    on = f" on message {msg.describe()}" if msg is not None else ""
    return (f"{source}: {what} {name!r} of {pid} raised {type(e).__name__}: {e}{on}; "
            "a handler refuses a message with ctx.error(reason), never with an exception")


def impl_of(decl: Any, source: str = "") -> ProcessImpl:
    """The process implementation of a built ``ProcessInstance.decl``."""
    if isinstance(decl, ProcessDecl):
        return PythonProcess(decl, source)
    if isinstance(decl, ProcessImpl):
        return decl
    raise SpecError(f"{source}: a process is neither a ProcessDecl nor a process implementation: {decl!r}")

