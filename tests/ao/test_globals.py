"""The globals aos code relies on: json, os.time, math.random, print, require, Checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.ao import AoMessage, AoProcess, AoRuntimeError, AoUnsupported

from tests.ao.helpers import globals_of, lua_file, make, msg, run


class Faults:
    def __init__(self, *on: str) -> None:
        self.on = set(on)
        self.asked: list[str] = []

    def fault(self, name: str) -> bool:
        self.asked.append(name)
        return name in self.on


def test_json_is_a_global_and_a_module(tmp_path: Path) -> None:
    p = make(tmp_path, 'Same = (json == require("json")) ; Enc = json.encode({ a = 1 })')
    g = globals_of(p.initial)
    assert g["Same"] is True
    assert g["Enc"] == '{"a":1}'


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("1", "1"),
        ("1.0", "1"),            # integral floats print without .0 (aos's %.0f)
        ("-3", "-3"),
        ("0.5", "0.5"),
        ("1/3", "0.33333333333333"),   # %.14g
        ("2^53 + 1", "9007199254740992"),
        ("math.tointeger(2^53) + 1", "9007199254740992"),  # integers too go through a double
        ('"a\\"b\\n"', '"a\\"b\\n"'),
        ("{}", "[]"),
        ("{1, 2, 3}", "[1,2,3]"),
        ("{b = 1, a = { true, false }}", '{"a":[true,false],"b":1}'),
        ("{x = 1, f = function() end}", '{"x":1}'),
    ],
)
def test_json_encode_as_aos(tmp_path: Path, expr: str, text: str) -> None:
    p = make(tmp_path, "")
    assert p.evaluate(p.initial, f"json.encode({expr})") == text


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0/0", "unexpected number value"),
        ("{1, nil, 3, x = 1}", "mixed or invalid key types"),
        ("{[1] = 1, [3] = 3}", "sparse array"),
        ("{[true] = 1}", "mixed or invalid key types"),
    ],
)
def test_json_encode_errors(tmp_path: Path, expr: str, message: str) -> None:
    p = make(tmp_path, "")
    with pytest.raises(AoRuntimeError, match=message):
        p.evaluate(p.initial, f"json.encode({expr})")


def test_json_decode(tmp_path: Path) -> None:
    p = make(tmp_path, "")
    v = p.evaluate(p.initial, 'json.decode(\'{"n": 1, "f": 1.5, "e": 1e2, "s": "x\\\\u00e9", "a": [1, null, 3], "z": null}\')')
    assert dict(v) == {"n": 1, "f": 1.5, "e": 100.0, "s": "xé", "a": v["a"]}
    assert type(v["n"]) is int and type(v["e"]) is float
    assert dict(v["a"]) == {1: 1, 3: 3}
    with pytest.raises(AoRuntimeError, match="trailing garbage at line 1 col 5"):
        p.evaluate(p.initial, 'json.decode("[1] x")')


def test_os_time_is_the_message_timestamp_in_ms(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("t", "T", function(msg) Now = os.time(); Day = os.date("%Y-%m-%d", os.time() // 1000) end)
    """)
    g = globals_of(run(p, msg("T", timestamp=1_700_000_000_000)).state)
    assert g["Now"] == 1_700_000_000_000
    assert g["Day"] == "2023-11-14"
    assert p.evaluate(p.initial, "os.time({ year = 2024, month = 1, day = 1, hour = 0 })") == 1704067200


def test_math_random_is_deterministic_per_process_and_its_state_is_in_the_snapshot(tmp_path: Path) -> None:
    code = 'Handlers.add("r", "R", function() Rolls = Rolls or {}; table.insert(Rolls, math.random(1, 1000000)) end)'
    a = make(tmp_path, code, pid="P1")
    b = make(tmp_path, code, pid="P1", name="again.lua")
    c = make(tmp_path, code, pid="P2", name="other.lua")
    ra = run(a, msg("R", dst="P1"), msg("R", id="m2", dst="P1"))
    rb = run(b, msg("R", dst="P1"), msg("R", id="m2", dst="P1"))
    rc = run(c, msg("R", dst="P2"), msg("R", id="m2", dst="P2"))
    rolls = globals_of(ra.state)["Rolls"]
    assert rolls == globals_of(rb.state)["Rolls"]
    assert rolls != globals_of(rc.state)["Rolls"]
    assert rolls[1] != rolls[2]
    # the same state and message roll the same number: the PRNG state is restored
    once = a.deliver(a.initial, msg("R", dst="P1"))
    assert a.deliver(a.initial, msg("R", dst="P1")).state == once.state


