"""Handlers: list operations, patterns, pattern results, Inbox (aos 2.0 handlers.lua)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.ao import AoProcess

from tests.ao.helpers import globals_of, make, msg, names, run

LOG = """
Log = Log or {}
local function note(name) return function(msg) table.insert(Log, name) end end
"""


def order_of(proc: AoProcess) -> list[str]:
    return list(proc.evaluate(proc.initial, "(function() local t = {} for i, h in ipairs(Handlers.list) do t[i] = h.name end return t end)()").values())


def test_add_appends_and_same_name_replaces_in_place(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("a", "Go", note("a1"))
    Handlers.add("b", "Go", note("b"))
    Handlers.add("a", "Go", note("a2"))   -- replaces a, keeps its place
    """)
    assert order_of(p) == ["_eval", "_default", "a", "b"]
    out = run(p, msg("Go"))
    assert names(out) == ["a"]
    assert globals_of(out.state)["Log"] == {1: "a2"}


def test_add_with_two_arguments_uses_the_name_as_action_pattern(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + 'Handlers.add("Ping", note("ping"))')
    assert names(run(p, msg("Ping"))) == ["Ping"]
    assert run(p, msg("Pong")).inbox


def test_prepend_and_append(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("mid", "X", note("mid"))
    Handlers.prepend("first", "X", note("first"))
    Handlers.append("last", "X", note("last"))
    """)
    assert order_of(p) == ["first", "_eval", "_default", "mid", "last"]


def test_before_and_after_insert_next_to_the_target(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("a", "X", note("a"))
    Handlers.add("c", "X", note("c"))
    Handlers.before("c").add("b", "X", note("b"))
    Handlers.after("c").add("d", "X", note("d"))
    """)
    assert order_of(p)[2:] == ["a", "b", "c", "d"]


def test_before_a_missing_target_adds_nothing_and_before_never_replaces(tmp_path: Path) -> None:
    # aos: the target's index is looked up when before() is called; add() inserts only
    # when it was found, and does not check whether the name already exists.
    p = make(tmp_path, LOG + """
    Handlers.add("a", "X", note("a"))
    Handlers.before("nope").add("ghost", "X", note("ghost"))
    Handlers.after("a").add("a", "X", note("a-again"))
    """)
    assert order_of(p)[2:] == ["a", "a"]


def test_remove_deletes_by_name(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("a", "X", note("a"))
    Handlers.add("b", "X", note("b"))
    Handlers.remove("a")
    """)
    assert order_of(p)[2:] == ["b"]


def test_once_runs_one_time_and_is_prepended(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("always", "X", note("always"))
    Handlers.once("one", "X", note("one"))
    """)
    assert order_of(p)[0] == "one"
    first = run(p, msg("X"))
    assert names(first) == ["one"]          # a string pattern breaks: "always" does not run
    second = run(p, msg("X", id="m2"), state=first.state)
    assert names(second) == ["always"]
    assert globals_of(second.state)["Log"] == {1: "one", 2: "always"}


