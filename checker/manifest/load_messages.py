"""The message sections of a manifest: ``[domains]``, ``[wallets]`` (and its operations), ``[[boot]]``.

Each function reads its section from the document ``Table``, records problems through it
(abandoning the section on a problem it cannot step over) and returns resolved values:
boot entries expanded per wallet, operations with every concrete instance listed.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from checker.manifest.cursor import Table, fill, type_name
from checker.manifest.errors import ABORT, did_you_mean
from checker.manifest.names import Names
from checker.manifest.schema import AnswerRule, BootMessage, Domain, Operation, OperationInstance, Tags, Wallets
from checker.manifest.toml_lines import index_key, join_key

_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_RESERVED_HOLES = ("id", "owner", "wallet", "ref")


def load_domains(doc: Table, key: str = "domains") -> tuple[Domain, ...]:
    """``[domains]``: name -> non-empty array of distinct values (strings or integers)."""
    t = doc.table(key, "[domains] amount = [1, 2]", None)
    if t is None:
        return ()
    out: list[Domain] = []
    for name, values in t.data.items():
        d = _domain(t, name, values)
        if d is not None:
            out.append(d)
    return tuple(out)


def _domain(t: Table, name: str, values: object) -> Domain | None:
    key = t.key(name)
    p = t.problems
    if not _VAR.fullmatch(name) or name in _RESERVED_HOLES:
        why = "is a reserved placeholder" if name in _RESERVED_HOLES else "cannot be a placeholder name"
        p.add(key, f"domain name '{name}' {why}", "use letters, digits and '_' (e.g. amount), not id/owner/wallet/ref")
        return None
    if not isinstance(values, list) or not values:
        got = "an empty array" if isinstance(values, list) else type_name(values)
        p.add(key, f"expected a non-empty array of values, got {got}", f"write {name} = [1, 2]")
        return None
    out: list[str] = []
    for i, v in enumerate(values):
        ikey = index_key(key, i)
        if isinstance(v, float):
            p.add(ikey, f"{v!r} is a float", f'write it as the exact tag text, in quotes: "{v}"')
        elif isinstance(v, bool) or not isinstance(v, (str, int)):
            p.add(ikey, f"expected a string or integer, got {type_name(v)}", f'write {name} = [1, 2] or ["a", "b"]')
        elif str(v) in out:
            p.add(ikey, f"value {v!r} is listed twice", "list each value once")
        else:
            out.append(str(v))
    return Domain(name, tuple(out))


def data_text(t: Table, key: str = "data") -> str:
    """A message's ``data``: a string as written, or a table/array sent as compact JSON."""
    if key not in t.data:
        return ""
    value = t.data[key]
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except TypeError:
            raise t.fail(key, "contains a date or time, which has no JSON form", "write it as a string") from None
    raise t.fail(
        key, f"expected a string or a table, got {type_name(value)}", 'write data = "text" or data = { Amount = "1" }'
    )


def _require_action(t: Table, tags: list[tuple[str, str]], example: str) -> None:
    if not any(k == "Action" for k, _ in tags):
        raise t.fail("tags", "no Action tag", f"aos handlers match on it: {example}")


def load_wallets(doc: Table, names: Names, domains: tuple[Domain, ...]) -> Wallets:
    """``[wallets]``: ids (``count`` or ``ids``), ops per wallet, wait, answer rule, operations."""
    t = doc.table("wallets", "[wallets] count = 2", None)
    if t is None:
        return Wallets((), 0, False, AnswerRule((), None), ())
    t.allow(("count", "ids", "ops", "wait", "answer", "operations"), "[wallets]")
    if t.has("count") and t.has("ids"):
        raise t.fail("ids", "both count and ids are given", "keep one: count = 2 (user1, user2) or ids = [...]")
    if t.has("ids"):
        ids = t.strings("ids", 'ids = ["alice", "bob"]')
    else:
        count = t.integer("count", "count = 2", minimum=1)
        ids = [f"user{i}" for i in range(1, count + 1)]
    names.wallets = list(ids)
    ops = t.integer("ops", "ops = 2", 1, minimum=0)
    wait = t.flag("wait", "wait = true", True)
    answer = _answer_rule(t)
    operations: list[Operation] = []
    tables = t.tables("operations", '[[wallets.operations]] target = "coordinator"')
    for i, ot in enumerate(tables):
        try:
            op = _operation(ot, i, names, domains, answer)
        except ABORT:
            continue
        if any(o.name == op.name for o in operations):
            t.problems.add(ot.key("name"), f"two operations are named '{op.name}'", 'give each its own name = "..."')
        operations.append(op)
    if ops > 0 and not tables:
        t.problems.add(
            t.key("ops"),
            f"ops = {ops} but no operation is declared",
            'add [[wallets.operations]] target = "coordinator" tags = { Action = "MintTIM3" }, or set ops = 0',
        )
    return Wallets(tuple(ids), ops, wait, answer, tuple(operations))


def _answer_rule(t: Table) -> AnswerRule:
    at = t.table("answer", '[wallets.answer] actions = ["MintTIM3-Response"]', None)
    if at is None:
        return AnswerRule((), "X-Reference")
    at.allow(("actions", "correlate"), "[wallets.answer]")
    actions = at.strings("actions", 'actions = ["MintTIM3-Response", "BurnTIM3-Response"]', [], nonempty=False)
    correlate = at.text("correlate", 'correlate = "X-Reference"', "X-Reference")
    return AnswerRule(tuple(actions), None if correlate == "none" else correlate)


