"""The migration with the Lua processes (``--spec spec.tim3.migration --impl lua``).

Five aos processes run on ``checker.ao``, each booted by messages from its owner, the
operator's wallet (``OPERATOR``): the old coordinator ``old`` (``coordinator_v1.lua``,
the deployed code) and the new one ``new`` (``coordinator_<version>.lua``), each its own
process id, configured with the managers' ids; the Lock, Token and State Managers of
``spec/tim3/lua/migration_*.lua`` (the shipped managers with the coordinators they
accept as a table, and the Token Manager's history), configured with ``Configure`` for
the old coordinator and, unless ``auth=single``, ``Add-Coordinator`` for the new one;
the state before the release (``prior`` TIM3 per user minted through the old
coordinator, never reported) as ``Credit``/``Credit-Locked``/``Import-Mint`` boot
messages. The operator and the users (frontends) stay the model's
(``spec.tim3.migration_operator``, ``migration_processes.MIGRATION_USER``): the
operator's ``Configure``, ``Retire-Coordinator``, ``Reinstate-Coordinator``,
``Record-Cutoff``, ``GetHistory``, ``Backfill`` and ``Mark-Stale`` are real messages the
Lua handles (owner-checked).

Where the seam translates (``MigrationLua``, around each ``LuaProcess``):

* ``Backfill``'s two tables travel as JSON in ``Data`` (``{"Positions": …, "Entries": …}``),
  as aos tooling sends tables; the Token Manager's ``History`` answer carries its
  history as JSON in ``Data``, read back into the model's ``Prior``/``Log``/``Cutoff``.
* ``Inspect`` (the owner's dryrun of the old coordinator's open requests; aos ``Eval``,
  which this runtime does not run) is answered by evaluating ``PendingRequests`` in the
  process's state: nothing of the deployed code changes, its state neither.
* The ghost ``Request`` tag the model's ``tracked`` coordinators add to their
  ``UpdatePosition`` (for ``no-double-count`` only) is added to the Lua coordinators'
  ``UpdatePosition`` the same way: the ``Request`` of the message being handled.

Observers (``OBSERVERS``) map the globals to ``spec/tim3/migration_states.py`` exactly
(integers must be Lua integers); the coordinators' is ``lua_observe.observe_coordinator``.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from checker.ao.impl import LuaProcess, boot, message_view
from checker.ao.runtime import AoProcess
from checker.ao.snapshot import Snapshot
from checker.errors import SpecError
from checker.model.process import Delivery
from checker.model.spec import Ctx, Initiative, Params, ProcessInstance, Spec
from checker.model.values import FrozenMap, Message, make_message
from spec.tim3.lua_observe import (
    INT_DOMAINS,
    ObserveError,
    _global,
    _int,
    _int_map,
    _str,
    _table,
    lua_file,
    lua_tostring,
    observe_coordinator,
)
from spec.tim3.migration_processes import LOCK, NEW, OLD, OPERATOR, STATE, TOKEN
from spec.tim3.migration_states import Entry, MLockState, MPositionState, MTokenState

LUA_MANAGERS: dict[str, str] = {
    LOCK: "migration_lock_manager.lua",
    TOKEN: "migration_token_manager.lua",
    STATE: "migration_state_manager.lua",
}
LABELS = {LOCK: "Lock Manager (Lua)", TOKEN: "Token Manager (Lua)", STATE: "State Manager (Lua)"}
# boot-only handlers: not part of the release's protocol (coverage leaves them out)
BOOT_ACTIONS = frozenset({"Add-Coordinator", "Credit", "Credit-Locked", "Import-Mint"})
MIGRATION_INT_DOMAINS = INT_DOMAINS | {"cutoff", "count", "generation"}


def manager_file(pid: str) -> Path:
    """The Lua file of manager ``pid`` (package data of ``spec.tim3.lua``)."""
    return lua_file("lock").parent / LUA_MANAGERS[pid]


# ------------------------------------------------------------------ observers


def _auth(g: Mapping[str, Any]) -> FrozenMap[str, str]:
    t = _table(_global(g, "Coordinators"), "Coordinators")
    out = {}
    for k, v in t.items():
        s = _str(v, f"Coordinators[{k!r}]")
        if s not in ("active", "retired"):
            raise ObserveError(f"Coordinators[{k!r}] = {s!r}: the model's standings are active | retired")
        out[_str(k, "key of Coordinators")] = s
    return FrozenMap(out)


def _str_map(g: Mapping[str, Any], name: str) -> FrozenMap[str, str]:
    t = _table(_global(g, name), name)
    return FrozenMap({_str(k, f"key of {name}"): _str(v, f"{name}[{k!r}]") for k, v in t.items()})


def _bool(g: Mapping[str, Any], name: str) -> bool:
    v = _global(g, name)
    if type(v) is not bool:
        raise ObserveError(f"{name} = {v!r}: the model has a boolean here")
    return v


def _entry(value: Any, path: str) -> Entry:
    e = _table(value, path)
    return Entry(_str(e.get("request"), f"{path}.request"), _str(e.get("user"), f"{path}.user"),
                 _int(e.get("delta"), f"{path}.delta"), _str(e.get("origin"), f"{path}.origin"))


def observe_lock(g: Mapping[str, Any]) -> MLockState:
    """FreeCollateral, LockedCollateral, Coordinators, Refused as ``MLockState``."""
    return MLockState(_int_map(g, "FreeCollateral"), _int_map(g, "LockedCollateral"), _auth(g), _str_map(g, "Refused"))


def observe_token(g: Mapping[str, Any]) -> MTokenState:
    """Balances, TotalSupply, Prior, Log (an array), Coordinators, Cutoff, Refused as ``MTokenState``."""
    prior = _table(_global(g, "Prior"), "Prior")
    log = _table(_global(g, "Log"), "Log")
    if list(log) != list(range(1, len(log) + 1)):
        raise ObserveError(f"Log has keys {list(log)!r}: expected an array 1..n")
    return MTokenState(
        _int_map(g, "Balances"),
        _int(_global(g, "TotalSupply"), "TotalSupply"),
        FrozenMap({_str(k, "key of Prior"): _entry(v, f"Prior[{k!r}]") for k, v in prior.items()}),
        tuple(_entry(v, f"Log[{i}]") for i, v in log.items()),
        _auth(g),
        _int(_global(g, "Cutoff"), "Cutoff"),
        _str_map(g, "Refused"),
    )


def observe_state(g: Mapping[str, Any]) -> MPositionState:
    """Positions, Stale, Backfilled, Counted, Coordinators as ``MPositionState``."""
    return MPositionState(_int_map(g, "Positions"), _bool(g, "Stale"), _bool(g, "Backfilled"), _int_map(g, "Counted"),
                          _auth(g))


OBSERVERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    OLD: observe_coordinator,
    NEW: observe_coordinator,
    LOCK: observe_lock,
    TOKEN: observe_token,
    STATE: observe_state,
}


# ------------------------------------------------------------------ the seam's translations


def backfill_data(msg: Message) -> Message:
    """The operator's ``Backfill`` as its wallet sends it: ``Mode`` a tag, the tables JSON in ``Data``."""
    body = {"Positions": dict(msg.tag("Positions")), "Entries": dict(msg.tag("Entries"))}
    return make_message(msg.src, msg.dst, msg.action, {"Mode": msg.tag("Mode"), "Data": json.dumps(body, sort_keys=True)})


