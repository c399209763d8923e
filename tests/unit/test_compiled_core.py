"""The compiled core (``checker.engines._core`` through ``checker.engines.compiled``) against the
pure-Python explorer: the same states in the same order, the same BFS tree, steps, verdicts,
bounds, counterexamples and coverage; and where it does not run, the pure-Python loop does."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.config import CheckConfig, Limits
from checker.engines import compiled
from checker.engines.explore import _Explorer
from checker.interfaces.counterexample import step_json
from checker.model.semantics import Semantics
from checker.model.spec import ActionDecl, Handler, Initiative, Param, ProcessDecl, ProcessInstance, Property, Spec
from checker.model.values import FrozenMap
from checker.result import CheckResult, Trace
from spec.tim3 import SPEC
from tests.tim3_helpers import config

needs_core = pytest.mark.skipif(compiled._core is None, reason="the compiled core is not built (no C compiler)")


def explored(spec: Spec, cfg: CheckConfig, core: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[_Explorer, CheckResult]:
    """Run the explorer with the compiled core on or off; the explorer and its result."""
    with monkeypatch.context() as m:
        if core:
            m.delenv(compiled.CORE_ENV, raising=False)
        else:
            m.setenv(compiled.CORE_ENV, "python")
        sem = Semantics(spec, cfg)
        ex = _Explorer(sem, [p for p in spec.properties if cfg.properties is None or p.name in cfg.properties], None)
        result = ex.run()
    assert (ex.bridge is not None) == core
    return ex, result


def trace_data(sem: Semantics, trace: Trace) -> list[Any]:
    """A trace as the JSON of its steps, its last world and its cycle (a lasso's)."""
    worlds = [trace.initial] + [w for _, w in trace.steps]
    steps = [step_json(sem, k, step, worlds[k], worlds[k + 1]) for k, (step, _) in enumerate(trace.steps)]
    return [steps, repr(worlds[-1]), getattr(trace, "cycle_start", None)]


def summary(ex: _Explorer, result: CheckResult) -> dict[str, Any]:
    """Everything a run shows or stores, with steps and traces as data."""
    sem = ex.sem
    return {
        "states": list(ex.packed),
        "parent": list(ex.parent),
        "via": list(ex.via),
        "levels": list(ex.levels),
        "steps": [None if s is None else (s.pid, s.kind, s.handler, str(s.msg)) for s in ex.step_table],
        "stats": (result.stats.states, result.stats.transitions, result.stats.max_depth, result.stats.limit_hit,
                  sorted(result.stats.coverage.items())),
        "results": [(r.name, r.verdict, r.bound, r.detail,
                     None if r.trace is None else trace_data(sem, r.trace)) for r in result.results],
        "back": None if ex.recorder is None else (list(ex.recorder.src), list(ex.recorder.dst), ex.recorder.expanded),
    }


SCENARIOS = [
    dict(version="v3", users=2, ops=2),
    dict(version="v3", users=2, ops=2, symmetry=False),
    dict(version="v1", users=2, ops=2),
    dict(version="v2", users=2, ops=1, faults=("unlock-fail",)),
    dict(version="v3", users=3, ops=1, faults=("loss", "handler-error")),
    dict(version="v3", users=2, ops=1, faults=("adversary",)),
    dict(version="v1", users=2, ops=1, faults=("loss",), max_faults=2),
]


@needs_core
@pytest.mark.parametrize("params", SCENARIOS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_core_explores_exactly_as_the_python_loop(params: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    kw = dict(params)
    max_faults = kw.pop("max_faults", 1)
    cfg = replace(config(**kw), max_faults=max_faults)
    fast = summary(*explored(SPEC, cfg, True, monkeypatch))
    slow = summary(*explored(SPEC, cfg, False, monkeypatch))
    assert fast["stats"][0] > 10
    for part in fast:
        assert fast[part] == slow[part], part


@needs_core
@pytest.mark.slow
@pytest.mark.parametrize("params", [
    dict(version="v3", users=2, ops=2, faults=("loss", "handler-error")),
    dict(version="v3", users=3, ops=1, faults=("adversary",)),
    dict(version="v1", users=2, ops=2, faults=("loss",), max_faults=2),
    dict(version="v3", users=3, ops=2, max_states=300_000),
], ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_core_explores_exactly_as_the_python_loop_at_larger_bounds(params: dict[str, Any],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The default run's comparison at larger bounds (up to 300,000 states, a minute or two)."""
    kw = dict(params)
    limit = kw.pop("max_states", None)
    max_faults = kw.pop("max_faults", 1)
    cfg = replace(config(**kw), max_faults=max_faults, limits=Limits(max_states=limit))
    fast = summary(*explored(SPEC, cfg, True, monkeypatch))
    slow = summary(*explored(SPEC, cfg, False, monkeypatch))
    for part in fast:
        assert fast[part] == slow[part], part


@needs_core
@pytest.mark.parametrize("limits", [
    Limits(max_depth=7),
    Limits(max_states=2_000),
    Limits(stop_at_first_violation=True),
], ids=["max-depth", "max-states", "first-violation"])
def test_core_stops_at_the_same_limit_with_the_same_states(limits: Limits, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = replace(config(version="v1", users=2, ops=2), limits=limits)
    fast_ex, fast_res = explored(SPEC, cfg, True, monkeypatch)
    slow = summary(*explored(SPEC, cfg, False, monkeypatch))
    fast = summary(fast_ex, fast_res)
    assert fast_res.stats.limit_hit is not None
    for part in fast:
        assert fast[part] == slow[part], part


@needs_core
def test_core_pins_the_default_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    """v3, 2 users x 2 ops: the README's counts (44,253 representatives, 177,310 transitions)."""
    ex, result = explored(SPEC, config(version="v3", users=2, ops=2), True, monkeypatch)
    assert (result.stats.states, result.stats.transitions) == (44_253, 177_310)
    assert {r.name: r.verdict for r in result.results}["positions-match-supply"] == "HOLDS"


@needs_core
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(version=st.sampled_from(["v1", "v2", "v3"]), users=st.integers(1, 2), ops=st.integers(1, 2),
       faults=st.sets(st.sampled_from(["loss", "handler-error", "unlock-fail", "lock-fail"]), max_size=2),
       symmetry=st.booleans())
def test_core_agrees_on_random_scenarios(version: str, users: int, ops: int, faults: set[str], symmetry: bool,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(version=version, users=users, ops=1 if users == 2 and len(faults) > 1 else ops,
                 faults=tuple(sorted(faults)), symmetry=symmetry)
    assert summary(*explored(SPEC, cfg, True, monkeypatch)) == summary(*explored(SPEC, cfg, False, monkeypatch))


def test_core_is_built_where_a_compiler_is() -> None:
    """``pip install`` builds the optional extension when a C compiler is present: a broken
    build must not pass unnoticed as the pure-Python fallback."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler here: the pure-Python loop is the explorer")
    assert compiled._core is not None, "checker/engines/_core.c did not build; run `pip install -e .` and read its log"


def test_core_says_why_it_does_not_run() -> None:
    cfg = replace(config(version="v3", users=1, ops=1), network="fifo")
    reason = compiled.core_unavailable(Semantics(SPEC, cfg))
    assert reason is not None and (compiled._core is None or reason == "the network is not the unordered bag")


LUA_SCENARIOS = [
    dict(version="v3", users=2, ops=1, impl="lua"),
    dict(version="v1", users=2, ops=2, impl="lua"),
    dict(version="v3", users=1, ops=2, impl="lua", conform=True),
]


@needs_core
@pytest.mark.parametrize("params", LUA_SCENARIOS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_core_explores_lua_exactly_as_the_python_loop(params: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Lua processes (renamed inside Lua for symmetry) and ``--conform``'s divergent steps."""
    kw = dict(params)
    conform = kw.pop("conform", False)
    cfg = replace(config(**kw), conform=conform)
    fast = summary(*explored(SPEC, cfg, True, monkeypatch))
    slow = summary(*explored(SPEC, cfg, False, monkeypatch))
    for part in fast:
        assert fast[part] == slow[part], part


@needs_core
def test_core_reports_a_team_repositorys_findings_as_the_python_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The team fixture (five Lua processes, findings, time), to depth 12: the same states
    and the same findings with the same shortest traces."""
    from checker.interfaces.loader import load_spec
    from tests.quality.test_team_repo import MANIFEST

    spec, _ = load_spec(str(MANIFEST))
    base = CheckConfig(params=spec.default_params())
    cfg = replace(base, limits=replace(base.limits, max_depth=12))
    fast_ex, fast_res = explored(spec, cfg, True, monkeypatch)
    fast = summary(fast_ex, fast_res)
    slow = summary(*explored(spec, cfg, False, monkeypatch))
    assert fast_res.stats.states == 11_464 and any(r.kind == "finding" for r in fast_res.results)
    for part in fast:
        assert fast[part] == slow[part], part


@needs_core
def test_a_stale_build_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core built from an older ``_core.c`` (an editable install not rebuilt) is left alone."""
    monkeypatch.setattr(compiled, "CORE_ABI", compiled.CORE_ABI + 1)
    why = compiled.core_unavailable(Semantics(SPEC, config(version="v3", users=1, ops=1)))
    assert why is not None and "pip install -e ." in why


def test_env_turns_the_core_off_and_the_statistics_say_which_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(version="v3", users=1, ops=1)
    monkeypatch.setenv(compiled.CORE_ENV, "python")
    assert compiled.core_unavailable(Semantics(SPEC, cfg)) == "TIM3CHECK_CORE=python"
    _, result = explored(SPEC, cfg, False, monkeypatch)
    assert result.stats.explorer == "pure-Python loop (TIM3CHECK_CORE=python)"
    assert result.stats.to_json()["explorer"] == result.stats.explorer
    if compiled._core is not None:
        assert explored(SPEC, cfg, True, monkeypatch)[1].stats.explorer == "compiled core"


def test_without_the_core_the_python_loop_explores(monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without a compiler: the same counts from the pure-Python loop."""
    monkeypatch.setattr(compiled, "_core", None)
    ex, result = explored(SPEC, config(version="v3", users=2, ops=1), False, monkeypatch)
    assert compiled.core_unavailable(ex.sem) is not None
    assert (result.stats.states, result.stats.transitions) == (120, 240)


@needs_core
def test_messages_without_a_total_order_run_again_on_the_python_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The migration's messages carry maps (``FrozenMap`` has no order): the core cannot rank
    them, so the search runs again, whole, on the pure-Python loop, with the same result."""
    from tests.migration import helpers

    monkeypatch.delenv(compiled.CORE_ENV, raising=False)
    fast = helpers.run(plan="seed")
    monkeypatch.setenv(compiled.CORE_ENV, "python")
    slow = helpers.run(plan="seed")
    assert fast.stats.explorer is not None and fast.stats.explorer.startswith(
        "pure-Python loop (messages without a total order")
    assert helpers.failures(fast) == helpers.failures(slow) and helpers.failures(fast)
    assert (fast.stats.states, fast.stats.transitions) == (slow.stats.states, slow.stats.transitions)


@dataclass(frozen=True)
class _Count:
    n: int
    waiting: bool = False


def _tick(s: _Count, ctx: Any) -> _Count | None:
    if s.waiting or s.n >= ctx.params["ticks"]:
        return None
    ctx.send("sink", "Tick", N=s.n)
    return _Count(s.n, True)


def _ack(s: _Count, msg: Any, ctx: Any) -> _Count:
    return _Count(s.n + 1, False)


def _echo(s: _Count, msg: Any, ctx: Any) -> _Count:
    ctx.send("counter", "Ack", N=msg["N"])
    return s


_COUNTER = ProcessDecl("counter", "Counter", _Count, (Handler("Ack", "Ack", _ack, sender="sink"),),
                       initiatives=(Initiative("tick", _tick),))
_SINK = ProcessDecl("sink", "Sink", _Count, (Handler("Tick", "Tick", _echo, sender="counter"),))
LONG = Spec(
    name="long-counter",
    source=__file__,
    actions=(ActionDecl("Tick", (("N", "n"),)), ActionDecl("Ack", (("N", "n"),))),
    params=(Param("ticks", "int", 1, "ticks before the counter stops", minimum=0),),
    faults={},
    process_decls=(_COUNTER, _SINK),
    build=lambda p: (ProcessInstance("counter", _COUNTER, _Count(0)), ProcessInstance("sink", _SINK, _Count(0))),
    domains=lambda p: {"n": tuple(range(p["ticks"]))},
    properties=(Property("bounded", "always", "the counter never passes its ticks",
                         check=lambda v: v["counter"].n <= v.params["ticks"]),),
)


@needs_core
@pytest.mark.slow
def test_serials_beyond_16_bits_pack_wide_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """More than 65,536 counter states and messages: packed keys switch to 8 bytes a number
    (``KeyCodec``); the core packs them byte for byte as the pure-Python loop does (slow:
    99,001 states, each a new delivery; ``test_core_packs_and_unpacks_keys_as_the_codec``
    is its default form)."""
    cfg = CheckConfig(params=FrozenMap({"ticks": 33_000}))
    fast_ex, fast_res = explored(LONG, cfg, True, monkeypatch)
    assert any(len(b) & 1 for b in fast_ex.packed)  # some states are packed wide
    slow_ex, slow_res = explored(LONG, cfg, False, monkeypatch)
    assert (fast_res.stats.states, fast_res.stats.transitions) == (slow_res.stats.states, slow_res.stats.transitions)
    assert fast_res.stats.states == 99_001
    assert list(fast_ex.packed) == list(slow_ex.packed) and list(fast_ex.parent) == list(slow_ex.parent)
    assert [r.verdict for r in fast_res.results] == [r.verdict for r in slow_res.results] == ["HOLDS"]


@given(st.lists(st.integers(-50, 50), unique=True, max_size=80))
def test_ranks_order_values_as_they_compare(values: list[int]) -> None:
    ranks = compiled.Ranks()
    for v in values:
        ranks.add(v)
    numbers = [ranks.rank(v) for v in sorted(values)]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_ranks_space_out_a_used_up_gap() -> None:
    """Values ever closer to one value halve the gap between ranks: 33 of them use up
    ``RANK_GAP``, and every rank is given anew (``add`` says so), still in order."""
    ranks = compiled.Ranks()
    ranks.add(0.0)
    ranks.add(1.0)
    said = [ranks.add(1.0 / 2 ** k) for k in range(1, 40)]
    assert any(said) and not all(said)
    values = sorted(ranks.order)
    assert [ranks.rank(v) for v in values] == sorted(ranks.rank(v) for v in values)


class _PackingBridge:
    """Just enough of a ``Bridge`` to pack and unpack keys in the core (tails from ``codec``)."""

    def __init__(self, codec: Any, ghosts: list[Any], messages: int) -> None:
        self.codec, self.ghosts, self.count = codec, ghosts, messages

    def tail(self, g: int, fl: int, inj: int) -> int:
        n: int = self.codec.tail_number((self.ghosts[g], fl, inj))
        return n

    def messages(self, first: int) -> tuple[list[tuple[int, int, int, int]], None]:
        return [(0, 0, 0, s) for s in range(first, self.count)], None

    def memo_root(self) -> tuple[None, tuple[()]]:
        return None, ()

    def unused(self, *args: Any) -> Any:
        raise AssertionError("packing needs no other callback")

    outcomes = ghost_after = plans = plan = rename_state = rename_message = rename_ghost = unused
    ghost_rank = ghost_open = guard = check = action_flags = noted = unused


GHOSTS = [((), ()), ((("user1", 1),), ()), ((), (("user2", -1),))]


@needs_core
@settings(max_examples=60, deadline=None)
@given(procs=st.lists(st.integers(0, 2 ** 20), min_size=3, max_size=3),
       net=st.lists(st.integers(0, 70_000), max_size=6), g=st.integers(0, len(GHOSTS) - 1),
       fl=st.integers(0, 3), inj=st.integers(0, 2))
def test_core_packs_and_unpacks_keys_as_the_codec(procs: list[int], net: list[int], g: int, fl: int, inj: int) -> None:
    """Narrow (every number below 2^16) and wide keys alike: the core's bytes are ``KeyCodec``'s."""
    from checker.engines.packed import KeyCodec

    codec = KeyCodec(3, True)
    core = compiled._core.Core(_PackingBridge(codec, GHOSTS, 70_001), 3, False, False, [], [], [], 0, -1, 0)
    key = (*procs, tuple(sorted(net)), GHOSTS[g], fl, inj)
    packed = core.pack_key((*procs, tuple(sorted(net)), g, fl, inj))
    assert packed == codec.pack(key)
    assert core.unpack_key(packed) == key == codec.unpack(packed)


@needs_core
def test_a_finished_search_frees_its_core_and_semantics(monkeypatch: pytest.MonkeyPatch) -> None:
    """The core and its bridge hold each other while searching; the search releases the core's
    references when it ends, so the explorer, the core and the semantics can be freed
    (the core is not a GC type: a cycle through it would never be collected)."""
    import gc
    import weakref

    ex, result = explored(SPEC, config(version="v3", users=2, ops=1), True, monkeypatch)
    assert ex.bridge is not None
    with pytest.raises(RuntimeError, match="released"):
        ex.bridge.core.run(0)
    assert len(ex.keys) == result.stats.states == 120  # the tables stay readable
    gone = weakref.ref(ex.sem)
    del ex
    gc.collect()
    assert gone() is None
