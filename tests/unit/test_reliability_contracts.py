"""Spec contracts are checked, not assumed: a handler that raises, or one that is not a
pure function of (state, message, ctx), is a spec error naming where it happened."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from checker.config import CheckConfig
from checker.errors import SpecError
from checker.engines.explore import explore
from checker.model.spec import ActionDecl, Ctx, Handler, Initiative, Param, ProcessDecl, ProcessInstance, Spec
from checker.model.values import Message


@dataclass(frozen=True, slots=True)
class Counter:
    n: int


def _spec(bump: Callable[[Counter, Message, Ctx], Counter],
          send: Callable[[Counter, Ctx], Counter | None] | None = None) -> Spec:
    def default_send(s: Counter, ctx: Ctx) -> Counter | None:
        if s.n >= 2:
            return None
        ctx.send("server", "Bump", By=1)
        return Counter(s.n + 1)

    server = ProcessDecl("server", "Server", Counter, (Handler("Bump", "Bump", bump),))
    client = ProcessDecl("client", "Client", Counter, initiatives=(Initiative("send", send or default_send),))
    return Spec(
        name="contracts",
        source="tests/unit/test_reliability_contracts.py",
        actions=(ActionDecl("Bump", (("By", "by"),)),),
        params=(Param("sends", "int", 2, "sends", minimum=0),),
        faults={},
        process_decls=(server, client),
        build=lambda p: (ProcessInstance("server", server, Counter(0)), ProcessInstance("client", client, Counter(0))),
        domains=lambda p: {"by": (1,)},
        properties=(),
    )


def _run(spec: Spec) -> Any:
    return explore(spec, CheckConfig(params=spec.default_params()))


def test_a_handler_that_raises_is_a_spec_error_naming_where() -> None:
    def bump(s: Counter, msg: Message, ctx: Ctx) -> Counter:
        return Counter(s.n + {}["missing"])  # type: ignore[index]

    with pytest.raises(SpecError) as e:
        _run(_spec(bump))
    text = str(e.value)
    assert "server" in text and "'Bump'" in text and "KeyError" in text and "missing" in text
    assert "client → server: Bump(By=1)" in text


def test_an_initiative_that_raises_is_a_spec_error() -> None:
    def bump(s: Counter, msg: Message, ctx: Ctx) -> Counter:
        return Counter(s.n + 1)

    def send(s: Counter, ctx: Ctx) -> Counter | None:
        raise ZeroDivisionError("boom")

    with pytest.raises(SpecError) as e:
        _run(_spec(bump, send))
    text = str(e.value)
    assert "client" in text and "'send'" in text and "ZeroDivisionError" in text and "boom" in text


def test_a_handler_with_a_global_counter_is_rejected_as_impure() -> None:
    calls = itertools.count()

    def bump(s: Counter, msg: Message, ctx: Ctx) -> Counter:
        return Counter(s.n + next(calls) % 2)

    with pytest.raises(SpecError) as e:
        _run(_spec(bump))
    text = str(e.value)
    assert "not a pure function" in text and "server" in text and "'Bump'" in text and "Bump(By=1)" in text


def test_an_initiative_with_a_global_counter_is_rejected_as_impure() -> None:
    calls = itertools.count()

    def bump(s: Counter, msg: Message, ctx: Ctx) -> Counter:
        return s

    def send(s: Counter, ctx: Ctx) -> Counter | None:
        if s.n >= 2:
            return None
        ctx.send("server", "Bump", By=1)
        return Counter(s.n + 1 + next(calls) % 2)

    with pytest.raises(SpecError) as e:
        _run(_spec(bump, send))
    assert "not a pure function" in str(e.value) and "'send'" in str(e.value)


def test_a_choice_whose_options_change_between_runs_is_a_spec_error() -> None:
    calls = itertools.count()

    def bump(s: Counter, msg: Message, ctx: Ctx) -> Counter:
        n = 1 + next(calls) % 3
        return Counter(s.n + ctx.choose("how", tuple(range(n))))

    with pytest.raises(SpecError) as e:
        _run(_spec(bump))
    assert "not a pure function" in str(e.value) and "server" in str(e.value)


def test_the_cli_gives_exit_2_and_one_line(tmp_path: Any) -> None:
    from tests.unit._support import run

    f = tmp_path / "raising_spec.py"
    f.write_text(
        "from tests.unit.test_reliability_contracts import _spec, Counter\n"
        "def _bump(s, msg, ctx):\n"
        "    raise ValueError('bad amount')\n"
        "SPEC = _spec(_bump)\n"
    )
    r = run("check", "--spec", str(f), "--no-save")
    assert r.exit_code == 2, r.output
    assert "ValueError" in r.output and "bad amount" in r.output
    assert "Traceback" not in r.output
