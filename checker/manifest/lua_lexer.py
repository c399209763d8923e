"""A Lua 5.3 tokenizer for static scanning: names, strings, numbers, operators, with lines.

Comments (``--``, ``--[[ ]]``, ``--[==[ ]==]``) are dropped; strings are decoded (the
common escapes; long brackets verbatim). It never fails: an unterminated string or
comment ends at the end of the text. Good enough to find handler registrations and
message tables in code that Lua itself accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"0[xX][0-9A-Fa-f]*(?:\.[0-9A-Fa-f]*)?(?:[pP][+-]?\d+)?|\d*\.?\d+(?:[eE][+-]?\d+)?\.?")
_LONG_OPEN = re.compile(r"\[(=*)\[")
_OPS = ("...", "..", "==", "~=", "<=", ">=", "::", "//", "<<", ">>")
_ESCAPES: Mapping[str, str] = MappingProxyType(
    {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\", '"': '"', "'": "'"}
)


@dataclass(frozen=True, slots=True)
class Token:
    """``kind`` is ``name``, ``string``, ``number`` or ``op``; ``text`` a string's decoded value."""

    kind: str
    text: str
    line: int

    def is_op(self, text: str) -> bool:
        return self.kind == "op" and self.text == text

    def is_name(self, text: str | None = None) -> bool:
        return self.kind == "name" and (text is None or self.text == text)


def tokenize(source: str) -> list[Token]:
    """All tokens of ``source`` in order."""
    out: list[Token] = []
    i, line, n = 0, 1, len(source)
    while i < n:
        c = source[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r\f\v":
            i += 1
        elif source.startswith("--", i):
            m = _LONG_OPEN.match(source, i + 2)
            if m:
                end = source.find("]" + m.group(1) + "]", m.end())
                end = n if end < 0 else end + len(m.group(0))
            else:
                end = source.find("\n", i)
                end = n if end < 0 else end
            line += source.count("\n", i, end)
            i = end
        elif c == "[" and _LONG_OPEN.match(source, i):
            m = _LONG_OPEN.match(source, i)
            assert m is not None
            close = "]" + m.group(1) + "]"
            end = source.find(close, m.end())
            end = n if end < 0 else end
            body = source[m.end() : end]
            if body.startswith("\n"):
                body = body[1:]
            out.append(Token("string", body, line))
            line += source.count("\n", i, min(n, end + len(close)))
            i = min(n, end + len(close))
        elif c in "\"'":
            text, j, nl = _short_string(source, i)
            out.append(Token("string", text, line))
            line += nl
            i = j
        elif c.isdigit() or (c == "." and i + 1 < n and source[i + 1].isdigit()):
            m = _NUMBER.match(source, i)
            j = m.end() if m and m.end() > i else i + 1
            out.append(Token("number", source[i:j], line))
            i = j
        elif (c.isascii() and c.isalpha()) or c == "_":
            m = _NAME.match(source, i)
            assert m is not None
            out.append(Token("name", m.group(0), line))
            i = m.end()
        else:
            op = next((o for o in _OPS if source.startswith(o, i)), c)
            out.append(Token("op", op, line))
            i += len(op)
    return out


def _short_string(source: str, start: int) -> tuple[str, int, int]:
    """(decoded text, index after the closing quote, newlines inside)."""
    quote = source[start]
    i, n, nl = start + 1, len(source), 0
    parts: list[str] = []
    while i < n and source[i] != quote:
        c = source[i]
        if c == "\n":  # not valid Lua; end the string at the line end
            break
        if c == "\\" and i + 1 < n:
            e = source[i + 1]
            if e in _ESCAPES:
                parts.append(_ESCAPES[e])
                i += 2
            elif e == "\n":
                parts.append("\n")
                nl += 1
                i += 2
            elif e == "z":
                j = i + 2
                while j < n and source[j] in " \t\r\n":
                    nl += source[j] == "\n"
                    j += 1
                i = j
            elif e.isdigit():
                m = re.match(r"\d{1,3}", source[i + 1 :])
                assert m is not None
                parts.append(chr(min(int(m.group(0)), 255)))
                i += 1 + len(m.group(0))
            else:
                parts.append(e)
                i += 2
        else:
            parts.append(c)
            i += 1
    return "".join(parts), min(i + 1, n), nl
