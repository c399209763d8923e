"""The state: rollback, canonical snapshots, exact restore, what is state, decode/evaluate."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.ao import AoProcess, AoUnsupported, Snapshot
from checker.model.values import FrozenMap

from tests.ao.helpers import globals_of, make, msg, names, run

TOKEN = """
Balances = Balances or { alice = 10 }
Handlers.add("Transfer", "Transfer", function(msg)
  local q = tonumber(msg.Tags.Quantity)
  Balances[msg.From] = (Balances[msg.From] or 0) - q
  Balances[msg.Tags.Recipient] = (Balances[msg.Tags.Recipient] or 0) + q
  ao.send({ Target = msg.Tags.Recipient, Action = "Credit-Notice", Quantity = tostring(q) })
  if Balances[msg.From] < 0 then error("insufficient balance") end
end)
"""


def transfer(q: str, to: str = "bob", src: str = "alice", id: str = "m1") -> object:
    return msg("Transfer", src=src, id=id, Quantity=q, Recipient=to)


def test_an_error_rolls_back_every_change_and_every_send(tmp_path: Path) -> None:
    p = make(tmp_path, TOKEN)
    out = p.deliver(p.initial, transfer("11"))  # type: ignore[arg-type]
    assert out.state is p.initial
    assert out.sends == ()
    assert out.error is not None
    assert out.error.message.endswith("insufficient balance")
    assert out.error.where.endswith("proc.lua:8")
    assert out.error.handler == "Transfer"
    assert names(out) == ["Transfer"]
    ok = p.deliver(p.initial, transfer("3"))  # type: ignore[arg-type]
    assert ok.error is None
    assert globals_of(ok.state)["Balances"] == {"alice": 7, "bob": 3}


def test_error_in_a_helper_names_the_first_process_frame(tmp_path: Path) -> None:
    p = make(tmp_path, """
    local function check(x)
      if not x then error("missing") end
    end
    Handlers.add("h", "H", function(msg) check(msg.Tags.Need) end)
    """)
    out = run(p, msg("H"))
    assert out.error is not None and out.error.where.endswith("proc.lua:3")


def test_a_runtime_error_inside_the_prelude_names_the_caller(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("h", "H", function(msg)\n  json.decode("{")\nend)')
    out = run(p, msg("H"))
    assert out.error is not None
    assert out.error.where.endswith("proc.lua:2")
    assert "expected string for key" in out.error.message or "expected" in out.error.message


def test_changes_before_a_return_persist(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("h", "H", function() X = 1; do return end end)')
    assert globals_of(run(p, msg("H")).state)["X"] == 1


def test_snapshot_text_is_canonical(tmp_path: Path) -> None:
    # the same globals built in different orders give the same text
    a = make(tmp_path, 'T = {}; T.b = 1; T.a = 2; T[3] = "x"; T[1] = "y"; Z = true', name="a.lua")
    b = make(tmp_path, 'Z = true; T = { [1] = "y", a = 2 }; T[3] = "x"; T.b = 1', name="b.lua")
    ga, gb = a.initial.text.split("\n", 1)[0], b.initial.text.split("\n", 1)[0]
    assert ga == gb
    assert globals_of(a.initial)["T"] == {1: "y", 3: "x", "a": 2, "b": 1}


def test_integers_and_floats_are_distinct(tmp_path: Path) -> None:
    i = make(tmp_path, "X = 1", name="i.lua")
    f = make(tmp_path, "X = 1.0", name="f.lua")
    assert i.initial.text.split("\n")[0] != f.initial.text.split("\n")[0]
    xi, xf = i.initial.decode()["X"], f.initial.decode()["X"]
    assert (type(xi), type(xf)) == (int, float)
    assert "X=1.0" in f.initial.text and "X=1}" in i.initial.text


@pytest.mark.parametrize(
    ("lua", "python"),
    [
        ("0.1", 0.1),
        ("-0.0", -0.0),
        ("1e300", 1e300),
        ("2^63", 2.0**63),
        ("math.maxinteger", 2**63 - 1),
        ("math.mininteger", -(2**63)),
        ('"tab\\tquote\\"nul\\0"', 'tab\tquote"nul\0'),
        ('"\\xff\\xfe"', b"\xff\xfe".decode("utf-8", "surrogateescape")),
        ("true", True),
    ],
)
def test_scalars_round_trip(tmp_path: Path, lua: str, python: object) -> None:
    p = make(tmp_path, f"X = {lua}\nHandlers.add('n', 'N', function() end)")
    assert p.initial.decode()["X"] == python
    assert type(p.initial.decode()["X"]) is type(python)
    again = run(p, msg("N")).state   # restored from the text, then written again
    assert again == p.initial


def test_float_keys_bool_keys_and_nested_tables(tmp_path: Path) -> None:
    p = make(tmp_path, 'T = { [1.5] = "a", [true] = "b", [-1] = "c", x = { y = { z = 1 } } }\nHandlers.add("n", "N", function() end)')
    t = p.initial.decode()["T"]
    assert list(t) == [True, -1, 1.5, "x"]
    assert isinstance(t["x"], FrozenMap)
    assert run(p, msg("N")).state == p.initial


def test_restore_is_exact_as_an_explorer_calls_it(tmp_path: Path) -> None:
    p = make(tmp_path, TOKEN)
    s0 = p.initial
    a1 = p.deliver(s0, transfer("2"))  # type: ignore[arg-type]
    b1 = p.deliver(a1.state, transfer("1", to="carol", id="m2"))  # type: ignore[arg-type]
    p.deliver(b1.state, transfer("50", id="m3"))  # type: ignore[arg-type]   # an error in between
    a2 = p.deliver(s0, transfer("2"))  # type: ignore[arg-type]
    assert a2 == a1
    b2 = p.deliver(a1.state, transfer("1", to="carol", id="m2"))  # type: ignore[arg-type]
    assert b2 == b1
    # a fresh process agrees too
    q = make(tmp_path, TOKEN, name="again.lua")
    assert globals_of(q.deliver(q.initial, transfer("2")).state) == globals_of(a1.state)  # type: ignore[arg-type]


def test_new_globals_of_a_later_state_are_gone_after_restoring_an_earlier_one(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("mk", "Make", function() Extra = { 1 } end)\nHandlers.add("rd", "Read", function() Saw = Extra ~= nil end)')
    made = run(p, msg("Make"))
    assert "Extra" in globals_of(made.state)
    read = p.deliver(p.initial, msg("Read"))
    assert globals_of(read.state)["Saw"] is False


def test_top_level_locals_that_handlers_mutate_are_state(tmp_path: Path) -> None:
    p = make(tmp_path, """
    local count = 0
    local seen = {}
    Handlers.add("inc", "Inc", function(msg) count = count + 1; seen[msg.From] = true end)
    Handlers.add("get", "Get", function(msg) Count, Seen = count, seen end)
    """)
    one = run(p, msg("Inc", src="bob"))
    assert one.state != p.initial
    got = run(p, msg("Get", id="m2"), state=one.state)
    assert globals_of(got.state)["Count"] == 1
    assert globals_of(got.state)["Seen"] == {"bob": True}
    fresh = run(p, msg("Get", id="m3"))
    assert globals_of(fresh.state)["Count"] == 0


def test_shared_upvalues_stay_shared(tmp_path: Path) -> None:
    p = make(tmp_path, """
    local n = 0
    local function bump() n = n + 1 end
    local function read() return n end
    Handlers.add("b", "B", function() bump() end)
    Handlers.add("r", "R", function() N = read() end)
    """)
    out = run(p, msg("B"), msg("B", id="m2"), msg("R", id="m3"))
    assert globals_of(out.state)["N"] == 2


def test_a_table_shared_by_two_globals_stays_shared_after_restore(tmp_path: Path) -> None:
    p = make(tmp_path, """
    A = { v = 0 }
    B = A
    Handlers.add("w", "W", function() A.v = A.v + 1 end)
    Handlers.add("r", "R", function() Same = (A == B); BV = B.v end)
    """)
    out = run(p, msg("W"), msg("R", id="m2"))
    g = globals_of(out.state)
    assert g["Same"] is True and g["BV"] == 1
    assert g["A"] == g["B"] == {"v": 1}


def test_cycles_are_kept_and_decode_with_none_at_the_back_reference(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Node = { name = "a" }
    Node.self = Node
    Handlers.add("r", "R", function() Ok = (Node.self.self == Node) end)
    """)
    out = run(p, msg("R"))
    assert p.evaluate(out.state, "Ok") is True
    assert globals_of(out.state)["Node"] == {"name": "a", "self": None}