def _rows(value: Any, path: str) -> tuple[tuple[str, str, int, str], ...]:
    if not isinstance(value, list):
        raise ObserveError(f"History {path} = {value!r}: expected a JSON array of rows")
    return tuple(_row(r, f"{path}[{i}]") for i, r in enumerate(value))


def _row(r: Any, path: str) -> tuple[str, str, int, str]:
    if not (isinstance(r, list) and len(r) == 4 and isinstance(r[0], str) and isinstance(r[1], str)
            and type(r[2]) is int and isinstance(r[3], str)):
        raise ObserveError(f"History {path} = {r!r}: expected [request, user, delta (an integer), origin]")
    return (r[0], r[1], r[2], r[3])


def history_tags(m: Message) -> Message:
    """The Token Manager's ``History`` with its JSON ``Data`` read back as the model's tags
    (``Prior`` by request id, ``Log`` in order, ``Cutoff``); its other tags kept."""
    try:
        body = json.loads(str(m.get("Data", "")))
    except ValueError as e:
        raise ObserveError(f"{m.src} sent History whose Data is not JSON ({e})") from e
    if not isinstance(body, dict):
        raise ObserveError(f"{m.src} sent History whose Data is {body!r}: expected a JSON object")
    prior = body.get("Prior", {})
    if not isinstance(prior, dict):
        raise ObserveError(f"History Prior = {prior!r}: expected a JSON object")
    cutoff = body.get("Cutoff")
    if type(cutoff) is not int:
        raise ObserveError(f"History Cutoff = {cutoff!r}: expected an integer")
    tags = {k: v for k, v in m.tags if k != "Data"}
    tags.update(Prior=FrozenMap({k: _row(v, f"Prior[{k!r}]") for k, v in prior.items()}),
                Log=_rows(body.get("Log", []), "Log"), Cutoff=cutoff)
    return make_message(m.src, m.dst, m.action, tags)


