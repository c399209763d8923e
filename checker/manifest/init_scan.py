"""``scan_repository(root) -> RepoScan``: what a repository's Lua files say about its processes.

A static, token-level scan (``checker.manifest.lua_lexer``) of every ``.lua`` file under
``root`` (hidden folders, ``node_modules``, ``test``/``tests`` folders and ``*_spec.lua``/
``*_test.lua``/``test_*.lua`` files skipped). Per file: the handlers it registers
(``Handlers.add/append/prepend/once``) with their Action patterns, the tags and JSON
``Data`` fields each handler reads from its message, the messages it sends (``ao.send``,
``Send``, ``msg.reply``), the state globals it writes; per file also its top-level
globals, ``Config`` keys and ``require``s. The scan never runs code and never fails on
code Lua accepts; what it cannot see (a pattern computed at run time) it leaves out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from checker.manifest.lua_lexer import Token, tokenize

_REGISTER = ("add", "append", "prepend", "once")
_OPENERS: Mapping[str, str] = MappingProxyType({"(": ")", "{": "}", "[": "]"})
_BLOCK_OPEN = ("function", "if", "do", "repeat")
_BLOCK_CLOSE = ("end", "until")
_TEST_FILE = re.compile(r"(_spec|_test|\.spec|\.test)\.lua$|^test_.*\.lua$")
_TEST_DIRS = ("test", "tests", "__tests__")
_SKIP_DIRS = ("node_modules", "__pycache__", *_TEST_DIRS)
_GENERATED_DIRS = ("build", "dist", "out")
_OWNER_CHECK = re.compile(r"(?i)(is|only|assert|require|check)_?owner")


@dataclass(frozen=True, slots=True)
class Send:
    """One message a handler (or file) sends: ``via`` is ``ao.send``, ``Send`` or ``reply``.

    ``target`` and ``action`` are the Lua source of the value, or a string literal's text
    (then ``target_literal``/``action_literal``); ``tags`` the other tag names set;
    ``data_fields`` the keys of a ``Data = json.encode({...})`` table. A message built in
    a local table (``local r = {...}; r.Action = "X"; msg.reply(r)``) is followed back.
    """

    line: int
    via: str
    target: str | None
    target_literal: bool
    action: str | None
    action_literal: bool
    tags: tuple[str, ...]
    has_data: bool
    data_fields: tuple[str, ...] = ()
    action_options: tuple[str, ...] = ()  # string literals of a computed Action (c and "A" or "B")

    @property
    def possible_actions(self) -> tuple[str, ...]:
        """The Actions this send may carry, as far as the source shows."""
        if self.action is not None and self.action_literal:
            return (self.action,)
        return self.action_options


@dataclass(frozen=True, slots=True)
class HandlerScan:
    """One handler registration: its name, the Actions its pattern matches, what its body does."""

    name: str
    line: int
    how: str
    actions: tuple[str, ...]
    pattern: str
    matched_tags: tuple[tuple[str, str], ...]
    reads: tuple[str, ...]
    data_fields: tuple[str, ...]
    sends: tuple[Send, ...]
    writes: tuple[str, ...]
    config_sets: tuple[tuple[str, str], ...]  # (Config key, "tag:X" or "data:x")
    owner_only: bool = False  # the body checks the sender against Owner (or calls isOwner)

    @property
    def changes_state(self) -> bool:
        return bool(self.writes)


@dataclass(frozen=True, slots=True)
class GlobalVar:
    """A top-level global assignment: ``kind`` is table, number, numeric string, string or other."""

    name: str
    line: int
    kind: str


@dataclass(frozen=True, slots=True)
class FileScan:
    """One Lua file; ``rel`` is its path relative to the scanned root (``/``-separated)."""

    path: Path
    rel: str
    handlers: tuple[HandlerScan, ...]
    sends: tuple[Send, ...]
    globals: tuple[GlobalVar, ...]
    config_keys: tuple[str, ...]
    requires: tuple[str, ...]

    @property
    def adds_handlers(self) -> bool:
        return bool(self.handlers)


@dataclass(frozen=True, slots=True)
class RepoScan:
    """Every scanned file, plus what was skipped (tests) or set aside (duplicate handler sets)."""

    root: Path
    files: tuple[FileScan, ...]
    skipped: tuple[str, ...]
    duplicates: tuple[tuple[str, str], ...]  # (file, the file with the same handlers)

    @property
    def process_files(self) -> tuple[FileScan, ...]:
        dup = {d for d, _ in self.duplicates}
        return tuple(f for f in self.files if f.adds_handlers and f.rel not in dup)

    @property
    def helper_files(self) -> tuple[FileScan, ...]:
        return tuple(f for f in self.files if not f.adds_handlers)

    def handled_actions(self) -> tuple[str, ...]:
        return _unique(a for f in self.process_files for h in f.handlers for a in h.actions)

    def sent_actions(self) -> tuple[str, ...]:
        return _unique(a for f in self.files for s in f.sends for a in s.possible_actions)


def _unique(items: Iterator[str] | list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for x in items:
        if x not in out:
            out.append(x)
    return tuple(out)


def scan_repository(root: Path) -> RepoScan:
    """Scan every ``.lua`` file under ``root`` (sorted, generated folders last)."""
    root = root.resolve()
    found: list[tuple[str, Path]] = []
    skipped: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for d in sorted(dirnames):
            if d in _TEST_DIRS and any((here / d).rglob("*.lua")):
                skipped.append((here / d).relative_to(root).as_posix() + "/")
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        for fn in sorted(filenames):
            if not fn.endswith(".lua"):
                continue
            p = Path(dirpath) / fn
            rel = p.relative_to(root).as_posix()
            (skipped.append(rel) if _TEST_FILE.search(fn) else found.append((rel, p)))
    found.sort(key=lambda rp: (any(part in _GENERATED_DIRS for part in rp[0].split("/")[:-1]), rp[0]))
    files = [scan_file(p, rel) for rel, p in found]
    duplicates: list[tuple[str, str]] = []
    seen: dict[tuple[str, ...], str] = {}
    for f in files:
        key = tuple(sorted(h.name for h in f.handlers))
        if key and key in seen:
            duplicates.append((f.rel, seen[key]))
        elif key:
            seen[key] = f.rel
    return RepoScan(root, tuple(files), tuple(skipped), tuple(duplicates))


def scan_file(path: Path, rel: str | None = None) -> FileScan:
    """Scan one Lua file (read as UTF-8, undecodable bytes replaced)."""
    source = path.read_text(encoding="utf-8", errors="replace")
    return scan_source(source, path, rel or path.name)


def scan_source(source: str, path: Path, rel: str) -> FileScan:
    toks = tokenize(source)
    handlers: list[HandlerScan] = []
    spans: list[tuple[int, int]] = []
    for i in range(len(toks) - 3):
        if (
            toks[i].is_name("Handlers")
            and toks[i + 1].is_op(".")
            and toks[i + 2].kind == "name"
            and toks[i + 2].text in _REGISTER
            and toks[i + 3].is_op("(")
            and (i == 0 or not toks[i - 1].is_op("."))
        ):
            close = _close(toks, i + 3)
            h = _handler(toks, i, close)
            if h is not None:
                handlers.append(h)
            spans.append((i, close))
    return FileScan(
        path=path.resolve(),
        rel=rel,
        handlers=tuple(handlers),
        sends=tuple(_sends(toks, 0, len(toks), "msg")),
        globals=tuple(_top_globals(toks, spans)),
        config_keys=_unique(_config_keys(toks)),
        requires=_unique(_requires(toks)),
    )


# ------------------------------------------------------------------ token helpers


def _close(toks: list[Token], i: int) -> int:
    """Index of the bracket closing the one at ``i`` (or the last token)."""
    want = _OPENERS[toks[i].text]
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind == "op" and t.text in _OPENERS:
            depth += 1
        elif t.kind == "op" and t.text in _OPENERS.values():
            depth -= 1
            if depth == 0 and t.text == want:
                return j
    return len(toks) - 1


def _block_end(toks: list[Token], i: int) -> int:
    """Index of the ``end`` closing the block opened by the keyword at ``i``."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind == "name" and t.text in _BLOCK_OPEN:
            depth += 1
        elif t.kind == "name" and t.text in _BLOCK_CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _split(toks: list[Token], start: int, end: int) -> list[tuple[int, int]]:
    """Ranges [a, b) of the comma-separated items between ``start`` and ``end`` (exclusive)."""
    out: list[tuple[int, int]] = []
    depth = 0
    a = start
    for j in range(start, end):
        t = toks[j]
        if t.kind == "op" and t.text in _OPENERS:
            depth += 1
        elif t.kind == "op" and t.text in _OPENERS.values():
            depth -= 1
        elif t.kind == "name" and t.text in _BLOCK_OPEN:
            depth += 1
        elif t.kind == "name" and t.text in _BLOCK_CLOSE:
            depth -= 1
        elif depth == 0 and (t.is_op(",") or t.is_op(";")):
            out.append((a, j))
            a = j + 1
    if a < end:
        out.append((a, end))
    return out


