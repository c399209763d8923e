"""TIM3 with the coordinator and the managers in Lua (``--impl lua``).

The coordinator (``spec/tim3/lua/coordinator_<version>.lua``) and the Lock, Token and
State Managers run as aos processes on ``checker.ao``; the users stay the model's
(they stand for the frontend and are not deployed code). Each Lua process is booted
by its owner's messages (``lua_observe.boot_messages``) and seen by the properties
through ``lua_observe.OBSERVERS``, so the seven properties of the model judge the Lua
unchanged.
"""

from __future__ import annotations

from checker.ao.impl import LuaProcess, boot, message_view
from checker.ao.runtime import AoProcess
from checker.spec import Params, ProcessInstance
from spec.tim3.actions import ACTIONS
from spec.tim3.lua_observe import INT_DOMAINS, LUA_FILES, OBSERVERS, lua_file

OWNER = "owner"
LABELS = {"coordinator": "Coordinator", "lock": "Lock Manager", "token": "Token Manager", "state": "State Manager"}
_VIEW = message_view(ACTIONS, INT_DOMAINS)


def lua_process(pid: str, file_key: str, params: Params, variant: str = "default") -> ProcessInstance:
    """Process ``pid`` from ``LUA_FILES[file_key]``, booted; its initial state is the
    snapshot after the boot messages."""
    from spec.tim3.lua_observe import boot_messages

    runtime = AoProcess(pid, [lua_file(file_key)], owner=OWNER, variant=variant)
    handled = handled_actions(file_key)
    label = LABELS[pid] + (f" {file_key} (Lua)" if pid == "coordinator" else " (Lua)")
    impl = LuaProcess(pid, label, runtime, observer=OBSERVERS[pid], message_view=_VIEW, id_tag="Request",
                      handled=handled, handler_names=handler_names(file_key))
    state = boot(runtime, boot_messages(params)[pid], OWNER)
    return ProcessInstance(pid, impl, state)


def handler_names(file_key: str) -> tuple[str, ...]:
    """The handler names a Lua file adds (for coverage), read from its source."""
    import re

    text = lua_file(file_key).read_text(encoding="utf-8")
    names = re.findall(r"Handlers\.(?:add|append|prepend)\(\s*[\"']([^\"']+)[\"']", text)
    return tuple(n for n in dict.fromkeys(names) if n != "Configure" and n != "Credit")


def handled_actions(file_key: str) -> frozenset[str]:
    """The Actions a Lua file's handlers match with ``hasMatchingTag("Action", X)``
    (read from its source; the adversary sends these, as it does to the model)."""
    import re

    text = lua_file(file_key).read_text(encoding="utf-8")
    found = re.findall(r"hasMatchingTag\(\s*[\"']Action[\"']\s*,\s*[\"']([^\"']+)[\"']", text)
    return frozenset(found) - {"Configure", "Credit"}


def lua_processes(params: Params) -> tuple[ProcessInstance, ...]:
    """The coordinator (``params['version']``) and the three managers, in Lua."""
    version = str(params["version"])
    if version not in LUA_FILES:
        from checker.errors import SpecError

        raise SpecError(f"spec.tim3: no Lua coordinator {version!r}; choose one of v1, v2, v3")
    return (
        lua_process("coordinator", version, params),
        lua_process("lock", "lock", params),
        lua_process("token", "token", params),
        lua_process("state", "state", params),
    )
