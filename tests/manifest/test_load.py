"""load_manifest: a valid manifest resolves to the typed tree; the docs example loads."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from checker.errors import UserError
from checker.manifest import ManifestError, PropertyKind, load_manifest
from checker.manifest.expr import BoolOp, Compare, Name, Unary
from tests.manifest.helpers import BASE, FIXTURES, edit, load_text
from checker.model.spec import PROPERTY_KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "manifest.md"


def test_base_manifest_resolves(tmp_path: Path) -> None:
    m = load_text(tmp_path, BASE)
    assert m.path == (tmp_path / "tim3check.toml").resolve()
    assert m.root == tmp_path.resolve()
    assert m.system.name == "mini" and m.system.aos == "default" and m.system.owner == "owner"
    assert [p.name for p in m.processes] == ["coordinator", "token"]
    assert m.process("token").files == ((tmp_path / "src" / "token.lua").resolve(),)
    assert all(f.is_absolute() for p in m.processes for f in p.files)
    assert m.id_of("token") == "token"
    assert m.wallets.ids == ("user1", "user2") and m.wallets.ops == 1 and m.wallets.wait is True
    assert m.wallets.answer.correlate == "X-Reference" and m.wallets.answer.actions == ()
    (op,) = m.wallets.operations
    assert op.name == "MintTIM3" and op.target_id == "coordinator"
    assert op.tags == (("Action", "MintTIM3"), ("Quantity", "{amount}"))
    assert [d.name for d in op.domains] == ["amount"]
    assert [(i.wallet, i.tags) for i in op.instances] == [
        ("user1", (("Action", "MintTIM3"), ("Quantity", "1"))),
        ("user1", (("Action", "MintTIM3"), ("Quantity", "2"))),
        ("user2", (("Action", "MintTIM3"), ("Quantity", "1"))),
        ("user2", (("Action", "MintTIM3"), ("Quantity", "2"))),
    ]
    assert len(op.for_wallet("user2")) == 2
    (boot,) = m.boot
    assert boot.sender == "owner" and boot.target_id == "coordinator"
    assert boot.tags == (("Action", "Configure"), ("Token", "token"))
    assert [o.chunk for o in m.observables] == ["TotalSupply", "Balances"]
    (prop,) = m.properties
    assert prop.kind is PropertyKind.ALWAYS and prop.source == "supply <= 4"
    assert prop.meaning == "always: supply <= 4"
    assert m.adversary is None and m.trust == () and m.sinks == ()
    assert m.limits.network == "unordered" and m.limits.max_depth is None


def test_manifest_is_frozen(tmp_path: Path) -> None:
    m = load_text(tmp_path, BASE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.system = m.system  # type: ignore[misc]
    assert isinstance(m.processes, tuple) and isinstance(m.boot, tuple)
    hash(m.system)
    hash(m.wallets.operations[0].instances[0])


def test_a_manifest_declares_every_spec_kind_but_progress() -> None:
    # non-progress cycles: a spec-level kind the manifest language has no form for
    from checker.manifest.load_properties import _KINDS

    assert _KINDS == tuple(k.value for k in PROPERTY_KINDS if k != "progress")


def test_manifest_error_is_a_user_error() -> None:
    assert issubclass(ManifestError, UserError)


def test_ids_placeholders_and_each_wallet(tmp_path: Path) -> None:
    text = edit(
        '[processes.token]\nfiles = ["src/token.lua"]',
        '[processes.token]\nfiles = ["src/token.lua"]\nid = "TOKEN-ID"\ntags = { Name = "Token", Admin = "{owner}" }',
    )
    text = edit('name = "mini"', 'name = "mini"\nowner = "boss"', text)
    text = edit(
        "",
        """[[boot]]
target = "token"
each_wallet = true
tags = { Action = "Mint", Recipient = "{wallet}", Quantity = "2", First = "{wallet:1}" }
data = { to = "{wallet}", coordinator = "{id:coordinator}", n = 2 }

[[boot]]
target = "token"
each_wallet = true
from = "wallet"
tags = { Action = "Transfer", Recipient = "{id:coordinator}" }

