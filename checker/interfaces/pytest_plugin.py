"""pytest plugin (entry point ``pytest11: tim3check``): the ``tim3check`` fixture.

    def test_release_candidate(tim3check):
        tim3check(version="v3")                       # fails on any VIOLATED / UNKNOWN
        tim3check(version="v1", expect={"positions-match-supply": "VIOLATED", ...})
        tim3check.holds("positions-match-supply", version="v3", fault=["unlock-fail"])
        tim3check(engine="bmc", depth=8, ops=1)       # every option of `tim3check check`

The keywords are the command line's options under their Python names (the same option set,
``checker.interfaces.options``: ``engine``, ``depth``, ``method``, ``max_shapes``, ``runs``,
``steps``, ``timeout``, ``max_states``, ``max_depth``, ``max_memory``, ``network``,
``faults``/``fault``, ``max_faults``, ``adversary_messages``, ``properties``/``property``,
``symmetry``, ``conform``, ``params``, ``system``), and the spec's parameters by name (a
``Param`` with ``flag=`` also by its flag's name, ``-`` written ``_``), with the command
line's defaults and checks. ``expect`` maps property names to verdicts: a named property must
have exactly that verdict (``HOLDS`` also accepts ``PROVED``); a property it does not name
passes when it HOLDS, is PROVED or is EXPECTED-FAIL, and fails the test when VIOLATED or
UNKNOWN.

A failing call fails the test with a short message: each property not as expected, its
meaning, the steps of its counterexample and a ``tim3check replay FILE`` command for the
counterexample saved under the test's ``tmp_path`` (``--tim3check-out DIR``: there instead).
``--tim3check-timeout SECONDS`` is the time limit of every call that sets none (reaching it
is UNKNOWN: a failure, never a pass).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from checker.errors import UserError
from checker.model.spec import Spec
from checker.result import HOLDS, PROVED, UNKNOWN, VIOLATED, CheckResult, PropertyResult, Verdict

VERDICTS = tuple(Verdict)
DEFAULT_SPEC = "spec.tim3"


class Tim3Check:
    """The callable the ``tim3check`` fixture returns: counterexamples go to ``out``;
    ``timeout`` is the time limit of calls that set none."""

    def __init__(self, out: Path | None = None, timeout: float | None = None) -> None:
        self.out = out
        self.timeout = timeout

    def __call__(
        self,
        spec: str | None = None,
        *,
        properties: Iterable[str] | None = None,
        expect: Mapping[str, str] | None = None,
        **options: Any,
    ) -> CheckResult:
        """Run the checker; ``pytest.fail`` unless every verdict is as expected (see the
        module docstring for the options and for what ``expect`` means)."""
        from checker.engines.registry import run_engine
        from checker.interfaces.loader import load_spec
        from checker.interfaces.options import plan_check

        expect = dict(expect or {})
        for name, verdict in expect.items():
            if verdict not in VERDICTS:
                raise ValueError(f"expect[{name!r}] = {verdict!r}; use one of {', '.join(VERDICTS)}")
        system = options.pop("system", None)
        if system is not None and spec is not None:
            raise ValueError("tim3check(spec=..., system=...): pass one (a manifest is a spec of its own)")
        if self.timeout is not None and options.get("timeout") is None:
            options["timeout"] = self.timeout
        props = list(properties) if properties is not None else None
        if props is not None and expect:
            props += [p for p in expect if p not in props]
        if props is not None:
            options["properties"] = props
        try:
            loaded, module = load_spec(str(system) if system is not None else spec or DEFAULT_SPEC)
            plan = plan_check(loaded, options)
        except UserError as e:
            bad = str(e)  # failed below, outside the handler: one line, no chained traceback
        else:
            bad = ""
        if bad:
            pytest.fail(f"tim3check: {bad}", pytrace=False)
        result = run_engine(loaded, plan.config, plan.engine, None, plan.engine_options)
        problems = _problems(result, expect)
        if problems:
            pytest.fail(failure_message(result, problems, loaded, module, self.out), pytrace=False)
        return result

    def holds(self, prop: str, spec: str | None = None, **options: Any) -> PropertyResult:
        """Assert that ``prop`` HOLDS (or is PROVED) in the given scenario; return its result."""
        options.pop("expect", None)
        result = self(spec, properties=[prop], expect={}, **options)
        return result.result(prop)

    def violates(self, prop: str, spec: str | None = None, **options: Any) -> PropertyResult:
        """Assert that ``prop`` is VIOLATED in the given scenario; return its result (with trace)."""
        result = self(spec, properties=[prop], expect={prop: VIOLATED}, **options)
        return result.result(prop)


def _problems(result: CheckResult, expect: Mapping[str, str]) -> list[tuple[PropertyResult, str]]:
    """(result, why) for every verdict that is not acceptable."""
    out: list[tuple[PropertyResult, str]] = []
    names = {r.name for r in result.results}
    for name in expect:
        if name not in names:
            raise ValueError(f"expect names property {name!r}, which this check did not run")
    for r in result.results:
        want = expect.get(r.name)
        if want is not None:
            ok = r.verdict == want or (want == HOLDS and r.verdict == PROVED)
            if not ok:
                out.append((r, f"expected {want}, got {r.verdict}"))
        elif r.verdict in (VIOLATED, UNKNOWN):
            out.append((r, f"{r.verdict}"))
    return out


def failure_message(result: CheckResult, problems: Sequence[tuple[PropertyResult, str]], spec: Spec, module: str,
                    out: Path | None) -> str:
    """One block per problem: the property, why, its meaning and bound, the steps of its
    trace and the replay command of the file saved in ``out`` (not saved when ``None``)."""
    lines = [f"tim3check: {len(problems)} of {len(result.results)} properties not as expected "
             f"({result.engine}; {result.scenario})"]
    for r, why in problems:
        prop = spec.prop(r.name)
        lines += ["", f"{r.name}: {why}"]
        if prop is not None:
            lines.append(f"  meaning: {prop.meaning}")
        lines.append(f"  bound:   {r.bound}")
        if r.trace is not None:
            lines += _trace_lines(result, r, spec, module, out)
    return "\n".join(lines)


def _trace_lines(result: CheckResult, r: PropertyResult, spec: Spec, module: str, out: Path | None) -> list[str]:
    """The step table of ``r``'s trace and, when saved, its replay command."""
    from checker.interfaces.counterexample import counterexample_data, write_counterexample
    from checker.interfaces.render import step_rows
    from checker.model.semantics import Semantics

    data = counterexample_data(result, r, Semantics(spec, r.trace_config or result.config), module)
    lines = [f"  steps ({len(data['steps'])}):", *("  " + row for row in step_table(step_rows(data)))]
    if out is not None:
        path = write_counterexample(data, out)
        lines.append(f"  replay:  tim3check replay {path.resolve()}")
    return lines


