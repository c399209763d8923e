"""msg as handlers see it, and the messages they send (ao.send, Send, msg.reply/forward)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.ao import AoUnsupported

from tests.ao.helpers import globals_of, make, msg, run, tag

CAPTURE = """
Seen = Seen or {}
Handlers.add("capture", function() return true end, function(msg)
  Seen = { Action = msg.Action, Quantity = msg.Quantity, TagQ = msg.Tags.Quantity, From = msg.From,
    Owner = msg.Owner, Id = msg.Id, Timestamp = msg.Timestamp, Data = msg.Data, Target = msg.Target,
    TagArrayFirst = msg.TagArray[1].name, Time = os.time() }
end)
"""


def test_tags_are_promoted_and_mapped(tmp_path: Path) -> None:
    p = make(tmp_path, CAPTURE)
    out = run(p, msg("Transfer", Quantity="5", src="bob", id="abc", data="hello", timestamp=1700000000123))
    assert globals_of(out.state)["Seen"] == {
        "Action": "Transfer", "Quantity": "5", "TagQ": "5", "From": "bob", "Owner": "bob", "Id": "abc",
        "Timestamp": 1700000000123, "Data": "hello", "Target": "P", "TagArrayFirst": "Action",
        "Time": 1700000000123,
    }


def test_owner_can_differ_from_from_when_an_authority_signs(tmp_path: Path) -> None:
    p = make(tmp_path, CAPTURE, spawn_tags=(("Authority", "mu-wallet"),))
    out = run(p, msg("X", src="process-b", owner="mu-wallet"))
    seen = globals_of(out.state)["Seen"]
    assert (seen["From"], seen["Owner"]) == ("process-b", "mu-wallet")


def test_a_message_signed_by_someone_else_is_not_trusted(tmp_path: Path) -> None:
    # aos's process.handle: From ~= Owner and neither is an Authority -> refused
    p = make(tmp_path, CAPTURE)
    out = run(p, msg("X", src="process-b", owner="wallet-w"))
    assert out.handlers == () and not out.inbox
    assert out.state == p.initial
    assert [(s.target, s.data) for s in out.sends] == [("process-b", "Message is not trusted by this process!")]
    assert out.prints == ("Message is not trusted! From: process-b - Owner: wallet-w",)


def test_an_assignment_is_not_trusted(tmp_path: Path) -> None:
    # a message whose Target is another process is an assignment; nothing is assignable
    p = make(tmp_path, CAPTURE)
    out = run(p, msg("X", src="bob", dst="OTHER"))
    assert out.handlers == () and not out.inbox
    assert [(s.target, s.data) for s in out.sends] == [("bob", "Assignment is not trusted by this process!")]


def test_a_from_tag_cannot_forge_msg_from(tmp_path: Path) -> None:
    p = make(tmp_path, CAPTURE)
    out = run(p, msg("X", src="mallory", tags=(("From", "alice"), ("Owner", "alice"))))
    seen = globals_of(out.state)["Seen"]
    assert seen["From"] == "mallory"
    assert p.evaluate(out.state, "nil") is None


def test_duplicate_tags_last_wins_at_root_first_wins_in_tags(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("c", function() return true end, function(msg)
      Root, Mapped, Count = msg.Color, msg.Tags.Color, #msg.TagArray
    end)
    """)
    out = run(p, msg(tags=(("Color", "red"), ("Color", "blue"))))
    g = globals_of(out.state)
    assert (g["Root"], g["Mapped"], g["Count"]) == ("blue", "red", 2)


def test_json_content_type_decodes_data(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("c", function() return true end, function(msg) Got = msg.Data.amount end)
    """)
    out = run(p, msg("X", tags=(("Content-Type", "application/json"),), data='{"amount": 7}'))
    assert globals_of(out.state)["Got"] == 7


def test_ao_send_tags_data_and_nested_tags(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("s", "Go", function(msg)
      ao.send({ Target = "bob", Action = "Credit", Quantity = "5", Data = "memo",
        Tags = { Reason = "gift", Quantity = "6" } })
    end)
    """)
    out = run(p, msg("Go"))
    (s,) = out.sends
    assert s.target == "bob"
    assert s.data == "memo"
    assert s.tags == (("Action", "Credit"), ("Quantity", "5"), ("Quantity", "6"), ("Reason", "gift"))
    assert s.id == "m1.1"
    assert s.where.endswith("proc.lua:3")


def test_ao_send_tags_as_an_array_of_name_value(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("s", "Go", function(msg)
      ao.send({ Target = "bob", Tags = { { name = "Action", value = "A" }, { name = "B", value = "1" } } })
    end)
    """)
    assert run(p, msg("Go")).sends[0].tags == (("Action", "A"), ("B", "1"))


def test_ao_send_a_from_field_is_not_a_tag(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("s", "Go", function() ao.send({ Target = "bob", From = "alice", Action = "A" }) end)')
    assert run(p, msg("Go")).sends[0].tags == (("Action", "A"),)


def test_ao_send_table_data_is_json_with_content_type(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("s", "Go", function() ao.send({ Target = "bob", Data = { n = 1, xs = { 1, 2 } } }) end)')
    (s,) = run(p, msg("Go")).sends
    assert s.data == '{"n":1,"xs":[1,2]}'
    assert s.tags == (("Content-Type", "application/json"),)


def test_ao_send_returns_the_message(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("s", "Go", function()
      local m = ao.send({ Target = "bob", Action = "A" })
      Returned = { m.Target, m.Tags[1].name, m.Tags[1].value }
    end)
    """)
    assert globals_of(run(p, msg("Go")).state)["Returned"] == {1: "bob", 2: "Action", 3: "A"}