[[boot]]
target = "token"
from = "user2"
data = '{"raw": {"json": true}}'
tags = { Action = "Note" }""",
        text,
    )
    m = load_text(tmp_path, text)
    assert m.process("token").tags == (("Name", "Token"), ("Admin", "boss"))
    assert m.boot[0].tags == (("Action", "Configure"), ("Token", "TOKEN-ID"))
    mint = [b for b in m.boot if b.entry == 1]
    assert [(b.wallet, b.sender, dict(b.tags)["Recipient"], dict(b.tags)["First"]) for b in mint] == [
        ("user1", "boss", "user1", "user1"),
        ("user2", "boss", "user2", "user1"),
    ]
    assert mint[1].data == '{"to":"user2","coordinator":"coordinator","n":2}'
    transfer = [b for b in m.boot if b.entry == 2]
    assert [b.sender for b in transfer] == ["user1", "user2"]
    assert m.boot[-1].sender == "user2" and m.boot[-1].data == '{"raw": {"json": true}}'
    assert [b.entry for b in m.boot] == [0, 1, 1, 2, 2, 3]


def test_operations_local_domains_ref_answers_and_wallet_ids(tmp_path: Path) -> None:
    text = edit(
        "count = 2\nops = 1",
        'ids = ["alice", "bob"]\nops = 2\nwait = false\n'
        '[wallets.answer]\nactions = ["Done"]\ncorrelate = "Request-Id"',
    )
    text = edit(
        'tags = { Action = "MintTIM3", Quantity = "{amount}" }',
        'tags = { Action = "MintTIM3", Quantity = "{amount}", "Request-Id" = "{ref}", For = "{wallet}" }\n'
        'domains = { amount = ["5"] }\n'
        'data = { memo = "{amount} by {wallet}" }\n\n'
        "[[wallets.operations]]\n"
        'name = "burn"\n'
        'target = "coordinator"\n'
        'tags = { Action = "BurnTIM3", Quantity = "{amount}", Kind = "{kind}", "Request-Id" = "{ref}" }\n'
        'domains = { kind = ["a", "b"] }\n'
        'answers = ["Burned", "Refused"]',
        text,
    )
    m = load_text(tmp_path, text)
    assert m.wallets.ids == ("alice", "bob") and m.wallets.wait is False and m.wallets.ops == 2
    assert m.wallets.answer.correlate == "Request-Id"
    mint, burn = m.wallets.operations
    assert mint.answers == ("Done",) and burn.answers == ("Burned", "Refused")
    assert [i.binding for i in mint.for_wallet("bob")] == [(("amount", "5"),)]
    inst = mint.for_wallet("bob")[0]
    assert dict(inst.tags)["For"] == "bob" and dict(inst.tags)["Request-Id"] == "{ref}"
    assert inst.data == '{"memo":"5 by bob"}'
    tags, data = inst.message("bob-1")
    assert dict(tags)["Request-Id"] == "bob-1" and data == '{"memo":"5 by bob"}'
    # burn uses the global amount domain and its own kind domain: 2 x 2 per wallet
    assert [d.name for d in burn.domains] == ["amount", "kind"]
    assert len(burn.instances) == 2 * 2 * 2
    assert [i.binding for i in burn.for_wallet("alice")] == [
        (("amount", "1"), ("kind", "a")),
        (("amount", "1"), ("kind", "b")),
        (("amount", "2"), ("kind", "a")),
        (("amount", "2"), ("kind", "b")),
    ]


def test_trust_adversary_sinks_limits(tmp_path: Path) -> None:
    text = edit(
        "",
        """[[sinks]]
name = "treasury"
id = "TREASURY"

[trust.coordinator]
Configure = ["owner"]
MintTIM3 = ["wallets", "user1"]
"*" = ["token", "treasury"]

[trust.token]
Anything = ["anyone"]

[adversary]
budget = 2
actions = ["Configure"]
targets = ["coordinator"]

[limits]
max_depth = 40
max_states = 1000
timeout = 30
max_memory_mb = 512
network = "fifo"
faults = ["loss"]
max_faults = 2
""",
    )
    m = load_text(tmp_path, text)
    assert m.sinks[0].id == "TREASURY" and m.id_of("treasury") == "TREASURY"
    rule = m.trust_for("coordinator", "MintTIM3")
    assert rule is not None and rule.sender_ids == frozenset({"user1", "user2"})
    assert rule.trusts("user1") and not rule.trusts("token")
    star = m.trust_for("coordinator", "Mint-Success")
    assert star is not None and star.action == "*" and star.sender_ids == frozenset({"token", "TREASURY"})
    any_rule = m.trust_for("token", "Anything")
    assert any_rule is not None and any_rule.anyone and any_rule.trusts("whoever")
    assert m.trust_for("token", "Other") is None
    adv = m.adversary
    assert adv is not None and adv.id == "adversary" and adv.budget == 2
    assert adv.actions == ("Configure",) and adv.targets == ("coordinator",)
    # tag domains default to the values the operations use
    assert [(d.name, d.values) for d in adv.tags] == [("Quantity", ("1", "2"))]
    lim = m.limits
    assert (lim.max_depth, lim.max_states, lim.timeout, lim.max_memory_mb) == (40, 1000, 30.0, 512)
    assert lim.network == "fifo" and lim.faults == ("loss",) and lim.max_faults == 2


def test_adversary_disabled_and_explicit_tags(tmp_path: Path) -> None:
    m = load_text(tmp_path, edit("", "[adversary]\nenabled = false\nbudget = 3"))
    assert m.adversary is None
    m = load_text(tmp_path, edit("", '[adversary]\nid = "mallory"\n[adversary.tags]\nUser = ["{wallet:2}", 7]'))
    assert m.adversary is not None and m.adversary.id == "mallory"
    assert m.adversary.tags[0].values == ("user2", "7")


def test_properties_every_kind_and_goals(tmp_path: Path) -> None:
    text = edit(
        "",
        """[[properties]]