def _text(toks: list[Token], a: int, b: int) -> str:
    parts: list[str] = []
    for t in toks[a:b]:
        parts.append('"' + t.text.replace('"', '\\"') + '"' if t.kind == "string" else t.text)
    out = ""
    for p in parts:
        glue = "" if not out or p in ".,:()[]{}" or out[-1] in ".([{" else " "
        out += glue + p
    return out


def _string_at(toks: list[Token], a: int, b: int) -> str | None:
    return toks[a].text if b - a == 1 and toks[a].kind == "string" else None


# ------------------------------------------------------------------ handlers


def _handler(toks: list[Token], at: int, close: int) -> HandlerScan | None:
    args = _split(toks, at + 4, close)
    how = toks[at + 2].text
    if not args:
        return None
    name = _string_at(toks, *args[0])
    if name is not None and len(args) >= 3:
        pattern, body = args[1], args[2]
    elif name is not None and len(args) == 2:
        pattern, body = args[0], args[1]  # Handlers.add(name, fn): the name is the Action
    elif how == "once" and len(args) >= 2:
        name, pattern, body = f"once@{toks[at].line}", args[0], args[1]
    else:
        return None
    actions, matched = _pattern(toks, *pattern)
    a, b = _body(toks, *body)
    var = _param(toks, a, b)
    data_vars = _data_vars(toks, a, b, var)
    return HandlerScan(
        name=name,
        line=toks[at].line,
        how=how,
        actions=actions,
        pattern=_text(toks, *pattern),
        matched_tags=matched,
        reads=_unique(_reads(toks, a, b, var)),
        data_fields=_unique(_fields(toks, a, b, data_vars)),
        sends=tuple(_sends(toks, a, b, var)),
        writes=_unique(_writes(toks, a, b)),
        config_sets=tuple(_config_sets(toks, a, b, var, data_vars)),
        owner_only=any(t.kind == "name" and (t.text == "Owner" or _OWNER_CHECK.fullmatch(t.text)) for t in toks[a:b]),
    )