def test_closures_created_in_a_delivery_keep_their_upvalues(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Counters = {}
    Handlers.add("mk", "Make", function(msg)
      local n = 0
      Counters[msg.From] = function() n = n + 1; return n end
    end)
    Handlers.add("use", "Use", function(msg) Last = Counters[msg.From]() end)
    """)
    s = run(p, msg("Make", src="bob")).state
    s = run(p, msg("Use", src="bob", id="m2"), state=s).state
    s = run(p, msg("Use", src="bob", id="m3"), state=s).state
    assert globals_of(s)["Last"] == 2
    assert "Counters" in globals_of(s) and globals_of(s)["Counters"] == {}  # functions are left out of decode


def test_stored_messages_keep_reply(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Pending = Pending or {}
    Handlers.add("ask", "Ask", function(msg) Pending[msg.Id] = msg end)
    Handlers.add("done", "Done", function(msg)
      local orig = Pending[msg.Tags.Ref]
      orig.reply({ Action = "Answer" })
      Pending[msg.Tags.Ref] = nil
    end)
    """)
    asked = run(p, msg("Ask", src="bob", id="q1", Amount="5"))
    assert globals_of(asked.state)["Pending"]["q1"]["Amount"] == "5"
    done = run(p, msg("Done", src="oracle", id="d1", Ref="q1"), state=asked.state)
    (s,) = done.sends
    assert s.target == "bob"
    assert dict(s.tags)["X-Reference"] == "q1"
    assert globals_of(done.state)["Pending"] == {}


