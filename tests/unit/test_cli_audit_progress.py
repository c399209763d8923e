"""audit shows which cell runs (k of N) and prints each cell's row as it finishes."""

from __future__ import annotations

import json
from typing import Any

from checker.config import CheckConfig
from checker.engines.explore import explore
from checker.interfaces.cli_audit import AuditLines, AuditMatrix, Setting, cell_label, cell_line, run_audit
from checker.interfaces.progress import Status
from checker.model.spec import Spec
from checker.result import CheckResult
from spec.tim3 import SPEC
from tests.unit._support import run

# one symbol per property, in spec order (positions-match-per-user 5th, collateral-backs-supply 7th)
ROWS = ["[1/6] v1 × none: ✗ ✗ ✗ xf ✗ ✓ ✓ ✓ ✓ ✓", "[2/6] v1 × mint-fail: ✗ ✗ ✗ xf ✗ ✓ ✗ ✓ ✓ ✓",
        "[3/6] v2 × none: ✓ ✓ ✓ xf ✓ ✓ ✓ ✓ ✓ ✓", "[4/6] v2 × mint-fail: ✓ ✓ ✓ xf ✓ ✓ ✗ ✓ ✓ ✓",
        "[5/6] v3 × none: ✓ ✓ ✓ xf ✓ ✓ ✓ ✓ ✓ ✓", "[6/6] v3 × mint-fail: ✓ ✓ ✓ xf ✓ ✓ ✓ ✓ ✓ ✓"]


def _fixed_seconds(spec: Spec, config: CheckConfig) -> CheckResult:
    r = explore(spec, config)
    r.stats.seconds = 0.5
    return r


def test_cell_line_and_label() -> None:
    events: list[str] = []

    class Listener:
        def start(self, m: AuditMatrix, k: int, n: int, version: str, setting: Setting) -> None:
            events.append(cell_label(m, k, n, version, setting))

        def done(self, m: AuditMatrix, k: int, n: int, version: str, setting: Setting) -> None:
            events.append(cell_line(m, k, n, version, setting))

    run_audit(SPEC, {}, ["none", "loss"], None, _fixed_seconds, listener=Listener())
    assert events[:4] == ["auditing cell 1/6 (version v1, none)", "[1/6] v1 × none: ✗ ✗ ✗ xf ✗ ✓ ✓ ✓ ✓ ✓ (187 states, 0.5 s)",
                          "auditing cell 2/6 (version v1, loss)", "[2/6] v1 × loss*: ✗ ✗ ✗ xf ✗ ✓ ✗ ✗ ✓ ✓ (431 states, 0.5 s)"]
    assert len(events) == 12 and events[-2] == "auditing cell 6/6 (version v3, loss)"


def test_audit_prints_each_row_as_it_finishes_then_the_matrix() -> None:
    r = run("audit", "--z3", "none", "--fault-set", "none", "--fault-set", "mint-fail")
    assert r.exit_code == 0, r.output
    err = r.stderr.splitlines()
    assert err[0].startswith("audit: 6 cells (3 versions × 2 settings); each row: update-follows-success, ")
    assert [line.rsplit(" (", 1)[0] for line in err[1:]] == ROWS
    assert all(line.endswith(" s)") and " states, " in line for line in err[1:])
    out = r.output  # stdout and stderr in the order written
    positions = [out.index(row) for row in ROWS] + [out.index("audit spec tim3")]
    assert positions == sorted(positions)  # each row before the next, all before the matrix
    assert "[1/6]" not in r.stdout


def test_rows_go_to_stderr_so_json_stays_valid_and_quiet_prints_none() -> None:
    r = run("audit", "--z3", "none", "--fault-set", "none", "--format", "json")
    doc: dict[str, Any] = json.loads(r.stdout)
    assert doc["release_candidate"] == "v3" and len(r.stderr.splitlines()) == 4  # header + 3 rows
    quiet = run("audit", "--z3", "none", "--fault-set", "none", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_audit_lines_emit_through_the_listener() -> None:
    lines: list[str] = []
    status = Status("auditing", None, None)
    run_audit(SPEC, {"ops": 1}, ["none"], None, _fixed_seconds, listener=AuditLines(status, lines.append))
    assert status.label == "auditing cell 3/3 (version v3, none)"
    assert lines[1:] == ["[1/3] v1 × none: ✗ ✗ ✗ xf ✗ ✓ ✓ ✓ ✓ ✓ (91 states, 0.5 s)",
                         "[2/3] v2 × none: ✓ ✓ ✓ xf ✓ ✓ ✓ ✓ ✓ ✓ (120 states, 0.5 s)",
                         "[3/3] v3 × none: ✓ ✓ ✓ xf ✓ ✓ ✓ ✓ ✓ ✓ (120 states, 0.5 s)"]