def _body(toks: list[Token], a: int, b: int) -> tuple[int, int]:
    """The token range of a handler function; a named function is looked up in the file."""
    if b - a == 1 and toks[a].kind == "name":
        fname = toks[a].text
        for i in range(len(toks) - 2):
            if toks[i].is_name("function") and toks[i + 1].is_name(fname) and toks[i + 2].is_op("("):
                return i, _block_end(toks, i) + 1
            if toks[i].is_name(fname) and toks[i + 1].is_op("=") and toks[i + 2].is_name("function"):
                return i + 2, _block_end(toks, i + 2) + 1
    return a, b


def _param(toks: list[Token], a: int, b: int) -> str:
    for i in range(a, min(b, len(toks) - 2)):
        if toks[i].is_name("function"):
            j = i + 1
            while j < b and not toks[j].is_op("("):
                j += 1
            if j + 1 < b and toks[j + 1].kind == "name":
                return toks[j + 1].text
            break
    return "msg"


def _pattern(toks: list[Token], a: int, b: int) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    actions: list[str] = []
    matched: list[tuple[str, str]] = []
    s = _string_at(toks, a, b)
    if s is not None:
        return (s,), ()
    if toks[a].is_op("{"):
        for x, y in _split(toks, a + 1, _close(toks, a)):
            kv = _field(toks, x, y)
            if kv and kv[1] is not None:
                (actions.append(kv[1]) if kv[0] == "Action" else matched.append((kv[0], kv[1])))
    for i in range(a, b):
        t = toks[i]
        if t.is_name("hasMatchingTag") and i + 1 < b and toks[i + 1].is_op("("):
            parts = _split(toks, i + 2, _close(toks, i + 1))
            if len(parts) == 2:
                tag, value = _string_at(toks, *parts[0]), _string_at(toks, *parts[1])
                if tag == "Action" and value is not None:
                    actions.append(value)
                elif tag is not None and value is not None:
                    matched.append((tag, value))
        elif t.is_name("hasMatchingTagOf") and i + 1 < b and toks[i + 1].is_op("("):
            parts = _split(toks, i + 2, _close(toks, i + 1))
            if len(parts) == 2 and _string_at(toks, *parts[0]) == "Action" and toks[parts[1][0]].is_op("{"):
                x0 = parts[1][0]
                for x, y in _split(toks, x0 + 1, _close(toks, x0)):
                    v = _string_at(toks, x, y)
                    if v is not None:
                        actions.append(v)
        elif t.is_op("==") and i + 1 < b:
            left, right = toks[i - 1], toks[i + 1]
            if (left.is_name("Action") or (left.kind == "string" and left.text == "Action")) and right.kind == "string":
                actions.append(right.text)
            elif left.kind == "string" and _ends_in_action(toks, i + 1, b):
                actions.append(left.text)
            elif left.is_op("]") and i >= 2 and toks[i - 2].kind == "string" and toks[i - 2].text == "Action":
                if right.kind == "string":
                    actions.append(right.text)
    return _unique(actions), tuple(matched)


