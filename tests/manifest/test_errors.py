"""Every mistake the loader knows: the key path, the line, what is wrong and the fix.

Each case edits the valid BASE manifest (tests/manifest/helpers.py) in one place and pins
the first problem reported: its key path, a piece of its message and of its fix.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checker.manifest import ManifestError, load_manifest
from tests.manifest.helpers import BASE, edit, problems_of, write_repo

OP_TAGS = 'tags = { Action = "MintTIM3", Quantity = "{amount}" }'
BOOT_TAGS = 'tags = { Action = "Configure", Token = "{id:token}" }'
SUPPLY = 'supply = { process = "token", lua = "TotalSupply" }'
CHECK = 'kind = "always"\ncheck = "supply <= 4"'
TOKEN = '[processes.token]\nfiles = ["src/token.lua"]'

# (id, old text, new text, key path, in the message, in the fix)
CASES = [
    # the document
    (
        "unknown-section",
        "",
        "[proceses.x]\nfiles = []",
        "proceses",
        "unknown key 'proceses'",
        "did you mean 'processes'?",
    ),
    (
        "todo-left",
        'Token = "{id:token}"',
        'Token = "TODO"',
        "boot[0].tags.Token",
        "still says 'TODO'",
        "replace it with the real value",
    ),
    # [system]
    ("no-system", '[system]\nname = "mini"', "", "system", "missing key 'system'", '[system] name = "tim3"'),
    (
        "system-not-table",
        '[system]\nname = "mini"',
        'system = "mini"',
        "system",
        "expected a table, got a string",
        "[system]",
    ),
    ("no-name", 'name = "mini"', 'aos = "default"', "system.name", "missing key 'name'", "add it to [system]"),
    ("name-not-string", 'name = "mini"', "name = 3", "system.name", "expected a string, got an integer", "in quotes"),
    ("empty-name", 'name = "mini"', 'name = "  "', "system.name", "is empty", 'name = "tim3"'),
    (
        "bad-aos",
        'name = "mini"',
        'name = "mini"\naos = "require_json"',
        "system.aos",
        "unknown aos variant",
        "did you mean 'require-json'?",
    ),
    (
        "system-unknown-key",
        'name = "mini"',
        'name = "mini"\nowners = "x"',
        "system.owners",
        "unknown key 'owners'",
        "did you mean 'owner'?",
    ),
    # [processes]
    (
        "no-processes",
        '[processes.coordinator]\nfiles = ["src/coordinator.lua"]\n\n' + TOKEN,
        "",
        "processes",
        "missing key 'processes'",
        "[processes.coordinator]",
    ),
    (
        "bad-process-name",
        "[processes.token]",
        '[processes."my token"]',
        'processes."my token"',
        "not a usable process name",
        "letters, digits",
    ),
    (
        "process-not-table",
        TOKEN,
        '[processes]\ntoken = "src/token.lua"',
        "processes.token",
        "expected a table, got a string",
        "files = ",
    ),
    (
        "process-unknown-key",
        'files = ["src/token.lua"]',
        'file = ["src/token.lua"]',
        "processes.token.file",
        "unknown key 'file'",
        "did you mean 'files'?",
    ),
    (
        "no-files",
        'files = ["src/token.lua"]',
        'id = "t"',
        "processes.token.files",
        "missing key 'files'",
        'files = ["src/token.lua"]',
    ),
    (
        "files-string",
        'files = ["src/token.lua"]',
        'files = "src/token.lua"',
        "processes.token.files",
        "got a string",
        "in brackets",
    ),
    ("files-empty", 'files = ["src/token.lua"]', "files = []", "processes.token.files", "is empty", "files = "),
    (
        "files-number",
        'files = ["src/token.lua"]',
        "files = [1]",
        "processes.token.files[0]",
        "expected a non-empty string",
        "files = ",
    ),
    (
        "file-missing",
        'files = ["src/token.lua"]',
        'files = ["src/token.lua", "src/coord.lua"]',
        "processes.token.files[1]",
        "file src/coord.lua does not exist",
        "paths are relative to the manifest's folder",
    ),
    (
        "file-is-dir",
        'files = ["src/token.lua"]',
        'files = ["src"]',
        "processes.token.files[0]",
        "src is not a file",
        "Lua files",
    ),
    (
        "file-twice",
        'files = ["src/token.lua"]',
        'files = ["src/token.lua", "src/token.lua"]',
        "processes.token.files[1]",
        "listed twice",
        "list it once",
    ),
    (
        "id-not-string",
        'files = ["src/token.lua"]',
        'files = ["src/token.lua"]\nid = 7',
        "processes.token.id",
        "expected a string",
        "in quotes",
    ),
    (
        "spawn-tag-number",
        'files = ["src/token.lua"]',
        'files = ["src/token.lua"]\ntags = { Supply = 3 }',
        "processes.token.tags.Supply",
        "tag values are strings in AO, got an integer",
        'Supply = "3"',
    ),
    (
        "spawn-tag-bool",
        'files = ["src/token.lua"]',
        'files = ["src/token.lua"]\ntags = { On = true }',
        "processes.token.tags.On",
        "got a boolean",
        'On = "true"',
    ),
    (
        "spawn-tag-hole",
        'files = ["src/token.lua"]',
        'files = ["src/token.lua"]\ntags = { Peer = "{id:coordinater}" }',
        "processes.token.tags.Peer",
        "unknown placeholder '{id:coordinater}'",
        "did you mean 'coordinator'?",
    ),
    (
        "spawn-tag-wallet",
        'files = ["src/token.lua"]',
        'files = ["src/token.lua"]\ntags = { U = "{wallet}" }',
        "processes.token.tags.U",
        "unknown placeholder '{wallet}'",
        "{wallet:1}",
    ),
    # [[sinks]]
    ("sinks-table", "", '[sinks]\nname = "t"', "sinks", "got a single table", "[[sinks]]"),
    ("sink-no-name", "", '[[sinks]]\nid = "T"', "sinks[0].name", "missing key 'name'", 'name = "treasury"'),
    ("sink-bad-name", "", '[[sinks]]\nname = "a b"', "sinks[0].name", "not a usable sink name", "letters"),
    ("sink-name-taken", "", '[[sinks]]\nname = "token"', "sinks[0].name", "already taken", "another name"),
    (
        "sink-unknown-key",
        "",
        '[[sinks]]\nname = "t"\nids = "T"',
        "sinks[0].ids",
        "unknown key 'ids'",
        "did you mean 'id'?",
    ),
    # ids
    (
        "id-collision",
        'files = ["src/token.lua"]',
        'files = ["src/token.lua"]\nid = "user1"',
        "wallets.ids[0]",
        "id 'user1' of wallet user1 is already the id of process token",
        "its own id",
    ),
    (
        "owner-collision",
        'name = "mini"',
        'name = "mini"\nowner = "token"',
        "processes.token.id",
        "already the id of the owner",
        "its own id",
    ),
    # [domains]
    (
        "domain-reserved",
        "amount = [1, 2]",
        "amount = [1, 2]\nwallet = [1]",
        "domains.wallet",
        "reserved placeholder",
        "not id/owner/wallet/ref",
    ),
    ("domain-empty", "amount = [1, 2]", "amount = []", "domains.amount", "got an empty array", "amount = [1, 2]"),
    ("domain-not-list", "amount = [1, 2]", "amount = 1", "domains.amount", "got an integer", "amount = [1, 2]"),
    ("domain-float", "amount = [1, 2]", "amount = [1, 2.5]", "domains.amount[1]", "2.5 is a float", '"2.5"'),
    ("domain-bool", "amount = [1, 2]", "amount = [1, true]", "domains.amount[1]", "got a boolean", "amount = [1, 2]"),
    ("domain-dup", "amount = [1, 2]", 'amount = [1, "1"]', "domains.amount[1]", "listed twice", "once"),
    # [wallets]
    ("count-and-ids", "count = 2", 'count = 2\nids = ["a"]', "wallets.ids", "both count and ids", "keep one"),
    ("count-zero", "count = 2", "count = 0", "wallets.count", "must be at least 1", "count = 2"),
    ("count-string", "count = 2", 'count = "2"', "wallets.count", "expected an integer, got a string", "count = 2"),
    ("ids-dup", "count = 2", 'ids = ["a", "a"]', "wallets.ids[1]", "listed twice", "once"),
    ("ops-negative", "ops = 1", "ops = -1", "wallets.ops", "must be at least 0", "ops = 2"),
    (
        "wait-string",
        "ops = 1",
        'ops = 1\nwait = "yes"',
        "wallets.wait",
        "expected true or false, got a string",
        "no quotes",
    ),
    (
        "ops-without-operations",
        '[[wallets.operations]]\ntarget = "coordinator"\n' + OP_TAGS,
        "",
        "wallets.ops",
        "ops = 1 but no operation is declared",
        "ops = 0",
    ),
    (
        "wallets-unknown-key",
        "ops = 1",
        "ops = 1\nopps = 2",
        "wallets.opps",
        "unknown key 'opps'",
        "did you mean 'ops'?",
    ),
    (
        "answer-unknown-key",
        "ops = 1",
        "ops = 1\nanswer = { action = [] }",
        "wallets.answer.action",
        "unknown key 'action'",
        "did you mean 'actions'?",
    ),
    (
        "op-unknown-key",
        OP_TAGS,
        OP_TAGS + '\ntarget_id = "x"',
        "wallets.operations[0].target_id",
        "unknown key 'target_id'",
        "did you mean 'target'?",
    ),
    (
        "op-target",
        'target = "coordinator"\n' + OP_TAGS,
        'target = "coordinater"\n' + OP_TAGS,
        "wallets.operations[0].target",
        "'coordinater' is not a process",
        "did you mean 'coordinator'?",
    ),
    ("op-no-tags", OP_TAGS, "", "wallets.operations[0].tags", "missing key 'tags'", "Action"),
    (
        "op-no-action",
        OP_TAGS,
        'tags = { Quantity = "{amount}" }',
        "wallets.operations[0].tags",
        "no Action tag",
        "aos handlers match on it",
    ),
    (
        "op-tag-number",
        OP_TAGS,
        'tags = { Action = "MintTIM3", Quantity = 1 }',
        "wallets.operations[0].tags.Quantity",
        "tag values are strings",
        'Quantity = "1"',
    ),
    (
        "op-bad-hole",
        OP_TAGS,
        'tags = { Action = "MintTIM3", Quantity = "{amout}" }',
        "wallets.operations[0].tags.Quantity",
        "unknown placeholder '{amout}'",
        "did you mean '{amount}'?",
    ),
    (
        "op-wallet-range",
        OP_TAGS,
        'tags = { Action = "MintTIM3", To = "{wallet:3}" }',
        "wallets.operations[0].tags.To",
        "unknown placeholder '{wallet:3}'",
        "numbered 1..2",
    ),
    (
        "op-unused-domain",
        OP_TAGS,
        OP_TAGS + '\ndomains = { size = ["1"] }',
        "wallets.operations[0].domains.size",
        "not used by this operation",
        "use {size}",
    ),
    (
        "op-data-type",
        OP_TAGS,
        OP_TAGS + "\ndata = 3",
        "wallets.operations[0].data",
        "expected a string or a table, got an integer",
        "data = ",
    ),
    (
        "op-data-date",
        OP_TAGS,
        OP_TAGS + "\ndata = { when = 1979-05-27 }",
        "wallets.operations[0].data",
        "date or time",
        "as a string",
    ),
    (
        "op-data-hole",
        OP_TAGS,
        OP_TAGS + '\ndata = "{amount} of {what}"',
        "wallets.operations[0].data",
        "unknown placeholder '{what}'",
        "[domains]",
    ),
    (
        "correlate-tag-missing",
        "ops = 1",
        'ops = 1\nanswer = { correlate = "Request-Id" }',
        "wallets.operations[0].tags",
        "no such tag",
        'Request-Id = "{ref}"',
    ),
    (
        "op-dup-name",
        OP_TAGS,
        OP_TAGS + '\n[[wallets.operations]]\ntarget = "token"\ntags = { Action = "MintTIM3" }',
        "wallets.operations[1].name",
        "two operations are named 'MintTIM3'",
        "its own name",
    ),
    # [[boot]]
    (
        "boot-target",
        'target = "coordinator"\n' + BOOT_TAGS,
        'target = "tokens"\n' + BOOT_TAGS,
        "boot[0].target",
        "'tokens' is not a process",
        "did you mean 'token'?",
    ),
    (
        "boot-no-target",
        'target = "coordinator"\n' + BOOT_TAGS,
        BOOT_TAGS,
        "boot[0].target",
        "missing key 'target'",
        'add it to boot[0]: target = "coordinator"',
    ),
    ("boot-no-action", BOOT_TAGS, 'tags = { Token = "{id:token}" }', "boot[0].tags", "no Action tag", "Configure"),
    (
        "boot-bad-id",
        BOOT_TAGS,
        'tags = { Action = "Configure", Token = "{id:tokn}" }',
        "boot[0].tags.Token",
        "unknown placeholder '{id:tokn}'",
        "did you mean 'token'?",
    ),
    (
        "boot-id-no-arg",
        BOOT_TAGS,
        'tags = { Action = "Configure", Token = "{id}" }',
        "boot[0].tags.Token",
        "unknown placeholder '{id}'",
        "{id:NAME}",
    ),
    (
        "boot-wallet",
        BOOT_TAGS,
        'tags = { Action = "Configure", U = "{wallet}" }',
        "boot[0].tags.U",
        "unknown placeholder '{wallet}'",
        "each_wallet = true",
    ),
    (
        "boot-owner-arg",
        BOOT_TAGS,
        'tags = { Action = "Configure", U = "{owner:1}" }',
        "boot[0].tags.U",
        "unknown placeholder '{owner:1}'",
        "write {owner}",
    ),
    (
        "boot-unknown-hole",
        BOOT_TAGS,
        'tags = { Action = "Configure", U = "{amount}" }',
        "boot[0].tags.U",
        "unknown placeholder '{amount}'",
        "(placeholders here: {id:NAME}, {owner}, {wallet:N})",
    ),
    (
        "boot-from-wallet",
        BOOT_TAGS,
        BOOT_TAGS + '\nfrom = "wallet"',
        "boot[0].from",
        "needs each_wallet = true",
        "each_wallet = true",
    ),
    (
        "boot-from-unknown",
        BOOT_TAGS,
        BOOT_TAGS + '\nfrom = "ownr"',
        "boot[0].from",
        "unknown sender 'ownr'",
        "did you mean 'owner'?",
    ),
    (
        "boot-each-not-bool",
        BOOT_TAGS,
        BOOT_TAGS + "\neach_wallet = 1",
        "boot[0].each_wallet",
        "expected true or false",
        "each_wallet = true",
    ),
    (
        "boot-unknown-key",
        BOOT_TAGS,
        BOOT_TAGS + '\nsender = "owner"',
        "boot[0].sender",
        "unknown key 'sender'",
        "allowed: target, tags, data, each_wallet, from",
    ),
    (
        "boot-as-table",
        '[[boot]]\ntarget = "coordinator"\n' + BOOT_TAGS,
        '[boot]\ntarget = "coordinator"\n' + BOOT_TAGS,
        "boot",
        "got a single table",
        "[[boot]]",
    ),
    # [observables]
    (
        "obs-bad-name",
        SUPPLY,
        '"total-supply" = { process = "token", lua = "TotalSupply" }',
        "observables.total-supply",
        "cannot be used in expressions",
        "letters, digits and '_'",
    ),
    (
        "obs-reserved",
        SUPPLY,
        'quiescent = { process = "token", lua = "TotalSupply" }',
        "observables.quiescent",
        "builtin name",
        "another name",
    ),
    (
        "obs-not-table",
        SUPPLY,
        'supply = "TotalSupply"',
        "observables.supply",
        "expected a table, got a string",
        'process = "token"',
    ),
    (
        "obs-process",
        SUPPLY,
        'supply = { process = "tokn", lua = "TotalSupply" }',
        "observables.supply.process",
        "'tokn' is not a process",
        "did you mean 'token'?",
    ),
    (
        "obs-no-lua",
        SUPPLY,
        'supply = { process = "token" }',
        "observables.supply.lua",
        "missing key 'lua'",
        "tonumber(TotalSupply)",
    ),
    (
        "obs-lua-syntax",
        SUPPLY,
        'supply = { process = "token", lua = "TotalSupply +" }',
        "observables.supply.lua",
        "not valid Lua",
        "an expression",
    ),
    (
        "obs-lua-block",
        SUPPLY,
        'supply = { process = "token", lua = "local x = 1 return x +" }',
        "observables.supply.lua",
        "not valid Lua",
        "'return ...'",
    ),
    (
        "obs-unknown-key",
        SUPPLY,
        'supply = { process = "token", lua = "TotalSupply", meanin = "x" }',
        "observables.supply.meanin",
        "unknown key 'meanin'",
        "did you mean 'meaning'?",
    ),
    # [[properties]]
    (
        "prop-no-name",
        'name = "capped"\n',
        "",
        "properties[0].name",
        "missing key 'name'",
        'name = "positions-match-supply"',
    ),
    ("prop-no-kind", CHECK, 'check = "supply <= 4"', "properties[0].kind", "missing key 'kind'", "template"),
    (
        "prop-bad-kind",
        CHECK,
        'kind = "allways"\ncheck = "supply <= 4"',
        "properties[0].kind",
        "unknown kind 'allways'",
        "did you mean 'always'?",
    ),
    (
        # finding and step properties are made by the engines, never declared
        "prop-engine-kind",
        CHECK,
        'kind = "finding"\ncheck = "supply <= 4"',
        "properties[0].kind",
        "unknown kind 'finding'",
        "kinds: always, at-quiescence, response, sometimes",
    ),
    (
        "prop-wrong-key",
        CHECK,
        CHECK + '\ntrigger = "delta(supply)"',
        "properties[0].trigger",
        "unknown key 'trigger' in an always property",
        "allowed: name, meaning, expected_to_fail, kind, check",
    ),
    ("prop-no-check", CHECK, 'kind = "always"', "properties[0].check", "missing key 'check'", "supply <= locked"),
    (
        "expr-syntax",
        CHECK,
        'kind = "always"\ncheck = "supply <="',
        "properties[0].check",
        "not a valid expression",
        "the language allows",
    ),
    (
        "expr-single-equals",
        CHECK,
        'kind = "always"\ncheck = "supply = 4"',
        "properties[0].check",
        "not a valid expression",
        "use '==' to compare",
    ),
    (
        "expr-lua-neq",
        CHECK,
        'kind = "always"\ncheck = "supply ~= 4"',
        "properties[0].check",
        "'~=' is not an operator here",
        "write '!='",
    ),
    (
        "expr-unknown-name",
        CHECK,
        'kind = "always"\ncheck = "suply <= 4"',
        "properties[0].check",
        "unknown name 'suply'",
        "did you mean 'supply'?",
    ),
    (
        "expr-unknown-func",
        CHECK,
        'kind = "always"\ncheck = "summ(balances) <= 4"',
        "properties[0].check",
        "unknown function 'summ'",
        "did you mean 'sum'?",
    ),
    (
        "expr-attribute",
        CHECK,
        'kind = "always"\ncheck = "balances.user1 <= 4"',
        "properties[0].check",
        "attribute access",
        "compute it in an observable's Lua",
    ),
    (
        "expr-subscript",
        CHECK,
        'kind = "always"\ncheck = "balances[\'u\'] <= 4"',
        "properties[0].check",
        "indexing",
        "observable's Lua",
    ),
    (
        "expr-division",
        CHECK,
        'kind = "always"\ncheck = "supply / 2 <= 4"',
        "properties[0].check",
        "the operator '/' is not allowed",
        "only + - *",
    ),
    (
        "expr-lambda",
        CHECK,
        'kind = "always"\ncheck = "(lambda: 1)() == 1"',
        "properties[0].check",
        "only named functions can be called",
        "call one of",
    ),
    (
        "expr-not-bool",
        CHECK,
        'kind = "always"\ncheck = "supply + 1"',
        "properties[0].check",
        "is a number, not true/false",
        "compare it",
    ),
    (
        "expr-bad-operands",
        CHECK,
        'kind = "always"\ncheck = "supply and 1"',
        "properties[0].check",
        "'and' needs true/false operands",
        "!= 0",
    ),
    (
        "expr-delta-not-response",
        CHECK,
        'kind = "always"\ncheck = "delta(supply) == 0"',
        "properties[0].check",
        "delta() is only meaningful",
        "response",
    ),
    (
        "expr-arity",
        CHECK,
        'kind = "always"\ncheck = "sum(balances, supply) == 0"',
        "properties[0].check",
        "sum() takes 1 argument, got 2",
        "sum(positions)",
    ),
    (
        "expr-received-arg",
        CHECK,
        'kind = "always"\ncheck = "received(supply) == 0"',
        "properties[0].check",
        "takes string literals",
        "received(",
    ),
    (
        "response-no-discharge",
        CHECK,
        'kind = "response"\ntrigger = "delta(supply)"',
        "properties[0].discharge",
        "missing key 'discharge'",
        "delta(positions_total)",
    ),
    (
        "delta-of-expression",
        CHECK,
        'kind = "response"\ntrigger = "delta(supply + 1)"\ndischarge = "1"',
        "properties[0].trigger",
        "delta() takes the name of an observable",
        "delta(supply)",
    ),
    ("goals-missing", CHECK, 'kind = "sometimes"', "properties[0].goals", "missing key 'goals'", "goals = "),
    ("goals-empty", CHECK, 'kind = "sometimes"\ngoals = {}', "properties[0].goals", "no goals", "add one"),
    (
        "goal-type",
        CHECK,
        'kind = "sometimes"\ngoals = { g = 1 }',
        "properties[0].goals.g",
        "a goal is an expression string",
        '"g" = "supply > 0"',
    ),
    (
        "goal-unknown-key",
        CHECK,
        'kind = "sometimes"\ngoals = { g = { check = "supply > 0", requird = false } }',
        "properties[0].goals.g.requird",
        "unknown key 'requird'",
        "did you mean 'required'?",
    ),
    (
        "template-unknown",
        CHECK,
        'template = "equal-at-quiesence"',
        "properties[0].template",
        "unknown template",
        "did you mean 'equal-at-quiescence'?",
    ),
    (
        "template-with-kind",
        CHECK,
        'template = "backed-by"\nkind = "always"\nvalue = "supply"\nbacking = "supply"',
        "properties[0].kind",
        "fixes the kind (always)",
        "remove kind",
    ),
    (
        "template-with-check",
        CHECK,
        'template = "backed-by"\ncheck = "supply > 0"',
        "properties[0].check",
        "writes the check itself",
        "remove check",
    ),
    (
        "template-missing-arg",
        CHECK,
        'template = "backed-by"\nvalue = "supply"',
        "properties[0].backing",
        "missing key 'backing'",
        "e.g. locked",
    ),
    (
        "template-unknown-arg",
        CHECK,
        'template = "backed-by"\nvalue = "supply"\nbacking = "supply"\nleft = "x"',
        "properties[0].left",
        "(its arguments: value, backing)",
        "remove it (allowed: name",
    ),
    (
        "template-bad-expr",
        CHECK,
        'template = "backed-by"\nvalue = "suply"\nbacking = "supply"',
        "properties[0].value",
        "unknown name 'suply'",
        "did you mean 'supply'?",
    ),
    (
        "template-observable",
        CHECK,
        'template = "change-followed-by"\ncause = "supply"\neffect = "sum(balances)"',
        "properties[0].effect",
        "'sum(balances)' is not an observable",
        "[observables]",
    ),
    (
        "template-answer",
        CHECK,
        'template = "mint-and-burn-reachable"\nmint = "Minted Status"\nburn = "Burned"',
        "properties[0].mint",
        "one Tag=Value",
        "MintTIM3-Response Status=success",
    ),
    (
        "template-action",
        CHECK,
        'template = "equal-counting-in-flight"\nleft = "supply"\nright = "supply"\naction = "Update Position"\ntag = "Amount"',
        "properties[0].action",
        "not a plain action name",
        "action name alone",
    ),
    (
        "prop-dup-name",
        "",
        '[[properties]]\nname = "capped"\nkind = "always"\ncheck = "supply <= 5"',
        "properties[1].name",
        "two properties are named 'capped'",
        "its own name",
    ),
    (
        "expected-not-bool",
        CHECK,
        CHECK + '\nexpected_to_fail = "yes"',
        "properties[0].expected_to_fail",
        "expected true or false",
        "expected_to_fail = true",
    ),
    # [trust]
    (
        "trust-process",
        "",
        '[trust.coordinatr]\nConfigure = ["owner"]',
        "trust.coordinatr",
        "'coordinatr' is not a process",
        "did you mean 'coordinator'?",
    ),
    (
        "trust-sender",
        "",
        '[trust.coordinator]\nConfigure = ["ownr"]',
        "trust.coordinator.Configure[0]",
        "unknown sender 'ownr'",
        "did you mean 'owner'?",
    ),
    (
        "trust-not-list",
        "",
        '[trust.coordinator]\nConfigure = "owner"',
        "trust.coordinator.Configure",
        "got a string",
        "in brackets",
    ),
    (
        "trust-process-not-table",
        "",
        '[trust]\ncoordinator = "owner"',
        "trust.coordinator",
        "expected a table, got a string",
        "Configure",
    ),
    # [adversary]
    ("adversary-budget", "", "[adversary]\nbudget = 0", "adversary.budget", "must be at least 1", "budget = 1"),
    (
        "adversary-target",
        "",
        '[adversary]\ntargets = ["tokn"]',
        "adversary.targets[0]",
        "'tokn' is not a process",
        "did you mean 'token'?",
    ),
    (
        "adversary-tag-values",
        "",
        "[adversary]\ntags = { Quantity = 1 }",
        "adversary.tags.Quantity",
        "non-empty array",
        'Quantity = ["1"',
    ),
    (
        "adversary-tag-value-type",
        "",
        "[adversary]\ntags = { Quantity = [1.5] }",
        "adversary.tags.Quantity[0]",
        "expected a string or integer, got a float",
        '"{wallet:1}"',
    ),
    (
        "adversary-tag-hole",
        "",
        '[adversary]\ntags = { User = ["{wallet:9}"] }',
        "adversary.tags.User[0]",
        "unknown placeholder '{wallet:9}'",
        "numbered 1..2",
    ),
    (
        "adversary-unknown-key",
        "",
        "[adversary]\nbudgett = 1",
        "adversary.budgett",
        "unknown key 'budgett'",
        "did you mean 'budget'?",
    ),
    (
        "adversary-id-collision",
        "",
        '[adversary]\nid = "token"',
        "adversary.id",
        "already the id of process token",
        "its own id",
    ),
    # [limits]
    (
        "limits-network",
        "",
        '[limits]\nnetwork = "fifo-ish"',
        "limits.network",
        "unknown network 'fifo-ish'",
        "did you mean 'fifo'?",
    ),
    (
        "limits-fault",
        "",
        '[limits]\nfaults = ["los"]',
        "limits.faults[0]",
        "unknown fault 'los'",
        "did you mean 'loss'?",
    ),
    ("limits-depth", "", "[limits]\nmax_depth = 0", "limits.max_depth", "must be at least 1", "max_depth = 40"),
    ("limits-timeout", "", "[limits]\ntimeout = -5", "limits.timeout", "expected a positive number", "timeout = 600"),
    (
        "limits-unknown-key",
        "",
        "[limits]\nmax_dept = 3",
        "limits.max_dept",
        "unknown key 'max_dept'",
        "did you mean 'max_depth'?",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "what", "fix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_is_reported_at_its_key(tmp_path: Path, old: str, new: str, key: str, what: str, fix: str) -> None:
    problems = problems_of(tmp_path, edit(old, new))
    first = problems[0]
    assert first.key == key, [str(p) for p in problems]
    assert what in first.what, str(first)
    assert fix in first.fix, str(first)
    assert first.file.endswith("tim3check.toml")


def test_each_wallet_needs_wallets(tmp_path: Path) -> None:
    text = edit('[wallets]\ncount = 2\nops = 1\n\n[[wallets.operations]]\ntarget = "coordinator"\n' + OP_TAGS, "")
    text = edit(BOOT_TAGS, BOOT_TAGS + "\neach_wallet = true", text)
    (p,) = problems_of(tmp_path, text)
    assert p.key == "boot[0].each_wallet" and "no wallets" in p.what and "[wallets] count = 2" in p.fix


def test_message_format_names_file_key_line_and_fix(tmp_path: Path) -> None:
    text = edit('files = ["src/token.lua"]', 'files = ["src/token.lua", "src/coord.lua"]')
    path = write_repo(tmp_path, text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    line = text.splitlines().index('files = ["src/token.lua", "src/coord.lua"]') + 1
    assert str(info.value) == (
        f"{path}: processes.token.files[1] (line {line}): file src/coord.lua does not exist; "
        f"paths are relative to the manifest's folder ({tmp_path.resolve()})"
    )


def test_lines_are_found_for_nested_keys(tmp_path: Path) -> None:
    text = edit('Token = "{id:token}"', 'Token = "{id:tokn}"')
    (p,) = problems_of(tmp_path, text)
    assert p.line == text.splitlines().index('tags = { Action = "Configure", Token = "{id:tokn}" }') + 1
    text = edit(CHECK, 'kind = "always"\ncheck = "suply <= 4"')
    (p,) = problems_of(tmp_path, text)
    assert p.line == text.splitlines().index('check = "suply <= 4"') + 1


def test_independent_mistakes_are_reported_together(tmp_path: Path) -> None:
    text = edit('name = "mini"', 'name = "mini"\naos = "old"')
    text = edit('files = ["src/token.lua"]', 'files = ["src/missing.lua"]', text)
    text = edit("count = 2", "count = 0", text)
    text = edit(CHECK, 'kind = "always"\ncheck = "supply ~= 1"', text)
    problems = problems_of(tmp_path, text)
    assert [p.key for p in problems] == [
        "system.aos",
        "processes.token.files[0]",
        "wallets.count",
        "properties[0].check",
    ]
    message = str(ManifestError(problems))
    assert message.splitlines()[1] == "(3 more problems:)"
    assert len(message.splitlines()) == 5


def test_every_todo_is_listed(tmp_path: Path) -> None:
    text = edit('Token = "{id:token}"', 'Token = "TODO"')
    text = edit('lua = "TotalSupply"', 'lua = "TODO: the total supply"', text)
    keys = [p.key for p in problems_of(tmp_path, text) if "TODO" in p.what]
    assert keys == ["boot[0].tags.Token", "observables.supply.lua"]


def test_a_mistaken_observable_does_not_cascade(tmp_path: Path) -> None:
    """A property reading an observable whose entry is wrong does not add a second problem."""
    text = edit(SUPPLY, 'supply = { process = "token", lua = "TotalSupply +" }')
    assert [p.key for p in problems_of(tmp_path, text)] == ["observables.supply.lua"]


def test_a_mistaken_process_does_not_cascade(tmp_path: Path) -> None:
    """A process whose entry is wrong is still a known name: boot and observables do not complain."""
    text = edit('files = ["src/token.lua"]', 'files = "src/token.lua"')
    problems = problems_of(tmp_path, text)
    assert [p.key for p in problems] == ["processes.token.files"]


@pytest.mark.parametrize(
    ("setup", "what", "fix"),
    [
        ("missing", "no such file", "tim3check init DIR"),
        ("folder", "is a folder", "tim3check.toml"),
        ("binary", "is not UTF-8 text", "UTF-8"),
        ("syntax", "not valid TOML", "fix the syntax"),
    ],
)
def test_unreadable_files(tmp_path: Path, setup: str, what: str, fix: str) -> None:
    path = tmp_path / "tim3check.toml"
    if setup == "folder":
        path.mkdir()
    elif setup == "binary":
        path.write_bytes(b"\xff\xfe\x00name")
    elif setup == "syntax":
        path.write_text('[system]\nname = "x"\nname = "y"\n')
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    (p,) = info.value.problems
    assert what in p.what and fix in p.fix
    if setup == "syntax":
        assert p.line == 3


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions that bind")
def test_unreadable_permissions(tmp_path: Path) -> None:
    path = tmp_path / "tim3check.toml"
    path.write_text(BASE)
    path.chmod(0)
    try:
        with pytest.raises(ManifestError, match="cannot be read"):
            load_manifest(path)
    finally:
        path.chmod(0o644)
