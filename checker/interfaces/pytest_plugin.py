"""pytest plugin (entry point ``pytest11: tim3check``): the ``tim3check`` fixture.

    def test_release_candidate(tim3check):
        tim3check(version="v3")                       # fails on any VIOLATED / UNKNOWN
        tim3check(version="v1", expect={"positions-match-supply": "VIOLATED"})
        tim3check.holds("positions-match-supply", version="v3", fault=["unlock-fail"])

Options are those of ``checker.interfaces.loader.config_from_options`` (the spec's
parameters by name, ``params``, ``network``, ``faults`` or ``fault``, ``max_faults``,
``adversary_messages``, ``max_depth``, ``max_states``, ``timeout``). A failing check calls ``pytest.fail`` with the verdict
table and the rendered counterexample of every unexpected violation. No files are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from checker.result import HOLDS, PROVED, UNKNOWN, VIOLATED, CheckResult, Engine, PropertyResult, Verdict
from checker.model.spec import Spec

VERDICTS = tuple(Verdict)


class Tim3Check:
    """The callable the ``tim3check`` fixture returns (stateless apart from nothing)."""

    def __call__(
        self,
        spec: str = "spec.tim3",
        *,
        properties: Iterable[str] | None = None,
        engine: Engine | str = Engine.EXPLORE,
        expect: Mapping[str, str] | None = None,
        **options: Any,
    ) -> CheckResult:
        """Run the checker; ``pytest.fail`` unless every verdict is as expected.

        Properties named in ``expect`` must have exactly that verdict; every other
        property must not be VIOLATED or UNKNOWN (EXPECTED-FAIL is accepted).
        """
        from checker.engines.registry import run_engine
        from checker.interfaces.loader import config_from_options, load_spec

        expect = dict(expect or {})
        for name, verdict in expect.items():
            if verdict not in VERDICTS:
                raise ValueError(f"expect[{name!r}] = {verdict!r}; use one of {', '.join(VERDICTS)}")
        if "fault" in options:
            options["faults"] = list(options.get("faults", ())) + _as_list(options.pop("fault"))
        if "faults" in options:
            options["faults"] = _as_list(options["faults"])
        loaded, module = load_spec(spec)
        props = list(properties) if properties is not None else None
        if props is not None and expect:
            props += [p for p in expect if p not in props]
        config = config_from_options(loaded, properties=props, **options)
        result = run_engine(loaded, config, engine)
        problems = _problems(result, expect)
        if problems:
            pytest.fail(failure_message(result, problems, loaded, module), pytrace=False)
        return result

    def holds(self, prop: str, spec: str = "spec.tim3", **options: Any) -> PropertyResult:
        """Assert that ``prop`` HOLDS (or is PROVED) in the given scenario; return its result."""
        options.pop("expect", None)
        result = self(spec, properties=[prop], expect={}, **options)
        return result.result(prop)

    def violates(self, prop: str, spec: str = "spec.tim3", **options: Any) -> PropertyResult:
        """Assert that ``prop`` is VIOLATED in the given scenario; return its result (with trace)."""
        result = self(spec, properties=[prop], expect={prop: VIOLATED}, **options)
        return result.result(prop)


def _as_list(v: Any) -> list[str]:
    return [v] if isinstance(v, str) else list(v)


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


def failure_message(result: CheckResult, problems: list[tuple[PropertyResult, str]], spec: Spec, module: str) -> str:
    """The verdict table plus the counterexample of every problem that has a trace."""
    from checker.interfaces.report import check_text

    lines = ["tim3check: " + "; ".join(f"{r.name}: {why}" for r, why in problems), "", check_text(result)]
    for r, _ in problems:
        if r.trace is not None:
            lines += ["", render_trace(result, r, spec, module)]
    return "\n".join(lines)


def render_trace(result: CheckResult, r: PropertyResult, spec: Spec, module: str) -> str:
    """The Markdown counterexample of ``r`` (a compact step list if rendering fails)."""
    from checker.interfaces.counterexample import counterexample_data
    from checker.interfaces.render import render_markdown
    from checker.model.semantics import Semantics

    try:
        return render_markdown(counterexample_data(result, r, Semantics(spec, result.config), module))
    except Exception as e:  # rendering must never hide the verdict itself
        return f"(could not render the counterexample: {type(e).__name__}: {e})\n" + _compact(r)


def _compact(r: PropertyResult) -> str:
    assert r.trace is not None
    out = [f"counterexample for {r.name} ({len(r.trace)} steps):"]
    for i, (step, _) in enumerate(r.trace.steps, start=1):
        msg = step.msg.describe() if step.msg is not None else ""
        sent = "; ".join(m.describe() for m in step.sends)
        out.append(f"  {i:>3}. {step.kind} {step.pid} {step.handler or ''} {msg} -> {sent or 'nothing'}")
    return "\n".join(out)


@pytest.fixture
def tim3check() -> Tim3Check:
    """Run tim3check from a test: ``tim3check(version="v3")``, ``tim3check.holds(prop, ...)``."""
    return Tim3Check()
