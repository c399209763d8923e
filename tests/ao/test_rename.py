"""AoProcess.rename: every string of a Lua state renamed (checker.engines.symmetry.rename_value's
rule), a fresh canonical snapshot; renaming commutes with delivery on the TIM3 Lua."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from checker.ao import AoMessage, AoProcess, Outcome, Snapshot
from checker.errors import InternalError
from checker.model.values import FrozenMap

from tests.ao.helpers import globals_of, make, msg, names, run

SWAP = {"alice": "bob", "bob": "alice"}

STATE = """
Balances = Balances or { alice = 1, bob = 2, carol = 3, ["alice#0"] = 4, ["alice-x"] = 5, xalice = 6 }
Owners = Owners or { "alice", "carol", "bob#7", "alice#" }
Shared = Shared or { who = "alice" }
Alias = Alias or Shared
Cycle = Cycle or {}
Cycle.self = Cycle
Cycle.who = "bob"
Meta = Meta or setmetatable({ a = "alice" }, { __index = { fallback = "bob" } })
Nested = Nested or { alice = { bob = { alice = "bob#1" } } }
local seen = { alice = true }
local last = "bob"
Handlers.add("Note", "Note", function(msg)
  last = msg.From
  seen[msg.From] = true
  Notes = Notes or {}
  Notes[msg.From] = (Notes[msg.From] or 0) + 1
end)
Handlers.add("Last", "Last", function(msg) Seen = { last = last, n = seen[msg.From] or false } end)
"""


def ren(m: AoMessage, mapping: Mapping[str, str]) -> AoMessage:
    """``m`` with its strings renamed by the rule of checker.engines.symmetry.rename_value."""
    def r(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        if v in mapping:
            return mapping[v]
        head, sep, tail = v.partition("#")
        return mapping[head] + sep + tail if sep and head in mapping else v

    return AoMessage(r(m.id), r(m.src), r(m.dst), tuple((r(k), r(v)) for k, v in m.tags), r(m.data), r(m.owner),
                     m.timestamp)


def test_strings_equal_to_an_id_or_prefixed_by_id_hash_are_renamed(tmp_path: Path) -> None:
    p = make(tmp_path, STATE)
    g = globals_of(p.rename(p.initial, SWAP))
    assert g["Balances"] == {"bob": 1, "alice": 2, "carol": 3, "bob#0": 4, "alice-x": 5, "xalice": 6}
    assert g["Owners"] == {1: "bob", 2: "carol", 3: "alice#7", 4: "bob#"}
    assert g["Shared"] == g["Alias"] == {"who": "bob"}
    assert g["Cycle"] == {"self": None, "who": "alice"}
    assert g["Meta"] == {"a": "bob"}
    assert g["Nested"] == {"bob": {"alice": {"bob": "alice#1"}}}


def test_rename_and_rename_back_gives_the_same_text(tmp_path: Path) -> None:
    p = make(tmp_path, STATE)
    s = run(p, msg("Note", src="alice"), msg("Note", src="carol", id="m2"), msg("Last", src="alice", id="m3")).state
    for state in (p.initial, s):
        r = p.rename(state, SWAP)
        assert r != state
        assert p.rename(r, SWAP) == state
        three = {"alice": "bob", "bob": "carol", "carol": "alice"}
        back = {v: k for k, v in three.items()}
        assert p.rename(p.rename(state, three), back) == state


def test_keys_reorder_canonically(tmp_path: Path) -> None:
    # a state whose renamed keys sort elsewhere gives the text of the state built renamed
    code = """
    T = T or {}
    Handlers.add("Put", "Put", function(msg) T[msg.From] = msg.Tags.V; L = L or {}; L[#L + 1] = msg.From end)
    """
    p = make(tmp_path, code)
    a = run(p, msg("Put", src="alice", V="x"), msg("Put", src="zed", V="alice", id="m2"))
    b = run(p, msg("Put", src="zed", V="x"), msg("Put", src="alice", V="zed", id="m2"))
    renamed = p.rename(a.state, {"alice": "zed", "zed": "alice"})
    assert renamed.text == b.state.text
    # T = {alice = "x", zed = "alice"} renamed is {zed = "x", alice = "zed"}: alice first
    assert '"T",["alice","zed","zed","x"]' in renamed.text.split("\n", 1)[0]
    assert 'T={alice="zed",zed="x"}' in renamed.text
    assert list(renamed.decode()["T"]) == ["alice", "zed"]


def test_a_renaming_that_changes_nothing_gives_the_state_itself(tmp_path: Path) -> None:
    p = make(tmp_path, STATE)
    assert p.rename(p.initial, {"dave": "erin", "erin": "dave"}) is p.initial
    assert p.rename(p.initial, {}) is p.initial
    # an id only inside a longer string ("alice-x", "xalice") is not a renamed string
    q = make(tmp_path, 'X = { "alice-x", "xalice", "malice#1" }', name="q.lua")
    assert q.rename(q.initial, SWAP).text == q.initial.text


def test_upvalues_that_are_state_are_renamed_and_stay_shared(tmp_path: Path) -> None:
    code = """
    local owner = "alice"
    local log = { "alice" }
    Handlers.add("Arm", "Arm", function(msg)
      local who = msg.From
      local count = 0
      Inc = function() count = count + 1; Log = { who = who, count = count, owner = owner, log = log[1] } end
      Get = function() return who, count end
    end)
    Handlers.add("Inc", "Inc", function(msg) Inc() end)
    Handlers.add("Read", "Read", function(msg) local w, c = Get(); R = { w = w, c = c, owner = owner } end)
    """
    p = make(tmp_path, code)
    s = run(p, msg("Arm", src="alice"), msg("Inc", id="m2")).state
    r = p.rename(s, SWAP)
    assert globals_of(r)["Log"] == {"who": "bob", "count": 1, "owner": "bob", "log": "bob"}
    # Inc and Get share `count` after the renaming: Inc's change is what Get reads
    out = run(p, msg("Inc", id="m3"), msg("Read", id="m4"), state=r)
    assert globals_of(out.state)["R"] == {"w": "bob", "c": 2, "owner": "bob"}
    assert p.rename(r, SWAP) == s


def test_handler_names_built_from_data_follow_the_data(tmp_path: Path) -> None:
    # a handler named by msg.From: after renaming, removing it by the renamed sender works
    code = """
    Handlers.add("Watch", "Watch", function(msg)
      local who = msg.From
      Handlers.add(who, function(m) return m.Tags.About == who end, function(m) Hits = (Hits or 0) + 1 end)
    end)
    Handlers.add("Unwatch", "Unwatch", function(msg) Handlers.remove(msg.From) end)
    """
    p = make(tmp_path, code)
    s = run(p, msg("Watch", src="alice")).state
    r = p.rename(s, SWAP)
    assert names(run(p, msg("Ping", About="bob"), state=r)) == ["bob"]
    assert names(run(p, msg("Ping", About="alice"), state=r)) == []
    gone = run(p, msg("Unwatch", src="bob"), state=r).state
    assert names(run(p, msg("Ping", About="bob"), state=gone)) == []
    # literal names ("Watch", "_default", ...) are not ids: unchanged
    assert 'name="Watch"' in r.text and 'name="_default"' in r.text


def test_a_literal_tag_pattern_of_a_renamed_state_matches_the_renamed_id(tmp_path: Path) -> None:
    # hasMatchingTag patterns made at load time are evaluated inline from what they were
    # made with; a state whose cells say otherwise (renamed) must not use that shortcut
    code = """
    Handlers.add("aliceOnly", Handlers.utils.hasMatchingTag("Who", "alice"), function(msg) Hit = msg.Tags.Who end)
    """
    p = make(tmp_path, code)
    r = p.rename(p.initial, SWAP)

    def who(proc: AoProcess, state: Snapshot, w: str) -> list[str]:
        return names(proc.deliver(state, msg("H", Who=w)))

    assert who(p, p.initial, "alice") == ["aliceOnly"] and who(p, p.initial, "bob") == []
    assert who(p, r, "bob") == ["aliceOnly"] and who(p, r, "alice") == []
    assert who(p, p.initial, "alice") == ["aliceOnly"]  # the original state is unaffected
    fresh = make(tmp_path, code)  # a runtime that never renamed: restoring r is enough
    assert who(fresh, r, "bob") == ["aliceOnly"] and who(fresh, r, "alice") == []


def test_stored_messages_keep_their_reply(tmp_path: Path) -> None:
    code = """
    Handlers.add("Keep", "Keep", function(msg) Kept = msg end)
    Handlers.add("Answer", "Answer", function(msg) Kept.reply({ Action = "Answer-Notice" }) end)
    """
    p = make(tmp_path, code)
    s = run(p, msg("Keep", src="alice", id="alice#3")).state
    r = p.rename(s, SWAP)
    assert globals_of(r)["Kept"]["From"] == "bob" and globals_of(r)["Kept"]["Id"] == "bob#3"
    out = run(p, msg("Answer", id="m2"), state=r)
    assert [(x.target, dict(x.tags)["X-Reference"]) for x in out.sends] == [("bob", "bob#3")]


def test_global_names_and_modules_are_renamed(tmp_path: Path) -> None:
    lib = tmp_path / "lib.lua"
    lib.write_text('return { admin = "alice" }\n')
    main = tmp_path / "main.lua"
    main.write_text('local lib = require("lib")\nHandlers.add("G", "G", function(msg) _G[msg.From] = lib.admin end)\n')
    p = AoProcess("P", [lib, main])
    s = run(p, msg("G", src="alice")).state
    r = p.rename(s, SWAP)
    assert globals_of(r)["bob"] == "bob"
    assert "alice" not in globals_of(r)
    assert globals_of(run(p, msg("G", src="carol"), state=r).state)["carol"] == "bob"  # the module renamed
    assert p.rename(r, SWAP) == s


def test_two_keys_becoming_one_is_an_internal_error(tmp_path: Path) -> None:
    p = make(tmp_path, 'T = { alice = 1, bob = 2 }')
    with pytest.raises(InternalError, match="not injective"):
        p.rename(p.initial, {"alice": "bob"})


def test_non_ascii_ids(tmp_path: Path) -> None:
    p = make(tmp_path, 'T = { ["élise"] = "élise#1", bob = "bob" }')
    r = p.rename(p.initial, {"élise": "bob", "bob": "élise"})
    assert globals_of(r)["T"] == {"bob": "bob#1", "élise": "élise"}
    assert p.rename(r, {"élise": "bob", "bob": "élise"}) == p.initial


# ------------------------------------------------------------------ TIM3 in Lua: rename commutes with delivery


def _tim3() -> dict[str, Any]:
    from spec.tim3 import SPEC
    from spec.tim3.lua_system import lua_processes

    params = SPEC.default_params().set("collateral", None).set("max_supply", None)
    params = SPEC.resolve(params.set("users", 2).set("ops", 2).set("version", "v3").set("impl", "lua"))
    return {inst.pid: inst for inst in lua_processes(params)}


def _deliveries(limit: int) -> list[tuple[Any, Snapshot, AoMessage, Outcome]]:
    """(LuaProcess, state, message, outcome) of the TIM3 Lua processes in runs that start
    from user requests of both users, every order of the first messages, FIFO after."""
    insts = _tim3()
    starts = [
        AoMessage("user1#0", "user1", "coordinator", (("Action", "MintTIM3"), ("Amount", "1")), owner="user1"),
        AoMessage("user2#0", "user2", "coordinator", (("Action", "MintTIM3"), ("Amount", "2")), owner="user2"),
        AoMessage("user1#1", "user1", "coordinator", (("Action", "BurnTIM3"), ("Amount", "1")), owner="user1"),
        AoMessage("user2#1", "user2", "coordinator", (("Action", "BurnTIM3"), ("Amount", "1")), owner="user2"),
    ]
    out: list[tuple[Any, Snapshot, AoMessage, Outcome]] = []
    seen: set[tuple[str, Snapshot, AoMessage]] = set()
    for rot in range(len(starts)):
        states = {pid: inst.init for pid, inst in insts.items()}
        queue = starts[rot:] + starts[:rot]
        while queue and len(out) < limit:
            m = queue.pop(0)
            inst = insts.get(m.dst)
            if inst is None:  # to a user
                continue
            proc = inst.decl
            o = proc.runtime.deliver(states[m.dst], m)
            if (m.dst, states[m.dst], m) not in seen:
                seen.add((m.dst, states[m.dst], m))
                out.append((proc, states[m.dst], m, o))
            states[m.dst] = o.state
            for s in o.sends:
                queue.append(AoMessage(s.id, m.dst, s.target, tuple((k, str(v)) for k, v in s.tags), s.data, m.dst))
    return out


def test_renaming_commutes_with_delivery_on_the_tim3_lua() -> None:
    swap = {"user1": "user2", "user2": "user1"}
    deliveries = _deliveries(60)
    assert len(deliveries) >= 40
    kinds = set()
    for proc, state, m, o in deliveries:
        rt = proc.runtime
        other = rt.deliver(rt.rename(state, swap), ren(m, swap))
        assert [h.name for h in other.handlers] == [h.name for h in o.handlers]
        assert (other.error is None) == (o.error is None)
        assert other.state == rt.rename(o.state, swap), (proc.pid, m)
        assert [(x.target, x.tags, x.data, x.id) for x in other.sends] == [
            (swap.get(x.target, x.target), tuple((k, ren_str(v, swap)) for k, v in x.tags), x.data, ren_str(x.id, swap))
            for x in o.sends
        ]
        if rt.rename(o.state, swap) != o.state:  # a new state that holds user ids
            kinds.add(proc.pid)
    assert kinds == {"coordinator", "lock", "token", "state"}


def ren_str(v: Any, mapping: Mapping[str, str]) -> Any:
    return ren(AoMessage(v, "", "", ()), mapping).id if isinstance(v, str) else v


def test_renamed_tim3_states_decode_renamed() -> None:
    swap = {"user1": "user2", "user2": "user1"}
    for proc, state, _, o in _deliveries(60):
        decoded = o.state.decode()
        renamed = proc.runtime.rename(o.state, swap).decode()
        assert renamed == _rename_tree(decoded, swap)


def _rename_tree(v: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(v, FrozenMap):
        return FrozenMap({_rename_tree(k, mapping): _rename_tree(x, mapping) for k, x in v.items()})
    return ren_str(v, mapping)
