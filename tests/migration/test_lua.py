"""The migration with the Lua processes (``--impl lua``, issue 13 item 4).

``old`` runs ``coordinator_v1.lua`` and ``new`` ``coordinator_v3.lua`` (or v2), each its
own aos process; the managers are ``spec/tim3/lua/migration_*.lua``; the operator's
``Configure`` / ``Retire-Coordinator`` / ... are real messages the Lua handles. Every
explored step of the Lua conforms to the model (``--conform``), and each plan gets the
Python model's verdicts, state counts and shortest counterexamples (pinned in
``test_plans.py``) — the same numbers, since no message id tells two runs apart that the
model does not (see docs/migration.md).
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from checker.ao.impl import boot
from checker.ao.runtime import AoMessage, AoProcess
from checker.config import CheckConfig
from checker.errors import SpecError
from checker.engines.explore import explore
from checker.interfaces.cli import main
from checker.model.process import impl_of
from checker.model.spec import Spec
from checker.result import HOLDS, VIOLATED, CheckResult
from spec.tim3.migration import SPEC, build
from spec.tim3.lua_observe import lua_file
from spec.tim3.migration_lua import manager_file, with_sources
from tests.migration.helpers import config, failures
from tests.migration.test_corrected_plan import MUTANTS
from tests.migration.test_plans import CUTOFF_V2, CUTOFF_V3, SEED_V2, SEED_V3

SEED_SINGLE = {"release-positions-match-supply": 14, "no-double-count": 13, "no-request-lost": 8,
               "rollback-old-keeps-working": 10, "rollback-positions-flagged": 7, "release-collateral-backs-supply": 10}


def _conf(**params: Any) -> CheckConfig:
    return dataclasses.replace(config(**params), conform=True)


@cache
def _lua(version: str, plan: str, auth: str = "set") -> CheckResult:
    return explore(SPEC, _conf(impl="lua", version=version, plan=plan, auth=auth))


@pytest.mark.parametrize(
    ("version", "plan", "auth", "states", "expected"),
    [
        ("v3", "seed", "set", 1241, SEED_V3),
        ("v2", "seed", "set", 1187, SEED_V2),
        ("v3", "seed", "single", 9104, SEED_SINGLE),
        ("v3", "cutoff", "set", 2003, CUTOFF_V3),
        ("v2", "cutoff", "set", 1919, CUTOFF_V2),
        ("v3", "corrected", "set", 14295, {}),
        ("v2", "corrected", "set", 13851, {}),
    ],
)
def test_lua_conforms_and_gets_the_models_verdicts(version: str, plan: str, auth: str, states: int,
                                                   expected: dict[str, int]) -> None:
    r = _lua(version, plan, auth)
    assert r.result("conforms-to-model").verdict == HOLDS, r.result("conforms-to-model").detail
    assert r.stats.limit_hit is None
    assert r.stats.states == states
    assert failures(r) == expected
    assert r.exit_code == (1 if expected else 0)


@cache
def _model(version: str, plan: str, auth: str = "set") -> CheckResult:
    return explore(SPEC, config(version=version, plan=plan, auth=auth))


@pytest.mark.parametrize(("plan", "auth", "prop"), [("seed", "set", p) for p in sorted(SEED_V3)]
                         + [("seed", "single", p) for p in sorted(SEED_SINGLE)]
                         + [("cutoff", "set", p) for p in sorted(CUTOFF_V3)])
def test_each_shortest_lua_trace_is_the_models(plan: str, auth: str, prop: str) -> None:
    """Step for step (kind, process, handler or initiative), each shortest counterexample
    of the Lua is the Python model's."""
    lua = _lua("v3", plan, auth).result(prop).trace
    model = _model("v3", plan, auth).result(prop).trace
    assert lua is not None and model is not None
    assert [(s.kind, s.pid, s.handler) for s, _ in lua.steps] == [(s.kind, s.pid, s.handler) for s, _ in model.steps]


@pytest.mark.parametrize(("auth", "prior"), [("set", 1), ("single", 1), ("set", 0)])
def test_booted_lua_processes_are_the_models_initial_states(auth: str, prior: int) -> None:
    """The boot messages (Configure, Add-Coordinator, Credit, Credit-Locked, Import-Mint)
    give, through the observers, exactly the model's initial states."""
    plan = "seed"
    model = {i.pid: i.init for i in build(config(plan=plan, auth=auth, prior=prior).params)}
    lua = build(config(impl="lua", plan=plan, auth=auth, prior=prior).params)
    for inst in lua[:5]:
        assert impl_of(inst.decl).observe(inst.init) == model[inst.pid], inst.pid
    assert [i.pid for i in lua] == list(model)


