"""Outcome.reads: fields process code read that the message does not have."""

from __future__ import annotations

from pathlib import Path

from tests.ao.helpers import make, msg, run


def test_absent_fields_of_msg_tags_and_data_are_recorded(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("h", "H", function(msg)
      local a = msg.Quantity
      local b = msg.Tags.Recipient
      local c = json.decode(msg.Data).memo
      local d = msg.Action                -- present: not recorded
      local e = msg.Tags.Quantity         -- absent again, another line
    end)
    """)
    out = run(p, msg("H", data='{"amount": 1}'))
    got = [(kind, field, w.rsplit(":", 1)[1]) for kind, field, w in out.reads]
    assert got == [("msg", "Quantity", "3"), ("Tags", "Recipient", "4"), ("Data", "memo", "5"), ("Tags", "Quantity", "7")]


def test_reads_are_deduplicated_and_runtime_reads_are_not_recorded(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("pat", { Memo = "_" }, function() end)        -- the runtime reads Memo: not recorded
    Handlers.add("h", Handlers.utils.hasMatchingTag("Kind", "x"), function(msg)
      for i = 1, 3 do local q = msg.Tags.Quantity end
    end)
    """)
    out = run(p, msg("H", Kind="x"))
    assert [(k, f) for k, f, _ in out.reads] == [("Tags", "Quantity")]


def test_pattern_functions_are_process_code(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("h", function(msg) return msg.Tags.Kind == "x" end, function() end)')
    out = run(p, msg("H"))
    assert [(k, f) for k, f, _ in out.reads] == [("Tags", "Kind")]
    assert out.inbox


def test_json_content_type_data_is_tracked(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("h", "H", function(msg) local x = msg.Data.missing end)')
    out = run(p, msg("H", tags=(("Content-Type", "application/json"),), data='{"a": 1}'))
    assert [(k, f) for k, f, _ in out.reads] == [("Data", "missing")]


def test_reads_are_kept_on_error(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("h", "H", function(msg) local q = tonumber(msg.Tags.Quantity); return q + 1 end)')
    out = run(p, msg("H"))
    assert out.error is not None
    assert [(k, f) for k, f, _ in out.reads] == [("Tags", "Quantity")]
