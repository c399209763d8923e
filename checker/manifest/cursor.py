"""Typed access to one table of the parsed TOML, reporting mistakes at their key path.

``Table`` wraps a ``dict`` from ``tomllib`` with its path (``boot[0]``) and the load's
``Problems``: getters return the typed value or record a problem and abandon the section
(``raise problems.fail(...)`` inside, caught by the loader per section). Also the holes of
message templates (``{id:lock}``, ``{wallet}``, ``{amount}``), found by ``HOLE``.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any

from checker.manifest.errors import Problems
from checker.manifest.toml_lines import index_key, join_key

# A hole is {name} or {name:arg} with a name starting with a letter; other braces are text.
HOLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)(?::([^{}\s\"']*))?\}")
_MISSING: Any = object()


def type_name(value: object) -> str:
    """The TOML name of a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (datetime.date, datetime.time)):
        return "a date/time"
    return type(value).__name__


class Table:
    """One TOML table at ``path`` (``""`` for the document)."""

    def __init__(self, problems: Problems, path: str, data: dict[str, Any]) -> None:
        self.problems = problems
        self.path = path
        self.data = data

    def key(self, key: str) -> str:
        return join_key(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.data

    def allow(self, keys: Sequence[str], what: str) -> None:
        """Record an unknown-key problem (with a did-you-mean) for every key not in ``keys``."""
        for k in self.data:
            if k not in keys:
                close = difflib.get_close_matches(k, keys, n=1, cutoff=0.6)
                allowed = f"allowed: {', '.join(keys)}"
                fix = f"did you mean '{close[0]}'? ({allowed})" if close else f"remove it ({allowed})"
                self.problems.add(self.key(k), f"unknown key '{k}' in {what}", fix)

    def fail(self, key: str, what: str, fix: str) -> Exception:
        return self.problems.fail(self.key(key) if key else self.path, what, fix)

    def _get(self, key: str, default: Any, example: str) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            where = "the manifest" if not self.path else self.path if self.path.endswith("]") else f"[{self.path}]"
            raise self.fail(key, f"missing key '{key}'", f"add it to {where}: {example}")
        return default

    def text(self, key: str, example: str, default: Any = _MISSING, *, empty_ok: bool = False) -> Any:
        value = self._get(key, default, example)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type_name(value)}", f"write it in quotes: {example}")
        if not empty_ok and not value.strip():
            raise self.fail(key, "is empty", f"write for example {example}")
        return value

    def integer(self, key: str, example: str, default: Any = _MISSING, *, minimum: int = 0) -> Any:
        value = self._get(key, default, example)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {type_name(value)}", f"write for example {example}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}", f"write for example {example}")
        return value

    def number(self, key: str, example: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default, example)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.fail(key, f"expected a positive number, got {value!r}", f"write for example {example}")
        return float(value)

    def flag(self, key: str, example: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default, example)
        if not isinstance(value, bool):
            raise self.fail(
                key, f"expected true or false, got {type_name(value)}", f"write for example {example} (no quotes)"
            )
        return value

    def table(self, key: str, example: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default, example)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {type_name(value)}", f"write for example {example}")
        return Table(self.problems, self.key(key), value)

    def tables(self, key: str, example: str) -> list[Table]:
        """An array of tables (``[[key]]``); empty if the key is absent."""
        value = self.data.get(key, [])
        if isinstance(value, dict):
            raise self.fail(
                key, "expected an array of tables, got a single table", f"write each entry as [[{self.key(key)}]]"
            )
        if not isinstance(value, list):
            raise self.fail(key, f"expected an array of tables, got {type_name(value)}", f"write {example}")
        out: list[Table] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.problems.fail(
                    index_key(self.key(key), i), f"expected a table, got {type_name(item)}", f"write {example}"
                )
            out.append(Table(self.problems, index_key(self.key(key), i), item))
        return out

    def strings(self, key: str, example: str, default: Any = _MISSING, *, nonempty: bool = True) -> Any:
        value = self._get(key, default, example)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str):
            raise self.fail(key, "expected an array of strings, got a string", f"write it in brackets: {example}")
        if not isinstance(value, list):
            raise self.fail(key, f"expected an array of strings, got {type_name(value)}", f"write {example}")
        if nonempty and not value:
            raise self.fail(key, "is empty", f"write for example {example}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.problems.fail(
                    index_key(self.key(key), i),
                    f"expected a non-empty string, got {type_name(item) if not isinstance(item, str) else 'an empty one'}",
                    f"write {example}",
                )
        seen: set[str] = set()
        for i, item in enumerate(value):
            if item in seen:
                raise self.problems.fail(index_key(self.key(key), i), f"'{item}' is listed twice", "list it once")
            seen.add(item)
        return list(value)

    def tags(self, key: str, example: str, default: Any = _MISSING) -> Any:
        """A table of tag name -> string value, as a list of pairs in the order written."""
        value = self._get(key, default, example)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table of tags, got {type_name(value)}", f"write {example}")
        pairs: list[tuple[str, str]] = []
        for name, v in value.items():
            tkey = join_key(self.key(key), name)
            if not isinstance(v, str):
                shown = str(v).lower() if isinstance(v, bool) else str(v)
                raise self.problems.fail(
                    tkey,
                    f"tag values are strings in AO, got {type_name(v)}",
                    f'write it in quotes: {name} = "{shown}"',
                )
            pairs.append((name, v))
        return pairs


def check_holes(problems: Problems, key: str, text: str, allowed: Callable[[str, str | None], str | None]) -> bool:
    """Record a problem for each hole ``allowed(name, arg)`` rejects (it returns the fix)."""
    ok = True
    for m in HOLE.finditer(text):
        fix = allowed(m.group(1), m.group(2))
        if fix is not None:
            problems.add(key, f"unknown placeholder '{m.group(0)}'", fix)
            ok = False
    return ok


def fill(text: str, resolve: Callable[[str, str | None], str | None]) -> str:
    """Replace each hole ``resolve`` knows (non-None); leave the others as written."""

    def sub(m: re.Match[str]) -> str:
        value = resolve(m.group(1), m.group(2))
        return m.group(0) if value is None else value

    return HOLE.sub(sub, text)
