"""tim3check init: the Lua scan, the drafted manifest (valid, loadable once TODOs are filled), writing it."""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from checker.manifest import ManifestError, load_manifest
from checker.manifest.init_draft import draft_manifest, write_manifest
from checker.manifest.init_flows import Flows, guess_process
from checker.manifest.init_scan import FileScan, scan_repository, scan_source
from checker.manifest.lua_lexer import tokenize
from tests.manifest.helpers import FIXTURES

REPO_ROOT = Path(__file__).resolve().parents[2]
MINI = FIXTURES / "minirepo"


def scan(source: str) -> FileScan:
    return scan_source(source, Path("x.lua"), "x.lua")


# ------------------------------------------------------------------ lexer


def test_lexer_strings_comments_lines() -> None:
    src = (
        "-- comment with Handlers.add('no')\n"
        "--[==[ long\ncomment ]] still ]==]\n"
        "x = [[long\nstring]] .. 'a\\'b\\n' .. \"c\\65\" .. 0x1F .. 3.5e2\n"
        "y = [=[\nkeep ]] this]=] ~= z\n"
    )
    toks = tokenize(src)
    texts = [(t.kind, t.text, t.line) for t in toks]
    assert ("name", "x", 4) in texts
    assert ("string", "long\nstring", 4) in texts
    assert ("string", "a'b\n", 5) in texts
    assert ("string", "cA", 5) in texts
    assert ("number", "0x1F", 5) in texts and ("number", "3.5e2", 5) in texts
    assert ("string", "keep ]] this", 6) in texts  # the newline right after [=[ is not part of it
    assert ("op", "~=", 7) in texts
    assert not any(t.text == "Handlers" for t in toks)


def test_lexer_survives_unterminated_input() -> None:
    assert [t.text for t in tokenize('a = "open\nb = 1')][:3] == ["a", "=", "open"]
    assert tokenize("--[[ never closed") == []
    assert tokenize("x = [[ never closed")[-1].kind == "string"


# ------------------------------------------------------------------ scanner


def test_scan_fixture_repository() -> None:
    r = scan_repository(MINI)
    assert r.root == MINI.resolve()
    assert [f.rel for f in r.files] == ["src/coordinator.lua", "src/state.lua", "src/token.lua", "src/utils.lua"]
    assert r.skipped == ("test/",)
    assert [f.rel for f in r.helper_files] == ["src/utils.lua"]
    coord = r.files[0]
    assert [(h.name, h.line, h.how, h.actions) for h in coord.handlers] == [
        ("Configure", 7, "add", ("Configure",)),
        ("MintTIM3", 14, "add", ("MintTIM3",)),
        ("Mint-Success", 27, "add", ("Mint-Success",)),
        ("Mint-Error", 36, "add", ("Mint-Error",)),
    ]  # the handler in a string and the commented-out one are not there
    configure, mint, success, error = coord.handlers
    assert configure.reads == ("TokenProcess", "StateProcess", "MaxPerUser")
    assert configure.config_sets == (
        ("tokenProcess", "tag:TokenProcess"),
        ("stateProcess", "tag:StateProcess"),
        ("maxPerUser", "tag:MaxPerUser"),
    )
    assert mint.reads == ("From", "Quantity", "Reference")
    assert mint.writes == ("NextId", "Requests")
    (send,) = mint.sends
    assert (send.via, send.target, send.action, send.tags) == (
        "ao.send",
        "Config.tokenProcess",
        "Mint",
        ("Recipient", "Quantity", "Request-Id"),
    )
    assert success.reads == ("Request-Id",)  # read as m.Tags["Request-Id"]: the handler's own parameter
    assert [s.action for s in success.sends] == ["UpdatePosition", "MintTIM3-Response"]
    assert success.sends[0].tags == ("User", "Amount")  # from the nested Tags table
    assert error.pattern.startswith("function(msg)") and error.actions == ("Mint-Error",)
    assert coord.globals[0].name == "Config" and {g.name: g.kind for g in coord.globals}["NextId"] == "number"
    assert coord.config_keys == ("tokenProcess", "stateProcess", "maxPerUser")
    state = r.files[1]
    assert state.requires == ("json",)
    assert state.handlers[0].data_fields == ("coordinator",)
    assert state.handlers[0].config_sets == (("coordinator", "data:coordinator"),)
    assert state.handlers[1].how == "append"
    assert state.handlers[2].sends[0].via == "reply" and state.handlers[2].sends[0].has_data
    assert set(r.handled_actions()) == {
        "Configure", "MintTIM3", "Mint-Success", "Mint-Error", "UpdatePosition", "Positions", "Mint", "Balance",
    }  # fmt: skip


