"""Lua processes behind the process seam: ``LuaProcess`` runs aos Lua for the engines.

A ``LuaProcess`` implements ``checker.model.process.ProcessImpl`` over an ``AoProcess`` (this
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
* **Renamed** (symmetry reduction): ``rename_state(state, ren)`` renames the users' ids
  in a snapshot inside Lua (``AoProcess.rename``); from the first renaming on, the
  process checks that renaming commutes with its first deliveries
  (``checker.ao.commute``: a mismatch is a ``SpecError`` saying to use ``--no-symmetry``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from checker.ao.commute import CommuteCheck
from checker.ao.runtime import AoMessage, AoProcess, Outcome
from checker.ao.snapshot import Snapshot
from checker.errors import SpecError, UserError
from checker.model.process import Delivery, Finding
from checker.model.spec import ActionDecl, Ctx, Initiative
from checker.model.values import Message, make_message

Observer = Callable[[Any], Any]
_INT = re.compile(r"\s*-?\d+\s*")
_FLOAT = re.compile(r"\s*-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?\s*")
RESERVED = ("Id", "Data", "@Timestamp")
TIMESTAMP = "@Timestamp"  # msg.Timestamp (ms) as it travels: not a tag the code sees
# the purity check: each process's first deliveries run twice and must agree
LUA_PURITY_CHECKS = 500


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
    """The runtime's hooks for one delivery: ``Checker.fault(name)`` is ``ctx.fault``
    (each answer recorded, so a re-run of the same delivery can replay them)."""

    __slots__ = ("_ctx", "answers")

    def __init__(self, ctx: Ctx) -> None:
        self._ctx = ctx
        self.answers: list[bool] = []

    def fault(self, name: str) -> bool:
        hit = bool(self._ctx.fault(name))  # an undeclared name is the spec's SpecError
        self.answers.append(hit)
        return hit


class _Replayed:
    """Hooks that give the recorded fault answers again, in order (then: no fault)."""

    __slots__ = ("_answers",)

    def __init__(self, answers: list[bool]) -> None:
        self._answers = list(answers)

    def fault(self, name: str) -> bool:
        return self._answers.pop(0) if self._answers else False


@dataclass(frozen=True)
class FindingRules:
    """What a ``LuaProcess`` reports as findings (``checker.model.process.FINDING_KINDS``):
    ``system`` the ids of the system's processes (their messages should be handled
    and carry what handlers read); ``trusted(action, sender)`` False when the manifest
    does not trust ``sender`` for ``action`` here (None: no rule); ``order`` re-runs
    every delivery under the reversed ``pairs()`` order. ``comparisons`` (by file:
    ``(line, text)``) are ``==``/``~=`` comparisons of a tag value, a string, with a
    number, found in the source; ``handler_lines`` (by file) the lines where handler
    functions start: a comparison is reported when the handler it lies in first runs."""

    system: frozenset[str]
    trusted: Callable[[str, str], bool | None]
    order: bool = False
    comparisons: Mapping[str, tuple[tuple[int, str], ...]] = dataclasses.field(default_factory=dict)
    handler_lines: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)


# a tag (a string) compared with == or ~= to a number literal or tonumber(...): always
# false (or true), never an error, in Lua
_TAG = r"msg(?:\.Tags)?(?:\.[A-Za-z_][\w]*|\[\s*[\"'][^\"']+[\"']\s*\])"
_NUM = r"(?:-?\d+(?:\.\d+)?\b|tonumber\s*\()"
STRING_NUMBER_COMPARISON = re.compile(rf"{_TAG}\s*(?:==|~=)\s*{_NUM}|{_NUM}[^=~<>]*?\s(?:==|~=)\s*{_TAG}")


def string_number_comparisons(source: str) -> tuple[tuple[int, str], ...]:
    """``(line, text)`` of each comparison of a tag with a number in Lua ``source``
    (outside comments)."""
    out = []
    for i, line in enumerate(source.splitlines(), start=1):
        code = line.split("--", 1)[0]
        if STRING_NUMBER_COMPARISON.search(code):
            out.append((i, code.strip()))
    return tuple(out)


# Lua runtime errors (raised by the VM, not by the code's own ``error(...)``)
_RUNTIME_ERROR = re.compile(
    r"attempt to (index|call|compare|perform arithmetic|concatenate|get length)|bad argument|"
    r"number has no integer representation|stack overflow|instruction budget|not enough memory"
)
_FLOATISH = re.compile(r"-?\d+\.0+")


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


@dataclass(frozen=True, slots=True)
class Unobservable:
    """A Lua state the abstraction has no model value for (why): properties reading it
    fail; ``--conform`` reports it as a divergence."""

    reason: str


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
        findings: FindingRules | None = None,
        root: Path | None = None,
        hop_ms: int | None = None,
    ) -> None:
        self._kind = kind
        self._label = label
        self.runtime = runtime
        self._observer = observer
        self._message_view = message_view
        self.id_tag = id_tag
        self._handled = handled
        self._names = handler_names
        self.rules = findings
        self.hop_ms = hop_ms  # None: time does not pass (every msg.Timestamp is 0)
        # source locations are shown relative to this folder (the spec's or the manifest's)
        self._prefix = str(root.resolve()) + "/" if root is not None else ""
        self._commute: CommuteCheck | None = None  # armed by rename_state (symmetry)
        self._purity_left = LUA_PURITY_CHECKS

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
        ao_msg = self.to_ao(msg)
        hooks = _Hooks(ctx)
        out = self.runtime.deliver(state, ao_msg, hooks)
        if self._purity_left > 0:
            self._purity_left -= 1
            self._same_again(state, ao_msg, hooks.answers, out)
        if self._commute is not None:
            self._commute.check(state, msg, hooks.answers, out)
        d = self._delivery(state, out, ctx, ao_msg.timestamp)
        if self.rules is None:
            return d
        found = list(d.findings) + self._findings(state, msg, out, d)
        if self.rules.order:
            answers = tuple(hooks.answers)
            why = self.runtime.order_dependent(state, ao_msg, lambda: _Replayed(list(answers)))
            if why:
                found.append(Finding("order-dependence", d.where or f"{self.pid}:{msg.action}", d.handler,
                                     f"{d.handler} on {msg.action}: {why}"))
        return replace(d, findings=tuple(found)) if found else d

    def _same_again(self, state: Snapshot, msg: AoMessage, answers: list[bool], out: Outcome) -> None:
        """The purity check: the same delivery (same state, message and fault answers) run
        once more must give the same new state, sends and error; otherwise the code reads
        something outside (state, message) and the explorer's memo would be unsound."""
        again = self.runtime.deliver(state, msg, _Replayed(list(answers)))
        what = ("new state" if again.state != out.state else
                "list of messages sent" if again.sends != out.sends else
                "error" if (again.error and again.error.message) != (out.error and out.error.message) else None)
        if what is None:
            return
        runs = out.handlers or again.handlers
        name, where = (runs[0].name, self.short(runs[0].where) or self.pid) if runs else ("?", self.pid)
        action = next((str(v) for k, v in msg.tags if k == "Action"), "?")
        raise SpecError(
            f"{where}: handler {name!r} of {self.pid} is not a pure function of (state, message): delivering "
            f"{action} from {msg.src} twice to the same state gave a different {what} (it reads something "
            "outside its process state and the message, e.g. collectgarbage('count')); make it depend on "
            "the state and the message only")

    def _findings(self, state: Snapshot, msg: Message, out: Outcome, d: Delivery) -> list[Finding]:
        """The findings of one delivery (see ``FindingRules``)."""
        rules = self.rules
        assert rules is not None
        found: list[Finding] = []
        from_system = msg.src in rules.system
        what = f"{msg.action} from {msg.src}"
        if out.error is not None and _RUNTIME_ERROR.search(out.error.message):
            found.append(Finding("handler-error", self.short(out.error.where) or self.pid, d.handler,
                                 f"{d.handler} on {what}: {self.short(out.error.message)}"))
        if d.handler is None and from_system:
            found.append(Finding("unhandled-message", f"{self.pid}:{msg.action}", None,
                                 f"no handler of {self.pid} matches {what}; it lands in the Inbox"))
        if from_system:
            for place, field, where in out.reads:
                found.append(Finding("contract-mismatch", self.short(where) or self.pid, d.handler,
                                     f"{d.handler} reads {place} field {field!r}, which {msg.src} does not set on {msg.action}"))
        if d.error is None and d.handler is not None and out.state != state and rules.trusted(msg.action, msg.src) is False:
            found.append(Finding("untrusted-change", d.where or self.pid, d.handler,
                                 f"{d.handler} changed {self.pid}'s state on {what}, a sender not trusted for {msg.action}"))
        for h in out.handlers:
            file, _, start = h.where.rpartition(":")
            starts = rules.handler_lines.get(file, ())
            for line, text in rules.comparisons.get(file, ()):
                # the handler registered last before the comparison, whose function
                # (starting at ``start``) begins between that registration and the line
                owner = max((s for s in starts if s <= line), default=None)
                if owner is not None and start.isdigit() and owner <= int(start) <= line:
                    found.append(Finding("value-hazard", self.short(f"{file}:{line}") or self.pid, h.name,
                                         f"{h.name} compares a tag value (a string) with a number: {text!r} is "
                                         "never equal in Lua"))
        if d.error is None and out.state != state:
            clash = _mixed_keys(out.state.decode(), "")
            if clash:
                found.append(Finding("value-hazard", d.where or self.pid, d.handler,
                                     f"{d.handler} left {clash}: a number and a string used as the same table key"))
        if d.error is None:
            for s in out.sends:
                for k, v in s.tags:
                    if not isinstance(v, str):
                        found.append(Finding("value-hazard", self.short(s.where) or self.pid, d.handler,
                                             f"tag {k} = {v!r} is a {type(v).__name__}: AO tags are strings"))
                    elif _FLOATISH.fullmatch(v):
                        found.append(Finding("value-hazard", self.short(s.where) or self.pid, d.handler,
                                             f"tag {k} = {v!r}: an integer written as a float; a receiver comparing with "
                                             f"{v.split('.')[0]!r} fails"))
        return found

    def observe(self, state: Any) -> Any:
        """The observer's view of the snapshot (no observer: the decoded globals); a
        state the abstraction has no model value for is ``Unobservable``."""
        if self._observer is None:
            return state.decode()
        try:
            return self._observer(state)
        except UserError as e:
            return Unobservable(f"{self.pid}: {e}")

    def observe_message(self, msg: Message) -> Message:
        return msg if self._message_view is None else self._message_view(msg)

    def describe_state(self, state: Any) -> Any:
        return state.decode()

    def rename_state(self, state: Snapshot, ren: Mapping[str, str]) -> Snapshot:
        """``state`` with the process ids of ``ren`` renamed (``AoProcess.rename``), for
        symmetry reduction; a permutation is then checked to commute with this process's
        deliveries (``checker.ao.commute``)."""
        if self._commute is None:
            self._commute = CommuteCheck(self)
        self._commute.add(ren)
        return self.runtime.rename(state, ren)

    # -- crossing the seam ------------------------------------------------------------

    def to_ao(self, msg: Message) -> AoMessage:
        """``msg`` as the Lua process receives it (see the module docstring)."""
        tags: list[tuple[str, str]] = [("Action", msg.action)]
        mid: str | None = None
        data = ""
        ts = 0
        for k, v in msg.tags:
            if k == "Id":
                mid = str(v)
            elif k == "Data":
                data = str(v)
            elif k == TIMESTAMP:
                ts = int(v)
            elif k != "Action":
                tags.append((k, lua_tostring(v)))
        if mid is None:
            own = msg.get(self.id_tag) if self.id_tag else None
            mid = lua_tostring(own) if own is not None else _derived_id(msg)
        return AoMessage(id=mid, src=msg.src, dst=msg.dst, tags=tuple(tags), data=data, owner=msg.src, timestamp=ts)

    def from_send(self, target: str, tags: Sequence[tuple[str, Any]], data: str, mid: str, now: int = 0) -> Message:
        """A message the Lua code queued while handling a message stamped ``now``, as it
        travels (see the module docstring); stamped ``now + hop_ms`` when time passes."""
        d = dict(tags)
        action = d.pop("Action", None)
        if action is None:
            action = ""
        d["Id"] = mid
        if self.hop_ms is not None:
            d[TIMESTAMP] = str(now + self.hop_ms)
        if data:
            d["Data"] = data
        return make_message(self.pid, target, str(action), d)

    def short(self, where: str | None) -> str | None:
        """``where`` (``file:line``, or a message naming files) with paths inside the
        root folder written relative to it."""
        if where and self._prefix:
            return where.replace(self._prefix, "")
        return where

    def _delivery(self, state: Snapshot, out: Outcome, ctx: Ctx, now: int = 0) -> Delivery:
        notes: list[tuple[str, Any]] = []
        if len(out.handlers) > 1:
            notes.append(("handlers", tuple(f"{h.name} ({self.short(h.where)})" for h in out.handlers)))
        if out.prints:
            notes.append(("printed", tuple(out.prints)))
        if out.inbox or not out.handlers:
            if out.error is None:
                return Delivery(None, state, None, None, tuple(notes))
        first = out.handlers[0] if out.handlers else None
        name = first.name if first else (out.error.handler if out.error and out.error.handler else "?")
        where = self.short(first.where) if first else None
        if out.error is not None:
            at = self.short(out.error.where)
            return Delivery(name, state, f"{self.short(out.error.message)} (at {at})", at or where, tuple(notes))
        emit = getattr(ctx, "emit", None)
        knows = getattr(ctx, "knows", None)
        if emit is None or knows is None:
            raise SpecError(f"{self.pid}: this engine cannot run Lua processes (its ctx has no emit)")
        lost: list[Finding] = []
        for s in out.sends:
            m = self.from_send(s.target, s.tags, s.data, s.id, now)
            if knows(s.target):
                emit(m)
            else:  # on AO a message to an id nobody runs is simply never handled
                lost.append(Finding("unknown-target", self.short(s.where) or self.pid, name,
                                    f"{name} sends {m.action} to {s.target!r}, which is not a process of the system"))
        if out.sends:
            notes.append(("sent at", tuple(self.short(s.where) for s in out.sends)))
        return Delivery(name, out.state, None, where, tuple(notes), tuple(lost))


def _mixed_keys(value: Any, path: str) -> str | None:
    """The first table (by path) holding both a number key and its string (``1`` and
    ``"1"``): Lua keeps them apart, so code that mixes them loses entries."""
    if not isinstance(value, Mapping):
        return None
    keys = list(value.keys())
    numbers = {lua_tostring(k) for k in keys if isinstance(k, (int, float)) and not isinstance(k, bool)}
    for k in keys:
        if isinstance(k, str) and k in numbers:
            return f"{path or 'a global table'}[{k!r}] and {path or 'it'}[{k}]"
    for k, v in value.items():
        hit = _mixed_keys(v, f"{path}.{k}" if path else str(k))
        if hit:
            return hit
    return None


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