name = "resp"
kind = "response"
trigger = "delta(supply)"
discharge = "delta(balances)"

[[properties]]
name = "reach"
kind = "sometimes"
meaning = "something happens"
goals = { "minted" = "supply > 0", "answered" = { check = "received('Done', 'Status', 'ok') > 0", required = false } }

[[properties]]
name = "quiet"
kind = "at-quiescence"
check = "quiescent and len(balances) == sum(balances) - 0 or not (1 < 2 < 3)"
expected_to_fail = true
""",
    )
    m = load_text(tmp_path, text)
    resp, reach, quiet = m.properties[1:]
    assert resp.kind is PropertyKind.RESPONSE and resp.source == "delta(supply) ~> delta(balances)"
    assert reach.meaning == "something happens"
    assert [(g.name, g.required) for g in reach.goals] == [("minted", True), ("answered", False)]
    assert quiet.expected_to_fail and isinstance(quiet.check, BoolOp)


def test_templates_expand_to_checks(tmp_path: Path) -> None:
    text = edit(
        "",
        """[[properties]]
name = "pms"
template = "equal-at-quiescence"
left = "sum(balances)"
right = "supply"

[[properties]]
name = "backed"
template = "backed-by"
value = "supply"
backing = "sum(balances) + 1"
meaning = "custom meaning"
""",
    )
    m = load_text(tmp_path, text)
    pms, backed = m.properties[1:]
    assert pms.template == "equal-at-quiescence" and pms.kind is PropertyKind.AT_QUIESCENCE
    assert pms.source == "sum(balances) == supply" and isinstance(pms.check, Compare)
    assert backed.source == "supply <= (sum(balances) + 1) and (not quiescent or supply == (sum(balances) + 1))"
    assert backed.meaning == "custom meaning"
    assert isinstance(backed.check, BoolOp) and isinstance(backed.check.values[1], BoolOp)
    assert backed.check.values[1].values[0] == Unary("not", Name("quiescent"))


def test_observable_blocks_are_compiled_as_written(tmp_path: Path) -> None:
    text = edit(
        'balances = { process = "token", lua = "Balances" }',
        'balances = { process = "token", lua = "Balances" }\n'
        'total = { process = "token", lua = """\nlocal s = 0\nfor _, v in pairs(Balances) do s = s + v end\nreturn s\n""" }',
    )
    m = load_text(tmp_path, text)
    total = m.observable("total")
    assert total.chunk == f"(function()\n{total.lua}\nend)()"
    assert total.meaning == total.lua  # no meaning given: the Lua itself
    import lupa.lua53 as lua53

    rt = lua53.LuaRuntime()
    rt.execute("Balances = { a = 2, b = 3 }")
    assert rt.execute(f"return {total.chunk}") == 5  # evaluable as an expression


def test_minimal_manifest_without_optional_sections(tmp_path: Path) -> None:
    m = load_text(tmp_path, '[system]\nname = "x"\n[processes.a]\nfiles = ["src/token.lua"]\n')
    assert m.wallets.ids == () and m.wallets.operations == () and m.boot == () and m.properties == ()


def _docs_toml() -> str:
    blocks: list[str] = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    return blocks[0]


def test_docs_example_loads(tmp_path: Path) -> None:
    """docs/manifest.md's complete example loads against the layout in fixtures/docs_example."""
    folder = tmp_path / "tim3"
    shutil.copytree(FIXTURES / "docs_example", folder)
    (folder / "tim3check.toml").write_text(_docs_toml(), encoding="utf-8")
    m = load_manifest(folder / "tim3check.toml")
    assert [p.name for p in m.processes] == ["coordinator", "lock", "token", "state", "usda"]
    assert [p.name for p in m.properties] == [
        "update-follows-success",
        "positions-match-supply",
        "positions-match-supply-inflight",
        "positions-match-supply-strict",
        "collateral-backs-supply",
        "every-request-answered",
        "mint-and-burn-reachable",
        "supply-capped",
    ]
    assert [len(p.goals) for p in m.properties if p.kind is PropertyKind.SOMETIMES] == [3]
    assert len(m.boot) == 1 + 1 + 2 + 2
    assert m.adversary is not None and m.trust_for("coordinator", "Mint-Success") is not None