def test_pattern_forms() -> None:
    f = scan("""
Handlers.add("two", function(msg) end)
Handlers.prepend("of", Handlers.utils.hasMatchingTagOf("Action", { "A", "B" }), function(msg) end)
Handlers.once(Handlers.utils.hasMatchingTag("Action", "Once"), function(msg) end)
Handlers.add("tagged", Handlers.utils.hasMatchingTag("Status", "ok"), function(msg) end)
Handlers.add("tbl", { ["Action"] = "T", From = "x" }, function(msg) end)
Handlers.add("fn", function(m) return m.Tags["Action"] == "F" or "G" == m.Action end, function(m) end)
Handlers.add("named", "Named", onNamed)
Handlers.utils.add("not a registration")
""")
    got = {h.name: (h.actions, h.matched_tags) for h in f.handlers}
    assert got["two"] == (("two",), ())
    assert got["of"] == (("A", "B"), ())
    assert got["once@4"] == (("Once",), ())
    assert got["tagged"] == ((), (("Status", "ok"),))
    assert got["tbl"] == (("T",), (("From", "x"),))
    assert got["fn"] == (("F", "G"), ())
    assert got["named"] == (("Named",), ())
    assert len(f.handlers) == 7


def test_named_handler_functions_and_message_variants() -> None:
    f = scan("""
local function onNamed(message)
  local body = Helpers.decodeData(message)
  local ok, cfg = pcall(json.decode, message.Data)
  Ledger[message["Who"]] = body.amount + cfg.extra
  local reply = { Target = message.From, Status = "ok" }
  reply.Action = "Named-Done"
  reply.Extra = "1"
  Send(reply)
  Send({ Target = "LITERAL-ID", Action = "Notice", Data = json.encode({ who = 1, what = 2 }) })
  table.insert(Log, message.Id)
end
Handlers.add("named", "Named", onNamed)
""")
    (h,) = f.handlers
    assert h.reads == ("Data", "Who", "From", "Id")
    assert h.data_fields == ("amount", "extra")
    assert h.writes == ("Ledger", "Log")
    done, notice = h.sends
    assert (done.via, done.action, done.target, done.tags) == (
        "Send",
        "Named-Done",
        "message.From",
        ("Status", "Extra"),
    )
    assert notice.target_literal and notice.target == "LITERAL-ID" and notice.data_fields == ("who", "what")


def test_computed_actions() -> None:
    f = scan(
        'Handlers.add("r", "R", function(msg) ao.send({ Target = msg.From, '
        'Action = op == "mint" and "Minted" or "Burned" }) end)'
    )
    (s,) = f.handlers[0].sends
    assert not s.action_literal and s.possible_actions == ("Minted", "Burned")


def test_duplicate_handler_sets_and_generated_folders(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "src").mkdir()
    code = 'Handlers.add("A", "A", function(msg) end)\n'
    (tmp_path / "build" / "process.lua").write_text(code)
    (tmp_path / "src" / "process.lua").write_text(code)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.lua").write_text(code)
    (tmp_path / "src" / "a_test.lua").write_text(code)
    r = scan_repository(tmp_path)
    assert [f.rel for f in r.files] == ["src/process.lua", "build/process.lua"]
    assert r.duplicates == (("build/process.lua", "src/process.lua"),)
    assert [f.rel for f in r.process_files] == ["src/process.lua"]
    assert r.skipped == ("src/a_test.lua",)


def test_flows_and_guesses() -> None:
    assert guess_process("TokenProcess", ["token", "state"]) == "token"
    assert guess_process("lockManagerProcess", ["lock_manager", "state_manager"]) == "lock_manager"
    assert guess_process("Tim3Token", ["tim3_token", "usda_token"]) == "tim3_token"
    assert guess_process("id", ["token"]) is None
    assert guess_process("Manager", ["lock_manager", "state_manager"]) is None  # ambiguous
    r = scan_repository(MINI)
    names = {"src/coordinator.lua": "coordinator", "src/state.lua": "state", "src/token.lua": "token"}
    flows = Flows([(names[f.rel], f) for f in r.process_files])
    assert flows.senders("token", "Mint") == ["coordinator"]
    assert flows.senders("coordinator", "Mint-Success") == ["token"]  # a reply to whoever sent Mint
    assert flows.senders("coordinator", "MintTIM3") == ["wallets"]
    assert flows.senders("coordinator", "Configure") == ["owner"]
    assert flows.user_facing("coordinator", "MintTIM3") and not flows.user_facing("token", "Mint")
    assert flows.answers() == ("MintTIM3-Response", "Positions-Response", "Balance-Response")


# ------------------------------------------------------------------ the draft


def fill_todos(text: str) -> str:
    return re.sub(r'"TODO[^"]*"', '"1"', text)