def test_math_random_ranges(tmp_path: Path) -> None:
    p = make(tmp_path, "")
    v = p.evaluate(p.initial, """(function()
      local ok = true
      for i = 1, 200 do
        local f, a, b = math.random(), math.random(6), math.random(-2, 2)
        ok = ok and f >= 0 and f < 1 and a >= 1 and a <= 6 and b >= -2 and b <= 2
          and math.type(a) == "integer"
      end
      return ok end)()""")
    assert v is True
    with pytest.raises(AoRuntimeError, match="interval is empty"):
        p.evaluate(p.initial, "math.random(3, 1)")


def test_print_is_captured_first_argument_only_as_aos(tmp_path: Path) -> None:
    p = make(tmp_path, """
    print("loading")
    Handlers.add("p", "P", function() print("hello", "ignored"); print(42); print({ b = 1, a = "x" }); print(nil) end)
    """)
    assert p.load_prints == ("loading",)
    out = run(p, msg("P"))
    assert out.prints == ("hello", "42", '{ a = "x", b = 1 }', "nil")


def test_initialisation_idiom_runs_once_at_load(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Counter = Counter or 0
    Counter = Counter + 1
    Handlers.add("inc", "Inc", function() Counter = Counter + 1 end)
    """)
    assert globals_of(p.initial)["Counter"] == 1
    assert globals_of(run(p, msg("Inc"), msg("Inc", id="m2")).state)["Counter"] == 3


def test_checker_fault_asks_the_hooks(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("mint", "Mint", function(msg)
      if Checker and Checker.fault("mint-fail") then msg.reply({ Action = "Mint-Error" }) return end
      msg.reply({ Action = "Mint-Ok" })
    end)
    """)
    refuse = Faults("mint-fail")
    out = p.deliver(p.initial, msg("Mint"), refuse)
    assert out.sends[0].tags[0] == ("Action", "Mint-Error")
    assert refuse.asked == ["mint-fail"]
    assert p.deliver(p.initial, msg("Mint"), Faults()).sends[0].tags[0] == ("Action", "Mint-Ok")
    assert p.deliver(p.initial, msg("Mint")).sends[0].tags[0] == ("Action", "Mint-Ok")


def test_checker_fault_hook_exceptions_propagate(tmp_path: Path) -> None:
    class Broken:
        def fault(self, name: str) -> bool:
            raise KeyError(name)

    p = make(tmp_path, 'Handlers.add("h", "H", function() Checker.fault("x") end)')
    with pytest.raises(KeyError):
        p.deliver(p.initial, msg("H"), Broken())


def test_require_finds_loaded_files_by_module_name(tmp_path: Path) -> None:
    lib = lua_file(tmp_path, "local M = {}\nfunction M.double(x) return 2 * x end\nreturn M\n", "lib/mathx.lua")
    main = lua_file(tmp_path, 'local m = require("mathx")\nTwice = m.double(21)\nAlso = require("lib.mathx") == m\n', "main.lua")
    p = AoProcess("P", [main, lib])   # main requires mathx before its turn: it runs then, once
    g = globals_of(p.initial)
    assert (g["Twice"], g["Also"]) == (42, True)


def test_require_of_a_file_runs_it_once(tmp_path: Path) -> None:
    lib = lua_file(tmp_path, "Loads = (Loads or 0) + 1\nreturn { v = 1 }\n", "lib.lua")
    main = lua_file(tmp_path, 'require("lib")\nrequire("lib")\n', "main.lua")
    assert globals_of(AoProcess("P", [lib, main]).initial)["Loads"] == 1


def test_require_runtime_modules(tmp_path: Path) -> None:
    p = make(tmp_path, 'OK = require(".utils") == Utils and require("ao") == ao and require(".handlers") == Handlers')
    assert globals_of(p.initial)["OK"] is True


