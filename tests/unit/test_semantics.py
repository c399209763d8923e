"""AO semantics of the step relation, checked on a tiny two-process spec."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from checker.model.choices import all_paths
from checker.config import CheckConfig, Limits
from checker.errors import SpecError
from checker.engines.explore import explore
from checker.model.network import BagNetwork, FifoNetwork
from checker.model.process import PythonProcess
from checker.result import HOLDS, UNKNOWN, VIOLATED
from checker.model.semantics import Semantics
from checker.model.spec import ActionDecl, Handler, Initiative, Param, ProcessDecl, ProcessInstance, Property, Spec
from checker.model.values import FrozenMap, make_message


@dataclass(frozen=True, slots=True)
class Counter:
    n: int


def _bump(s: Counter, msg, ctx):  # type: ignore[no-untyped-def]
    if msg["By"] > 1:
        ctx.error("too big")
    ctx.reply(msg, "Ack", By=msg["By"])
    return Counter(s.n + msg["By"])


def _send_twice(s: Counter, ctx):  # type: ignore[no-untyped-def]
    if s.n >= ctx.params["sends"]:
        return None
    ctx.send("server", "Bump", By=ctx.choose("by", (1, 2)))
    return Counter(s.n + 1)


SERVER = ProcessDecl("server", "Server", Counter, (Handler("Bump", "Bump", _bump, sender="client"),))
CLIENT = ProcessDecl("client", "Client", Counter, initiatives=(Initiative("send", _send_twice),))


def _tiny(props: tuple[Property, ...] = (), sends: int = 2) -> Spec:
    return Spec(
        name="tiny",
        source="tests/unit/test_semantics.py",
        actions=(ActionDecl("Bump", (("By", "by"),)), ActionDecl("Ack", (("By", "by"),))),
        params=(Param("sends", "int", sends, "how many bumps", minimum=0),),
        faults={},
        process_decls=(SERVER, CLIENT),
        build=lambda p: (ProcessInstance("server", SERVER, Counter(0)), ProcessInstance("client", CLIENT, Counter(0))),
        domains=lambda p: {"by": (1, 2)},
        properties=props,
    )


def test_all_paths_enumerates_lexicographically() -> None:
    def f(ch):  # type: ignore[no-untyped-def]
        a = ch.pick("a", 2)
        return (a, ch.pick("b", 3)) if a else (a, None)

    assert [r for _, r in all_paths(f)] == [(0, None), (1, 0), (1, 1), (1, 2)]


def test_handler_error_has_no_effect_and_sends_nothing() -> None:
    spec = _tiny()
    sem = Semantics(spec, CheckConfig(params=spec.default_params()))
    w = sem.initial()
    # client sends By=2 (second choice)
    step, w = [x for x in sem.successors(w) if x[0].choices == (("by", 2),)][0]
    assert step.kind == "initiative"
    (step2, w2), = list(sem.successors(w))[:1]
    assert step2.kind == "error" and step2.reason == "too big"
    assert w2.procs[0] == Counter(0)  # server unchanged
    assert w2.net == ()  # the Bump is consumed, nothing sent


def test_unmatched_sender_goes_to_inbox() -> None:
    spec = _tiny()
    sem = Semantics(spec, CheckConfig(params=spec.default_params()))
    impl = sem.impls[sem.index["server"]]
    assert isinstance(impl, PythonProcess)
    assert impl.match(make_message("mallory", "server", "Bump", {"By": 1})) is None
    assert impl.match(make_message("client", "server", "Bump", {"By": 1})) is not None


def test_fifo_delivers_only_the_head_of_each_channel() -> None:
    a, b = make_message("x", "y", "A", {}), make_message("x", "y", "B", {})
    net = FifoNetwork.put((), (b, a))
    assert [m.action for _, m in FifoNetwork.deliverable(net)] == ["B"]
    assert sorted(m.action for _, m in BagNetwork.deliverable(BagNetwork.put((), (b, a)))) == ["A", "B"]
    assert len(FifoNetwork.droppable(net)) == 2


def test_limits_give_unknown_never_holds() -> None:
    prop = Property("small", "always", "server counter ≤ 2", check=lambda w: w.server.n <= 2)
    spec = _tiny((prop,))
    full = explore(spec, CheckConfig(params=spec.default_params()))
    assert full.result("small").verdict == HOLDS
    capped = explore(spec, CheckConfig(params=spec.default_params(), limits=Limits(max_depth=2)))
    assert capped.result("small").verdict == UNKNOWN
    assert "max-depth 2" in capped.result("small").bound
    assert capped.exit_code == 3
    few = explore(spec, CheckConfig(params=spec.default_params(), limits=Limits(max_states=3)))
    assert few.result("small").verdict == UNKNOWN


def test_shortest_counterexample_and_determinism() -> None:
    prop = Property("never-two", "always", "server counter < 2", check=lambda w: w.server.n < 2)
    spec = _tiny((prop,))
    a = explore(spec, CheckConfig(params=spec.default_params()))
    b = explore(spec, CheckConfig(params=spec.default_params()))
    ra, rb = a.result("never-two"), b.result("never-two")
    assert ra.verdict == VIOLATED and ra.trace is not None and rb.trace is not None
    assert len(ra.trace) == 4  # send, send, bump, bump
    assert [s for s, _ in ra.trace.steps] == [s for s, _ in rb.trace.steps]
    assert a.stats.states == b.stats.states


def test_handler_error_fault_and_loss_use_the_budget() -> None:
    spec = _tiny(sends=1)
    base = explore(spec, CheckConfig(params=spec.default_params()))
    lossy = explore(spec, CheckConfig(params=spec.default_params(), faults=frozenset({"loss"}), max_faults=1))
    assert lossy.stats.states > base.stats.states
    none_left = explore(spec, CheckConfig(params=spec.default_params(), faults=frozenset({"loss"}), max_faults=0))
    assert none_left.stats.states == base.stats.states


def test_undeclared_send_is_a_spec_error() -> None:
    def rogue(s, msg, ctx):  # type: ignore[no-untyped-def]
        ctx.send("client", "Nope")
        return s

    server = ProcessDecl("server", "Server", Counter, (Handler("Bump", "Bump", rogue),))
    spec = _tiny()
    spec = Spec(**{**spec.__dict__, "build": lambda p: (ProcessInstance("server", server, Counter(0)), ProcessInstance("client", CLIENT, Counter(0)))})
    with pytest.raises(SpecError, match="undeclared Action 'Nope'"):
        explore(spec, CheckConfig(params=spec.default_params()))


def test_frozen_map_is_persistent_and_hashable() -> None:
    m = FrozenMap({"b": 1, "a": 2})
    m2 = m.set("c", 3)
    assert list(m) == ["a", "b"] and list(m2) == ["a", "b", "c"]
    assert hash(m.set("c", 3)) == hash(m2) and m2.remove("c") == m


def test_memory_limit_gives_unknown() -> None:
    from dataclasses import replace

    from spec.tim3 import SPEC
    from tests.tim3_helpers import config

    cfg = replace(config(version="v3"), limits=Limits(max_memory_mb=1))
    r = explore(SPEC, cfg)
    assert r.stats.limit_hit == "max-memory 1 MB"
    assert r.result("positions-match-supply").verdict == UNKNOWN
    assert r.exit_code == 3
