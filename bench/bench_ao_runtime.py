"""Deliveries per second of checker/ao's Lua runtime on a small token process.

Run: python bench/bench_ao_runtime.py [--seconds S]. Prints deliveries/s for three
patterns of use: a chain (each delivery on the previous result, as a simulation does),
a fan-out (many messages delivered to the same few states, as a breadth-first explorer
does) and a cold start (states never seen before: every restore compiles its chunk).
One core; the per-CPU-second figure is the one to compare on a shared machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from checker.ao import AoMessage, AoProcess

TOKEN = """
Balances = Balances or { alice = 5, bob = 5 }
TotalSupply = TotalSupply or 10

Handlers.add("Transfer", Handlers.utils.hasMatchingTag("Action", "Transfer"), function(msg)
  local qty = tonumber(msg.Tags.Quantity)
  local to = msg.Tags.Recipient
  if (Balances[msg.From] or 0) < qty then
    msg.reply({ Action = "Transfer-Error", Error = "Insufficient Balance" })
    return
  end
  Balances[msg.From] = Balances[msg.From] - qty
  Balances[to] = (Balances[to] or 0) + qty
  msg.reply({ Action = "Debit-Notice", Quantity = tostring(qty), Recipient = to })
  ao.send({ Target = to, Action = "Credit-Notice", Quantity = tostring(qty), Sender = msg.From })
end)

Handlers.add("Balance", Handlers.utils.hasMatchingTag("Action", "Balance"), function(msg)
  msg.reply({ Action = "Balance", Data = tostring(Balances[msg.Tags.Target or msg.From] or 0) })
end)
"""


def messages() -> list[AoMessage]:
    out = []
    for i, (src, dst, q) in enumerate([("alice", "bob", "1"), ("bob", "alice", "1"), ("alice", "bob", "9")]):
        out.append(AoMessage(f"t{i}", src, "TOKEN", (("Action", "Transfer"), ("Quantity", q), ("Recipient", dst))))
    out.append(AoMessage("b", "alice", "TOKEN", (("Action", "Balance"),)))
    return out


def run(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "token.lua"
        path.write_text(TOKEN)
        proc = AoProcess("TOKEN", [path])
    msgs = messages()

    def timed(label: str, step) -> None:  # type: ignore[no-untyped-def]
        n = 0
        start, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - start < seconds:
            step(n)
            n += 1
        elapsed, used = time.perf_counter() - start, time.process_time() - cpu
        print(f"{label:<44} {n / elapsed:>9,.0f} deliveries/s  ({n / used:,.0f} per CPU-second)")

    state = [proc.initial]

    def chain(n: int) -> None:
        out = proc.deliver(state[0], msgs[n % len(msgs)])
        state[0] = out.state

    timed("chain (deliver on the previous result)", chain)

    fan = [proc.initial]
    for m in msgs:
        fan.append(proc.deliver(proc.initial, m).state)

    def fanout(n: int) -> None:
        proc.deliver(fan[n % len(fan)], msgs[(n // len(fan)) % len(msgs)])

    timed("fan-out (5 states x 4 messages, repeated)", fanout)

    cold = [proc.initial]

    def cold_start(n: int) -> None:
        # a message with a fresh recipient: every result is a new state
        m = AoMessage(f"c{n}", "alice", "TOKEN", (("Action", "Transfer"), ("Quantity", "0"), ("Recipient", f"u{n}")))
        out = proc.deliver(cold[0], m)
        cold[0] = out.state if n % 50 else proc.initial

    timed("cold (every state new: compile per restore)", cold_start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    run(parser.parse_args().seconds)


if __name__ == "__main__":
    main()
