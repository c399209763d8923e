"""The migration through the command line, and its committed counterexamples.

``tests/migration/traces/`` holds the shortest counterexample of every failure of the
seed's plan (``plan=seed``, also with ``auth=single``) and of the literal cut-off plan,
written by ``tim3check check --spec spec.tim3.migration --out tests/migration/traces``;
each must still replay to its violation, and none may reproduce it under the corrected
plan.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from checker.interfaces.cli import main
from checker.interfaces.counterexample import load_counterexample
from checker.interfaces.replay import replay
from spec.tim3.migration import SPEC

TRACES = sorted((Path(__file__).resolve().parent / "traces").glob("*.json"))


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_seed_plan_fails_and_saves_counterexamples(tmp_path: Path) -> None:
    r = cli("check", "--spec", "spec.tim3.migration", "--param", "plan=seed", "--out", str(tmp_path), "--quiet")
    assert r.exit_code == 1, r.output
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"{p}--v3-amounts1-collateral1-ops1-planseed-prior1-users1.{ext}"
                           for p in ("release-positions-match-supply", "no-double-count", "rollback-positions-flagged")
                           for ext in ("json", "md"))
    replayed = cli("replay", str(tmp_path / files[0]))
    assert replayed.exit_code == 1 and "still violates" in replayed.stdout


def test_corrected_plan_is_the_default_and_holds(tmp_path: Path) -> None:
    r = cli("check", "--spec", "spec.tim3.migration", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "VIOLATED" not in r.stdout and "plan corrected" in r.stdout
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_the_seeds_coordinator_as_the_new_one(tmp_path: Path) -> None:
    r = cli("check", "--spec", "spec.tim3.migration", "--coordinator", "v2", "--param", "plan=seed", "--no-save",
            "--quiet", "--property", "no-double-count")
    assert r.exit_code == 1 and "13 steps" in r.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (("--param", "plan=corrected", "--param", "auth=single"), "only with plan=seed"),
    (("--coordinator", "v1"), "unknown value 'v1'"),
    (("--param", "plan=bigbang"), "unknown value 'bigbang'"),
])
def test_bad_scenarios_are_one_line(args: tuple[str, ...], needle: str) -> None:
    r = cli("check", "--spec", "spec.tim3.migration", "--no-save", *args)
    assert r.exit_code == 2
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and needle in lines[0], r.stderr


def test_there_are_committed_traces() -> None:
    plans = {(load_counterexample(f)["config"]["params"]["plan"], load_counterexample(f)["config"]["params"]["auth"])
             for f in TRACES}
    assert plans == {("seed", "set"), ("cutoff", "set"), ("seed", "single")}
    assert len(TRACES) == 12


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.stem)
def test_committed_page_shows_a_replay_command_that_runs(path: Path) -> None:
    # the page's command, as the CLI spells it today, names its own JSON from the repository root
    root = Path(__file__).resolve().parents[2]
    found = re.findall(r"`tim3check (\w+) ([^`]+)`", path.with_suffix(".md").read_text())
    assert found == [("replay", path.relative_to(root).as_posix())]
    assert "replay" in main.commands and (root / found[0][1]).is_file()


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.stem)
def test_committed_trace_still_violates(path: Path) -> None:
    assert path.with_suffix(".md").exists()
    outcome = replay(SPEC, load_counterexample(path))
    assert outcome.status == "violates", outcome.message


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.stem)
def test_corrected_plan_does_not_reproduce_it(path: Path) -> None:
    data = copy.deepcopy(load_counterexample(path))
    data["config"]["params"].update(plan="corrected", auth="set")
    assert replay(SPEC, data).status != "violates"
