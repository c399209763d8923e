"""The message-flow graph (the seed's Process Flow Diagram) of explored runs."""

from __future__ import annotations

import networkx as nx

from checker.interfaces.flow import into, message_flow, to_dot, to_mermaid
from spec.tim3 import SPEC
from tests.tim3_helpers import config


def test_v1_sends_nothing_to_the_state_manager() -> None:
    f = message_flow(SPEC, config(version="v1", users=1, ops=2))
    assert f.exhaustive and f.states == 187
    assert into(f, "state") == 0
    assert "state:UpdatePosition" in f.never_ran
    assert ("coordinator", "lock") in {(a, b) for a, b in f.graph.edges()}


def test_v3_updates_positions_and_the_graph_is_networkx() -> None:
    f = message_flow(SPEC, config(version="v3", users=1, ops=2))
    assert into(f, "state") > 0
    assert f.graph.has_edge("coordinator", "state", key="UpdatePosition")
    # every process a user request reaches is reachable from the user in the graph
    assert {"coordinator", "lock", "token", "state"} <= nx.descendants(f.graph, "user1")


def test_mermaid_and_dot_exports() -> None:
    f = message_flow(SPEC, config(version="v1", users=1, ops=1))
    mermaid = to_mermaid(f)
    assert mermaid.startswith("flowchart LR\n")
    assert '-- "LockCollateral ×' in mermaid and "never ran: UpdatePosition" in mermaid
    assert to_dot(f).startswith("digraph flow {")


def test_the_flow_of_the_lua_processes() -> None:
    f = message_flow(SPEC, config(version="v1", users=1, ops=1, impl="lua", symmetry=False))
    assert into(f, "state") == 0 and f.graph.has_edge("coordinator", "token", key="Mint")
