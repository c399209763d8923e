"""The message-flow graph of an explored system: the seed's "Process Flow Diagram".

``message_flow(spec, config)`` explores the scenario (breadth first, every transition,
up to ``max_states``) and counts, for every step taken, the messages it sent: an edge
per (sender, Action, receiver) with how many transitions sent it. The graph is a
``networkx.MultiDiGraph`` (nodes: process ids with their kind and label; edges keyed by
Action with ``count``), so graph questions are networkx calls. Handlers that never ran
are listed on their process (v1: the State Manager's ``UpdatePosition``, and no edge
into it at all). ``to_mermaid`` (a flowchart GitHub renders) and ``to_dot`` export it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import networkx as nx

from checker.config import CheckConfig
from checker.model.semantics import ADVERSARY, Semantics
from checker.model.spec import Spec


@dataclass(frozen=True)
class Flow:
    """The graph, the handlers that never ran (``kind:name``), and whether the search
    was exhaustive (``states`` distinct states explored)."""

    graph: nx.MultiDiGraph
    never_ran: tuple[str, ...]
    states: int
    exhaustive: bool


def message_flow(spec: Spec, config: CheckConfig, max_states: int = 200_000) -> Flow:
    """Explore ``spec`` under ``config`` and count who sends which Action to whom."""
    sem = Semantics(spec, config)
    start = sem.initial_key()
    seen = {start}
    frontier = [start]
    edges: Counter[tuple[str, str, str]] = Counter()
    ran: set[str] = set()
    exhaustive = True
    while frontier:
        nxt = []
        for key in frontier:
            for step, k2 in sem.expand(key):
                if step.kind in ("deliver", "initiative") and step.handler is not None:
                    ran.add(f"{sem.kind_of(step.pid)}:{step.handler}")
                for m in step.sends:
                    edges[(m.src, m.action, m.dst)] += 1
                if k2 not in seen:
                    if len(seen) >= max_states:
                        exhaustive = False
                        continue
                    seen.add(k2)
                    nxt.append(k2)
        frontier = nxt
    g = nx.MultiDiGraph()
    for pid, impl in zip(sem.pids, sem.impls):
        g.add_node(pid, kind=impl.kind, label=impl.label)
    if sem.adversary:
        g.add_node(ADVERSARY, kind=ADVERSARY, label="Adversary")
    for (src, action, dst), n in sorted(edges.items()):
        g.add_edge(src, dst, key=action, action=action, count=n)
    never = tuple(h for h in sem.handler_ids() if h not in ran)
    return Flow(g, never, len(seen), exhaustive)


def _node_id(pid: str) -> str:
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in pid)


def _never_ran_on(flow: Flow, kind: str) -> list[str]:
    """The handlers of processes of ``kind`` that never ran."""
    return [h.split(":", 1)[1] for h in flow.never_ran if h.split(":", 1)[0] == kind]


def to_mermaid(flow: Flow) -> str:
    """A Mermaid ``flowchart LR``: one node per process, one labelled edge per
    (sender, Action, receiver) with its count; a process with handlers that never ran
    is noted under its name."""
    g = flow.graph
    lines = ["flowchart LR"]
    for pid, data in g.nodes(data=True):
        never = _never_ran_on(flow, data["kind"])
        note = f"<br/><i>never ran: {', '.join(never)}</i>" if never else ""
        lines.append(f'  {_node_id(pid)}["{pid}<br/>{data["label"]}{note}"]')
    for src, dst, data in g.edges(data=True):
        lines.append(f'  {_node_id(src)} -- "{data["action"]} ×{data["count"]}" --> {_node_id(dst)}')
    return "\n".join(lines) + "\n"


def to_dot(flow: Flow) -> str:
    """The same graph in Graphviz DOT."""
    g = flow.graph
    lines = ["digraph flow {", "  rankdir=LR;"]
    for pid, data in g.nodes(data=True):
        never = _never_ran_on(flow, data["kind"])
        note = f"\\nnever ran: {', '.join(never)}" if never else ""
        lines.append(f'  "{pid}" [label="{pid}\\n{data["label"]}{note}"];')
    for src, dst, data in g.edges(data=True):
        lines.append(f'  "{src}" -> "{dst}" [label="{data["action"]} x{data["count"]}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def into(flow: Flow, pid: str) -> int:
    """How many messages (over all transitions) reached ``pid``: 0 for v1's State Manager."""
    return sum(d["count"] for _, _, d in flow.graph.in_edges(pid, data=True))