def _ends_in_action(toks: list[Token], i: int, b: int) -> bool:
    """A dotted name starting at ``i`` that ends in ``Action`` (``msg.Action``, ``m.Tags.Action``)."""
    j = i
    while j + 2 < b and toks[j].kind == "name" and toks[j + 1].is_op("."):
        j += 2
    return j < b and toks[j].is_name("Action")


def _field(toks: list[Token], a: int, b: int) -> tuple[str, str | None, int, int] | None:
    """A table-constructor field ``K = v`` or ``["K"] = v``: (K, string value or None, value range)."""
    if b - a >= 3 and toks[a].kind == "name" and toks[a + 1].is_op("="):
        return toks[a].text, _string_at(toks, a + 2, b), a + 2, b
    if (
        b - a >= 5
        and toks[a].is_op("[")
        and toks[a + 1].kind == "string"
        and toks[a + 2].is_op("]")
        and toks[a + 3].is_op("=")
    ):
        return toks[a + 1].text, _string_at(toks, a + 4, b), a + 4, b
    return None


def _reads(toks: list[Token], a: int, b: int, var: str) -> Iterator[str]:
    for i in range(a, min(b, len(toks) - 2)):
        if not toks[i].is_name(var) or (i > 0 and toks[i - 1].is_op(".")):
            continue
        n1, n2 = toks[i + 1], toks[i + 2]
        if n1.is_op(".") and n2.is_name("Tags") and i + 4 < len(toks):
            n3, n4 = toks[i + 3], toks[i + 4]
            if n3.is_op(".") and n4.kind == "name":
                yield n4.text
            elif n3.is_op("[") and n4.kind == "string":
                yield n4.text
        elif n1.is_op(".") and n2.kind == "name" and n2.text[:1].isupper():
            yield n2.text
        elif n1.is_op("[") and n2.kind == "string":
            yield n2.text


