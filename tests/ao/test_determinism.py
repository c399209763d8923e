"""Determinism: pairs()/next() order, order dependence, the instruction budget, memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.ao import AoBudgetExceeded, AoMemoryExceeded, LuaFailure

from tests.ao.helpers import globals_of, make, msg, run

NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
MANY = "Users = {" + ", ".join(f'{n} = {i}' for i, n in enumerate(NAMES)) + "}\n"


def test_pairs_visits_keys_in_sorted_order(tmp_path: Path) -> None:
    p = make(tmp_path, MANY + """
    T = { [3] = 10, [4] = 20, x = 1, [2.5] = "f", [true] = "t", [-1] = "n" }
    Handlers.add("o", "O", function()
      local ks = {}
      for k in pairs(Users) do ks[#ks + 1] = k end
      Order = table.concat(ks, ",")
      local mixed = {}
      for k in pairs(T) do mixed[#mixed + 1] = tostring(k) end
      Mixed = table.concat(mixed, ",")
      local first = next(Users)
      First = first
      Second = next(Users, first)
    end)
    """)
    g = globals_of(run(p, msg("O")).state)
    assert g["Order"] == ",".join(sorted(NAMES))
    assert g["Mixed"] == "true,-1,2.5,3,4,x"
    assert (g["First"], g["Second"]) == ("alice", "bob")


def test_pairs_order_does_not_depend_on_the_runtime(tmp_path: Path) -> None:
    # Lua 5.3's own order depends on a per-runtime string hash seed; ours must not
    code = MANY + 'Handlers.add("o", "O", function() local s = "" for k in pairs(Users) do s = s .. k end Order = s end)'
    texts = {run(make(tmp_path, code, name=f"p{i}.lua"), msg("O")).state.text.split("\n", 1)[1] for i in range(6)}
    assert len(texts) == 1


def test_reversed_order(tmp_path: Path) -> None:
    p = make(tmp_path, MANY + 'Handlers.add("o", "O", function() local s = {} for k in pairs(Users) do s[#s+1] = k end Order = table.concat(s, ",") end)',
             pairs_order="reversed")
    assert globals_of(run(p, msg("O")).state)["Order"] == ",".join(sorted(NAMES, reverse=True))


def test_order_dependent_finds_effects_that_depend_on_pairs_order(tmp_path: Path) -> None:
    p = make(tmp_path, MANY + """
    Handlers.add("first", "First", function()
      for k in pairs(Users) do Winner = k; break end
    end)
    Handlers.add("notify", "Notify", function()
      for k in pairs(Users) do ao.send({ Target = k, Action = "Hi" }) end
    end)
    Handlers.add("tell-first", "TellFirst", function()
      for k in pairs(Users) do ao.send({ Target = k, Action = "Hi" }); break end
    end)
    Handlers.add("sum", "Sum", function()
      local s = 0
      for _, v in pairs(Users) do s = s + v end
      Total = s
    end)
    """)
    assert p.order_dependent(p.initial, msg("First")) == "the new state depends on pairs() order"
    # the same messages in another order are the same multiset: AO's network is unordered
    assert p.order_dependent(p.initial, msg("Notify")) is None
    assert p.order_dependent(p.initial, msg("TellFirst")) == "the messages sent (not only their order) depend on pairs() order"
    assert p.order_dependent(p.initial, msg("Sum")) is None


def test_json_object_key_order_follows_pairs_order(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("j", "J", function() ao.send({ Target = "x", Data = json.encode({ b = 1, a = 2 }) }) end)')
    assert run(p, msg("J")).sends[0].data == '{"a":2,"b":1}'
    # the bytes differ, the value does not: JSON Data is compared as the value it encodes
    assert p.order_dependent(p.initial, msg("J")) is None


def test_an_endless_loop_exhausts_the_budget(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("spin", "Spin", function()
      X = 1
      while true do
        X = X + 1
      end
    end)
    """, instruction_budget=100_000)
    out = run(p, msg("Spin"))
    assert out.error is not None
    assert out.error.message == "instruction budget of 100000 exceeded (endless loop?)"
    assert out.error.budget_exceeded and isinstance(out.error, AoBudgetExceeded)
    assert out.error.handler == "spin"
    assert out.error.where.endswith(("proc.lua:4", "proc.lua:5", "proc.lua:6"))
    assert out.state is p.initial and out.sends == ()


def test_an_ordinary_error_is_a_plain_lua_failure(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("e", "E", function() error("boom") end)')
    out = run(p, msg("E"))
    assert type(out.error) is LuaFailure
    assert out.error is not None and not out.error.budget_exceeded and not out.error.memory_exceeded


def test_the_budget_cannot_be_caught_with_pcall(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("spin", "Spin", function()
      while true do pcall(function() while true do end end) end
    end)
    """, instruction_budget=50_000)
    out = run(p, msg("Spin"))
    assert out.error is not None and out.error.budget_exceeded


def test_the_budget_is_per_delivery(tmp_path: Path) -> None:
    p = make(tmp_path, """
    N = 0
    Handlers.add("work", "Work", function() for i = 1, 20000 do N = N + 1 end end)
    """, instruction_budget=200_000)
    out = run(p, *(msg("Work", id=f"m{i}") for i in range(5)))
    assert out.error is None
    assert globals_of(out.state)["N"] == 100000


def test_an_endless_loop_at_load_is_an_error(tmp_path: Path) -> None:
    from checker.ao import AoRuntimeError

    with pytest.raises(AoRuntimeError, match="instruction budget of 10000 exceeded"):
        make(tmp_path, "while true do end", instruction_budget=10_000)


def test_the_memory_cap_is_an_outcome_error(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("hog", "Hog", function()
      local t = {}
      for i = 1, 1e9 do t[i] = string.rep("x", 100) .. i end
    end)
    Handlers.add("ok", "Ok", function() Fine = true end)
    """, memory_limit_mb=16, instruction_budget=100_000_000)
    out = run(p, msg("Hog"))
    assert out.error is not None
    assert out.error.message == "memory limit of 16 MB exceeded"
    assert out.error.memory_exceeded and isinstance(out.error, AoMemoryExceeded)
    assert out.state is p.initial
    # the process still works afterwards
    assert globals_of(run(p, msg("Ok", id="m2")).state)["Fine"] is True


def test_order_dependent_reports_an_error_that_depends_on_order(tmp_path: Path) -> None:
    p = make(tmp_path, MANY + """
    Handlers.add("pick", "Pick", function()
      for k in pairs(Users) do
        if k == "alice" then error("alice first") end
        break
      end
    end)
    """)
    said = p.order_dependent(p.initial, msg("Pick"))
    assert said == "the error depends on pairs() order: '" + str(run(p, msg("Pick")).error.message) + "' (sorted) vs 'no error' (reversed)"  # type: ignore[union-attr]