def test_metatables_are_state(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Account = {}
    Account.__index = Account
    function Account.new(b) return setmetatable({ balance = b }, Account) end
    function Account:deposit(x) self.balance = self.balance + x end
    Acct = Account.new(5)
    Handlers.add("d", "D", function() Acct:deposit(1) end)
    """)
    out = run(p, msg("D"), msg("D", id="m2"))
    assert globals_of(out.state)["Acct"] == {"balance": 7}


def test_the_handler_list_is_state(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("gone", "G", function() Handlers.remove("gone") end)')
    out = run(p, msg("G"))
    assert out.state != p.initial
    assert run(p, msg("G", id="m2"), state=out.state).inbox


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ("Co = coroutine.create(function() end)", r"a thread value in the process state, at Co"),
        ("T = { [{}] = 1 }", r"a table used as a table key in the process state, at T"),
        ("Cache = setmetatable({}, { __mode = 'k' })", r"a weak table .* at Cache"),
        ("R = setmetatable({}, { __gc = function() end })", r"a __gc finalizer .* at R"),
    ],
)
def test_values_a_state_cannot_hold_are_unsupported(tmp_path: Path, code: str, what: str) -> None:
    with pytest.raises(AoUnsupported, match=what):
        make(tmp_path, code)


def test_changing_runtime_tables_in_a_handler_is_unsupported(tmp_path: Path) -> None:
    p = make(tmp_path, """
    string.trim = function(s) return (s:gsub("^%s+", "")) end  -- at load: code, fine
    Handlers.add("a", "A", function() Utils.helper = 1 end)
    Handlers.add("b", "B", function() ao.id = "other" end)
    Handlers.add("c", "C", function() T = ("  x"):trim() end)
    """)
    with pytest.raises(AoUnsupported, match=r"adding the field \.helper to the runtime table Utils .* at .*proc\.lua:3"):
        p.deliver(p.initial, msg("A"))
    with pytest.raises(AoUnsupported, match=r"runtime table field ao\.id"):
        p.deliver(p.initial, msg("B"))
    assert globals_of(run(p, msg("C")).state)["T"] == "x"


def test_shadowing_a_runtime_global_is_state_and_nil_is_unsupported(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("a", "A", function() Send = function() end end)
    Handlers.add("b", "B", function() Send = nil end)
    """)
    assert run(p, msg("A")).state != p.initial
    with pytest.raises(AoUnsupported, match="assigning nil to the runtime global 'Send'"):
        p.deliver(p.initial, msg("B"))


def test_decode_and_evaluate(tmp_path: Path) -> None:
    p = make(tmp_path, 'Config = { ids = { "a", "b" }, max = 10 }\nfunction Total() return Config.max * 2 end')
    g = p.initial.decode()
    assert isinstance(g, FrozenMap)
    assert globals_of(p.initial)["Config"] == {"ids": {1: "a", 2: "b"}, "max": 10}
    assert "Total" not in g and "Handlers" not in g and "json" not in g
    assert p.evaluate(p.initial, "Total()") == 20
    assert p.evaluate(p.initial, "Config.ids") == FrozenMap({1: "a", 2: "b"})
    assert p.evaluate(p.initial, "Total") is None


def test_snapshots_hash_and_compare_by_text(tmp_path: Path) -> None:
    p = make(tmp_path, "X = 1")
    same = Snapshot(p.initial.text)
    assert same == p.initial and hash(same) == hash(p.initial)
    assert len({same, p.initial}) == 1
    assert same.decode() == p.initial.decode()


def test_a_snapshot_of_other_code_is_refused(tmp_path: Path) -> None:
    from checker.ao import AoRuntimeError

    a = make(tmp_path, "X = 1", name="a.lua")
    b = make(tmp_path, "X = 2", name="b.lua")
    same_code = make(tmp_path, "X = 1", name="c.lua", pid="Q")
    with pytest.raises(AoRuntimeError, match="a snapshot of another process's code"):
        b.deliver(a.initial, msg("Any"))
    assert same_code.deliver(a.initial, msg("Any", dst="Q")).inbox   # same code: fine


def test_instances_are_independent(tmp_path: Path) -> None:
    f = tmp_path / "c.lua"
    f.write_text('N = 0\nHandlers.add("i", "I", function() N = N + 1 end)\n')
    a, b = AoProcess("A", [f]), AoProcess("B", [f])
    sa = a.deliver(a.initial, msg("I", dst="A")).state
    assert globals_of(b.initial)["N"] == 0
    assert globals_of(sa)["N"] == 1


def test_evaluate_errors_are_runtime_errors(tmp_path: Path) -> None:
    from checker.ao import AoRuntimeError

    p = make(tmp_path, "X = 1")
    with pytest.raises(AoRuntimeError, match=r"observable 'X \+' failed"):
        p.evaluate(p.initial, "X +")
    with pytest.raises(AoRuntimeError, match="attempt to index a nil value"):
        p.evaluate(p.initial, "Missing.field")
    assert p.evaluate(p.initial, "X + 1") == 2
