"""The z3 engines with their defaults: bmc's depth, prove's default scenarios and
--max-shapes, --engine all, the certificate below the table."""

from __future__ import annotations

import json

from checker.engines.registry import BMC_DEPTH, EngineOptions, run_engine
from checker.interfaces.loader import config_from_options
from checker.interfaces.options import command_scenario, plan_check
from checker.result import PROVED
from spec.tim3 import SPEC
from tests.unit._support import run

PROP = "positions-match-supply-inflight"


def test_bmc_default_depth_reaches_v3s_deepest_witness() -> None:
    assert BMC_DEPTH >= 12  # burn succeeds at depth 12 in the default scenario
    assert EngineOptions().depth == BMC_DEPTH


def test_prove_defaults_apply_only_when_no_scenario_size_is_given() -> None:
    scenarios = ({"users": 3, "ops": 1}, {"users": 1, "ops": 2})
    assert SPEC.command_scenarios["prove"] == scenarios  # the spec's knowledge, not the CLI's
    assert command_scenario(SPEC, "prove", {"users": None, "ops": None}, ()) == (
        scenarios, "--users 3 --ops 1 | --users 1 --ops 2")
    assert command_scenario(SPEC, "prove", {"users": 2}, ()) == ((), "")
    assert command_scenario(SPEC, "prove", {}, ("ops=1",)) == ((), "")
    assert command_scenario(SPEC, "prove", {}, {"users": 1}) == ((), "")


def test_the_plan_of_prove_runs_the_default_scenarios_unless_a_size_is_given() -> None:
    plan = plan_check(SPEC, {"engine": "prove", "coordinator": "v2"})
    sizes = [(c.params["users"], c.params["ops"], c.params["version"]) for c in plan.engine_options.prove_configs]
    assert sizes == [(3, 1, "v2"), (1, 2, "v2")]
    assert plan_check(SPEC, {"engine": "prove", "users": "1"}).engine_options.prove_configs == ()
    assert plan_check(SPEC, {"engine": "explore"}).engine_options.prove_configs == ()


def test_prove_over_several_scenarios_names_each() -> None:
    one = config_from_options(SPEC, version="v3", users=1, ops=1, properties=[PROP])
    two = config_from_options(SPEC, version="v3", users=2, ops=1, properties=[PROP])
    # (kind: the shape graph, one proof per scenario; auto proves it once, for any number of users)
    r = run_engine(SPEC, one, "prove", opts=EngineOptions(method="kind", prove_configs=(one, two)))
    assert [x.verdict for x in r.results] == [PROVED, PROVED]
    assert [x.bound.split("]", 1)[0] for x in r.results] == ["[users 1, ops 1", "[users 2, ops 1"]
    assert r.scenario.startswith("prove's default scenarios") and r.exit_code == 0


def test_prove_certificate_goes_below_the_table() -> None:
    r = run("check", "--users", "1", "--ops", "1", "--engine", "prove", "--method", "kind", "--property", PROP,
            "--no-save")
    assert r.exit_code == 0, r.output
    row = next(x for x in r.stdout.splitlines() if x.startswith(f"│ {PROP}"))
    assert "PROVED for any depth, any data values (certificate below)" in row and "induction" not in row
    assert f"certificate of {PROP}" in r.stdout


def test_max_shapes_is_an_option() -> None:
    r = run("check", "--users", "1", "--ops", "1", "--engine", "prove", "--method", "kind", "--property", PROP,
            "--max-shapes", "3", "--no-save", "--format", "json")
    assert r.exit_code == 3, r.output
    doc = json.loads(r.stdout)
    assert doc["stats"]["limit_hit"] == "max-shapes 3" and doc["results"][0]["verdict"] == "UNKNOWN"


def test_engine_all_exits_0_when_explore_and_prove_agree() -> None:
    r = run("check", "--users", "1", "--ops", "1", "--engine", "all", "--no-save", "--format", "json")
    doc = json.loads(r.stdout)
    verdicts = {(x["engine"], x["name"]): x["verdict"] for x in doc["results"]}
    assert verdicts[("explore", PROP)] == "HOLDS" and verdicts[("prove", PROP)] == "PROVED"
    assert r.exit_code == 0, verdicts
