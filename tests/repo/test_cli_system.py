"""The manifest path through the command line: init, check --system, show, replay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from checker.interfaces.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "team_tim3"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_check_system_reports_findings_saves_and_replays(tmp_path: Path) -> None:
    code, out, _ = run("check", "--system", str(FIXTURE / "tim3check.toml"), "--ops", "1", "--out", str(tmp_path),
                       "--format", "json")
    assert code == 1
    data = json.loads(out)
    names = {r["name"] for r in data["results"]}
    assert "untrusted-change@src/tim3_token.lua:22" in names
    saved = sorted(tmp_path.glob("untrusted-change*.json"))
    assert len(saved) == 1
    code, out, _ = run("replay", str(saved[0]))
    assert code == 1 and "still violates" in out
    code, out, _ = run("show", str(saved[0]))
    assert code == 0 and "Configure" in out


def test_init_then_check_on_a_copy_of_the_shipped_lua(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(Path(__file__).resolve().parents[2] / "spec" / "tim3" / "lua", repo,
                    ignore=shutil.ignore_patterns("*.toml", "*.py", "__pycache__"))
    code, out, _ = run("init", str(repo))
    assert code == 0 and "TODO" in out
    draft = (repo / "tim3check.toml").read_text()
    code, _, err = run("check", "--system", str(repo / "tim3check.toml"), "--no-save")
    assert code == 2 and "TODO" in err  # a draft with TODOs left is refused, naming them
    code, _, err = run("init", str(repo))
    assert code == 2 and "exists" in err  # never overwritten without --force
    assert (repo / "tim3check.toml").read_text() == draft


def test_system_and_spec_together_is_a_usage_error() -> None:
    code, _, err = run("check", "--system", str(FIXTURE / "tim3check.toml"), "--spec", "spec.tim3")
    assert code == 2 and "--system and --spec" in err
