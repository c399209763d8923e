"""Manifest errors: one family (``ManifestError``), each problem naming file, key, line and fix.

A ``Problem`` is one mistake: ``"<file>: <key> (line N): <what is wrong>; <the fix>"``.
``ManifestError`` carries one or more problems (the loader reports every independent
mistake at once); its message is the problems, one a line, the first line the first one.
``Problems`` is the loader's collector; ``KeyLines`` finds the line of a key path.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from checker.errors import UserError
from checker.manifest.toml_lines import KeyLines


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a manifest: the key path (``boot[0].tags.Action``) and line if known."""

    file: str
    key: str
    line: int | None
    what: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.what}; {self.fix}"


class ManifestError(UserError):
    """A manifest that cannot be used; ``problems`` lists every mistake found (at least one)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("ManifestError needs at least one problem")
        lines = [str(p) for p in self.problems]
        if len(lines) > 1:
            lines.insert(1, f"({len(lines) - 1} more problem{'s' if len(lines) > 2 else ''}:)")
        super().__init__("\n".join(lines))


class ObservableValueError(UserError):
    """An observable (or a builtin) produced a value a property expression cannot use."""


class _Abort(Exception):
    """Raised by ``Problems.fail`` to abandon the current section (the problem is recorded)."""


class Problems:
    """Collects problems while one manifest is loaded; ``raise_if_any`` ends the load.

    Use ``fail`` to record a problem and abandon the current section (caught by
    ``section``); use ``add`` to record one and go on.
    """

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self._lines = KeyLines(text)
        self._found: list[Problem] = []

    def add(self, key: str, what: str, fix: str) -> None:
        """Record one problem at ``key`` (its line looked up in the source text)."""
        self._found.append(Problem(self.file, key, self._lines.line_of(key), what, fix))

    def fail(self, key: str, what: str, fix: str) -> _Abort:
        """Record a problem and return the exception that abandons the section: ``raise p.fail(...)``."""
        self.add(key, what, fix)
        return _Abort()

    @property
    def count(self) -> int:
        return len(self._found)

    def raise_if_any(self) -> None:
        if self._found:
            raise ManifestError(self._found)


ABORT = _Abort  # what the loader catches per section


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` for the closest of ``choices``, else the list of choices."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if not options:
        return "nothing is declared under that name"
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"expected one of: {shown}"
