"""Lockstep of the Lua processes with the model (``tests/lua_tim3/lockstep.py``): every
delivery of every model world of small scenarios, for v1, v2 and v3, then every message
the model or the adversary can send in every reachable local state; and coverage: every
handler of every version, every refusal and fault branch, every stage check and
``msg.From`` check of v3, was compared at least once."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from spec.tim3 import SPEC
from spec.tim3.coordinator import COORDINATORS
from spec.tim3.managers import LOCK_MANAGER, STATE_MANAGER, TOKEN_MANAGER
from spec.tim3.lua_observe import lua_file
from tests.lua_tim3.lockstep import Divergence, Lockstep
from tests.tim3_helpers import config

FAULTS = ("lock-fail", "mint-fail", "unlock-fail")

# name -> (config keyword arguments, CheckConfig overrides)
SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # every flow with every fault, up to two faults a run
    "faults": ({"users": 1, "ops": 2, "faults": FAULTS}, {"max_faults": 2}),
    # refusals by data: collateral short of a second mint, burns above the balance
    "amounts": ({"users": 1, "ops": 2, "amounts": (1, 2), "collateral": 2}, {}),
    # the max-supply cap refuses the second user's mint
    "cap": ({"users": 2, "ops": 1, "collateral": 1, "max_supply": 1}, {}),
    # an adversary injecting one message of any declared Action, and the faults
    "adversary": ({"users": 1, "ops": 1, "faults": ("adversary", *FAULTS)}, {"max_faults": 1, "adversary_messages": 1}),
}


@cache
def lockstep(version: str, scenario: str) -> Lockstep:
    kw, over = SCENARIOS[scenario]
    cfg = replace(config(version=version, symmetry=False, **kw), **over)
    return Lockstep(version, cfg).walk().probe()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_lua_steps_are_model_steps(version: str, scenario: str) -> None:
    run = lockstep(version, scenario)
    assert run.compared > 0 and run.worlds > 1
    # every local state the walk reached has a Lua representative
    assert all(run.reps[pid] for pid in run.reps)
    # and only one: the Lua holds nothing the abstraction drops (beyond its boot
    # configuration), so its reachable local states are the model's, one to one
    assert not run.aliases, sorted(map(str, run.aliases))[:3]


def _handlers(version: str) -> dict[str, set[str]]:
    return {
        "coordinator": {h.name for h in COORDINATORS[version].handlers},
        "lock": {h.name for h in LOCK_MANAGER.handlers},
        "token": {h.name for h in TOKEN_MANAGER.handlers},
        "state": {h.name for h in STATE_MANAGER.handlers},
    }


def _covered(version: str) -> set[tuple[str, str, str | None]]:
    out: set[tuple[str, str, str | None]] = set()
    for scenario in SCENARIOS:
        out |= lockstep(version, scenario).covered
    return out


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_every_handler_of_every_process_was_compared(version: str) -> None:
    covered = _covered(version)
    # the managers are the same files under every version (v1 never sends UpdatePosition)
    managers = _covered("v1") | _covered("v2") | _covered("v3")
    for pid, names in _handlers(version).items():
        for name in sorted(names):
            assert (pid, "deliver", name) in (covered if pid == "coordinator" else managers), (
                f"{pid}:{name} never ran in lockstep")
    # a response to an unknown request raises in every version (the adversary's)
    for name in _handlers(version)["coordinator"] - {"MintTIM3", "BurnTIM3"}:
        assert ("coordinator", "error", name) in covered, f"coordinator:{name} never raised in lockstep"
    # the managers' msg.From checks: the adversary's requests match no handler
    for pid in ("lock", "token", "state"):
        assert (pid, "unhandled", None) in covered


def test_v3_checks_were_compared() -> None:
    covered = _covered("v3")
    # duplicate requests (the adversary's own id, sent again while open)
    assert ("coordinator", "error", "MintTIM3") in covered
    assert ("coordinator", "error", "BurnTIM3") in covered
    # responses from anyone but their peer go to the Inbox
    assert ("coordinator", "unhandled", None) in covered


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_every_fault_branch_was_compared(version: str) -> None:
    seen = set().union(*(lockstep(version, s).faults_seen for s in SCENARIOS))
    assert seen == {(f, b) for f in FAULTS for b in (True, False)}


def test_v1_has_no_stage_checks_v3_has() -> None:
    """A LockCollateral-Success for a request that is minting already: v1 mints again,
    v3 raises — both exactly as their models (the lockstep compared it)."""
    for version, kind in (("v1", "deliver"), ("v3", "error")):
        run = lockstep(version, "adversary")
        assert ("coordinator", kind, "LockCollateral-Success") in run.covered


@pytest.mark.slow
@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_lockstep_two_users_two_ops_with_faults(version: str) -> None:
    cfg = replace(config(version=version, symmetry=False, users=2, ops=2, faults=FAULTS), max_faults=1)
    run = Lockstep(version, cfg).walk(max_worlds=2_000_000).probe()
    assert run.compared > 0


def test_scenarios_are_valid_for_the_spec() -> None:
    for kw, _ in SCENARIOS.values():
        for k in kw:
            assert k == "faults" or SPEC.param(k) is not None


# ------------------------------------------------------------------ the lockstep catches divergences

def _mutant(tmp_path: Path, key: str, old: str, new: str) -> Path:
    text = lua_file(key).read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {key}"
    path = tmp_path / f"mutant_{key}.lua"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


MUTANTS = {
    # the burn's position change with the wrong sign (the seed's "-" dropped)
    "burn-sign": ("v2", "coordinator", "v2", 'Amount = "-" .. msg.Tags.Amount, -- Negative for burn', "Amount = msg.Tags.Amount,",
                  "faults", "sent"),
    # a refused lock leaves a 0 entry where the model has none (absent vs 0)
    "zero-entry": ("v3", "lock", "lock", '    reply.Action = "LockCollateral-Failed"',
                   '    LockedCollateral[user] = LockedCollateral[user] or 0\n    reply.Action = "LockCollateral-Failed"',
                   "faults", "state after"),
    # amounts read as floats: 1.0 where the model has 1
    "float": ("v3", "token", "token", "local user, amount, request = msg.Tags.User, tonumber(msg.Tags.Amount), msg.Tags.Request",
              "local user, amount, request = msg.Tags.User, tonumber(msg.Tags.Amount) + 0.0, msg.Tags.Request",
              "faults", "'1.0'"),
    # the fault asked before the data check: asked where the model does not ask
    "fault-order": ("v3", "lock", "lock", 'if free < amount or (Checker and Checker.fault("lock-fail")) then',
                    'if (Checker and Checker.fault("lock-fail")) or free < amount then', "short", "Checker.fault"),
    # a msg.From check inside the handler (error) where the model's pattern does not match (Inbox)
    "from-in-body": ("v3", "coordinator", "v3", "    return pattern(msg) and msg.From == Config[configKey]",
                     '    if pattern(msg) and msg.From ~= Config[configKey] then error("not from " .. configKey) end\n'
                     "    return pattern(msg)", "adversary", "Inbox"),
    # v3 without the rollback: a refused mint answered at once
    "no-rollback": ("v3", "coordinator", "v3", '  unlock(request, msg.Tags.Request)\n  request.stage = "rollback"',
                    '  respond(request, msg.Tags.Request, "error")\n  PendingRequests[msg.Tags.Request] = nil',
                    "faults", "Lua"),
    # a stage check dropped: v3 mints again on a second LockCollateral-Success
    "no-stage-check": ("v3", "coordinator", "v3", 'local request = expectRequest(msg, "locking")\n  ao.send',
                       'local request = PendingRequests[msg.Tags.Request]\n  ao.send', "faults", "raises"),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_lockstep_catches(name: str, tmp_path: Path) -> None:
    version, pid, key, old, new, scenario, what = MUTANTS[name]
    files = {pid: _mutant(tmp_path, key, old, new)}
    if scenario == "short":
        cfg = config(version=version, symmetry=False, users=1, ops=2, collateral=1, faults=("lock-fail",))
    else:
        kw, over = SCENARIOS[scenario]
        cfg = replace(config(version=version, symmetry=False, **kw), **over)
    with pytest.raises(Divergence, match=what):
        Lockstep(version, cfg, files).walk().probe()
