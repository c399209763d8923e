"""Lua processes behind the process seam: ``LuaProcess`` runs aos Lua for the engines.

A ``LuaProcess`` implements ``checker.process.ProcessImpl`` over an ``AoProcess`` (this
project's aos runtime). Its local state is the runtime's ``Snapshot`` of the process's
globals. How messages cross the seam:

* **In** (any sender → Lua): every tag value is written as Lua's ``tostring`` writes it
  (``1`` → ``"1"``, ``1.5`` → ``"1.5"``, ``True`` → ``"true"``): AO tags are strings. The
  reserved tags ``Id`` and ``Data`` become ``msg.Id`` and ``msg.Data``. A message without
  an ``Id`` tag (one a Python model process sent) gets the value of its ``id_tag`` (the
  TIM3 model's ``Request`` is AO's unique message Id, as its docstring says) or, without
  one, an id derived from its content (deterministic).
* **Out** (Lua → network): a message exactly as the Lua code built it: ``Action`` is the
  Action, every other tag keeps its value (strings, or a non-string value the code
  passed), ``Id`` is the runtime's deterministic id (the incoming id and the send's
  index) and ``Data`` is present when non-empty. Nothing is normalised: ``"1.0"`` stays
  ``"1.0"``, so a receiver that compares with ``"1"`` fails as it would on AO.
* **Observed** (what properties see): ``observe`` maps the decoded globals to the model's
  state through the spec's observer; ``observe_message`` keeps the tags the model
  declares for the Action and reads integer-domain tags as Lua's ``tonumber`` does.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from checker.ao.runtime import AoMessage, AoProcess, Outcome
from checker.ao.snapshot import Snapshot
from checker.errors import SpecError
from checker.process import Delivery
from checker.spec import ActionDecl, Ctx, Initiative
from checker.values import Message, make_message

Observer = Callable[[Any], Any]
_INT = re.compile(r"\s*-?\d+\s*")
_FLOAT = re.compile(r"\s*-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?\s*")
RESERVED = ("Id", "Data")


def lua_tostring(v: Any) -> str:
    """``v`` as Lua 5.3's ``tostring`` writes it (integers plain, floats ``%.14g``
    with a ``.0`` when integral, booleans ``true``/``false``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "nan" if math.copysign(1.0, v) > 0 else "-nan"
        s = f"{v:.14g}"
        return s + ".0" if re.fullmatch(r"-?\d+", s) else s
    return str(v)


def lua_tonumber(s: Any) -> Any:
    """A string read as Lua's ``tonumber`` reads it (``"1"`` → 1, ``"1.0"`` → 1.0);
    anything else is returned unchanged."""
    if not isinstance(s, str):
        return s
    if _INT.fullmatch(s):
        return int(s)
    if _FLOAT.fullmatch(s):
        return float(s)
    return s


