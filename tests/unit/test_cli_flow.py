"""``tim3check flow``: the message-flow graph on the command line."""

from __future__ import annotations

from tests.unit._support import run


def test_v1_flow_has_no_edge_into_the_state_manager() -> None:
    r = run("flow", "--coordinator", "v1", "--users", "1", "--ops", "2")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    assert not [x for x in lines if x.rstrip().endswith("--> n_state")]
    assert any("LockCollateral ×" in x and x.rstrip().endswith("--> n_lock") for x in lines)
    assert "never ran: UpdatePosition" in r.stdout  # on the State Manager's node
    assert any(x.startswith("%% never ran: ") and "state:UpdatePosition" in x for x in lines)
    assert "%% 187 distinct states, exhaustive" in lines


def test_v3_flow_reaches_the_state_manager() -> None:
    r = run("flow", "--users", "1", "--ops", "1")
    assert r.exit_code == 0, r.output
    assert any('"UpdatePosition ×' in x and x.rstrip().endswith("--> n_state") for x in r.stdout.splitlines())


def test_dot_and_limits() -> None:
    r = run("flow", "--coordinator", "v1", "--users", "1", "--ops", "1", "--dot", "--max-states", "5")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("digraph flow {")
    assert '"state" [label="state\\nState Manager\\nnever ran: UpdatePosition"];' in r.stdout
    assert "// 5 distinct states, NOT exhaustive" in r.stdout


def test_flow_rejects_other_engines() -> None:
    r = run("flow", "--engine", "bmc")
    assert r.exit_code == 2 and "--engine" in r.stderr
