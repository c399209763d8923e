"""KeyLines: the line of each key path in a TOML text (for error messages)."""

from __future__ import annotations

import tomllib

from checker.manifest.toml_lines import KeyLines, index_key, join_key, key_segment

TEXT = '''\
# a comment
[system]
name = "x"  # trailing comment

[processes.coordinator]
files = [
  "a.lua",   # first
  "b.lua",
]
tags = { Name = "C", "Odd Key" = "v", Nested = { deep = 1 } }

[[boot]]
target = "a"

[[boot]]
target = "b"
data = """
multi [not a table]
line = "no key"
"""
tags.Action = "Configure"

[[wallets.operations]]
target = "c"

[[properties]]
name = "p"
[properties.goals]
"mint succeeds" = "supply > 0"

[[properties]]
name = 'q'
check = \'\'\'literal "quoted" \'\'\'
goals = { a = "1", b = { check = "x" } }
'''


def test_the_text_is_valid_toml() -> None:
    tomllib.loads(TEXT)


def test_lines_of_keys() -> None:
    lines = KeyLines(TEXT)
    expect = {
        "system": 2,
        "system.name": 3,
        "processes.coordinator": 5,
        "processes.coordinator.files": 6,
        "processes.coordinator.files[0]": 7,
        "processes.coordinator.files[1]": 8,
        "processes.coordinator.tags.Name": 10,
        'processes.coordinator.tags."Odd Key"': 10,
        "processes.coordinator.tags.Nested.deep": 10,
        "boot[0]": 12,
        "boot[0].target": 13,
        "boot[1].target": 16,
        "boot[1].data": 17,
        "boot[1].tags.Action": 21,
        "wallets.operations[0].target": 24,
        "properties[0].name": 27,
        'properties[0].goals."mint succeeds"': 29,
        "properties[1].name": 32,
        "properties[1].check": 33,
        "properties[1].goals.b.check": 34,
    }
    for path, line in expect.items():
        assert lines.line_of(path) == line, path


def test_fallback_to_the_enclosing_key() -> None:
    lines = KeyLines(TEXT)
    assert lines.line_of("boot[1].tags.Missing") == 21  # tags.Action is the nearest known key
    assert lines.line_of("system.owner") == 2
    assert lines.line_of("processes.coordinator.files[7]") == 6
    assert lines.line_of('properties[0].goals."other goal"') == 28
    assert lines.line_of("nothing.here") is None


def test_invalid_text_keeps_what_was_found() -> None:
    lines = KeyLines('[system]\nname = "x"\nbroken = "unterminated\n')
    assert lines.line_of("system.name") == 2


def test_path_helpers() -> None:
    assert key_segment("Action") == "Action" and key_segment("Request-Id") == "Request-Id"
    assert key_segment("mint succeeds") == '"mint succeeds"' and key_segment("*") == '"*"'
    assert join_key("", "a") == "a" and join_key("a", "b c") == 'a."b c"'
    assert index_key("boot", 2) == "boot[2]"
