"""Helpers shared by the CLI tests of tests/unit: run a command, its one output line or one-line
error, a saved trace (the ``v1_trace`` fixture of ``conftest.py``) copied with an edit."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from checker.interfaces.cli import main


def run(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """``tim3check ARGS`` in-process (stdout and stderr apart), with ``env`` set over the environment."""
    return CliRunner().invoke(main, list(args), env=env)


def one_line(r: Result) -> str:
    """The command's only output line; fails on more lines or a traceback."""
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    return lines[0]


def one_error_line(r: Result) -> str:
    """The command's only non-blank stderr line; fails on more lines or a traceback."""
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.output
    assert "Traceback" not in r.output + r.stderr, r.output
    return lines[0]


def save_v1_trace(out: Path) -> Path:
    """v1's positions-match-supply counterexample (1 user, 1 op: 7 steps), saved by ``check`` in ``out``."""
    r = run("check", "--coordinator", "v1", "--ops", "1", "--users", "1", "--property", "positions-match-supply",
            "--out", str(out), "--quiet")
    assert r.exit_code == 1, r.output
    return next(out.glob("positions-match-supply--*.json"))


def edited(trace: Path, dest: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    """A copy of ``trace`` at ``dest`` after ``edit`` changed its JSON in place; ``trace`` is untouched."""
    data: dict[str, Any] = json.loads(trace.read_text())
    edit(data)
    dest.write_text(json.dumps(data))
    return dest


def set_first_tag(value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit for ``edited``: the value of the first tag of the first message step 1 sends."""
    def edit(data: dict[str, Any]) -> None:
        data["steps"][0]["sent"][0]["tags"][0][1] = value
    return edit