def _data_vars(toks: list[Token], a: int, b: int, var: str) -> tuple[str, ...]:
    """Locals assigned a decoding of the message (``json.decode(msg.Data)``,
    ``Helpers.decodeData(msg)``, ``pcall(json.decode, msg.Data)``: the last name assigned)."""
    out: list[str] = []
    for i in range(a, b):
        if not toks[i].is_op("=") or i == 0 or toks[i - 1].kind != "name":
            continue
        line = toks[i].line
        rhs = [t for t in toks[i + 1 : b] if t.line == line]
        if any(t.kind == "name" and "decode" in t.text.lower() for t in rhs) and any(t.is_name(var) for t in rhs):
            if toks[i - 1].text not in out:
                out.append(toks[i - 1].text)
    return tuple(out)


def _fields(toks: list[Token], a: int, b: int, data_vars: tuple[str, ...]) -> Iterator[str]:
    for i in range(a, min(b, len(toks) - 2)):
        if toks[i].kind == "name" and toks[i].text in data_vars and not (i > 0 and toks[i - 1].is_op(".")):
            n1, n2 = toks[i + 1], toks[i + 2]
            if (n1.is_op(".") and n2.kind == "name") or (n1.is_op("[") and n2.kind == "string"):
                yield n2.text


def _sends(toks: list[Token], a: int, b: int, var: str) -> Iterator[Send]:
    for i in range(a, min(b, len(toks) - 1)):
        t = toks[i]
        via = None
        j = i
        if t.is_name("ao") and i + 3 < len(toks) and toks[i + 1].is_op(".") and toks[i + 2].is_name("send"):
            via, j = "ao.send", i + 3
        elif t.is_name("Send") and not (i > 0 and toks[i - 1].is_op(".")) and toks[i + 1].is_op("("):
            via, j = "Send", i + 1
        elif t.kind == "name" and i + 3 < len(toks) and toks[i + 1].is_op(".") and toks[i + 2].is_name("reply"):
            if t.text == var or t.text in ("msg", "m"):
                via, j = "reply", i + 3
        if via is None or j >= len(toks) or not toks[j].is_op("("):
            continue
        if j + 1 < len(toks) and toks[j + 1].is_op("{"):
            yield _send_table(toks, j + 1, via, t.line)
        elif j + 2 < len(toks) and toks[j + 1].kind == "name" and toks[j + 2].is_op(")"):
            yield _send_variable(toks, a, j + 1, via, t.line)
        else:
            yield Send(t.line, via, None, False, None, False, (), False)


def _send_variable(toks: list[Token], a: int, at: int, via: str, line: int) -> Send:
    """A send of a local table: its constructor, then ``name.Key = value`` assignments before ``at``."""
    name = toks[at].text
    start = None
    for i in range(at - 1, a - 1, -1):
        if toks[i].is_name(name) and i + 2 < at and toks[i + 1].is_op("=") and toks[i + 2].is_op("{"):
            start = i + 2
            break
    if start is None:
        return Send(line, via, None, False, None, False, (), False)
    base = _send_table(toks, start, via, line)
    target, target_literal = base.target, base.target_literal
    action, literal = base.action, base.action_literal
    tags = list(base.tags)
    for i in range(_close(toks, start), at):
        if toks[i].is_name(name) and i + 3 < at and toks[i + 1].is_op(".") and toks[i + 3].is_op("="):
            key = toks[i + 2].text
            value = _string_at(toks, i + 4, i + 5) if i + 4 < at else None
            if key == "Action":
                action, literal = (value, True) if value is not None else (None, False)
            elif key == "Target":
                target, target_literal = (value, True) if value is not None else (None, False)
            elif key not in tags:
                tags.append(key)
    return Send(
        line,
        via,
        target,
        target_literal,
        action,
        literal,
        tuple(tags),
        base.has_data,
        base.data_fields,
        base.action_options,
    )