class _SeamCtx:
    """``ctx`` for a wrapped Lua delivery: what the Lua emits, translated (ghost
    ``Request`` on ``UpdatePosition``, ``History`` read back); the rest passes through."""

    def __init__(self, ctx: Ctx, request: Any) -> None:
        self._ctx = ctx
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def emit(self, m: Message) -> None:
        if m.action == "UpdatePosition" and self._request is not None:
            m = make_message(m.src, m.dst, m.action, {**dict(m.tags), "Request": self._request})
        elif m.action == "History":
            m = history_tags(m)
        self._ctx.emit(m)  # type: ignore[attr-defined]


class _Tee:
    """``ctx`` that records the messages a delivery sends; with ``forward`` they also go
    on to ``ctx``, without (a re-run for the commuting check) nothing reaches it."""

    def __init__(self, ctx: Ctx, forward: bool) -> None:
        self._ctx = ctx
        self._forward = forward
        self.sent: list[Message] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def emit(self, m: Message) -> None:
        self.sent.append(m)
        if self._forward:
            self._ctx.emit(m)  # type: ignore[attr-defined]

    def send(self, dst: str, action: str, **tags: Any) -> None:
        self.sent.append(make_message(self._ctx.self_id, dst, action, tags))
        if self._forward:
            self._ctx.send(dst, action, **tags)

    def fault(self, name: str) -> bool:  # the migration declares no faults
        return bool(self._ctx.fault(name)) if self._forward else False


CHECKED_DELIVERIES = 200  # per process, as checker.ao.commute
MAX_RENAMINGS = 4


