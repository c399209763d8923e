"""A handler that never returns ends the run clearly: UNKNOWN naming the limit with
``--timeout``; without it, a spec error naming the handler once the per-delivery budget
(``--handler-timeout``) is spent. A Lua handler's endless loop ends at its instruction
budget (a finding naming the budget)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker import stop
from checker.config import CheckConfig, Limits
from checker.engines.explore import explore
from checker.interfaces.loader import load_spec
from checker.result import UNKNOWN, VIOLATED

ROOT = Path(__file__).resolve().parents[2]

SPINNING_SPEC = textwrap.dedent('''
    """A server whose handler loops forever on its second message."""
    from dataclasses import dataclass

    from checker.model.spec import ActionDecl, Handler, Initiative, Param, ProcessDecl, ProcessInstance, Property, Spec


    @dataclass(frozen=True, slots=True)
    class Counter:
        n: int


    def bump(s, msg, ctx):
        while s.n >= 1:  # never returns
            pass
        return Counter(s.n + 1)


    def send(s, ctx):
        if s.n >= 2:
            return None
        ctx.send("server", "Bump", By=1)
        return Counter(s.n + 1)


    server = ProcessDecl("server", "Server", Counter, (Handler("Bump", "Bump", bump),))
    client = ProcessDecl("client", "Client", Counter, initiatives=(Initiative("send", send),))
    SPEC = Spec(
        name="spinning",
        source=__file__,
        actions=(ActionDecl("Bump", (("By", "by"),)),),
        params=(Param("sends", "int", 2, "sends", minimum=0),),
        faults={},
        process_decls=(server, client),
        build=lambda p: (ProcessInstance("server", server, Counter(0)), ProcessInstance("client", client, Counter(0))),
        domains=lambda p: {"by": (1,)},
        properties=(Property("small", "always", "the server counts at most 5", lambda v: v.server.n <= 5),),
    )
''')


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    stop.reset()
    yield
    stop.reset()


def _spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "spinning_spec.py"
    path.write_text(SPINNING_SPEC, encoding="utf-8")
    return path


def _check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "checker", "check", "--spec", str(_spec_file(tmp_path)), *args,
                           "--no-save"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_with_timeout_a_stuck_handler_ends_unknown_naming_the_limit(tmp_path: Path) -> None:
    r = _check(tmp_path, "--timeout", "2", "--format", "json")
    assert r.returncode == 3, r.stderr
    assert '"limit_hit": "timeout 2s, while handler \'Bump\' of server on message client → server: Bump(By=1) ' \
           'was running"' in r.stdout
    assert '"verdict": "UNKNOWN"' in r.stdout and "Traceback" not in r.stderr


def test_without_timeout_a_stuck_handler_is_a_spec_error(tmp_path: Path) -> None:
    r = _check(tmp_path, "--handler-timeout", "1")
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0] == ("error: handler 'Bump' of server on message client → server: Bump(By=1) did not return "
                        "within 1 s: a handler must terminate (an endless loop?); pass --timeout to bound the run")


def test_in_process_guard_stops_the_handler(tmp_path: Path) -> None:
    """``stop.guard`` works for any caller on the main thread (the pytest plugin, scripts)."""
    spec, _ = load_spec(str(_spec_file(tmp_path)))
    with stop.guard(timeout=1):
        r = explore(spec, CheckConfig(params=spec.default_params(), limits=Limits(timeout=1)))
    assert r.result("small").verdict == UNKNOWN
    assert r.stats.limit_hit is not None and r.stats.limit_hit.startswith("timeout 1s, while handler 'Bump'")
    assert stop.requested() is None  # the guard leaves no stop request behind


def test_an_initiative_that_never_returns_is_stopped_too(tmp_path: Path) -> None:
    path = tmp_path / "spinning_initiative.py"
    path.write_text(SPINNING_SPEC.replace("    if s.n >= 2:\n        return None\n",
                                          "    while s.n >= 1:  # never returns\n        pass\n"), encoding="utf-8")
    spec, _ = load_spec(str(path))
    with stop.guard(timeout=None, handler_budget=1):
        with pytest.raises(stop.HandlerTimeout) as e:
            explore(spec, CheckConfig(params=spec.default_params()))
    assert str(e.value).startswith("initiative 'send' of client did not return within 1 s")


LUA = """
Handlers.add("Spin", Handlers.utils.hasMatchingTag("Action", "Spin"), function(msg)
  local n = 0
  while true do n = n + 1 end
end)
"""

MANIFEST = """
[system]
name = "spinner"

[processes.spinner]
files = ["spinner.lua"]

[wallets]
count = 1
ops = 1
wait = false

[[wallets.operations]]
target = "spinner"
tags = { Action = "Spin" }
"""


def test_a_lua_endless_loop_ends_at_the_instruction_budget(tmp_path: Path) -> None:
    (tmp_path / "spinner.lua").write_text(LUA, encoding="utf-8")
    (tmp_path / "tim3check.toml").write_text(MANIFEST, encoding="utf-8")
    spec, _ = load_spec(str(tmp_path / "tim3check.toml"))
    r = explore(spec, CheckConfig(params=spec.default_params()))
    found = [x for x in r.results if x.kind == "finding"]
    assert [x.name for x in found] == ["handler-error@spinner.lua:4"]
    assert found[0].verdict == VIOLATED and found[0].trace is not None and len(found[0].trace) == 2
    assert "instruction budget of 1000000 exceeded (endless loop?)" in found[0].detail
    assert r.stats.limit_hit is None  # the run itself went on to the end: the loop is a finding, not a hang