def _mutant(tmp_path: Path, pid: str, old: str, new: str) -> Spec:
    path = manager_file(pid)
    text = path.read_text()
    assert text.count(old) == 1
    target = tmp_path / path.name
    target.write_text(text.replace(old, new))
    return with_sources({pid: target})


def test_a_token_manager_that_lets_a_retired_coordinator_burn_diverges(tmp_path: Path) -> None:
    """The corrected plan relies on the Token Manager refusing a retired coordinator's
    Burn; a Lua Token Manager that forgets it is caught as a divergence from the model."""
    spec = _mutant(tmp_path, "token", 'if standing(msg) == "retired" then', "if false then")
    r = explore(spec, _conf(impl="lua", plan="corrected"))
    c = r.result("conforms-to-model")
    assert c.verdict == VIOLATED and c.trace is not None
    assert [(s.pid, s.handler) for s, _ in c.trace.steps] == [
        ("operator", "switch"), ("operator", "retire"), ("token", "Retire-Coordinator"), ("user1", "send-request"),
        ("old", "BurnTIM3"), ("token", "Burn")]
    assert (c.detail or "").startswith("step 6: token on Burn from old: the code sent [Burn-Response(Amount=1, "
                                       "Request='user1#0', Status='success') to old], the model [Burn-Response(Amount=1, "
                                       "Request='user1#0', Status='error') to old]")


def test_a_state_manager_that_overwrites_on_add_fails_the_corrected_plan(tmp_path: Path) -> None:
    """Without --conform the properties judge the Lua alone: a Backfill that replaces the
    positions where it should add erases the new coordinator's reports."""
    spec = _mutant(tmp_path, "state", 'if msg.Tags.Mode == "overwrite" then', "if true then")
    r = explore(spec, config(impl="lua", plan="corrected"))
    assert failures(r) == {"release-positions-match-supply": 22}


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["check", "--spec", "spec.tim3.migration", "--impl", "lua", "--no-save", *args])


def test_cli_runs_the_lua_migration_and_its_counterexamples_replay(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["check", "--spec", "spec.tim3.migration", "--impl", "lua", "--param", "plan=seed",
                                  "--conform", "--quiet", "--out", str(tmp_path)])
    assert r.exit_code == 1, r.output
    assert re.search(r"conforms-to-model\s+│ step\s+│ HOLDS", r.stdout)
    saved = sorted(p.name for p in tmp_path.glob("*.json"))
    assert saved == [f"{p}--v3-amounts1-collateral1-impllua-ops1-planseed-prior1-users1-conform.json"
                     for p in ("no-double-count", "release-positions-match-supply", "rollback-positions-flagged")]
    replayed = CliRunner().invoke(main, ["replay", str(tmp_path / saved[0])])
    assert replayed.exit_code == 1 and "still violates no-double-count: all 11 steps replay" in replayed.stdout
    r = _cli("--conform", "--quiet")
    assert r.exit_code == 0, r.output


def test_two_users_with_symmetry_reduction_match_the_model() -> None:
    """2 users, seed plan, symmetry reduction on (the default): the model's 123,232 orbit
    representatives and its shortest failures with 2 users (14 / 11 / 6), conforming."""
    r = explore(SPEC, _conf(impl="lua", plan="seed", users=2))
    assert r.result("conforms-to-model").verdict == HOLDS
    assert r.stats.states == 123_232 and r.stats.reduction == "symmetry over user"
    assert failures(r) == {"release-positions-match-supply": 14, "no-double-count": 11, "rollback-positions-flagged": 6}


@pytest.mark.parametrize(("pid", "old", "new", "handler"), [
    ("state", "      Positions[user] = (Positions[user] or 0) + total\n",
     '      if user ~= "user1" then Positions[user] = (Positions[user] or 0) + total end\n', "Backfill"),
    ("token", "    log[i] = row(e)\n", '    if e.user ~= "user1" then log[#log + 1] = row(e) end\n', "GetHistory"),
])
def test_a_manager_that_singles_out_a_user_in_json_data_is_refused_symmetry(tmp_path: Path, pid: str, old: str,
                                                                            new: str, handler: str) -> None:
    """The tables the seam sends as JSON Data are renamed at the model's level: code that
    treats user1 apart there is caught (SpecError naming --no-symmetry), not explored."""
    spec = _mutant(tmp_path, pid, old, new)
    with pytest.raises(SpecError, match=rf"{pid}: symmetry reduction is unsound .*\(handler {handler}\).*--no-symmetry"):
        explore(spec, config(impl="lua", plan="corrected" if pid == "state" else "seed", users=2))