class MigrationLua:
    """A ``LuaProcess`` of the migration behind the seam, with the translations of the
    module docstring; ``inspectable``: answers the owner's ``Inspect`` (a dryrun).

    Symmetry reduction: the runtime's commuting check (``checker.ao.commute``) renames
    the messages as the Lua receives them, and a user id inside JSON ``Data`` is not
    renamed. So for a process whose messages the seam translates (``translates``: the
    Token and State Managers) this class runs the same check one level up, on the
    model's messages: each of its first ``CHECKED_DELIVERIES`` distinct deliveries is
    re-run on the renamed state and message for every renaming symmetry asked for, and
    the handler, the error, the new state, what properties see of it and the messages
    sent must be the renamed ones (``SpecError`` otherwise, naming ``--no-symmetry``).
    """

    def __init__(self, inner: LuaProcess, inspectable: bool = False, translates: bool = False) -> None:
        self.inner = inner
        self.inspectable = inspectable
        self.translates = translates
        self._renamings: list[dict[str, str]] = []
        self._left = CHECKED_DELIVERIES
        self._seen: set[tuple[Snapshot, Message]] = set()

    @property
    def kind(self) -> str:
        return self.inner.kind

    @property
    def label(self) -> str:
        return self.inner.label

    @property
    def symbolic(self) -> bool:
        return False

    def handled_actions(self) -> frozenset[str]:
        return self.inner.handled_actions() | ({"Inspect"} if self.inspectable else set())

    def handler_names(self) -> tuple[str, ...]:
        return self.inner.handler_names() + (("Inspect",) if self.inspectable else ())

    def initiatives(self) -> tuple[Initiative, ...]:
        return ()

    def deliver(self, state: Snapshot, msg: Message, ctx: Ctx) -> Delivery:
        if not self._renamings or self._left <= 0 or (state, msg) in self._seen:
            return self._deliver(state, msg, ctx)
        self._seen.add((state, msg))
        self._left -= 1
        tee = _Tee(ctx, forward=True)
        d = self._deliver(state, msg, tee)
        for ren in self._renamings:
            why = self._difference(state, msg, d, tee.sent, ren, ctx)
            if why is not None:
                swap = ", ".join(f"{a} → {b}" for a, b in sorted(ren.items()))
                raise SpecError(f"{self.inner.pid}: symmetry reduction is unsound for this Lua process: renaming the users "
                                f"({swap}) does not commute with its delivery of {msg.describe()} (handler {d.handler}): "
                                f"{why}. The code treats one user differently from another; run with --no-symmetry")
        return d

    def _difference(self, state: Snapshot, msg: Message, d: Delivery, sent: list[Message], ren: dict[str, str],
                    ctx: Ctx) -> str | None:
        """What differs between delivering the renamed message to the renamed state and
        the renamed delivery (None: nothing)."""
        from checker.engines.symmetry import rename_value

        rt = self.inner.runtime
        other = _Tee(ctx, forward=False)
        d2 = self._deliver(rt.rename(state, ren), rename_value(msg, ren), other)
        if d.handler != d2.handler:
            return f"the handler differs: {d.handler} vs {d2.handler} renamed"
        if (d.error is None) != (d2.error is None):
            return f"only {'the delivery' if d.error is not None else 'the renamed delivery'} raises ({d.error or d2.error})"
        if d.error is not None:
            return None
        if rt.rename(d.state, ren) != d2.state:
            return "the new state differs from the renamed new state"
        if rename_value(self.observe(d.state), ren) != self.observe(d2.state):
            return "what properties see of the renamed new state is not the renamed view"
        mine = Counter(rename_value(m, ren) for m in sent)
        if mine != Counter(other.sent):
            extra = sorted(m.describe() for m in mine - Counter(other.sent))
            missing = sorted(m.describe() for m in Counter(other.sent) - mine)
            return f"the messages sent differ (renamed sends not sent by the renamed delivery: {extra}; sent instead: {missing})"
        return None

    def _deliver(self, state: Snapshot, msg: Message, ctx: Ctx) -> Delivery:
        if self.inspectable and msg.action == "Inspect":
            if msg.src != OPERATOR:
                return Delivery(None, state)
            pending = self.inner.runtime.evaluate(state, "PendingRequests")
            ctx.send(msg.src, "Inspect-Response", Pending=len(pending))
            return Delivery("Inspect", state, None, "dryrun: PendingRequests")
        if msg.action == "Backfill" and "Positions" in dict(msg.tags):
            msg = backfill_data(msg)
        return self.inner.deliver(state, msg, _SeamCtx(ctx, msg.get("Request")))

    def observe(self, state: Any) -> Any:
        return self.inner.observe(state)

    def observe_message(self, msg: Message) -> Message:
        return self.inner.observe_message(msg)

    def describe_state(self, state: Any) -> Any:
        return self.inner.describe_state(state)

    def rename_state(self, state: Snapshot, ren: Mapping[str, str]) -> Snapshot:
        """``state`` renamed (symmetry); arms the commuting check: the runtime's own, or
        for a translating process this class's (see the class docstring)."""
        if not self.translates:
            return self.inner.rename_state(state, ren)
        d = dict(ren)
        if d and set(d) == set(d.values()) and d not in self._renamings and len(self._renamings) < MAX_RENAMINGS:
            self._renamings.append(d)
        return self.inner.runtime.rename(state, ren)


# ------------------------------------------------------------------ boot and build


