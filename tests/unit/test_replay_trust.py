"""Replay trusts nothing it reads (issue 9 item 5): a trace whose steps were removed or
edited, or whose recorded violation is not reproduced at the recorded step, never replays
as fixed; the spec replayed against is the shipped one, ``--spec``, or the spec file the
trace records, never a module the file names; a trace that does not fit today's spec is
one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit._support import edited, one_line, run

SPEC_FILE = '''"""A copy of the shipped spec under another name, loaded from a file (--spec FILE)."""
import dataclasses
from spec.tim3 import SPEC as _SHIPPED
SPEC = dataclasses.replace(_SHIPPED, name="mytim3", source=__file__)
'''


def tampered(v1_trace: Path, tmp_path: Path, edit: Any) -> Path:
    """``v1_trace`` edited, as ``tmp_path/tampered.json``."""
    return edited(v1_trace, tmp_path / "tampered.json", edit)


def test_the_untouched_trace_still_violates_and_says_which_spec(v1_trace: Path) -> None:
    r = run("replay", str(v1_trace))
    assert r.exit_code == 1, r.output
    assert r.stdout.splitlines()[0] == "spec: spec.tim3 (the shipped spec)"
    assert "still violates positions-match-supply" in r.stdout and "at step 7" in r.stdout


def test_emptied_steps_never_replay_as_fixed(v1_trace: Path, tmp_path: Path) -> None:
    # today: exit 0, "holds now"
    path = tampered(v1_trace, tmp_path, lambda d: d.update(steps=[]))
    r = run("replay", str(path))
    assert r.exit_code == 2 and "records length 7 but holds 0 steps" in one_line(r)

    def old_file(d: dict[str, Any]) -> None:  # a file from before `length`: the final state tells
        d.update(steps=[])
        del d["length"]

    r = run("replay", str(tampered(v1_trace, tmp_path, old_file)))
    assert r.exit_code == 3, r.output
    assert "does not reproduce positions-match-supply (not-reproduced)" in r.stdout
    assert "all 0 steps replay, but the final state is not the recorded one" in r.stdout
    assert "holds now" not in r.stdout


def test_a_step_removed_from_the_middle_is_a_malformed_file(v1_trace: Path, tmp_path: Path) -> None:
    path = tampered(v1_trace, tmp_path, lambda d: d["steps"].pop(3))
    r = run("replay", str(path))
    assert r.exit_code == 2
    assert "steps[3].index is 5, expected 4: steps were removed, added or reordered" in one_line(r)


def test_steps_and_final_cut_consistently_do_not_reproduce(v1_trace: Path, tmp_path: Path) -> None:
    # the last step removed and `length`, `final` edited to match: the violation is not
    # reproduced at the recorded (last) step, and a replay never shows that a property holds
    def cut(d: dict[str, Any]) -> None:
        last = d["steps"].pop()
        d["length"] = 6
        for pid, fields in last["changes"].items():
            for f, diff in fields.items():
                if "keys" in diff:
                    for k, e in diff["keys"].items():
                        if "before" in e:
                            d["final"]["states"][pid][f][k] = e["before"]
                        else:
                            del d["final"]["states"][pid][f][k]
                else:
                    d["final"]["states"][pid][f] = diff["before"]
        d["final"]["in_flight"] = [last["message"]]
        d["final"]["quiescent"] = False

    r = run("replay", str(tampered(v1_trace, tmp_path, cut)))
    assert r.exit_code == 3, r.output
    assert ("all 6 steps replay to the recorded final state, but positions-match-supply is not violated at "
            "step 6: the final state is not quiescent") in r.stdout


def test_an_edited_final_state_does_not_reproduce(v1_trace: Path, tmp_path: Path) -> None:
    path = tampered(v1_trace, tmp_path, lambda d: d["final"]["states"]["token"].update(supply=2))
    r = run("replay", str(path))
    assert r.exit_code == 3, r.output
    assert 'token: recorded {"applied"' in r.stdout and '"supply": 2' in r.stdout


def test_a_witness_step_beyond_the_trace_is_malformed(tmp_path: Path) -> None:
    from checker.engines.explore import explore
    from checker.interfaces.counterexample import counterexample_data, write_counterexample
    from checker.model.semantics import Semantics
    from spec.tim3 import SPEC
    from tests.tim3_helpers import config

    cfg = config(version="v1", users=1, ops=1, amounts=(1, 2))
    result = explore(SPEC, cfg)
    path = write_counterexample(
        counterexample_data(result, result.result("mint-and-burn-reachable"), Semantics(SPEC, cfg)), tmp_path)
    assert run("replay", str(path)).exit_code == 0
    data = json.loads(path.read_text())
    data["witness"]["mint succeeds"] = 99
    path.write_text(json.dumps(data))
    r = run("replay", str(path))
    assert r.exit_code == 2 and "witness 'mint succeeds' at step 99, but the trace has steps 0..7" in one_line(r)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["config"]["params"].update(users="two"), 'config.params.users is "two": expected an integer'),
    (lambda d: d["config"]["params"].update(users=0), "config.params.users is 0: must be at least 1"),
    (lambda d: d["config"]["params"].update(amounts=[]), "config.params.amounts is []: expected a non-empty list"),
    (lambda d: d["config"]["params"].update(colour="red"), "config.params.colour: spec 'tim3' has no parameter"),
    (lambda d: d["config"].update(faults=["typo-fail"]), "config.faults: 'typo-fail' is not a fault of spec 'tim3'"),
    (lambda d: d["config"].update(network="lossy"), 'config.network "lossy" is not one of unordered, fifo'),
    (lambda d: d["property"].update(name="no-such"), "property.name 'no-such' is not a property of spec 'tim3'"),
])
def test_a_trace_that_does_not_fit_todays_spec_is_one_line_exit_2(
    v1_trace: Path, tmp_path: Path, edit: Any, message: str
) -> None:
    r = run("replay", str(tampered(v1_trace, tmp_path, edit)))
    assert r.exit_code == 2, r.output
    assert message in one_line(r)


def test_replay_never_imports_the_module_a_file_names(
    v1_trace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "imported"
    (tmp_path / "evil_spec.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)  # the current directory is importable for user specs

    def evil(d: dict[str, Any]) -> None:
        d["spec"] = {"name": "tim3", "module": "evil_spec", "source": "nowhere/evil_spec.py"}

    r = run("replay", str(tampered(v1_trace, tmp_path, evil)))
    assert r.exit_code == 2
    assert "is not the shipped one and its file does not exist here; pass --spec FILE" in one_line(r)
    assert not marker.exists()
    r = run("replay", str(tmp_path / "tampered.json"), "--spec", "spec.tim3")
    assert r.exit_code == 1 and r.stdout.startswith("spec: spec.tim3 (--spec)"), r.output
    assert not marker.exists()


def test_a_trace_from_a_spec_file_replays_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # today: the file records module 'myspec' (importable only beside it) and fails elsewhere
    (tmp_path / "specs").mkdir()
    spec_file = tmp_path / "specs" / "myspec.py"
    spec_file.write_text(SPEC_FILE)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path / "specs")
    r = run("check", "--spec", "myspec.py", "--coordinator", "v1", "--ops", "1", "--users", "1",
            "--property", "positions-match-supply", "--out", str(out), "--quiet")
    assert r.exit_code == 1, r.output
    saved = next(out.glob("*.json"))
    assert json.loads(saved.read_text())["spec"]["path"] == spec_file.resolve().as_posix()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    r = run("replay", str(saved))
    assert r.exit_code == 1, r.output
    assert r.stdout.splitlines()[0] == f"spec: {spec_file.resolve()} (the spec file recorded in the trace)"
    assert "still violates" in r.stdout


def test_another_specs_trace_is_a_usage_error(v1_trace: Path, tmp_path: Path) -> None:
    path = tampered(v1_trace, tmp_path, lambda d: d["spec"].update(name="other"))
    r = run("replay", str(path))
    assert r.exit_code == 2 and "the trace is for spec 'other', not 'tim3'; pass its spec with --spec" in one_line(r)


def test_committed_traces_record_the_shipped_spec() -> None:
    root = Path(__file__).resolve().parents[2] / "counterexamples"
    modules = {json.loads(p.read_text())["spec"]["module"] for p in root.rglob("*.json")}
    assert modules == {"spec.tim3"}  # so that they replay against the shipped spec, never a named module


def test_an_installed_module_is_not_a_shipped_spec(v1_trace: Path, tmp_path: Path) -> None:
    # "shipped" means a package of tim3check's own, not whatever the environment can import
    path = tampered(v1_trace, tmp_path, lambda d: d.update(spec={"name": "tim3", "module": "json",
                                                                 "source": "json/__init__.py"}))
    r = run("replay", str(path))
    assert r.exit_code == 2 and "(module 'json', source 'json/__init__.py') is not the shipped one" in one_line(r)


def test_the_shipped_migration_spec_is_found_by_its_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trace = sorted((Path(__file__).resolve().parents[1] / "migration" / "traces").glob("*.json"))[0]
    monkeypatch.chdir(tmp_path)
    r = run("replay", str(trace))
    assert r.exit_code == 1, r.output
    assert r.stdout.splitlines()[0] == "spec: spec.tim3.migration (the shipped spec)"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["steps"][2].update(choices="x"), "steps[2].choices must be a list of [label, value] pairs (step 3)"),
    (lambda d: d["steps"][1].update(kind=["deliver"]), "steps[1].kind must be a string (step 2)"),
    (lambda d: d["steps"][2].update(changes=None), "steps[2].changes must be an object {pid: {field: change}}"),
    (lambda d: d["steps"][0]["changes"]["user1"].update(issued=3), "steps[0].changes.user1.issued must be"),
    (lambda d: d["steps"][0]["changes"]["user1"]["requests"].update(keys=[1]), "steps[0].changes.user1.requests"),
    (lambda d: d["config"].update(limits=1.5), "bad config: 'float' object has no attribute 'get'"),
])
def test_mistyped_step_fields_are_one_line_exit_2(v1_trace: Path, tmp_path: Path, edit: Any, message: str) -> None:
    # found by mutating every field of a saved trace: each used to end in a traceback
    path = tampered(v1_trace, tmp_path, edit)
    for command in ("replay", "show"):
        r = run(command, str(path))
        assert r.exit_code == 2 and message in one_line(r), (command, r.output)
