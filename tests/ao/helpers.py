"""Helpers for the ao runtime tests: a process from inline Lua, messages, shorthands."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from checker.ao import AoMessage, AoProcess, Outcome, Snapshot


def lua_file(tmp_path: Path, code: str, name: str = "proc.lua") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return path


def make(tmp_path: Path, code: str, *, pid: str = "P", name: str = "proc.lua", **kw: Any) -> AoProcess:
    """An AoProcess running one Lua file with `code`."""
    return AoProcess(pid, [lua_file(tmp_path, code, name)], **kw)


def msg(
    action: str | None = None,
    *,
    src: str = "alice",
    dst: str = "P",
    id: str = "m1",
    data: str = "",
    tags: tuple[tuple[str, Any], ...] = (),
    owner: str = "",
    timestamp: int = 0,
    **kw: Any,
) -> AoMessage:
    """A message; `action` becomes the first tag, keyword tags follow, then `tags`."""
    all_tags: list[tuple[str, Any]] = []
    if action is not None:
        all_tags.append(("Action", action))
    all_tags.extend(kw.items())
    all_tags.extend(tags)
    return AoMessage(id, src, dst, tuple(all_tags), data, owner, timestamp)


def run(proc: AoProcess, *messages: AoMessage, state: Snapshot | None = None) -> Outcome:
    """Deliver messages in turn (each on the previous state); the last outcome."""
    s = proc.initial if state is None else state
    out = None
    for m in messages:
        out = proc.deliver(s, m)
        s = out.state
    assert out is not None
    return out


def names(out: Outcome) -> list[str]:
    return [h.name for h in out.handlers]


def tag(send: Any, name: str) -> Any:
    for k, v in send.tags:
        if k == name:
            return v
    raise KeyError(name)


def plain(v: Any) -> Any:
    """FrozenMap trees as plain dicts, for comparisons in tests."""
    from checker.model.values import FrozenMap

    if isinstance(v, FrozenMap):
        return {k: plain(x) for k, x in v.items()}
    return v


def globals_of(state: Snapshot) -> dict[str, Any]:
    return plain(state.decode())  # type: ignore[no-any-return]
