"""Restore exactness as an explorer uses it: any (state, message) pair delivered again, in
any order, after any other deliveries, gives an equal outcome; so does a fresh process
that replays the path."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.ao import AoMessage, AoProcess, Outcome, Snapshot

from tests.ao.helpers import lua_file

CODE = """
Balances = Balances or { alice = 3, bob = 1 }
Log = Log or {}
Shared = Shared or { hits = 0 }
Alias = Alias or Shared
local seen = {}
local count = 0

local function record(what)
  count = count + 1
  Log[#Log + 1] = what .. "#" .. count
  if #Log > 3 then table.remove(Log, 1) end
end

Handlers.add("Transfer", "Transfer", function(msg)
  local q = tonumber(msg.Tags.Quantity)
  if (Balances[msg.From] or 0) < q then
    msg.reply({ Action = "Transfer-Error" })
    return
  end
  Balances[msg.From] = Balances[msg.From] - q
  Balances[msg.Tags.Recipient] = (Balances[msg.Tags.Recipient] or 0) + q
  record("t")
  ao.send({ Target = msg.Tags.Recipient, Action = "Credit-Notice", Quantity = msg.Tags.Quantity })
end)

Handlers.add("Arm", "Arm", function(msg)
  local who, n = msg.From, math.random(1, 3)
  Handlers.once("fire-" .. who, "Fire", function(m)
    Alias.hits = Alias.hits + n
    record("fire " .. who)
  end)
end)

Handlers.add("Seen", "Seen", function(msg)
  seen[msg.From] = (seen[msg.From] or 0) + 1
  if seen[msg.From] > 2 then error("seen too often") end
  for k, v in pairs(seen) do record(k .. "=" .. v) end
end)
"""

USERS = ("alice", "bob", "carol")


def message(kind: int, user: int, n: int) -> AoMessage:
    src = USERS[user]
    if kind == 0:
        tags: tuple[tuple[str, str], ...] = (("Action", "Transfer"), ("Quantity", str(n % 3)), ("Recipient", USERS[(user + 1) % 3]))
    else:
        tags = (("Action", ("Arm", "Fire", "Seen", "Nope")[kind - 1]),)
    return AoMessage(f"m{kind}{user}{n}", src, "P", tags)


messages = st.builds(message, st.integers(0, 4), st.integers(0, 2), st.integers(0, 5))


def key(out: Outcome) -> tuple[object, ...]:
    return (out.state.text, out.sends, out.error, out.handlers, out.prints, out.reads, out.inbox)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.lists(messages, min_size=1, max_size=8), probes=st.lists(st.integers(0, 100), max_size=6))
def test_redelivery_in_any_order_agrees(tmp_path: Path, path: list[AoMessage], probes: list[int]) -> None:
    f = lua_file(tmp_path, CODE)
    proc = AoProcess("P", [f])
    states: list[Snapshot] = [proc.initial]
    first: dict[tuple[str, AoMessage], tuple[object, ...]] = {}
    for m in path:
        s = states[-1]
        out = proc.deliver(s, m)
        first[(s.text, m)] = key(out)
        states.append(out.state)
    # re-deliver earlier pairs in a scrambled order, with other deliveries in between
    pairs = list(first)
    for i in probes:
        text, m = pairs[i % len(pairs)]
        other = states[(i * 7) % len(states)]
        proc.deliver(other, path[i % len(path)])
        assert key(proc.deliver(Snapshot(text), m)) == first[(text, m)]
    # a fresh process replaying the path reaches the same texts
    fresh = AoProcess("P", [f])
    s = fresh.initial
    assert s == states[0]
    for m, expected in zip(path, states[1:]):
        s = fresh.deliver(s, m).state
        assert s == expected
