"""The ao engine's runtime: aos-compatible Lua processes on lupa's Lua 5.3.

Read ``checker/ao/runtime.py`` first (what is pinned, what is unsupported), then
``checker/ao/lua/process.lua`` (the handler loop) and ``checker/ao/lua/snapshot.lua``
(the state format).
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