class _Hooks:
    """The runtime's hooks for one delivery: ``Checker.fault(name)`` is ``ctx.fault``."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: Ctx) -> None:
        self._ctx = ctx

    def fault(self, name: str) -> bool:
        return bool(self._ctx.fault(name))


def message_view(actions: Sequence[ActionDecl], int_domains: frozenset[str]) -> Callable[[Message], Message]:
    """What properties see of a Lua-sent message: for an Action the model declares, its
    declared tags only, those over an integer domain read with ``lua_tonumber``."""
    decls = {a.name: a for a in actions}

    def view(m: Message) -> Message:
        a = decls.get(m.action)
        if a is None:
            return m
        tags: dict[str, Any] = {}
        for tag, dom in a.tags:
            v = m.get(tag, _MISSING)
            if v is not _MISSING:
                tags[tag] = lua_tonumber(v) if dom in int_domains else v
        return make_message(m.src, m.dst, m.action, tags)

    return view


_MISSING: Any = object()


class LuaProcess:
    """One aos Lua process as a ``ProcessImpl`` (see the module docstring)."""

    def __init__(
        self,
        kind: str,
        label: str,
        runtime: AoProcess,
        *,
        observer: Observer | None = None,
        message_view: Callable[[Message], Message] | None = None,
        id_tag: str | None = None,
        handled: frozenset[str] = frozenset(),
        handler_names: tuple[str, ...] = (),
    ) -> None:
        self._kind = kind
        self._label = label
        self.runtime = runtime
        self._observer = observer
        self._message_view = message_view
        self.id_tag = id_tag
        self._handled = handled
        self._names = handler_names

    # -- the protocol ---------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def label(self) -> str:
        return self._label

    @property
    def symbolic(self) -> bool:
        return False

    @property
    def pid(self) -> str:
        return self.runtime.pid

    def handled_actions(self) -> frozenset[str]:
        return self._handled

    def handler_names(self) -> tuple[str, ...]:
        return self._names

    def initiatives(self) -> tuple[Initiative, ...]:
        return ()

    def deliver(self, state: Any, msg: Message, ctx: Ctx) -> Delivery:
        out = self.runtime.deliver(state, self.to_ao(msg), _Hooks(ctx))
        return self._delivery(state, out, ctx)

    def observe(self, state: Any) -> Any:
        tree = state.decode()
        return tree if self._observer is None else self._observer(tree)

    def observe_message(self, msg: Message) -> Message:
        return msg if self._message_view is None else self._message_view(msg)

    def describe_state(self, state: Any) -> Any:
        return state.decode()

    # -- crossing the seam ------------------------------------------------------------

    def to_ao(self, msg: Message) -> AoMessage:
        """``msg`` as the Lua process receives it (see the module docstring)."""
        tags: list[tuple[str, str]] = [("Action", msg.action)]
        mid: str | None = None
        data = ""
        for k, v in msg.tags:
            if k == "Id":
                mid = str(v)
            elif k == "Data":
                data = str(v)
            elif k != "Action":
                tags.append((k, lua_tostring(v)))
        if mid is None:
            own = msg.get(self.id_tag) if self.id_tag else None
            mid = lua_tostring(own) if own is not None else _derived_id(msg)
        return AoMessage(id=mid, src=msg.src, dst=msg.dst, tags=tuple(tags), data=data, owner=msg.src)

    def from_send(self, target: str, tags: Sequence[tuple[str, Any]], data: str, mid: str) -> Message:
        """A message the Lua code queued, as it travels (see the module docstring)."""
        d = dict(tags)
        action = d.pop("Action", None)
        if action is None:
            action = ""
        d["Id"] = mid
        if data:
            d["Data"] = data
        return make_message(self.pid, target, str(action), d)

    def _delivery(self, state: Snapshot, out: Outcome, ctx: Ctx) -> Delivery:
        notes: list[tuple[str, Any]] = []
        if len(out.handlers) > 1:
            notes.append(("handlers", tuple(f"{h.name} ({h.where})" for h in out.handlers)))
        if out.prints:
            notes.append(("printed", tuple(out.prints)))
        if out.inbox or not out.handlers:
            if out.error is None:
                return Delivery(None, state, None, None, tuple(notes))
        first = out.handlers[0] if out.handlers else None
        name = first.name if first else (out.error.handler if out.error and out.error.handler else "?")
        where = first.where if first else None
        if out.error is not None:
            return Delivery(name, state, f"{out.error.message} (at {out.error.where})", out.error.where or where, tuple(notes))
        emit = getattr(ctx, "emit", None)
        if emit is None:
            raise SpecError(f"{self.pid}: this engine cannot run Lua processes (its ctx has no emit)")
        for s in out.sends:
            emit(self.from_send(s.target, s.tags, s.data, s.id))
        if out.sends:
            notes.append(("sent at", tuple(s.where for s in out.sends)))
        return Delivery(name, out.state, None, where, tuple(notes))


def _derived_id(msg: Message) -> str:
    """A deterministic id for a message that carries none: its sender and a digest."""
    digest = hashlib.sha1(repr((msg.src, msg.dst, msg.action, msg.tags)).encode()).hexdigest()[:10]
    return f"{msg.src}:{digest}"


def boot(runtime: AoProcess, messages: Sequence[Sequence[tuple[str, str]]], sender: str,
         data: Mapping[int, str] | None = None) -> Snapshot:
    """The state after the boot messages (each a tag list, ``Action`` included), sent by
    ``sender`` in order; a boot message that fails or that no handler takes is a spec error."""
    state = runtime.initial
    for i, tags in enumerate(messages):
        msg = AoMessage(id=f"boot:{runtime.pid}:{i}", src=sender, dst=runtime.pid, tags=tuple(tags),
                        data=(data or {}).get(i, ""), owner=sender)
        out = runtime.deliver(state, msg)
        action = dict(tags).get("Action", "?")
        if out.error is not None:
            raise SpecError(f"{runtime.pid}: boot message {i + 1} ({action}) raised: {out.error.message} at {out.error.where}")
        if out.inbox:
            raise SpecError(f"{runtime.pid}: boot message {i + 1} ({action}) matched no handler; fix the boot list or the handler")
        state = out.state
    return state
