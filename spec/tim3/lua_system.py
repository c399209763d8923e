"""TIM3 with the coordinator and the managers in Lua (``--impl lua``).

The coordinator (``spec/tim3/lua/coordinator_<version>.lua``) and the Lock, Token and
State Managers run as aos processes on ``checker.ao``; the users stay the model's
(they stand for the frontend and are not deployed code). Each Lua process is booted
by its owner's messages (``lua_observe.boot_messages``) and seen by the properties
through ``lua_observe.OBSERVERS``, so the seven properties of the model judge the Lua
unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from checker.ao.impl import LuaProcess, boot, message_view
from checker.ao.runtime import AoProcess
from checker.model.spec import Params, ProcessInstance, Spec
from spec.tim3.actions import ACTIONS
from spec.tim3.lua_observe import INT_DOMAINS, LUA_FILES, OBSERVERS, lua_file

OWNER = "owner"
LABELS = {"coordinator": "Coordinator", "lock": "Lock Manager", "token": "Token Manager", "state": "State Manager"}
_VIEW = message_view(ACTIONS, INT_DOMAINS)


def lua_process(pid: str, file_key: str, params: Params, variant: str = "default",
                source: Path | None = None) -> ProcessInstance:
    """Process ``pid`` from ``LUA_FILES[file_key]`` (or the file ``source``), booted; its
    initial state is the snapshot after the boot messages."""
    from spec.tim3.lua_observe import boot_messages

    path = source or lua_file(file_key)
    runtime = AoProcess(pid, [path], owner=OWNER, variant=variant)
    handlers = scanned_handlers(path)  # the file actually loaded (a mutant's, in the tests)
    handled = frozenset(a for _, acts in handlers for a in acts)
    label = LABELS[pid] + (f" {file_key} (Lua)" if pid == "coordinator" else " (Lua)")
    observer = OBSERVERS[pid]
    impl = LuaProcess(pid, label, runtime, observer=lambda snap: observer(snap.decode()), message_view=_VIEW, id_tag="Request",
                      handled=handled, handler_names=tuple(dict.fromkeys(n for n, _ in handlers)), root=lua_file("lock").parent)
    state = boot(runtime, boot_messages(params)[pid], OWNER)
    return ProcessInstance(pid, impl, state)


def scanned_handlers(path: Path) -> tuple[tuple[str, frozenset[str]], ...]:
    """(name, Actions its pattern matches) of each handler the Lua file adds, read by
    ``init``'s scanner; the owner's boot handlers (Configure, Credit) left out: coverage
    and the adversary are about the protocol."""
    from checker.manifest.init_scan import scan_file

    return tuple((h.name, frozenset(h.actions) - BOOT_ACTIONS) for h in scan_file(path).handlers
                 if h.name not in BOOT_ACTIONS)


BOOT_ACTIONS = frozenset({"Configure", "Credit"})


def lua_processes(params: Params, sources: Mapping[str, Path] | None = None) -> tuple[ProcessInstance, ...]:
    """The coordinator (``params['version']``) and the three managers, in Lua;
    ``sources`` replaces the file of a process id (a mutant, in the tests)."""
    version = str(params["version"])
    if version not in LUA_FILES:
        from checker.errors import SpecError

        raise SpecError(f"spec.tim3: no Lua coordinator {version!r}; choose one of v1, v2, v3")
    src = sources or {}
    variant = str(params.get("aos", "default"))
    return tuple(lua_process(pid, version if pid == "coordinator" else pid, params, variant, src.get(pid))
                 for pid in ("coordinator", "lock", "token", "state"))


def with_sources(sources: Mapping[str, Path]) -> Spec:
    """``spec.tim3.SPEC`` whose Lua processes load ``sources`` (by process id) instead of
    the shipped files: how the tests check Lua mutants against the model."""
    from spec.tim3 import SPEC, build

    def built(params: Params) -> tuple[ProcessInstance, ...]:
        insts = build(params)
        if params["impl"] != "lua":
            return insts
        lua = {i.pid: i for i in lua_processes(params, sources)}
        return tuple(lua.get(i.pid, i) for i in insts)

    return dataclasses.replace(SPEC, build=built)