def test_unknown_and_unsupported_modules(tmp_path: Path) -> None:
    with pytest.raises(AoRuntimeError, match=r"unknown module 'nosuch' \(required at .*proc\.lua:1\)"):
        make(tmp_path, 'require("nosuch")')
    with pytest.raises(AoUnsupported, match=r"unsupported: the aos module '\.bint'"):
        make(tmp_path, 'local bint = require(".bint")', name="b.lua")


def test_syntax_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(AoRuntimeError, match=r"proc\.lua:2: .*near"):
        make(tmp_path, "X = 1\nif then\n")


def test_load_time_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(AoRuntimeError, match=r"proc\.lua:2: attempt to index a nil value \(global .Missing.\)"):
        make(tmp_path, "X = 1\nlocal y = Missing.z\n")


def test_unknown_variant_and_pairs_order(tmp_path: Path) -> None:
    f = lua_file(tmp_path, "")
    with pytest.raises(AoRuntimeError, match="known variants: default, require-json, normalized-tags"):
        AoProcess("P", [f], variant="aos1")
    with pytest.raises(AoRuntimeError, match="pairs_order"):
        AoProcess("P", [f], pairs_order="random")


def test_owner_name_and_spawn_tags(tmp_path: Path) -> None:
    p = make(tmp_path, "Got = { ao.id, ao.env.Process.Tags.Name, ao.authorities[1] }", pid="PID",
             owner="wallet", spawn_tags=(("Name", "Coordinator"), ("Authority", "mu")))
    g = globals_of(p.initial)
    assert g["Owner"] == "wallet"
    assert g["Name"] == "Coordinator"
    assert g["Got"] == {1: "PID", 2: "Coordinator", 3: "mu"}


def test_host_access_is_unsupported(tmp_path: Path) -> None:
    for code in ('io.write("x")', "os.clock()", 'os.execute("ls")', 'dofile("x.lua")', "debug.sethook()"):
        with pytest.raises(AoUnsupported):
            make(tmp_path, code)
    p = make(tmp_path, "X = python")
    assert p.evaluate(p.initial, "python") is None


def test_tostring_of_tables_has_no_addresses(tmp_path: Path) -> None:
    p = make(tmp_path, """
    Handlers.add("t", "T", function()
      local t = {}
      S = tostring(t) .. " " .. tostring({}) .. " " .. string.format("%s|%s", t, 5)
    end)
    """)
    a = globals_of(run(p, msg("T")).state)["S"]
    assert a == "table: 0x00000001 table: 0x00000002 table: 0x00000001|5"


def test_load_takes_text_chunks_only(tmp_path: Path) -> None:
    p = make(tmp_path, """
    A = load("return 1 + 1")()
    local ok, err = load(string.dump(function() return 1 end))
    B = ok == nil and err
    C = load("return X", "chunk", "t", { X = 7 })()
    """)
    g = globals_of(p.initial)
    assert g["A"] == 2 and g["C"] == 7
    assert "attempt to load a binary chunk" in g["B"]


def test_python_is_not_reachable(tmp_path: Path) -> None:
    p = make(tmp_path, "Got = { python == nil, package.loaded.python == nil }")
    assert globals_of(p.initial)["Got"] == {1: True, 2: True}


def test_messages_carry_unicode(tmp_path: Path) -> None:
    p = make(tmp_path, 'Handlers.add("e", "Echo", function(msg) Last = msg.Data; msg.reply({ Data = msg.Data }) end)')
    out = p.deliver(p.initial, AoMessage("m", "a", "P", (("Action", "Echo"),), "héllo ✓"))
    assert out.sends[0].data == "héllo ✓"
    assert globals_of(out.state)["Last"] == "héllo ✓"
    raw = b"ok \xff\xc3 \xe2\x82".decode("utf-8", "surrogateescape")   # not UTF-8: kept byte for byte
    out = p.deliver(p.initial, AoMessage("m", "a", "P", (("Action", "Echo"),), raw))
    assert out.sends[0].data == raw
    assert globals_of(out.state)["Last"] == raw