def _operation(t: Table, index: int, names: Names, globals_: tuple[Domain, ...], rule: AnswerRule) -> Operation:
    t.allow(("name", "target", "tags", "data", "domains", "answers"), "a [[wallets.operations]] entry")
    target = t.text("target", 'target = "coordinator"')
    if target not in names.processes:
        raise t.fail("target", f"'{target}' is not a process", f"{did_you_mean(target, names.processes)}")
    tags = t.tags("tags", 'tags = { Action = "MintTIM3", Amount = "{amount}" }')
    _require_action(t, tags, 'tags = { Action = "MintTIM3" }')
    local = load_domains(t)
    domains = {d.name: d for d in globals_}
    domains.update({d.name: d for d in local})
    data = data_text(t)
    used: list[str] = []
    for k, v in tags:
        for var in names.check_holes(
            t.problems, join_key(t.key("tags"), k), v, wallet_ok=True, variables=domains, ref_ok=True
        ):
            if var not in used:
                used.append(var)
    for var in names.check_holes(t.problems, t.key("data"), data, wallet_ok=True, variables=domains, ref_ok=True):
        if var not in used:
            used.append(var)
    for d in local:
        if d.name not in used:
            t.problems.add(
                join_key(t.key("domains"), d.name),
                f"domain '{d.name}' is not used by this operation",
                f"use {{{d.name}}} in a tag or in data, or remove it",
            )
    if rule.correlate not in (None, "X-Reference") and not any(k == rule.correlate for k, _ in tags):
        t.problems.add(
            t.key("tags"),
            f"wallets.answer.correlate is '{rule.correlate}' but this operation has no such tag",
            f'add {rule.correlate} = "{{ref}}" so its answer can be matched to it',
        )
    action = dict(tags)["Action"]
    name = t.text("name", 'name = "mint"', action if "{" not in action else f"op{index}")
    answers = t.strings("answers", 'answers = ["MintTIM3-Response"]', list(rule.actions), nonempty=False)
    target_id = names.processes[target]
    static_tags = tuple((k, fill(v, names.static_value)) for k, v in tags)
    static_data = fill(data, names.static_value)
    instances = _instances(name, names.wallets, target_id, static_tags, static_data, [domains[v] for v in used])
    return Operation(
        name=name,
        target=target,
        target_id=target_id,
        tags=static_tags,
        data=static_data,
        domains=tuple(domains[v] for v in used),
        answers=tuple(answers),
        instances=instances,
    )


def _instances(
    name: str, wallets: list[str], target_id: str, tags: Tags, data: str, domains: list[Domain]
) -> tuple[OperationInstance, ...]:
    out: list[OperationInstance] = []
    for wallet in wallets:
        for combo in itertools.product(*(d.values for d in domains)):
            binding = tuple(zip((d.name for d in domains), combo))
            values = dict(binding)

            def resolve(
                hole: str, arg: str | None, values: dict[str, str] = values, wallet: str = wallet
            ) -> str | None:
                if arg is None and hole == "wallet":
                    return wallet
                return values.get(hole) if arg is None else None

            out.append(
                OperationInstance(
                    operation=name,
                    wallet=wallet,
                    binding=binding,
                    target_id=target_id,
                    tags=tuple((k, fill(v, resolve)) for k, v in tags),
                    data=fill(data, resolve),
                )
            )
    return tuple(out)


def load_boot(doc: Table, names: Names) -> tuple[BootMessage, ...]:
    """``[[boot]]``: the ordered set-up messages, expanded per wallet where ``each_wallet``."""
    out: list[BootMessage] = []
    for i, t in enumerate(doc.tables("boot", '[[boot]] target = "coordinator"')):
        try:
            out.extend(_boot_entry(t, i, names))
        except ABORT:
            continue
    return tuple(out)


def _boot_entry(t: Table, index: int, names: Names) -> list[BootMessage]:
    t.allow(("target", "tags", "data", "each_wallet", "from"), "a [[boot]] entry")
    target = t.text("target", 'target = "coordinator"')
    if target not in names.processes:
        raise t.fail("target", f"'{target}' is not a process", did_you_mean(target, names.processes))
    tags = t.tags("tags", 'tags = { Action = "Configure", LockManager = "{id:lock}" }')
    _require_action(t, tags, 'tags = { Action = "Configure" }')
    each = t.flag("each_wallet", "each_wallet = true", False)
    sender_word: Any = t.text("from", 'from = "owner"', "owner")
    if sender_word == "wallet" and not each:
        raise t.fail(
            "from", 'from = "wallet" needs each_wallet = true', 'add each_wallet = true or write from = "owner"'
        )
    if sender_word not in ("owner", "wallet") and sender_word not in names.wallets:
        raise t.fail(
            "from",
            f"unknown sender '{sender_word}'",
            f"{did_you_mean(sender_word, ['owner', 'wallet', *names.wallets])} (owner, wallet or a wallet id)",
        )
    if each and not names.wallets:
        raise t.fail("each_wallet", "each_wallet = true but there are no wallets", "declare [wallets] count = 2")
    data = data_text(t)
    for k, v in tags:
        names.check_holes(t.problems, join_key(t.key("tags"), k), v, wallet_ok=each)
    names.check_holes(t.problems, t.key("data"), data, wallet_ok=each)
    out: list[BootMessage] = []
    for wallet in names.wallets if each else [None]:

        def resolve(hole: str, arg: str | None, wallet: str | None = wallet) -> str | None:
            if hole == "wallet" and arg is None:
                return wallet
            return names.static_value(hole, arg)

        sender = names.owner if sender_word == "owner" else wallet if sender_word == "wallet" else sender_word
        assert sender is not None
        out.append(
            BootMessage(
                entry=index,
                target=target,
                target_id=names.processes[target],
                sender=str(sender),
                tags=tuple((k, fill(v, resolve)) for k, v in tags),
                data=fill(data, resolve),
                wallet=wallet,
            )
        )
    return out