def _send_table(toks: list[Token], open_idx: int, via: str, line: int) -> Send:
    target = action = None
    literal = target_literal = False
    tags: list[str] = []
    has_data = False
    data_fields: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    for x, y in _split(toks, open_idx + 1, _close(toks, open_idx)):
        kv = _field(toks, x, y)
        if kv is None:
            continue
        key, value, va, vb = kv
        if key == "Target":
            target, target_literal = (value, True) if value is not None else (_text(toks, va, vb), False)
        elif key == "Action":
            action, literal = (value, True) if value is not None else (_text(toks, va, vb), False)
            options = _options(toks, va, vb)
        elif key == "Data":
            has_data = True
            data_fields = _encoded_fields(toks, va, vb)
        elif key == "Tags" and toks[va].is_op("{"):
            for tx, ty in _split(toks, va + 1, _close(toks, va)):
                tkv = _field(toks, tx, ty)
                if tkv is None:
                    continue
                if tkv[0] == "Action" and action is None:
                    action, literal = (tkv[1], True) if tkv[1] is not None else (_text(toks, tkv[2], tkv[3]), False)
                elif tkv[0] not in tags:
                    tags.append(tkv[0])
        elif key not in tags:
            tags.append(key)
    return Send(line, via, target, target_literal, action, literal, tuple(tags), has_data, data_fields, options)


def _options(toks: list[Token], a: int, b: int) -> tuple[str, ...]:
    """String literals of an expression that are values, not compared (``c == "x" and "A" or "B"``)."""
    out: list[str] = []
    for i in range(a, b):
        t = toks[i]
        if t.kind != "string":
            continue
        before = toks[i - 1] if i > a else None
        after = toks[i + 1] if i + 1 < b else None
        if any(x is not None and x.kind == "op" and x.text in ("==", "~=", "..") for x in (before, after)):
            continue
        if t.text not in out:
            out.append(t.text)
    return tuple(out)


def _encoded_fields(toks: list[Token], a: int, b: int) -> tuple[str, ...]:
    """The keys of ``json.encode({...})`` in ``toks[a:b]`` (empty for anything else)."""
    for i in range(a, b - 3):
        if toks[i].is_name("encode") and toks[i + 1].is_op("(") and toks[i + 2].is_op("{"):
            out: list[str] = []
            for x, y in _split(toks, i + 3, _close(toks, i + 2)):
                kv = _field(toks, x, y)
                if kv is not None:
                    out.append(kv[0])
            return tuple(out)
    return ()


def _assign_target(toks: list[Token], i: int, end: int) -> int | None:
    """If a statement ``Name(.x|[e])* =`` starts at ``i``, the index of its ``=``."""
    j = i + 1
    while j < end:
        if toks[j].is_op(".") and j + 1 < end and toks[j + 1].kind == "name":
            j += 2
        elif toks[j].is_op("["):
            j = _close(toks, j) + 1
        else:
            break
    return j if j < end and toks[j].is_op("=") else None


def _writes(toks: list[Token], a: int, b: int) -> Iterator[str]:
    for i in range(a, b):
        t = toks[i]
        if t.kind != "name" or not t.text[:1].isupper() or t.text == "Handlers":
            continue
        prev = toks[i - 1] if i > 0 else None
        if prev is not None and prev.kind in ("op", "name") and prev.text in (".", ":", "local", "{", ","):
            continue  # a field, a method, a local or a table-constructor key
        if _assign_target(toks, i, b) is not None:
            yield t.text
        elif (
            i >= 4
            and toks[i - 1].is_op("(")
            and toks[i - 2].kind == "name"
            and toks[i - 2].text in ("insert", "remove")
            and toks[i - 4].is_name("table")
        ):
            yield t.text


