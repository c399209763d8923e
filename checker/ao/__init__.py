"""The ao engine's runtime: aos-compatible Lua processes on lupa's Lua 5.3.

Read ``checker/ao/runtime.py`` first (what is pinned, what is unsupported), then the
Lua prelude in ``checker/ao/lua/``: ``process.lua`` (messages, the handler loop, the
API), ``handlers.lua``, ``ao.lua``, ``env.lua`` (the globals), ``state.lua`` and
``snapshot.lua`` (what is state, the snapshot format), ``kernel.lua`` (ordering,
where-finding), ``json.lua``, ``utils.lua``, ``handlers_utils.lua``; ``boot.lua``
loads them.
"""

from checker.ao.runtime import (
    VARIANTS,
    AoBudgetExceeded,
    AoMemoryExceeded,
    AoMessage,
    AoProcess,
    AoRuntimeError,
    AoUnsupported,
    HandlerRun,
    Hooks,
    LuaFailure,
    Outcome,
    Send,
)
from checker.ao.snapshot import Snapshot

__all__ = [
    "VARIANTS",
    "AoBudgetExceeded",
    "AoMemoryExceeded",
    "AoMessage",
    "AoProcess",
    "AoRuntimeError",
    "AoUnsupported",
    "HandlerRun",
    "Hooks",
    "LuaFailure",
    "Outcome",
    "Send",
    "Snapshot",
]
