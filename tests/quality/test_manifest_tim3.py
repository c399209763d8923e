"""Quality: the shipped Lua TIM3 as a manifest system (``spec/tim3/lua/tim3check.toml``,
``init``'s draft with its TODOs filled in) gets part 3's verdicts and state counts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from checker.config import CheckConfig
from checker.engines.explore import explore
from checker.interfaces.loader import load_spec
from checker.manifest.init_draft import draft_manifest
from checker.result import CheckResult
from spec.tim3 import SPEC
from tests.tim3_helpers import config, verdicts

LUA = Path(__file__).resolve().parent.parent.parent / "spec" / "tim3" / "lua"
MANIFEST = LUA / "tim3check.toml"


def system(path: Path = MANIFEST) -> CheckResult:
    spec, _ = load_spec(str(path))
    return explore(spec, CheckConfig(params=spec.default_params()))


def lua(version: str) -> CheckResult:
    return explore(SPEC, dataclasses.replace(config(impl="lua", version=version, users=2, ops=2, collateral=2,
                                                    max_supply=4), symmetry=False))


def test_the_manifest_of_v3_gets_the_verdicts_and_states_of_impl_lua() -> None:
    mine, theirs = system(), lua("v3")
    shared = {k: v for k, v in verdicts(mine).items() if k in verdicts(theirs)}
    assert shared == {k: verdicts(theirs)[k] for k in shared}
    assert len(shared) == 7  # the seven TIM3 properties
    assert mine.stats.states == theirs.stats.states == 90_601
    assert not [r for r in mine.results if r.kind == "finding"]  # no finding in the shipped Lua


def test_the_manifest_of_v1_finds_the_seeds_bug(tmp_path: Path) -> None:
    text = MANIFEST.read_text(encoding="utf-8").replace('files = ["coordinator_v3.lua"]',
                                                       f'files = ["{LUA / "coordinator_v1.lua"}"]')
    for name in ("lock_manager", "token_manager", "state_manager"):
        text = text.replace(f'files = ["{name}.lua"]', f'files = ["{LUA / (name + ".lua")}"]')
    path = tmp_path / "tim3check.toml"
    path.write_text(text, encoding="utf-8")
    v = verdicts(system(path))
    assert v["update-follows-success"] == "VIOLATED" and v["positions-match-supply"] == "VIOLATED"
    assert v == {k: x for k, x in verdicts(lua("v1")).items() if k in v} | {"stall": v["stall"]}


def test_init_drafts_the_processes_and_handlers_of_the_filled_manifest() -> None:
    draft = draft_manifest(LUA)
    for handler in ("MintTIM3", "LockCollateral-Success", "Mint-Response", "Burn-Response", "UpdatePosition",
                    "LockCollateral", "UnlockCollateral", "Mint", "Burn", "Credit"):
        assert f"# handler {handler} (" in draft
    assert draft.count("TODO") >= 1  # what a user fills in: the cap, the observables
