"""Where each key of a TOML document is written: key path -> line number.

``tomllib`` gives values without positions, so error messages find lines here. The
scanner understands what a (valid) TOML document can contain: table headers, arrays of
tables, dotted keys, inline tables, arrays (also over several lines), the four string
forms and comments. Paths are written as the loader writes them: ``boot[0].tags.Action``,
``properties[2].goals."mint succeeds"`` (indices count from 0; a key that is not bare is
quoted). ``line_of`` falls back to the nearest enclosing key that was found.
"""

from __future__ import annotations

import json
import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def key_segment(key: str) -> str:
    """A key as one path segment: bare when TOML allows it, otherwise double-quoted."""
    return key if _BARE.fullmatch(key) else json.dumps(key)


def join_key(parent: str, key: str) -> str:
    """``parent.key`` (``key`` quoted if needed); just the key at the top level."""
    seg = key_segment(key)
    return f"{parent}.{seg}" if parent else seg


def index_key(parent: str, index: int) -> str:
    return f"{parent}[{index}]"


class KeyLines:
    """Line numbers (1-based) of the keys and array elements of one TOML text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1
        self._lines: dict[str, int] = {}
        self._array_counts: dict[str, int] = {}
        try:
            self._document()
        except (IndexError, ValueError):
            pass  # a text tomllib rejects: keep what was found

    def line_of(self, path: str) -> int | None:
        """The line of ``path`` or of its nearest enclosing key; None if nothing matches."""
        p = path
        while p:
            if p in self._lines:
                return self._lines[p]
            p = _parent(p)
        return None

    # ---------------------------------------------------------------- scanning

    def _peek(self, n: int = 1) -> str:
        return self._text[self._pos : self._pos + n]

    def _advance(self, n: int = 1) -> None:
        chunk = self._text[self._pos : self._pos + n]
        self._line += chunk.count("\n")
        self._pos += n

    def _at_end(self) -> bool:
        return self._pos >= len(self._text)

    def _skip_space(self, newlines: bool) -> None:
        while not self._at_end():
            c = self._peek()
            if c in " \t\r" or (newlines and c == "\n"):
                self._advance()
            elif c == "#":
                while not self._at_end() and self._peek() != "\n":
                    self._advance()
            else:
                return

    def _document(self) -> None:
        prefix = ""
        while True:
            self._skip_space(newlines=True)
            if self._at_end():
                return
            line = self._line
            if self._peek(2) == "[[":
                self._advance(2)
                keys = self._key_parts("]")
                self._expect("]]")
                prefix = self._resolve(keys, new_element=True)
                self._lines.setdefault(prefix, line)
            elif self._peek() == "[":
                self._advance()
                keys = self._key_parts("]")
                self._expect("]")
                prefix = self._resolve(keys, new_element=False)
                self._lines.setdefault(prefix, line)
            else:
                self._key_value(prefix)

    def _resolve(self, keys: list[str], new_element: bool) -> str:
        path = ""
        for i, k in enumerate(keys):
            path = join_key(path, k)
            last = i == len(keys) - 1
            if last and new_element:
                n = self._array_counts.get(path, 0)
                self._array_counts[path] = n + 1
                path = index_key(path, n)
            elif path in self._array_counts:
                path = index_key(path, self._array_counts[path] - 1)
        return path

    def _expect(self, s: str) -> None:
        self._skip_space(newlines=False)
        if self._peek(len(s)) != s:
            raise ValueError(f"expected {s!r}")
        self._advance(len(s))

    def _key_parts(self, stop: str) -> list[str]:
        parts: list[str] = []
        while True:
            self._skip_space(newlines=False)
            c = self._peek()
            if c in "\"'":
                parts.append(self._string_value())
            else:
                start = self._pos
                while not self._at_end() and _BARE.fullmatch(self._peek()):
                    self._advance()
                if self._pos == start:
                    raise ValueError("expected a key")
                parts.append(self._text[start : self._pos])
            self._skip_space(newlines=False)
            if self._peek() == ".":
                self._advance()
                continue
            if self._peek(len(stop)) == stop or stop == "=":
                return parts
            raise ValueError("bad key")

    def _key_value(self, prefix: str) -> None:
        line = self._line
        keys = self._key_parts("=")
        self._expect("=")
        path = prefix
        for k in keys:
            path = join_key(path, k)
            self._lines.setdefault(path, line)
        self._value(path)

    def _value(self, path: str) -> None:
        self._skip_space(newlines=False)
        c = self._peek()
        if c == "{":
            self._advance()
            while True:
                self._skip_space(newlines=False)
                if self._peek() == "}":
                    self._advance()
                    return
                self._key_value(path)
                self._skip_space(newlines=False)
                if self._peek() == ",":
                    self._advance()
        elif c == "[":
            self._advance()
            index = 0
            while True:
                self._skip_space(newlines=True)
                if self._peek() == "]":
                    self._advance()
                    return
                element = index_key(path, index)
                self._lines.setdefault(element, self._line)
                self._value(element)
                index += 1
                self._skip_space(newlines=True)
                if self._peek() == ",":
                    self._advance()
        elif c in "\"'":
            self._string_value()
        else:
            while not self._at_end() and self._peek() not in ",]}\n#":
                self._advance()

    def _string_value(self) -> str:
        """Skip one string (any of the four forms) and return its raw contents."""
        for quote in ('"""', "'''"):
            if self._peek(3) == quote:
                self._advance(3)
                start = self._pos
                while self._peek(3) != quote:
                    if self._at_end():
                        raise ValueError("unterminated string")
                    self._advance(2 if quote == '"""' and self._peek() == "\\" else 1)
                end = self._pos
                self._advance(3)
                while self._peek() == quote[0]:  # up to two quotes may close the string
                    self._advance()
                    end += 1
                return self._text[start:end]
        quote = self._peek()
        self._advance()
        start = self._pos
        while self._peek() != quote:
            if self._at_end() or self._peek() == "\n":
                raise ValueError("unterminated string")
            self._advance(2 if quote == '"' and self._peek() == "\\" else 1)
        raw = self._text[start : self._pos]
        self._advance()
        if quote == '"':
            try:
                decoded = json.loads(f'"{raw}"')
                return decoded if isinstance(decoded, str) else raw
            except ValueError:
                return raw
        return raw


def _parent(path: str) -> str:
    """The enclosing path: drop the last ``[i]`` or ``.key`` (quoted keys understood)."""
    if path.endswith("]"):
        return path[: path.rfind("[")]
    if path.endswith('"'):
        i = len(path) - 2
        while i >= 0:
            if path[i] == '"' and (i == 0 or path[i - 1] == "."):
                return path[: max(i - 1, 0)]
            i -= 1
        return ""
    dot = path.rfind(".")
    return path[:dot] if dot >= 0 else ""