def test_once_without_a_name_counts_the_nonce(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.once("X", note("x"))
    Handlers.once("Y", note("y"))
    """)
    assert order_of(p)[:2] == ["_once_1", "_once_0"]
    assert p.evaluate(p.initial, "Handlers.onceNonce") == 2


def test_max_runs_counts_down_and_removes(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + 'Handlers.add("twice", "X", note("t"), 2)')
    s = p.initial
    ran = []
    for i in range(3):
        out = p.deliver(s, msg("X", id=f"m{i}"))
        ran.append(names(out))
        s = out.state
    assert ran == [["twice"], ["twice"], []]
    assert "twice" not in order_of_state(p, s)


def order_of_state(proc: AoProcess, state) -> list[str]:  # type: ignore[no-untyped-def]
    return list(proc.evaluate(state, "(function() local t = {} for i, h in ipairs(Handlers.list) do t[i] = h.name end return t end)()").values())


def test_max_runs_inf_never_removes(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + 'Handlers.add("h", "X", note("h"), "inf")')
    out = run(p, msg("X"), msg("X", id="m2"), msg("X", id="m3"))
    assert names(out) == ["h"]


def test_removing_a_continue_handler_mid_loop_skips_the_next_one(tmp_path: Path) -> None:
    # aos iterates the live list with ipairs: removing entry i shifts i+1 into its place.
    p = make(tmp_path, LOG + """
    Handlers.add("once-continue", function() return "continue" end, note("a"), 1)
    Handlers.add("skipped", function() return "continue" end, note("b"))
    Handlers.add("runs", function() return true end, note("c"))
    """)
    out = run(p, msg("X"))
    assert names(out) == ["once-continue", "runs"]


@pytest.mark.parametrize(
    ("result", "ran", "inbox"),
    [
        ("true", ["a"], False),
        ("-1", ["a"], False),
        ('"break"', ["a"], False),
        ("1", ["a", "b"], False),
        ('"continue"', ["a", "b"], False),
        ("2", ["a", "b"], False),
        ("0", ["b"], False),
        ("false", ["b"], False),
        ('"skip"', ["b"], False),
        ('"anything else"', ["b"], False),
    ],
)
def test_pattern_results(tmp_path: Path, result: str, ran: list[str], inbox: bool) -> None:
    p = make(tmp_path, LOG + f"""
    Handlers.add("a", function() return {result} end, note("a"))
    Handlers.add("b", function() return true end, note("b"))
    """)
    out = run(p, msg("X"))
    assert names(out) == ran
    assert out.inbox is inbox


def test_a_pattern_returning_nil_is_an_error_as_in_aos(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("bad", function(msg) if msg.Action == "Y" then return true end end,
      note("bad"))
    """)
    out = run(p, msg("X"))
    assert out.error is not None
    assert out.error.message == "Pattern result is not valid, it MUST be string, number, or boolean"
    assert out.error.handler == "bad"
    assert out.error.where.endswith("proc.lua:5")  # the pattern function


def test_only_continue_matches_still_go_to_the_inbox(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + 'Handlers.add("c", function() return "continue" end, note("c"))')
    out = run(p, msg("X"))
    assert names(out) == ["c"]
    assert out.inbox