def test_draft_of_the_fixture_is_valid_toml_and_loads_once_filled(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(MINI, repo)
    text = draft_manifest(repo)
    data = tomllib.loads(text)
    assert list(data["processes"]) == ["coordinator", "state", "token"]
    assert data["processes"]["state"]["files"] == ["src/utils.lua", "src/state.lua"]
    assert data["boot"][0]["tags"] == {
        "Action": "Configure",
        "TokenProcess": "{id:token}",
        "StateProcess": "{id:state}",
        "MaxPerUser": "TODO",
    }
    assert data["boot"][1]["data"] == {"coordinator": "{id:coordinator}"}
    assert [op["tags"]["Action"] for op in data["wallets"]["operations"]] == ["MintTIM3"]  # queries commented out
    assert data["wallets"]["operations"][0]["tags"]["Quantity"] == "{amount}"
    assert data["wallets"]["answer"]["actions"] == ["MintTIM3-Response"]
    assert data["trust"]["token"] == {"Mint": ["coordinator"], "Balance": ["wallets"]}
    assert data["trust"]["state"]["UpdatePosition"] == ["coordinator"]
    path = repo / "tim3check.toml"
    write_manifest(path, text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert [p.key for p in info.value.problems] == ["boot[0].tags.MaxPerUser"]
    write_manifest(path, fill_todos(text), force=True)
    m = load_manifest(path)
    assert [p.name for p in m.processes] == ["coordinator", "state", "token"]
    assert m.boot[0].tags[1] == ("TokenProcess", "token")
    assert m.properties[0].name == "every-request-answered"


def test_draft_paths_relative_to_another_folder(tmp_path: Path) -> None:
    text = draft_manifest(MINI, manifest_dir=MINI / "src")
    assert 'files = ["utils.lua", "coordinator.lua"]' in text
    text = draft_manifest(MINI, manifest_dir=tmp_path)
    rel = os.path.relpath(MINI / "src" / "utils.lua", tmp_path)
    assert f'"{Path(rel).as_posix()}"' in text


def test_draft_of_a_folder_without_handlers_says_so(tmp_path: Path) -> None:
    (tmp_path / "lib.lua").write_text("X = 1\n")
    text = draft_manifest(tmp_path)
    tomllib.loads(text)
    assert "found no file that registers handlers" in text
    (tmp_path / "tim3check.toml").write_text(text)
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "tim3check.toml")
    assert any("TODO" in p.what for p in info.value.problems)


def _handler_names(root: Path) -> set[str]:
    return {h.name for f in scan_repository(root).process_files for h in f.handlers}


@pytest.mark.parametrize(
    "rel", ["spec/tim3/lua", "tests/fixtures/team_tim3"], ids=["shipped-tim3-lua", "team-tim3-fixture"]
)
def test_draft_of_the_project_repositories(tmp_path: Path, rel: str) -> None:
    """The other Lua in this repository: the draft names every handler and loads once filled."""
    root = REPO_ROOT / rel
    if not any(root.rglob("*.lua")):
        pytest.skip(f"{rel} has no Lua files")
    text = draft_manifest(root, manifest_dir=tmp_path)
    names = _handler_names(root)
    assert len(names) >= 8
    for name in names:
        assert re.search(rf"# handler {re.escape(name)} \(", text), name
    path = tmp_path / "tim3check.toml"
    write_manifest(path, fill_todos(text))
    m = load_manifest(path)
    assert len(m.processes) >= 4
    assert any(b.tags[0] == ("Action", "Configure") for b in m.boot)
    assert m.wallets.operations


def test_team_fixture_draft_details(tmp_path: Path) -> None:
    root = REPO_ROOT / "tests" / "fixtures" / "team_tim3"
    if not (root / "src" / "coordinator.lua").exists():
        pytest.skip("the team fixture is not there")
    data = tomllib.loads(draft_manifest(root, manifest_dir=tmp_path))
    assert set(data["processes"]) == {"coordinator", "lock_manager", "state_manager", "tim3_token", "usda_token"}
    ops = {op["tags"]["Action"] for op in data["wallets"]["operations"]}
    assert {"Mint-TIM3", "Burn-TIM3"} <= ops
    coordinator_boot = next(b for b in data["boot"] if b["target"] == "coordinator")
    assert coordinator_boot["tags"]["LockManager"] == "{id:lock_manager}"
    assert coordinator_boot["tags"]["Tim3Token"] == "{id:tim3_token}"
    assert data["trust"]["state_manager"]["UpdatePosition"] == ["coordinator"]
    assert data["trust"]["coordinator"]["Mint-Success"] == ["tim3_token"]


# ------------------------------------------------------------------ writing


def test_write_manifest_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "tim3check.toml"
    write_manifest(path, "a = 1\n")
    assert path.read_text() == "a = 1\n"
    with pytest.raises(ManifestError) as info:
        write_manifest(path, "a = 2\n")
    assert "already exists" in str(info.value) and "--force" in str(info.value)
    assert path.read_text() == "a = 1\n"
    write_manifest(path, "a = 2\n", force=True)
    assert path.read_text() == "a = 2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tim3check.toml"]  # no temporary file left


def test_write_manifest_into_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="does not exist"):
        write_manifest(tmp_path / "nope" / "tim3check.toml", "a = 1\n")
