"""Bad input, the last holes (issue 9 item 4): an empty --fault name, trace files nested too
deep or too large to render, a counterexample that cannot be saved, NaN in --format json."""

from __future__ import annotations

import errno
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checker.interfaces.counterexample import MAX_NESTING, finite, json_text, to_json
from tests.unit._support import edited, one_line, run, set_first_tag


# ------------------------------------------------------------------ --fault


@pytest.mark.parametrize("value", [",", "lock-fail,,mint-fail", "lock-fail,", " "])
def test_an_empty_fault_name_is_one_line_exit_2(value: str) -> None:
    # today: `--fault ,` drops the empty names and checks with no fault at all, exit 0
    r = run("check", "--no-save", "--users", "1", "--ops", "1", "--fault", value)
    assert r.exit_code == 2
    assert "--fault: empty fault name" in one_line(r)


# ------------------------------------------------------------------ deep and large files


@pytest.mark.parametrize("command", ["show", "replay"])
def test_a_trace_nested_100000_deep_is_one_line_exit_2(tmp_path: Path, command: str) -> None:
    # today: json.loads raises RecursionError (a traceback)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    r = run(command, str(deep))
    assert r.exit_code == 2
    assert f"deep.json: JSON nested deeper than {MAX_NESTING} levels (at character {MAX_NESTING})" in one_line(r)


def test_nesting_inside_a_string_does_not_count(v1_trace: Path, tmp_path: Path) -> None:
    path = edited(v1_trace, tmp_path / "brackets.json", lambda d: d.update(detail="[" * 10_000 + '\\"{'))
    assert run("show", str(path)).exit_code == 0


def test_nesting_just_over_the_limit_in_a_tag_is_refused(v1_trace: Path, tmp_path: Path) -> None:
    value: Any = 1
    for _ in range(MAX_NESTING):
        value = [value]
    r = run("show", str(edited(v1_trace, tmp_path / "tag.json", set_first_tag(value))))
    assert r.exit_code == 2 and "nested deeper than 200 levels" in one_line(r)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import checker.interfaces.counterexample as cx

    monkeypatch.setattr(cx, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_text(" " * 3 * 2**20)
    r = run("show", str(big))
    assert r.exit_code == 2
    assert "big.json: 3 MB is too large for a counterexample (the limit is 0 MB)" in one_line(r)


def repeated(copies: int) -> Callable[[dict[str, Any]], None]:
    """An edit for ``edited``: the trace's steps repeated ``copies`` times, renumbered (for rendering only)."""
    def edit(data: dict[str, Any]) -> None:
        data["steps"] = [dict(s) for _ in range(copies) for s in data["steps"]]
        for i, s in enumerate(data["steps"], start=1):
            s["index"] = i
        data["length"] = len(data["steps"])
    return edit


def test_show_of_a_long_trace_shows_the_first_200_steps_and_says_so(v1_trace: Path, tmp_path: Path) -> None:
    assert len(json.loads(v1_trace.read_text())["steps"]) == 7
    path = edited(v1_trace, tmp_path / "long.json", repeated(1000))  # 7,000 steps
    r = run("show", str(path))
    assert r.exit_code == 0, r.output
    assert "… 6,800 more steps not shown (steps 201–7000; `tim3check show --max-steps 0` shows all)" in r.stdout
    assert "│  200 │" in r.stdout and "│  201 │" not in r.stdout
    r = run("show", str(path), "--markdown")
    assert r.exit_code == 0
    rows = [x for x in r.stdout.splitlines() if x.startswith("| ") and x[2:3].isdigit()]
    assert len(rows) == 200 and "6,800 more steps not shown" in r.stdout
    r = run("show", str(path), "--max-steps", "10")
    assert "… 6,990 more steps not shown (steps 11–7000" in r.stdout


def test_show_cuts_a_huge_cell_and_says_how_much(v1_trace: Path, tmp_path: Path) -> None:
    path = edited(v1_trace, tmp_path / "wide.json", set_first_tag("x" * 1_000_000))
    r = run("show", str(path))
    assert r.exit_code == 0, r.output
    assert "more characters)" in r.stdout
    assert len(r.stdout) < 60_000  # one cut cell (2,000 characters), not a million
    r = run("show", str(path), "--markdown")
    assert r.exit_code == 0 and "more characters)" in r.stdout and len(r.stdout) < 60_000


# ------------------------------------------------------------------ saving fails


def test_disk_full_keeps_the_table_and_the_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # today: a UsageError (exit 2) and no verdict table
    import checker.interfaces.counterexample as cx

    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cx, "atomic_write_text", full)
    r = run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path / "ce"))
    assert r.exit_code == 1, r.output
    assert "positions-match-supply" in r.stdout and "VIOLATED" in r.stdout and "(not saved)" in r.stdout
    warnings = [x for x in r.stderr.splitlines() if x.strip()]
    assert warnings == [
        "warning: could not save the counterexamples of update-follows-success, positions-match-supply, "
        f"positions-match-supply-inflight, positions-match-per-user to {tmp_path / 'ce'}: No space left on device; choose a writable --out or pass "
        "--no-save"
    ]


def test_an_out_directory_under_a_file_keeps_the_json_verdict(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run("check", "--coordinator", "v1", "--ops", "1", "--out", str(blocker / "ce"), "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["exit_code"] == 1 and all(x["counterexample"] is None for x in doc["results"])
    assert "could not save the counterexamples of" in r.stderr and "Not a directory" in r.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_keeps_the_verdict(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = run("check", "--coordinator", "v1", "--ops", "1", "--out", str(ro))
    finally:
        ro.chmod(0o755)
    assert r.exit_code == 1 and "VIOLATED" in r.stdout and "Permission denied" in r.stderr


# ------------------------------------------------------------------ NaN


def test_json_output_never_prints_nan(monkeypatch: pytest.MonkeyPatch) -> None:
    # today: a NaN statistic is printed as the bare word NaN, which is not JSON
    from checker.result import Stats

    monkeypatch.setattr(Stats, "states_per_second", property(lambda self: math.nan))
    r = run("check", "--no-save", "--users", "1", "--ops", "1", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"JSON constant {c}"))
    assert doc["stats"]["states_per_second"] is None


def test_finite_and_json_text() -> None:
    assert finite({"a": [1.5, math.inf, {"b": -math.inf}], "c": math.nan}) == {"a": [1.5, None, {"b": None}], "c": None}
    assert json_text({"x": math.nan}) == '{\n  "x": null\n}'
    assert to_json((math.nan, math.inf, -math.inf, 2.5)) == ["NaN", "Infinity", "-Infinity", 2.5]


def test_replay_of_a_huge_value_says_so_in_a_bounded_line(v1_trace: Path, tmp_path: Path) -> None:
    path = edited(v1_trace, tmp_path / "huge.json", set_first_tag("x" * 1_000_000))
    r = run("replay", str(path))
    assert r.exit_code == 3 and "diverged at step 1: " in r.stdout and "expected it to send" in r.stdout
    assert "more characters)" in " ".join(r.stdout.split()) and len(r.stdout) < 10_000