def step_table(rows: Sequence[Sequence[str]], width: int = 44) -> list[str]:
    """``rows`` as aligned text columns under a header (cells cut at ``width`` characters)."""
    head = ("step", "process", "handler", "message", "sent", "what changed")
    cut = [[c if len(c) <= width else c[: width - 1] + "…" for c in row] for row in (head, *rows)]
    widths = [max(len(row[i]) for row in cut) for i in range(len(head))]
    return [" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cut]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tim3check")
    group.addoption("--tim3check-out", metavar="DIR", default=None,
                    help="tim3check: write counterexamples here (default: each test's tmp_path)")
    group.addoption("--tim3check-timeout", metavar="SECONDS", type=float, default=None,
                    help="tim3check: time limit of each check that sets none (reaching it fails the test)")


def pytest_report_header(config: pytest.Config) -> str:
    from checker.interfaces.report import tool_version

    out = config.getoption("tim3check_out", None) or "each test's tmp_path"
    timeout = config.getoption("tim3check_timeout", None)
    limit = f"{timeout:g} s" if timeout is not None else "none"
    return f"tim3check {tool_version()}: counterexamples in {out}; default timeout {limit}"


@pytest.fixture
def tim3check(request: pytest.FixtureRequest, tmp_path: Path) -> Tim3Check:
    """Run tim3check from a test: ``tim3check(version="v3")``, ``tim3check.holds(prop, ...)``."""
    # (default None: registered late by a conftest, the plugin's options do not exist)
    out = request.config.getoption("tim3check_out", None)
    timeout = request.config.getoption("tim3check_timeout", None)
    return Tim3Check(Path(out) if out else tmp_path / "tim3check", timeout)