@pytest.mark.slow
def test_two_users_without_symmetry_match_the_model() -> None:
    """2 users, seed plan, no symmetry reduction: the model's 246,097 states and its
    shortest failures with 2 users (14 / 11 / 6 steps), every step conforming."""
    r = explore(SPEC, dataclasses.replace(_conf(impl="lua", plan="seed", users=2), symmetry=False))
    assert r.result("conforms-to-model").verdict == HOLDS
    assert r.stats.states == 246_097
    assert failures(r) == {"release-positions-match-supply": 14, "no-double-count": 11, "rollback-positions-flagged": 6}


@pytest.mark.parametrize("key", ["lock", "token", "state"])
def test_the_shipped_managers_configure_replaces_the_coordinator_as_auth_single_says(key: str) -> None:
    """``auth=single`` models the shipped managers (spec/tim3/lua/*_manager.lua): one
    accepted id, replaced by the owner's Configure. After Configure(Coordinator=new), the
    old coordinator's message matches no handler (the model: refused, no effect, no
    answer); the new one's is handled. (The shipped managers keep no history and have no
    Backfill, so the migration runs on migration_*.lua, which have the same Configure.)"""
    action, tags = {
        "lock": ("LockCollateral", (("Request", "r"), ("User", "user1"), ("Amount", "1"))),
        "token": ("Burn", (("Request", "r"), ("User", "user1"), ("Amount", "1"))),
        "state": ("UpdatePosition", (("User", "user1"), ("Amount", "1"))),
    }[key]
    rt = AoProcess(key, [lua_file(key)], owner="operator")
    configure = [(("Action", "Configure"), ("Coordinator", c), ("MaxSupply", "10")) for c in ("old", "new")]
    state = boot(rt, configure, "operator")  # deployed with old, then the switch's Configure(new)

    def deliver(src: str) -> Any:
        return rt.deliver(state, AoMessage(f"m-{src}", src, key, (("Action", action),) + tags, owner=src))

    from_old, from_new = deliver("old"), deliver("new")
    assert from_old.inbox and from_old.state == state and not from_old.sends
    assert not from_new.inbox and from_new.error is None and [h.name for h in from_new.handlers] == [action]


def test_history_data_is_read_back_as_the_models_tags_or_refused_in_one_line() -> None:
    from checker.model.values import FrozenMap, make_message
    from spec.tim3.lua_observe import ObserveError
    from spec.tim3.migration_lua import history_tags

    def history(data: str) -> Any:
        return history_tags(make_message("token", "operator", "History", {"Data": data, "Id": "x"}))

    m = history('{"Cutoff":-1,"Log":[["user1#0","user1",-1,"new"]]}')
    assert m.tag("Prior") == FrozenMap() and m.tag("Log") == (("user1#0", "user1", -1, "new"),)
    assert m.tag("Cutoff") == -1 and m.get("Id") == "x" and m.get("Data") is None
    for bad, why in (("nope", "not JSON"), ('{"Cutoff":-1,"Log":[["r","u",1.5,"old"]]}', "delta (an integer)"),
                     ('{"Log":[]}', "Cutoff = None")):
        with pytest.raises(ObserveError, match=re.escape(why)):
            history(bad)


@pytest.mark.slow
def test_corrected_plan_with_two_operations_holds_on_the_lua() -> None:
    """1 user × 2 operations, corrected plan, v3: the model's 499,707 states, every step
    conforming, every property holding (about a minute)."""
    r = explore(SPEC, _conf(impl="lua", plan="corrected", ops=2))
    assert r.result("conforms-to-model").verdict == HOLDS
    assert r.stats.states == 499_707 and r.stats.limit_hit is None
    assert failures(r) == {} and r.exit_code == 0


@pytest.mark.parametrize("name", [n for n in MUTANTS if n != "retirement refuses the old Mint"])
def test_each_step_of_the_corrected_plan_is_needed_on_the_lua_too(name: str) -> None:
    """The operator mutants of test_corrected_plan (a step left out) against the Lua
    managers and coordinators: the same failure, shortest trace and state count. (The
    remaining mutant replaces the Token Manager by a Python one: nothing Lua to check.)"""
    spec, expected, states = MUTANTS[name]
    r = explore(spec, config(impl="lua", plan="corrected"))
    assert failures(r) == expected
    assert r.stats.states == states
