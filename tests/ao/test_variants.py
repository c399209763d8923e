"""aos variants: "default", "require-json", "normalized-tags"."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.ao import VARIANTS

from tests.ao.helpers import globals_of, make, msg, names, run


def test_the_variants() -> None:
    assert VARIANTS == ("default", "require-json", "normalized-tags")


def test_default_has_a_global_json(tmp_path: Path) -> None:
    p = make(tmp_path, "HasJson = json ~= nil")
    assert globals_of(p.initial)["HasJson"] is True


def test_require_json_has_no_global_json(tmp_path: Path) -> None:
    code = """
    HasJson = json ~= nil
    local j = require("json")
    Handlers.add("e", "E", function() Out = j.encode({ 1 }) end)
    Handlers.add("g", "G", function() Out = json.encode({ 1 }) end)
    """
    p = make(tmp_path, code, variant="require-json")
    assert globals_of(p.initial)["HasJson"] is False
    assert globals_of(run(p, msg("E")).state)["Out"] == "[1]"
    failed = run(p, msg("G"))
    assert failed.error is not None
    assert "attempt to index a nil value (global 'json')" in failed.error.message


def test_default_keeps_tag_names_as_written(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("t", Handlers.utils.hasMatchingTag("TokenType", "TIM3"), function(msg) Got = msg.Tags.TokenType end)')
    out = run(p, msg(tags=(("TokenType", "TIM3"),)))
    assert names(out) == ["t"]
    assert globals_of(out.state)["Got"] == "TIM3"


@pytest.mark.parametrize(
    ("sent", "seen"),
    [
        ("action", "Action"),
        ("data-PROTOCOL", "Data-Protocol"),   # aos's own test for PR #451
        ("MESSAGE", "Message"),
        ("TokenType", "Tokentype"),          # camelCase names break
        ("x-reference", "X-Reference"),
        ("snake_case", "Snake_Case"),
    ],
)
def test_normalized_tags_title_case_each_segment(tmp_path: Path, sent: str, seen: str) -> None:
    p = make(tmp_path, """
    Handlers.add("all", function() return true end, function(msg)
      local ks = {}
      for k in pairs(msg.Tags) do ks[#ks + 1] = k end
      Names = table.concat(ks, ",")
    end)
    """, variant="normalized-tags")
    out = run(p, msg(tags=((sent, "v"),)))
    assert globals_of(out.state)["Names"] == seen


def test_normalized_tags_break_camel_case_handlers(tmp_path: Path) -> None:
    code = 'Handlers.add("t", Handlers.utils.hasMatchingTag("TokenType", "TIM3"), function() end)'
    assert names(run(make(tmp_path, code), msg(TokenType="TIM3"))) == ["t"]
    assert run(make(tmp_path, code, variant="normalized-tags", name="n.lua"), msg(TokenType="TIM3")).inbox


def test_normalized_tags_fix_lower_case_actions(tmp_path: Path) -> None:
    code = 'Handlers.add("t", "Transfer", function() end)'
    assert run(make(tmp_path, code), msg(tags=(("action", "Transfer"),))).inbox
    assert names(run(make(tmp_path, code, variant="normalized-tags", name="n.lua"), msg(tags=(("action", "Transfer"),)))) == ["t"]
