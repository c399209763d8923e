"""Which files ``check`` writes: violations and findings by default, expected-fail traces
only with ``--save-expected``; paths and replay commands on lines of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit._support import run

COMMITTED = Path(__file__).resolve().parents[2] / "counterexamples"


def test_a_passing_run_writes_no_files(tmp_path: Path) -> None:
    out = tmp_path / "ce"
    r = run("check", "--ops", "1", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "expected-fail observed" in r.stdout and "(not saved: --save-expected)" in r.stdout
    assert not out.exists()


def test_save_expected_writes_the_expected_fail_trace(tmp_path: Path) -> None:
    r = run("check", "--ops", "1", "--out", str(tmp_path), "--save-expected", "--format", "json")
    assert r.exit_code == 0, r.output
    strict = {x["name"]: x for x in json.loads(r.stdout)["results"]}["positions-match-supply-strict"]
    assert strict["verdict"] == "EXPECTED-FAIL" and Path(strict["counterexample"]).is_file()
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".md"]


def test_violations_are_saved_with_copyable_lines(tmp_path: Path) -> None:
    r = run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path))
    assert r.exit_code == 1, r.output
    names = sorted(p.name.split("--", 1)[0] for p in tmp_path.glob("*.json"))
    assert names == ["positions-match-per-user", "positions-match-supply", "positions-match-supply-inflight",
                     "update-follows-success"]
    lines = [x.strip() for x in r.stdout.splitlines()]
    for path in tmp_path.glob("*.json"):
        shown = next(x for x in lines if x.endswith(path.name) and not x.startswith("tim3check"))
        assert Path(shown).resolve() == path.resolve()
        assert f"tim3check replay {shown}" in lines
    replay = next(x for x in lines if x.startswith("tim3check replay "))
    again = run("replay", replay.split(" ", 2)[2])
    assert again.exit_code == 1 and "still violates" in again.stdout


def test_committed_counterexamples_are_untouched(tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in COMMITTED.rglob("*") if p.is_file()}
    run("check", "--coordinator", "v1", "--ops", "1", "--out", str(tmp_path))
    after = {p: p.read_bytes() for p in COMMITTED.rglob("*") if p.is_file()}
    assert before == after


# ------------------------------------------------------------------ where files go, how they read (issue 10 item 5)


def _replay_command(md: Path) -> str:
    line = next(x for x in md.read_text().splitlines() if x.startswith("Replay against today's spec"))
    return line.split("`")[1]


def test_out_defaults_to_the_repository_roots_counterexamples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # today: ./counterexamples/<spec> of whatever directory the command runs in
    repo = tmp_path / "repo"
    (repo / "src" / "deep").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    monkeypatch.chdir(repo / "src" / "deep")
    r = run("check", "--coordinator", "v1", "--ops", "1", "--users", "1", "--property", "positions-match-supply")
    assert r.exit_code == 1, r.output
    saved = sorted(p.relative_to(repo).as_posix() for p in (repo / "counterexamples").rglob("*"))
    assert saved == ["counterexamples/tim3",
                     "counterexamples/tim3/positions-match-supply--v1-amounts1-collateral1-max_supply1-ops1-users1.json",
                     "counterexamples/tim3/positions-match-supply--v1-amounts1-collateral1-max_supply1-ops1-users1.md"]
    assert not (repo / "src" / "deep" / "counterexamples").exists()


def test_out_outside_a_repository_is_the_current_directory() -> None:
    from checker.interfaces.cli import default_out_dir
    from checker.interfaces.counterexample import repo_root
    from spec.tim3 import SPEC

    root = Path("/")
    if repo_root(root) is not None:
        pytest.skip("/ is a repository here")
    assert default_out_dir(SPEC, cwd=root) == root / "counterexamples" / "tim3"
    assert default_out_dir(SPEC, cwd=COMMITTED.parent / "docs") == COMMITTED / "tim3"


def test_the_markdown_replay_line_runs_from_the_repository_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # today: `tim3check replay <file name>.json`, which runs only inside the output directory
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    out = repo / "reports" / "ce"
    r = run("check", "--coordinator", "v1", "--ops", "1", "--users", "1", "--property", "positions-match-supply",
            "--out", str(out))
    assert r.exit_code == 1, r.output
    md = next(out.glob("*.md"))
    command = _replay_command(md)
    assert command == f"tim3check replay reports/ce/{md.stem}.json"
    monkeypatch.chdir(repo)
    again = run(*command.split()[1:])
    assert again.exit_code == 1 and "still violates" in again.stdout, again.output


def test_outside_a_repository_the_markdown_replay_line_is_absolute(tmp_path: Path) -> None:
    from checker.interfaces.counterexample import repo_root

    if repo_root(tmp_path) is not None:
        pytest.skip("the temporary directory is inside a repository here")
    r = run("check", "--coordinator", "v1", "--ops", "1", "--users", "1", "--property", "positions-match-supply",
            "--out", str(tmp_path))
    assert r.exit_code == 1
    md = next(tmp_path.glob("*.md"))
    assert _replay_command(md) == f"tim3check replay {md.with_suffix('.json').resolve()}"


def test_committed_markdown_replay_lines_run_from_the_repository_root() -> None:
    files = sorted(COMMITTED.rglob("*.md"))
    assert len(files) == 21
    for md in files:
        target = _replay_command(md).split(" ", 2)[2]
        assert (COMMITTED.parent / target).resolve() == md.with_suffix(".json").resolve(), md


def test_show_wraps_cells_instead_of_cutting_them(tmp_path: Path) -> None:
    # today: narrow columns end in "…" (send-req…, coordina…) and the panel title is cut
    import io

    from rich.console import Console

    from checker.interfaces.counterexample import load_counterexample
    from checker.interfaces.render import render_terminal

    path = next(COMMITTED.glob("tim3/positions-match-supply--v1-*.json"))
    buf = io.StringIO()
    Console(file=buf, width=70, color_system=None).print(render_terminal(load_counterexample(path)))
    out = buf.getvalue()
    assert "…" not in out
    panel = "".join(x.strip("│ ") for x in out.split("╰")[0].splitlines())
    assert "(tim3,v1-amounts1-collateral2-max_supply4-ops2-users2)" in panel
    first_row = out.split("┩\n", 1)[1].split("├", 1)[0].splitlines()
    column = {i: "".join("".join(x.split("│")[i].split()) for x in first_row) for i in (3, 5)}
    assert column[3] == "send-request(initiative)[op=mint,amount=1]"  # the handler, folded over lines
    assert column[5] == "user1→coordinator:MintTIM3(Amount=1,Request=user1#0)"  # sent
