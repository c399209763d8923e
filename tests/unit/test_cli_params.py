"""Scenario flags come from the spec's declared parameters (issue 10 item 2): each spec or
manifest gets its own flags and its own ``--help``; ``checker/`` names no TIM3 parameter."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from checker.errors import SpecError
from checker.interfaces.cli_params import peek_spec
from checker.interfaces.loader import validate
from checker.interfaces.options import plan_check
from checker.model.spec import Param
from spec.tim3 import SPEC
from tests.unit._support import one_error_line, run

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "tests" / "fixtures" / "team_tim3" / "tim3check.toml"

TINY = '''
from dataclasses import dataclass

from checker.model.spec import ActionDecl, Handler, Initiative, Param, ProcessDecl, ProcessInstance, Property, Spec


@dataclass(frozen=True)
class Count:
    n: int


def bump(s, msg, ctx):
    return Count(s.n + msg["By"])


def send(s, ctx):
    if s.n >= ctx.params["sends"]:
        return None
    ctx.send("server", "Bump", By=ctx.params["step"])
    return Count(s.n + 1)


SERVER = ProcessDecl("server", "Server", Count, (Handler("Bump", "Bump", bump, sender="client"),))
CLIENT = ProcessDecl("client", "Client", Count, initiatives=(Initiative("send", send),))

SPEC = Spec(
    name="tiny",
    source=__file__,
    actions=(ActionDecl("Bump", (("By", "by"),)),),
    params=(Param("sends", "int", 2, "bumps the client sends", minimum=0, flag="bumps"),
            Param("step", "int", 1, "what each bump adds", minimum=1),
            Param("timeout", "int", 0, "a parameter whose flag an option already has", minimum=0)),
    faults={},
    process_decls=(SERVER, CLIENT),
    build=lambda p: (ProcessInstance("server", SERVER, Count(0)), ProcessInstance("client", CLIENT, Count(0))),
    domains=lambda p: {"by": (p["step"],)},
    properties=(Property("small", "always", "the server's count stays at most 3",
                         check=lambda v: v["server"].n <= 3),),
)
'''


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    path = tmp_path / "tiny_counter_spec.py"
    path.write_text(TINY, encoding="utf-8")
    return str(path)


def flags_of(help_text: str) -> set[str]:
    """The flags listed in ``help_text`` after its section 'Parameters of spec' (if any)."""
    listed = help_text.partition("\nParameters of spec")[2] or help_text
    return set(re.findall(r"^ +(--[a-z][a-z-]*)", listed, re.M))


def test_tim3s_help_lists_its_parameters_first() -> None:
    r = run("check", "--help")
    assert r.exit_code == 0, r.output
    params, _, options = r.stdout.partition("\nOptions:")
    assert "\nParameters of spec tim3 " in params
    assert flags_of(params) == {"--coordinator", "--users", "--ops", "--amounts", "--collateral", "--max-supply",
                                "--impl", "--aos"}
    assert "--coordinator, --version [v1|v2|v3]" in params and "[default: v3]" in params
    assert "--users" not in flags_of(options) and "--max-faults" in flags_of(options)


def test_another_spec_gets_its_own_flags_and_help() -> None:
    r = run("check", "--spec", "spec.tim3.migration", "--help")
    assert r.exit_code == 0, r.output
    params = r.stdout.partition("\nOptions:")[0]
    assert "Parameters of spec tim3-migration" in params
    assert flags_of(params) == {"--coordinator", "--plan", "--users", "--ops", "--amounts", "--prior", "--auth",
                                "--collateral", "--impl"}
    assert "--max-supply" not in r.stdout and "--aos" not in r.stdout


def test_a_manifest_gets_its_own_flags() -> None:
    r = run("check", "--system", str(MANIFEST), "--help")
    assert r.exit_code == 0, r.output
    assert flags_of(r.stdout.partition("\nOptions:")[0]) == {"--ops", "--wallets", "--aos"}
    r = run("check", "--system", str(MANIFEST), "--users", "1")
    assert r.exit_code == 2 and "--users" in one_error_line(r)


def test_a_spec_file_with_its_own_flag_names(tiny: str) -> None:
    r = run("check", "--spec", tiny, "--help")
    params, _, options = r.stdout.partition("\nOptions:")
    assert flags_of(params) == {"--bumps", "--step"}  # 'timeout' is taken by --timeout: only --param sets it
    assert "--timeout" in flags_of(options)
    r = run("check", "--spec", tiny, "--bumps", "4", "--no-save", "--format", "json")
    assert r.exit_code == 1, r.output  # 4 bumps of 1 exceed 3
    r = run("check", "--spec", tiny, "--bumps", "3", "--param", "timeout=5", "--no-save", "--quiet")
    assert r.exit_code == 0, r.output
    r = run("check", "--spec", tiny, "--bumps", "x")
    assert r.exit_code == 2 and one_error_line(r) == "error: --bumps: expected an integer, got 'x'"
    r = run("check", "--spec", tiny, "--users", "1")
    assert r.exit_code == 2 and "No such option '--users'" in one_error_line(r)


@pytest.mark.parametrize("args, line", [
    (["--coordinator", "v9"], "error: --coordinator: unknown value 'v9'; choose one of v1, v2, v3"),
    (["--users", "x"], "error: --users: expected an integer, got 'x'"),
    (["--users", "0"], "error: --users: must be at least 1 (got 0)"),
    (["--amounts", "1,a"], "error: --amounts: expected comma-separated integers like 1,2, got '1,a'"),
    (["--impl", "rust"], "error: --impl: unknown value 'rust'; choose one of python, lua"),
    (["--param", "users=x"], "error: --param users: expected an integer, got 'x'"),
])
def test_bad_parameter_values_are_one_line(args: list[str], line: str) -> None:
    r = run("check", "--no-save", *args)
    assert r.exit_code == 2
    assert one_error_line(r) == line


def test_every_tim3_spelling_still_works() -> None:
    r = run("check", "--users", "1", "--ops", "2", "--amounts", "1,2", "--coordinator", "v1", "--max-supply", "5",
            "--collateral", "3", "--no-save", "--format", "json", "--property", "positions-match-supply")
    assert r.exit_code == 1, r.output
    assert '"max_supply": 5' in r.stdout and '"collateral": 3' in r.stdout and '"version": "v1"' in r.stdout
    equal = run("check", "--param", "users=1", "--param", "ops=2", "--param", "amounts=1,2", "--param", "version=v1",
                "--param", "max_supply=5", "--param", "collateral=3", "--no-save", "--format", "json",
                "--property", "positions-match-supply")
    assert equal.stdout.replace(" ", "").split('"stats"')[0] == r.stdout.replace(" ", "").split('"stats"')[0]


def test_a_parameter_alias_is_a_second_flag_where_it_is_free() -> None:
    """``../shared/bench/spin/compare.sh`` runs ``tim3check check --version v3``: the
    coordinator parameter's alias; ``tim3check --version`` still prints the tool's version."""
    by_alias = run("check", "--version", "v1", "--users", "1", "--ops", "1", "--no-save", "--format", "json",
                   "--property", "positions-match-supply")
    by_flag = run("check", "--coordinator", "v1", "--users", "1", "--ops", "1", "--no-save", "--format", "json",
                  "--property", "positions-match-supply")
    assert by_alias.exit_code == by_flag.exit_code == 1, by_alias.output
    assert by_alias.stdout.split('"stats"')[0] == by_flag.stdout.split('"stats"')[0]
    assert run("--version").output.startswith("tim3check ")
    assert run("check", "--version", "v9").exit_code == 2
    # an alias another option already takes is not added (the option keeps its own flag)
    from checker.interfaces.options import spec_param_options

    version = SPEC.param("version")
    assert version is not None and version.aliases == ("version",)
    taken = spec_param_options(SPEC, ["--version"])
    assert next(o for o in taken if o.name == "param__version").opts == ["--coordinator"]
    free = spec_param_options(SPEC, [])
    assert next(o for o in free if o.name == "param__version").opts == ["--coordinator", "--version"]


def test_peek_spec() -> None:
    assert peek_spec(["--users", "1", "--spec", "a.b"]) == ("a.b", None)
    assert peek_spec(["--system=x.toml"]) == (None, "x.toml")
    assert peek_spec(["--", "--spec", "a"]) == (None, None)
    r = run("check", "--spec", "spec.tim3", "--system", str(MANIFEST))
    assert r.exit_code == 2 and "--system and --spec" in one_error_line(r)


def test_plan_takes_parameters_by_name_or_flag_name() -> None:
    by_flag = plan_check(SPEC, {"coordinator": "v1", "max_supply": 4, "users": 1})
    by_name = plan_check(SPEC, {"version": "v1", "max-supply": "4", "users": "1"})
    assert by_flag.config == by_name.config
    assert by_flag.config.params["version"] == "v1" and by_flag.config.params["max_supply"] == 4


def test_flags_are_checked_by_the_loader() -> None:
    users = SPEC.param("users")
    assert users is not None
    twice = dataclasses.replace(SPEC, params=(*SPEC.params, Param("people", "int", 1, "x", flag="users")))
    with pytest.raises(SpecError, match="two parameters have the flag --users"):
        validate(twice)
    bad = dataclasses.replace(SPEC, params=tuple(dataclasses.replace(p, flag="--u") if p is users else p
                                                 for p in SPEC.params))
    with pytest.raises(SpecError, match="parameter 'users' has flag '--u'"):
        validate(bad)


TIM3_WORDS = re.compile(r"\b(users|coordinator|max.supply|collateral)\b", re.I)


def test_the_interfaces_and_the_registry_name_no_tim3_parameter() -> None:
    files = sorted((ROOT / "checker" / "interfaces").glob("*.py")) + [
        ROOT / "checker" / "engines" / "registry.py", ROOT / "checker" / "model" / "spec.py"]
    hits = [f"{f.relative_to(ROOT)}:{i}: {line.strip()}" for f in files
            for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1) if TIM3_WORDS.search(line)]
    assert hits == []


def test_command_scenarios_are_checked_by_the_loader() -> None:
    bad = dataclasses.replace(SPEC, command_scenarios={"audit": ({"users": 0},)})
    with pytest.raises(SpecError, match=r"command_scenarios\['audit'\] sets users=0: must be at least 1"):
        validate(bad)
    unknown = dataclasses.replace(SPEC, command_scenarios={"prove": ({"people": 1},)})
    with pytest.raises(SpecError, match="sets people=1: no parameter 'people'"):
        validate(unknown)