def boot_messages(params: Params, users: tuple[str, ...]) -> dict[str, list[tuple[tuple[str, str], ...]]]:
    """Per process id, the tags (Action first) of the messages the operator's wallet sends
    it at boot, in order: the state of the seed's steps 1–2 (both deployed, both accepted
    unless ``auth=single``) with ``prior`` TIM3 per user minted through the old coordinator."""
    from spec.tim3.migration import prior_id

    managers = (("LockManager", LOCK), ("TokenManager", TOKEN), ("StateManager", STATE))
    coordinator: list[tuple[tuple[str, str], ...]] = [(("Action", "Configure"),) + managers]
    auth: list[tuple[tuple[str, str], ...]] = [(("Action", "Configure"), ("Coordinator", OLD))]
    if params.get("auth", "set") != "single":
        auth.append((("Action", "Add-Coordinator"), ("Coordinator", NEW)))
    prior = int(params["prior"])
    lock = auth + [(("Action", "Credit"), ("User", u), ("Amount", lua_tostring(params["collateral"]))) for u in users]
    token = list(auth)
    if prior:
        lock += [(("Action", "Credit-Locked"), ("User", u), ("Amount", lua_tostring(prior))) for u in users]
        token += [(("Action", "Import-Mint"), ("Request", prior_id(u)), ("User", u), ("Amount", lua_tostring(prior)),
                   ("Origin", OLD)) for u in users]
    return {OLD: coordinator, NEW: coordinator, LOCK: lock, TOKEN: token, STATE: list(auth)}


def _process(pid: str, path: Path, label: str, params: Params, users: tuple[str, ...],
             inspectable: bool = False) -> ProcessInstance:
    from checker.manifest.init_scan import scan_file
    from spec.tim3.migration import MIGRATION_ACTIONS

    runtime = AoProcess(pid, [path], owner=OPERATOR, variant=str(params.get("aos", "default")))
    boot_only = BOOT_ACTIONS if pid in LUA_MANAGERS else BOOT_ACTIONS | {"Configure"}  # a coordinator's is boot only
    names = tuple(dict.fromkeys(h.name for h in scan_file(path).handlers if h.name not in boot_only))
    observer = OBSERVERS[pid]
    impl = LuaProcess(pid if pid in LUA_MANAGERS else "coordinator", label, runtime,
                      observer=lambda snap: observer(snap.decode()),
                      message_view=message_view(MIGRATION_ACTIONS, MIGRATION_INT_DOMAINS), id_tag="Request",
                      handled=frozenset(names), handler_names=names, root=path.parent)
    state = boot(runtime, boot_messages(params, users)[pid], OPERATOR)
    return ProcessInstance(pid, MigrationLua(impl, inspectable, translates=pid in (TOKEN, STATE)), state)


def lua_processes(params: Params, users: tuple[str, ...],
                  sources: Mapping[str, Path] | None = None) -> tuple[ProcessInstance, ...]:
    """old (v1), new (``params['version']``) and the three managers, in Lua, booted;
    ``sources`` replaces the file of a process id (a mutant, in the tests)."""
    version = str(params["version"])
    src = sources or {}
    return (
        _process(OLD, src.get(OLD, lua_file("v1")), "Coordinator v1 (old, deployed, Lua)", params, users,
                 inspectable=True),
        _process(NEW, src.get(NEW, lua_file(version)), f"Coordinator {version} (new, Lua)", params, users),
    ) + tuple(_process(pid, src.get(pid, manager_file(pid)), LABELS[pid], params, users) for pid in (LOCK, TOKEN, STATE))


def with_sources(sources: Mapping[str, Path]) -> Spec:
    """``spec.tim3.migration.SPEC`` whose Lua processes load ``sources`` (by process id)
    instead of the shipped files: how the tests check Lua mutants against the model."""
    from spec.tim3.migration import SPEC, build, user_ids

    def built(params: Params) -> tuple[ProcessInstance, ...]:
        insts = build(params)
        if params.get("impl", "python") != "lua":
            return insts
        lua = {i.pid: i for i in lua_processes(params, user_ids(params), sources)}
        return tuple(lua.get(i.pid, i) for i in insts)

    return dataclasses.replace(SPEC, build=built)
