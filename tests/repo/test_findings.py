"""Findings from execution on a tiny system written for each kind, and manifest [limits]."""

from __future__ import annotations

from pathlib import Path

from checker.config import CheckConfig
from checker.engines.explore import explore
from checker.interfaces.loader import load_spec
from checker.result import UNKNOWN, VIOLATED, CheckResult

BANK = """
Accounts = Accounts or { alice = 1, bob = 1, carol = 1 }
Chosen = Chosen or ""
Handlers.add("Pick", Handlers.utils.hasMatchingTag("Action", "Pick"), function(msg)
  for k, _ in pairs(Accounts) do Chosen = k break end          -- the first key pairs() gives
  ao.send({ Target = msg.From, Action = "Picked", Amount = 5 })  -- a number as a tag value
  ao.send({ Target = "nowhere", Action = "Audit" })             -- an id outside the system
end)
Counts = Counts or {}
Handlers.add("Count", Handlers.utils.hasMatchingTag("Action", "Count"), function(msg)
  Counts[1] = (Counts[1] or 0) + 1                               -- a number key ...
  Counts[msg.Tags.Slot] = (Counts[msg.Tags.Slot] or 0) + 1        -- ... and its string: "1"
  if msg.Tags.Slot == 1 then Counts.one = true end               -- a string compared with a number
end)
"""

MANIFEST = """
[system]
name = "bank"

[processes.bank]
files = ["bank.lua"]

[wallets]
count = 1
ops = 1
wait = false
[wallets.answer]
actions = ["Picked"]
correlate = "none"

[[wallets.operations]]
target = "bank"
tags = { Action = "Pick" }

[[wallets.operations]]
target = "bank"
tags = { Action = "Count", Slot = "1" }

[observables]
chosen = { process = "bank", lua = "Chosen" }

[[properties]]
name = "something-chosen"
kind = "sometimes"
goals = { picked = 'chosen != ""' }
"""


def run(tmp_path: Path, extra: str = "") -> CheckResult:
    (tmp_path / "bank.lua").write_text(BANK, encoding="utf-8")
    (tmp_path / "tim3check.toml").write_text(MANIFEST + extra, encoding="utf-8")
    spec, _ = load_spec(str(tmp_path / "tim3check.toml"))
    opts = spec.option_defaults
    limits = CheckConfig().limits
    if "max_states" in opts:
        from dataclasses import replace

        limits = replace(limits, max_states=opts["max_states"])
    return explore(spec, CheckConfig(params=spec.default_params(), limits=limits))


def test_each_kind_is_found_once_with_its_place(tmp_path: Path) -> None:
    r = run(tmp_path)
    found = {x.name: x for x in r.results if x.kind == "finding"}
    assert set(found) == {"order-dependence@bank.lua:4", "value-hazard@bank.lua:6", "unknown-target@bank.lua:7",
                          "value-hazard@bank.lua:10", "value-hazard@bank.lua:13"}, found
    assert "compares a tag value (a string) with a number" in found["value-hazard@bank.lua:13"].detail
    assert "Counts['1'] and Counts[1]" in found["value-hazard@bank.lua:10"].detail
    assert all(x.verdict == VIOLATED and x.trace is not None and len(x.trace) == 2 for x in found.values())
    assert "the new state depends on pairs() order" in found["order-dependence@bank.lua:4"].detail
    assert "tag Amount = 5 is a int" in found["value-hazard@bank.lua:6"].detail
    assert "'nowhere'" in found["unknown-target@bank.lua:7"].detail


def test_manifest_limits_are_the_runs_defaults(tmp_path: Path) -> None:
    r = run(tmp_path, "\n[limits]\nmax_states = 2\n")
    assert r.stats.limit_hit == "max-states 2"
    assert r.result("something-chosen").verdict == UNKNOWN
