"""Bad input, the last holes: each rejected with one line and exit 2; JSON never NaN."""

from __future__ import annotations

import json

import pytest

from tests.unit._support import run


@pytest.mark.parametrize("args, flag", [
    (["--timeout", "nan"], "--timeout"),
    (["--timeout", "inf"], "--timeout"),
    (["--timeout", "-inf"], "--timeout"),
    (["--amounts", "1,,2"], "--amounts"),
    (["--amounts", "1,"], "--amounts"),
    (["--property", ""], "--property"),
    (["--property", "every-request-answered,"], "--property"),
])
def test_bad_values_are_one_line_and_exit_2(args: list[str], flag: str) -> None:
    r = run("check", "--no-save", "--users", "1", "--ops", "1", *args)
    assert r.exit_code == 2, r.output
    assert flag in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_json_never_prints_nan() -> None:
    r = run("check", "--no-save", "--users", "1", "--ops", "1", "--format", "json", "--timeout", "30")
    assert r.exit_code == 0, r.output
    json.loads(r.output, parse_constant=lambda c: pytest.fail(f"JSON constant {c}"))
    assert "NaN" not in r.output and "Infinity" not in r.output


@pytest.mark.parametrize("entry", [",", "lock-fail,", ""])
def test_an_empty_fault_name_is_rejected(entry: str) -> None:
    # (the command line's own comma splitting still drops empty names before this)
    from checker.errors import UsageError
    from checker.interfaces.loader import config_from_options
    from spec.tim3 import SPEC

    with pytest.raises(UsageError, match="--fault: empty fault name"):
        config_from_options(SPEC, faults=[entry])