def _config_sets(toks: list[Token], a: int, b: int, var: str, data_vars: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for i in range(a, min(b, len(toks) - 3)):
        if not (toks[i].is_name("Config") and toks[i + 1].is_op(".") and toks[i + 2].kind == "name"):
            continue
        if i > 0 and toks[i - 1].is_op("."):
            continue
        eq = _assign_target(toks, i, b)
        if eq is None:
            continue
        key = toks[i + 2].text
        line = toks[eq].line
        k = eq + 1
        while k < b and toks[k].line == line:
            tag = next(_reads(toks, k, k + 5, var), None) if toks[k].is_name(var) else None
            if tag is not None:
                yield key, f"tag:{tag}"
                break
            if toks[k].kind == "name" and toks[k].text in data_vars:
                field = next(_fields(toks, k, k + 3, data_vars), None)
                if field is not None:
                    yield key, f"data:{field}"
                    break
            k += 1


def _top_globals(toks: list[Token], spans: list[tuple[int, int]]) -> Iterator[GlobalVar]:
    depth = 0
    inside = [False] * len(toks)
    for s, e in spans:
        for k in range(s, min(e + 1, len(toks))):
            inside[k] = True
    seen: set[str] = set()
    brackets = 0
    for i, t in enumerate(toks):
        if t.kind == "name" and t.text in _BLOCK_OPEN:
            depth += 1
        elif t.kind == "name" and t.text in _BLOCK_CLOSE:
            depth -= 1
        elif t.kind == "op" and t.text in _OPENERS:
            brackets += 1
        elif t.kind == "op" and t.text in _OPENERS.values():
            brackets -= 1
        if depth != 0 or brackets != 0 or inside[i] or t.kind != "name" or not t.text[:1].isupper() or t.text in seen:
            continue
        if i > 0 and (toks[i - 1].is_op(".") or toks[i - 1].is_name("local") or toks[i - 1].is_op(":")):
            continue
        if i + 1 < len(toks) and toks[i + 1].is_op("=") and t.text != "Handlers":
            seen.add(t.text)
            yield GlobalVar(t.text, t.line, _value_kind(toks, i + 2))


def _value_kind(toks: list[Token], i: int) -> str:
    if i < len(toks) and toks[i].kind == "name" and i + 2 < len(toks) and toks[i + 1].is_name("or"):
        i += 2
    if i >= len(toks):
        return "other"
    t = toks[i]
    if t.is_op("{"):
        return "table"
    if t.kind == "number":
        return "number"
    if t.kind == "string":
        try:
            float(t.text)
        except ValueError:
            return "string"
        return "numeric string"
    return "other"


def _config_keys(toks: list[Token]) -> Iterator[str]:
    for i in range(len(toks) - 2):
        if toks[i].is_name("Config") and not (i > 0 and toks[i - 1].is_op(".")):
            if toks[i + 1].is_op(".") and toks[i + 2].kind == "name":
                yield toks[i + 2].text
            elif toks[i + 1].is_op("[") and toks[i + 2].kind == "string":
                yield toks[i + 2].text
            elif toks[i + 1].is_op("=") and i + 2 < len(toks):
                start = i + 2
                if toks[start].is_name("Config") and start + 2 < len(toks) and toks[start + 1].is_name("or"):
                    start += 2
                if toks[start].is_op("{"):
                    for x, y in _split(toks, start + 1, _close(toks, start)):
                        kv = _field(toks, x, y)
                        if kv is not None:
                            yield kv[0]


def _requires(toks: list[Token]) -> Iterator[str]:
    for i in range(len(toks) - 1):
        if toks[i].is_name("require"):
            if toks[i + 1].kind == "string":
                yield toks[i + 1].text
            elif toks[i + 1].is_op("(") and i + 2 < len(toks) and toks[i + 2].kind == "string":
                yield toks[i + 2].text