def test_no_match_goes_to_the_inbox_and_the_inbox_is_not_state(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("a", "A", function() end)')
    out = run(p, msg("B"))
    assert out.inbox and out.handlers == ()
    assert out.state == p.initial
    assert p.evaluate(out.state, "#Inbox") == 0


def test_a_user_default_handler_is_replaced_by_the_inbox_default(tmp_path: Path) -> None:
    # aos's process.lua re-adds "_default" (the Inbox) before every evaluation
    p = make(tmp_path, LOG + 'Handlers.add("_default", function() return true end, note("mine"))')
    out = run(p, msg("Nobody"))
    assert out.inbox and out.handlers == ()
    assert "Log" not in out.state.decode() or globals_of(out.state)["Log"] == {}


def test_string_pattern_matches_action(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("t", "Transfer", function() end)')
    assert names(run(p, msg("Transfer"))) == ["t"]
    assert run(p, msg("transfer")).inbox


def test_table_patterns(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("exact", { Action = "Buy", Token = "AR" }, note("exact"))
    Handlers.add("lua-pattern", { Action = "^Sell%-" }, note("lua-pattern"))
    Handlers.add("function", { Quantity = function(v) return tonumber(v) > 10 end }, note("function"))
    Handlers.add("wildcard", { Memo = "_" }, note("wildcard"))
    Handlers.add("any-of", { Action = { "Up", "Down" } }, note("any-of"))
    """)
    assert names(run(p, msg("Buy", Token="AR"))) == ["exact"]
    assert run(p, msg("Buy", Token="BTC")).inbox
    assert names(run(p, msg("Sell-All"))) == ["lua-pattern"]
    assert names(run(p, msg("X", Quantity="11"))) == ["function"]
    assert run(p, msg("X", Quantity="3")).inbox
    assert names(run(p, msg("X", Memo="anything"))) == ["wildcard"]
    assert names(run(p, msg("Down"))) == ["any-of"]
    assert run(p, msg("Sideways")).inbox


def test_table_pattern_on_from(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("f", { From = "bob", Action = "Hi" }, function() end)')
    assert names(run(p, msg("Hi", src="bob"))) == ["f"]
    assert run(p, msg("Hi", src="alice")).inbox


def test_has_matching_tag_and_tag_of_and_data(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("tag", Handlers.utils.hasMatchingTag("Action", "A"), note("tag"))
    Handlers.add("tagof", Handlers.utils.hasMatchingTagOf("Action", { "B", "C" }), note("tagof"))
    Handlers.add("data", Handlers.utils.hasMatchingData("ping"), note("data"))
    """)
    assert names(run(p, msg("A"))) == ["tag"]
    assert names(run(p, msg("C"))) == ["tagof"]
    assert names(run(p, msg("Z", data="ping"))) == ["data"]
    assert run(p, msg("Z", data="pong")).inbox


def test_has_matching_tag_is_exact(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("tag", Handlers.utils.hasMatchingTag("Action", "Get.*"), function() end)')
    assert run(p, msg("GetBalance")).inbox
    assert names(run(p, msg("Get.*"))) == ["tag"]


def test_utils_continue_makes_a_match_continue(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("log", Handlers.utils.continue(Handlers.utils.hasMatchingTag("Action", "X")), note("log"))
    Handlers.add("main", Handlers.utils.hasMatchingTag("Action", "X"), note("main"))
    """)
    out = run(p, msg("X"))
    assert names(out) == ["log", "main"]
    assert not out.inbox
    assert run(p, msg("Y")).inbox


def test_utils_reply_sends_to_the_sender(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("r", "Ping", Handlers.utils.reply("pong"))')
    out = run(p, msg("Ping", src="bob"))
    assert [(s.target, s.data) for s in out.sends] == [("bob", "pong")]


def test_utils_reply_with_a_table_keeps_the_first_target_as_aos_does(tmp_path: Path) -> None:
    # aos mutates the one input table: its Target stays the first sender's
    p = make(tmp_path, 'Handlers.add("r", "Ping", Handlers.utils.reply({ Action = "Pong" }))')
    first = run(p, msg("Ping", src="bob"))
    second = run(p, msg("Ping", src="carol", id="m2"), state=first.state)
    assert first.sends[0].target == "bob"
    assert second.sends[0].target == "bob"
    assert first.state != p.initial  # the mutated table is state (an upvalue of the handler)


def test_handlers_added_at_runtime_are_state(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("arm", "Arm", function(msg)
      local who = msg.From
      Handlers.add("armed", "Fire", function(m) table.insert(Log, who .. " armed, " .. m.From .. " fired") end)
    end)
    """)
    armed = run(p, msg("Arm", src="bob"))
    assert armed.state != p.initial
    fired = run(p, msg("Fire", src="carol", id="m2"), state=armed.state)
    assert names(fired) == ["armed"]
    assert globals_of(fired.state)["Log"] == {1: "bob armed, carol fired"}
    assert run(p, msg("Fire", id="m3")).inbox   # the initial state has no "armed"


def test_resolver_tables_are_unsupported(tmp_path: Path) -> None:
    from checker.ao import AoUnsupported

    with pytest.raises(AoUnsupported, match=r"unsupported: a table of resolvers .* at .*proc.lua:1"):
        make(tmp_path, 'Handlers.add("r", "X", { [{ Action = "X" }] = function() end })')


def test_handler_runs_name_where_defined(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("a", "X",
      function(msg) end)
    """)
    out = run(p, msg("X"))
    assert out.handlers[0].name == "a"
    assert out.handlers[0].where.endswith("proc.lua:3")


def test_handler_list_survives_files_loaded_in_order(tmp_path: Path) -> None:
    a = tmp_path / "a.lua"
    b = tmp_path / "b.lua"
    a.write_text('Handlers.add("one", "X", function() end)\n')
    b.write_text('Handlers.add("two", "X", function() end)\nHandlers.add("one", "Y", function() end)\n')
    p = AoProcess("P", [a, b])
    assert order_of(p)[2:] == ["one", "two"]
    assert names(run(p, msg("Y"))) == ["one"]


def test_patterns_see_changes_earlier_handlers_made_to_msg(tmp_path: Path) -> None:
    p = make(tmp_path, LOG + """
    Handlers.add("rewrite", function() return "continue" end, function(msg) msg.Tags.Action = "B"; msg.Action = "B" end)
    Handlers.add("tag", Handlers.utils.hasMatchingTag("Action", "B"), note("tag"))
    """)
    assert names(run(p, msg("A"))) == ["rewrite", "tag"]
    q = make(tmp_path, LOG + """
    Handlers.add("drop", function() return "continue" end, function(msg) msg.Tags = nil end)
    Handlers.add("tag", Handlers.utils.hasMatchingTag("Action", "A"), note("tag"))
    """, name="q.lua")
    out = run(q, msg("A"))
    assert out.error is not None and out.error.handler == "tag"
    assert "attempt to index a nil value" in out.error.message