def test_non_string_tag_values_are_kept(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("s", "Go", function() ao.send({ Target = "bob", N = 5, F = 1.5, B = true }) end)')
    assert run(p, msg("Go")).sends[0].tags == (("B", True), ("F", 1.5), ("N", 5))


def test_send_global_is_ao_send_and_warns_without_target(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("s", "Go", function() Send({ Action = "Lost" }) Send({ Target = "x", Action = "Ok" }) end)')
    out = run(p, msg("Go"))
    assert [(s.target, tag(s, "Action")) for s in out.sends] == [("", "Lost"), ("x", "Ok")]
    assert out.prints == ("WARN: No target specified for message. Data will be stored, but no process will receive it.",)
    assert [s.id for s in out.sends] == ["m1.1", "m1.2"]


def test_a_send_to_itself_is_a_normal_send(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("s", "Go", function() ao.send({ Target = ao.id, Action = "Again" }) end)', pid="SELF")
    (s,) = run(p, msg("Go", dst="SELF")).sends
    assert s.target == "SELF"


def test_reply_targets_from_and_sets_x_reference(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("r", "Ping", function(msg) msg.reply({ Action = "Pong", Data = "hi" }) end)')
    (s,) = run(p, msg("Ping", src="bob", id="req-1")).sends
    assert s.target == "bob"
    assert s.data == "hi"
    assert s.tags == (("Action", "Pong"), ("X-Reference", "req-1"))


def test_reply_prefers_reply_to_and_the_senders_references(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("r", "Ping", function(msg) msg.reply({ Action = "Pong" }) end)')
    m = msg("Ping", src="bob", tags=(("Reply-To", "carol"), ("Reference", "7"), ("X-Origin", "dave")))
    (s,) = run(p, m).sends
    assert s.target == "carol"
    assert dict(s.tags) == {"Action": "Pong", "X-Reference": "7", "X-Origin": "dave"}
    m2 = msg("Ping", src="bob", tags=(("X-Reference", "9"), ("Reference", "7")))
    assert tag(run(p, m2).sends[0], "X-Reference") == "9"


def test_reply_keeps_its_own_target_without_reply_to(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("r", "Ping", function(msg) msg.reply({ Target = "zed", Action = "Pong" }) end)')
    assert run(p, msg("Ping", src="bob")).sends[0].target == "zed"


def test_reply_does_not_set_an_action(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("r", "Ping", function(msg) msg.reply({ Data = "x" }) end)')
    assert run(p, msg("Ping")).sends[0].tags == (("X-Reference", "m1"),)


def test_forward(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("f", "Fwd", function(msg) msg.forward("carol", { Note = "via P" }) end)')
    (s,) = run(p, msg("Fwd", src="bob", id="f1", data="payload", Quantity="3")).sends
    assert s.target == "carol"
    assert s.data == "payload"
    assert dict(s.tags) == {
        "Action": "Fwd", "Quantity": "3", "Note": "via P", "Reply-To": "bob", "X-Reference": "f1", "X-Origin": "bob",
    }


@pytest.mark.parametrize(
    ("code", "feature"),
    [
        ('ao.send({ Target = "b" }).receive()', r"ao\.send\(\.\.\.\)\.receive\(\)"),
        ('ao.send({ Target = "b" }).onReply(function() end)', r"onReply"),
        ('Receive({ Action = "X" })', "Receive"),
        ('Handlers.receive({ Action = "X" })', "Handlers.receive"),
        ('Spawn("module", {})', "Spawn"),
        ('ao.spawn("module", {})', "ao.spawn"),
        ('ao.assign({ Processes = { "x" }, Message = "m" })', "ao.assign"),
        ('Assign({})', "Assign"),
        ('ao.send({ Target = "b", Data = 5 })', "Data of type number"),
        ('ao.send({ Target = "b", X = {} })', "a table as the value of tag 'X'"),
        ('ao.send({ Target = 5 })', "a Target of type number"),
    ],
)
def test_unsupported_features_name_file_and_line(tmp_path: Path, code: str, feature: str) -> None:
    p = make(tmp_path, f'Handlers.add("h", "Go", function(msg)\n  {code}\nend)\n')
    with pytest.raises(AoUnsupported, match=rf"^unsupported: .*{feature}.* at .*proc\.lua:2"):
        p.deliver(p.initial, msg("Go"))


def test_unsupported_is_reported_even_when_the_code_catches_it(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("h", "Go", function() pcall(Spawn, "m", {}) Caught = true end)')
    with pytest.raises(AoUnsupported, match="Spawn"):
        p.deliver(p.initial, msg("Go"))


def test_an_eval_from_the_owner_is_unsupported(tmp_path: Path) -> None:
    p = make(tmp_path, "X = 1", owner="me")
    with pytest.raises(AoUnsupported, match="Eval message from the owner"):
        p.deliver(p.initial, msg("Eval", src="me", data="X = 2"))
    assert p.deliver(p.initial, msg("Eval", src="stranger", data="X = 2")).inbox
