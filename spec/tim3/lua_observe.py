"""The TIM3 processes in Lua (``spec/tim3/lua/``): files, boot messages, and the
abstraction from their globals and messages to the model's states and messages.

Files (``LUA_FILES``): ``v1``/``v2``/``v3`` are the coordinator versions of
``spec/tim3/coordinator.py``; ``lock``/``token``/``state`` the managers of
``spec/tim3/managers.py``. ``v2`` is ``v1`` plus exactly the seed's two ``ao.send``
blocks (``diff coordinator_v1.lua coordinator_v2.lua`` shows nothing else but the
header comment).

Boot (``boot_messages``): every process is spawned empty and configured by messages
from its owner wallet (the runtime's ``Owner``): the coordinator gets ``Configure``
with the manager ids; each manager gets ``Configure`` with the coordinator id (the
Token Manager also ``MaxSupply``); the Lock Manager gets one ``Credit`` per user
funding its free collateral. After boot each observed state equals the model's
initial state (``spec.tim3.build``).

The abstraction (``OBSERVERS``, by process kind), from ``Snapshot.decode()`` (a
``FrozenMap`` of the globals) to ``spec/tim3/states.py``:

=============  ===========================================  ==============================
process        Lua global                                   model field
=============  ===========================================  ==============================
coordinator    ``PendingRequests[id]`` (one entry per open  ``CoordinatorState.pending[id]``
               request, keyed by the user message's Id)
               ``.originalMsg.From``                        ``Pending.user``
               ``.operation`` (``"mint"``/``"burn"``)       ``Pending.op``
               ``.amount``                                  ``Pending.amount``
               ``.stage`` (locking | minting | rollback |   ``Pending.stage``
               burning | unlocking)
               ``.updateSent`` (``true``; absent: false)    ``Pending.update_sent``
lock           ``FreeCollateral[user]``                     ``LockState.free[user]``
               ``LockedCollateral[user]``                   ``LockState.locked[user]``
token          ``Balances[user]``                           ``TokenState.balances[user]``
               ``TotalSupply``                              ``TokenState.supply``
               ``Applied[request]``                         ``TokenState.applied[request]``
state          ``Positions[user]``                          ``PositionState.positions[user]``
=============  ===========================================  ==============================

Every other global (``Config``, ``Handlers``, ``Inbox``, ...) and every other field of
a request record (``originalMsg.Id``) is not observed. A table entry is in the model's
map exactly when the Lua table has the key (the Lua writes ``t[k] = (t[k] or 0) + x``
where the model writes ``m.set(k, m.get(k, 0) + x)``, and removes a request with
``= nil`` where the model calls ``remove``). Nothing is approximated: a number must be
a Lua integer where the model has an int (a float such as ``1.0``, which Python would
call equal to ``1``, raises ``ObserveError``), a string a string, a flag a boolean.

Messages (``observe_send``): a message the Lua sends is seen as the model's message
with the same sender, target and Action, carrying only the tags the Action declares
(``spec/tim3/actions.py``), each typed by its domain: the ``amount`` and ``delta``
domains are ints, written by Lua's ``tostring`` (``"1"``, ``"-1"``; ``"1.0"`` or a
missing tag raises ``ObserveError``), the others strings. Extra tags (the seed's
``TokenType``, ``Timestamp``, ..., and the runtime's ``X-Reference``) are dropped.
``model_tags`` goes the other way: a model message as the AO tags a Lua process reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from checker.ao.impl import lua_tostring as ao_tostring
from checker.errors import UserError
from checker.model.spec import ActionDecl, Params
from checker.model.values import FrozenMap, Message, make_message
from spec.tim3.actions import ACTIONS
from spec.tim3.states import CoordinatorState, LockState, Pending, PositionState, TokenState

LUA_FILES: dict[str, str] = {
    "v1": "coordinator_v1.lua",
    "v2": "coordinator_v2.lua",
    "v3": "coordinator_v3.lua",
    "lock": "lock_manager.lua",
    "token": "token_manager.lua",
    "state": "state_manager.lua",
}

OPS = ("mint", "burn")
STAGES = ("locking", "minting", "rollback", "burning", "unlocking")
# the tag domains of spec.tim3.domains whose values are ints (the rest are strings)
INT_DOMAINS = frozenset({"amount", "delta"})

_INT = re.compile(r"-?[0-9]+")


class ObserveError(UserError):
    """A Lua process's state or message has no counterpart in the model: the message
    names the global (or tag) and the value. This is a divergence of the code from the
    model, not a checker bug."""


def lua_file(key: str) -> Path:
    """The path of the Lua file ``LUA_FILES[key]`` (package data of ``spec.tim3.lua``)."""
    name = LUA_FILES[key]
    return Path(str(resources.files("spec.tim3.lua").joinpath(name)))


# ------------------------------------------------------------------ boot


def boot_messages(params: Params) -> dict[str, list[tuple[tuple[str, str], ...]]]:
    """Per process id, the tags (Action first) of the messages its owner sends it at
    boot, in order. ``params`` as ``spec.tim3`` takes them (derived defaults are
    resolved here)."""
    from spec.tim3 import resolve, user_ids  # here: spec.tim3 may one day import this module

    p = resolve(params)
    return {
        "coordinator": [
            (("Action", "Configure"), ("LockManager", "lock"), ("TokenManager", "token"), ("StateManager", "state")),
        ],
        "lock": [(("Action", "Configure"), ("Coordinator", "coordinator"))]
        + [(("Action", "Credit"), ("User", u), ("Amount", lua_tostring(p["collateral"]))) for u in user_ids(p)],
        "token": [
            (("Action", "Configure"), ("Coordinator", "coordinator"), ("MaxSupply", lua_tostring(p["max_supply"]))),
        ],
        "state": [(("Action", "Configure"), ("Coordinator", "coordinator"))],
    }


# ------------------------------------------------------------------ states


def _where(path: str, value: Any) -> str:
    return f"{path} = {value!r} ({type(value).__name__})"


def _int(value: Any, path: str) -> int:
    if type(value) is not int:
        raise ObserveError(f"{_where(path, value)}: the model has an int here (a Lua integer)")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ObserveError(f"{_where(path, value)}: the model has a string here")
    return value


def _table(value: Any, path: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise ObserveError(f"{_where(path, value)}: expected a Lua table")
    return value


def _global(g: Mapping[str, Any], name: str) -> Any:
    if name not in g:
        raise ObserveError(f"global {name} is nil: is this the right Lua file, and was it loaded?")
    return g[name]


def _int_map(g: Mapping[str, Any], name: str) -> FrozenMap[str, int]:
    t = _table(_global(g, name), name)
    return FrozenMap({_str(k, f"key of {name}"): _int(v, f"{name}[{k!r}]") for k, v in t.items()})


def _pending(req: str, value: Any) -> Pending:
    path = f"PendingRequests[{req!r}]"
    r = _table(value, path)
    orig = _table(r.get("originalMsg"), f"{path}.originalMsg")
    user = _str(orig.get("From"), f"{path}.originalMsg.From")
    op = _str(r.get("operation"), f"{path}.operation")
    if op not in OPS:
        raise ObserveError(f"{path}.operation = {op!r}: the model's operations are {'/'.join(OPS)}")
    amount = _int(r.get("amount"), f"{path}.amount")
    stage = _str(r.get("stage"), f"{path}.stage")
    if stage not in STAGES:
        raise ObserveError(f"{path}.stage = {stage!r}: the model's stages are {' | '.join(STAGES)}")
    sent = r.get("updateSent", False)
    if type(sent) is not bool:
        raise ObserveError(f"{_where(path + '.updateSent', sent)}: expected true or absent")
    return Pending(user, op, amount, stage, sent)


def observe_coordinator(g: Mapping[str, Any]) -> CoordinatorState:
    """``PendingRequests`` as ``CoordinatorState.pending`` (see the module docstring)."""
    t = _table(_global(g, "PendingRequests"), "PendingRequests")
    return CoordinatorState(FrozenMap({_str(k, "key of PendingRequests"): _pending(k, v) for k, v in t.items()}))


def observe_lock(g: Mapping[str, Any]) -> LockState:
    """``FreeCollateral``/``LockedCollateral`` as ``LockState.free``/``locked``."""
    return LockState(_int_map(g, "FreeCollateral"), _int_map(g, "LockedCollateral"))


def observe_token(g: Mapping[str, Any]) -> TokenState:
    """``Balances``/``TotalSupply``/``Applied`` as ``TokenState.balances``/``supply``/``applied``."""
    return TokenState(_int_map(g, "Balances"), _int(_global(g, "TotalSupply"), "TotalSupply"), _int_map(g, "Applied"))


def observe_state(g: Mapping[str, Any]) -> PositionState:
    """``Positions`` as ``PositionState.positions``."""
    return PositionState(_int_map(g, "Positions"))


OBSERVERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "coordinator": observe_coordinator,
    "lock": observe_lock,
    "token": observe_token,
    "state": observe_state,
}


# ------------------------------------------------------------------ messages

_ACTIONS: dict[str, ActionDecl] = {a.name: a for a in ACTIONS}


def lua_tostring(value: Any) -> str:
    """``tostring(value)`` in Lua 5.3 for the values the model puts in tags (strings,
    ints, floats, booleans: ``checker.ao.impl.lua_tostring``); anything else has no tag
    form (``ObserveError``)."""
    if isinstance(value, (bool, int, float, str)):
        return ao_tostring(value)
    raise ObserveError(f"{value!r} ({type(value).__name__}) has no tag form")


def model_tags(msg: Message) -> tuple[tuple[str, str], ...]:
    """A model message's tags as AO tags (``Action`` first, then the model's tags in
    order, every value through ``lua_tostring``)."""
    return (("Action", msg.action),) + tuple((k, lua_tostring(v)) for k, v in msg.tags)


def _parse(action: str, tag: str, domain: str, value: str) -> Any:
    if domain not in INT_DOMAINS:
        return value
    if not _INT.fullmatch(value) or str(int(value)) != value:
        raise ObserveError(f"{action} tag {tag} = {value!r}: the model has an int here, written as Lua writes an integer")
    return int(value)


def observe_send(src: str, target: str, tags: Sequence[tuple[str, Any]]) -> Message:
    """A message a Lua process sent (its AO tags, ``Action`` among them) as the model's
    message: declared tags only, typed by domain (see the module docstring)."""
    by_name: dict[str, Any] = {}
    for k, v in tags:
        by_name.setdefault(k, v)
    action = by_name.get("Action")
    if not isinstance(action, str):
        raise ObserveError(f"{src} sent a message to {target} without an Action tag")
    decl = _ACTIONS.get(action)
    if decl is None:
        raise ObserveError(f"{src} sent Action {action!r} to {target}: the model has no such Action")
    out: dict[str, Any] = {}
    for tag, domain in decl.tags:
        if tag not in by_name:
            raise ObserveError(f"{src} sent {action} to {target} without its {tag} tag")
        value = by_name[tag]
        if not isinstance(value, str):
            raise ObserveError(f"{action} tag {tag} = {value!r} is not a string (AO tags are strings)")
        out[tag] = _parse(action, tag, domain, value)
    return make_message(src, target, action, out)
