"""``tim3check audit``: every version × fault setting × property.

The versions are the choices of the spec parameter ``version`` (or, failing that, of the
first parameter with choices); the last choice is the release candidate. The default
fault settings are: none, each spec fault alone, loss, handler-error, adversary.

Release gate (the exit code): the release candidate must hold every property (an
expected-fail property failing as documented is fine) under every *required* setting:
those made only of spec faults and the adversary. Settings with ``loss`` or
``handler-error`` are informational: no design without acknowledgements and retries
survives them, so they are shown but never gate. Exit 0 gate passed, 1 a required cell is
VIOLATED, 3 none violated but a required cell is UNKNOWN.

Unless the user sets one of its parameters, the audit runs on the spec's small scenario
``Spec.command_scenarios["audit"]`` (TIM3: 1 user, 2 operations: one mint-then-burn
sequence and every failure path) so that the whole matrix, adversary included, runs in
seconds. ``run_audit`` tells a listener (``AuditLines``: one line per cell on stderr, and
the status line) when each cell starts and finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from checker.config import CheckConfig
from checker.engines.registry import EngineOptions, ProgressFn, runner as engine_runner
from checker.errors import UsageError
from checker.interfaces.loader import config_from_options, given_params
from checker.interfaces.progress import Status, seconds_text
from checker.interfaces.report import JSON_SCHEMA_VERSION, TOOL, VERDICT_LABEL, VERDICT_STYLE, tool_version
from checker.result import (
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    EXPECTED_FAIL,
    HOLDS,
    PROVED,
    UNKNOWN,
    VIOLATED,
    CheckResult,
    Engine,
    Verdict,
)
from checker.model.spec import Spec

INFORMATIONAL_FAULTS = frozenset({"loss", "handler-error"})
SYMBOL = {HOLDS: "✓", PROVED: "✓✓", VIOLATED: "✗", UNKNOWN: "?", EXPECTED_FAIL: "xf"}

Runner = Callable[[Spec, CheckConfig], CheckResult]


@dataclass(frozen=True)
class Setting:
    """One column of the matrix: a name and the faults it enables."""

    name: str
    faults: tuple[str, ...]

    @property
    def informational(self) -> bool:
        return any(f in INFORMATIONAL_FAULTS for f in self.faults)


@dataclass
class AuditMatrix:
    """Every cell's ``CheckResult``, keyed by (version, setting name)."""

    spec: Spec
    version_param: str | None
    versions: list[str]
    settings: list[Setting]
    properties: list[str]
    cells: dict[tuple[str, str], CheckResult] = field(default_factory=dict)
    scenario_note: str = ""
    z3cells: dict[tuple[str, str], CheckResult] = field(default_factory=dict)
    z3_engine: str | None = None

    @property
    def candidate(self) -> str:
        return self.versions[-1]

    def gate_failures(self) -> list[tuple[str, str, Verdict]]:
        """(setting, property, verdict) of every required cell of the candidate that is
        VIOLATED or UNKNOWN."""
        out = []
        for s in self.settings:
            if s.informational:
                continue
            for cells, tag in ((self.cells, ""), (self.z3cells, f" ({self.z3_engine})")):
                cell = cells.get((self.candidate, s.name))
                if cell is None:
                    continue
                for r in cell.results:
                    if r.verdict in (VIOLATED, UNKNOWN):
                        out.append((s.name + tag, r.name, r.verdict))
        return out

    @property
    def exit_code(self) -> int:
        fails = self.gate_failures()
        if any(v == VIOLATED for _, _, v in fails):
            return EXIT_VIOLATED
        return EXIT_UNKNOWN if fails else EXIT_OK


def default_settings(spec: Spec) -> list[Setting]:
    out = [Setting("none", ())]
    out += [Setting(f, (f,)) for f in spec.faults]
    out += [Setting(f, (f,)) for f in ("loss", "handler-error", "adversary")]
    return out


def parse_settings(spec: Spec, values: Sequence[str]) -> list[Setting]:
    """``--fault-set`` values (``none`` or a comma list of faults) as settings."""
    if not values:
        return default_settings(spec)
    known = spec.all_faults()
    out: list[Setting] = []
    for v in values:
        names = tuple(sorted({x.strip() for x in v.split(",") if x.strip()} - {"none"}))
        for f in names:
            if f not in known:
                raise UsageError(f"--fault-set: unknown fault {f!r} in {v!r}; choose from none, {', '.join(known)}")
        name = ",".join(names) or "none"
        if all(s.name != name for s in out):
            out.append(Setting(name, names))
    return out


def version_param(spec: Spec) -> str | None:
    """The parameter whose choices are the versions audited (``version`` preferred)."""
    p = spec.param("version")
    if p is not None and p.choices:
        return p.name
    return next((q.name for q in spec.params if q.choices), None)


class AuditListener(Protocol):
    """Told when each cell of the matrix starts and finishes (``k`` of ``n``, from 1)."""

    def start(self, m: AuditMatrix, k: int, n: int, version: str, setting: Setting) -> None: ...

    def done(self, m: AuditMatrix, k: int, n: int, version: str, setting: Setting) -> None: ...


def run_audit(spec: Spec, options: Mapping[str, Any], fault_sets: Sequence[str],
              properties: Sequence[str] | None, engine: Engine | str | Runner = Engine.EXPLORE,
              z3: Engine | str | None = None, *, progress: ProgressFn | None = None,
              engine_options: EngineOptions | None = None, listener: AuditListener | None = None) -> AuditMatrix:
    """Run ``engine`` (a name in ``checker.engines.registry.ENGINES``, or any runner) on every
    (version, setting) cell with the scenario ``options`` (the keyword options of
    ``config_from_options`` except faults/properties; spec parameters by name), and the z3
    engine ``z3`` too when given: the z3 column of every cell. ``progress`` and
    ``engine_options`` go to the engines; ``listener`` hears of every cell, in order."""
    run = engine if callable(engine) else engine_runner(engine, progress, engine_options)
    run_z3 = engine_runner(z3, progress, engine_options) if z3 is not None else None
    settings = parse_settings(spec, fault_sets)
    opts = dict(options)
    vp = version_param(spec)
    note = ""
    scenario = tuple(spec.command_scenarios.get("audit", ()))[:1]
    if scenario and all(spec.param(n) is not None for n in scenario[0]):
        given = given_params(spec, {k: v for k, v in opts.items() if spec.param(k) is not None}, opts.get("params", ()))
        if not given & set(scenario[0]):
            opts.update(scenario[0])
            flags = " ".join(f"{spec.param(n).option} {v}" for n, v in scenario[0].items())  # type: ignore[union-attr]
            note = f"audit default scenario ({flags}; pass them to change)"
    choice = spec.param(vp) if vp else None
    versions = list(choice.choices or ()) if choice is not None else ["(default)"]
    selected = list(properties) if properties else None
    base = config_from_options(spec, properties=selected, **opts)  # validates the options once
    props = list(base.properties) if base.properties is not None else [p.name for p in spec.properties]
    matrix = AuditMatrix(spec, vp, versions, settings, props, scenario_note=note,
                         z3_engine=str(z3) if z3 is not None else None)
    n, k = len(versions) * len(settings), 0
    for v in versions:
        params = list(opts.get("params", ()))
        if vp is not None:
            params = [p for p in params if p.partition("=")[0].strip() != vp] + [f"{vp}={v}"]
        for s in settings:
            k += 1
            if listener is not None:
                listener.start(matrix, k, n, v, s)
            cfg = config_from_options(spec, **{**opts, "params": params}, faults=s.faults, properties=selected)
            matrix.cells[(v, s.name)] = run(spec, cfg)
            if run_z3 is not None:
                matrix.z3cells[(v, s.name)] = run_z3(spec, cfg)
            if listener is not None:
                listener.done(matrix, k, n, v, s)
    return matrix


def cell_symbols(m: AuditMatrix, version: str, setting: str) -> str:
    """``✓ ✓ ✗ xf`` (one symbol per property, in the matrix's order) of a finished cell, then
    ``| bmc ✓ ✓ ✗ xf`` for its z3 column."""
    parts = []
    for cells, tag in ((m.cells, ""), (m.z3cells, f"| {m.z3_engine} ")):
        cell = cells.get((version, setting))
        if cell is None:
            continue
        by_name = {r.name: r.verdict for r in cell.results}
        parts.append(tag + " ".join(SYMBOL.get(by_name[p], "?") if p in by_name else "—" for p in m.properties))
    return " ".join(parts)


def cell_line(m: AuditMatrix, k: int, n: int, version: str, setting: Setting) -> str:
    """``[ 3/18] v1 × mint-fail: ✓ ✓ ✗ ✓ xf ✓ ✓ (1,234 states, 0.4 s)``: a finished cell."""
    cell = m.cells[(version, setting.name)]
    z3 = m.z3cells.get((version, setting.name))
    seconds = cell.stats.seconds + (z3.stats.seconds if z3 is not None else 0.0)
    star = "*" if setting.informational else ""
    width = len(str(n))
    return (f"[{k:>{width}}/{n}] {version} × {setting.name}{star}: {cell_symbols(m, version, setting.name)} "
            f"({cell.stats.states:,} {cell.stats.unit}, {seconds_text(seconds)})")


def cell_label(m: AuditMatrix, k: int, n: int, version: str, setting: Setting) -> str:
    """``auditing cell 3/18 (version v1, mint-fail)``: the status line's label."""
    what = f"{m.version_param} {version}" if m.version_param else version
    return f"auditing cell {k}/{n} ({what}, {setting.name})"


class AuditLines:
    """The audit's listener on the command line: the status line names the running cell;
    each finished cell is one line through ``emit`` (the properties named once, first)."""

    def __init__(self, status: Status, emit: Callable[[str], None]) -> None:
        self.status = status
        self.emit = emit

    def start(self, m: AuditMatrix, k: int, n: int, version: str, setting: Setting) -> None:
        self.status.relabel(cell_label(m, k, n, version, setting))

    def done(self, m: AuditMatrix, k: int, n: int, version: str, setting: Setting) -> None:
        if k == 1:
            self.emit(f"audit: {n} cells ({len(m.versions)} versions × {len(m.settings)} settings); "
                      f"each row: {', '.join(m.properties)}")
        self.emit(cell_line(m, k, n, version, setting))


def _cell(r_verdict: Verdict) -> Text:
    return Text(SYMBOL.get(r_verdict, r_verdict), style=VERDICT_STYLE.get(r_verdict, ""))


def render_audit(m: AuditMatrix) -> RenderableType:
    """Header, one table per version (rows: properties, columns: fault settings), legend, gate."""
    first = m.cells[(m.candidate, m.settings[0].name)]
    head = Text()
    head.append("audit ", style="bold")
    head.append(f"spec {m.spec.name} ({m.spec.source})\n")
    head.append("scenario ", style="dim")
    scen = first.scenario
    if m.version_param is not None:
        scen += f"  [{m.version_param}: {', '.join(m.versions)}, one table each; release candidate {m.candidate}]"
    head.append(scen + "\n")
    if m.scenario_note:
        head.append("note     ", style="dim")
        head.append(m.scenario_note + "\n")
    cfg = first.config
    head.append("budget   ", style="dim")
    head.append(f"at most {cfg.max_faults} fault(s) per run, adversary messages ≤ {cfg.adversary_messages}, "
                f"network {cfg.network}")
    parts: list[RenderableType] = [head]
    for v in m.versions:
        t = Table(title=f"{m.version_param or 'spec'} {v}" + ("  (release candidate)" if v == m.candidate else ""),
                  title_justify="left", show_header=True, header_style="bold")
        t.add_column("property")
        for s in m.settings:
            t.add_column(s.name + ("*" if s.informational else ""), justify="center")
        for p in m.properties:
            row: list[Text | str] = [p]
            for s in m.settings:
                cell = Text()
                for cells in (m.cells, m.z3cells):
                    if (v, s.name) not in cells:
                        continue
                    r = next((x for x in cells[(v, s.name)].results if x.name == p), None)
                    if cell:
                        cell.append(" ")
                    cell.append_text(_cell(r.verdict) if r is not None else Text("—"))
                row.append(cell)
            t.add_row(*row)
        parts.append(t)
    legend = Text("legend ", style="dim")
    if m.z3_engine is not None:
        legend.append(f"each cell: explore verdict, then {m.z3_engine} (z3{_symbolic(m.spec)}); ")
    legend.append(", ".join(f"{sym} {VERDICT_LABEL[k]}" for k, sym in SYMBOL.items()))
    legend.append("; * informational (loss/handler-error: no design without acknowledgements and retries "
                  "survives them; not part of the release gate)")
    parts.append(legend)
    parts.append(_gate_text(m))
    return Group(*parts)


def _symbolic(spec: Spec) -> str:
    """``, any value of budget, max_size`` (the spec's symbolic parameters) or ''."""
    return f", any value of {', '.join(spec.symbolic_params)}" if spec.symbolic_params else ""


def audit_markdown(m: AuditMatrix) -> str:
    """The matrix as Markdown (for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment): the
    scenario, one table per version (rows: properties, columns: fault settings; each cell
    the explore verdict, then the z3 one), the legend and the release gate."""
    first = m.cells[(m.candidate, m.settings[0].name)]
    lines = [f"**tim3check audit** `{m.spec.name}` — {first.scenario}"]
    if m.scenario_note:
        lines.append(f"({m.scenario_note})")
    for v in m.versions:
        title = f"{m.version_param or 'spec'} {v}" + (" (release candidate)" if v == m.candidate else "")
        lines += ["", f"**{title}**", "",
                  "| property | " + " | ".join(s.name + ("*" if s.informational else "") for s in m.settings) + " |",
                  "|---" * (len(m.settings) + 1) + "|"]
        for p in m.properties:
            row = [f"`{p}`"]
            for s in m.settings:
                syms = []
                for cells in (m.cells, m.z3cells):
                    if (v, s.name) in cells:
                        r = next((x for x in cells[(v, s.name)].results if x.name == p), None)
                        syms.append(SYMBOL.get(r.verdict, r.verdict) if r is not None else "—")
                row.append(" ".join(syms))
            lines.append("| " + " | ".join(row) + " |")
    legend = ", ".join(f"{sym} {VERDICT_LABEL[k]}" for k, sym in SYMBOL.items())
    z3 = f"each cell: explore verdict, then {m.z3_engine}; " if m.z3_engine is not None else ""
    gate, _, why = _gate_text(m).plain.partition(": ")
    lines += ["", f"{z3}{legend}; * informational (not part of the release gate)", "", f"**{gate}**: {why}"]
    return "\n".join(lines) + "\n"


def _gate_text(m: AuditMatrix) -> Text:
    required = [s.name for s in m.settings if not s.informational]
    fails = m.gate_failures()
    t = Text()
    if not fails:
        t.append("release gate PASSED", style="bold green")
        t.append(f": {m.candidate} holds every property (expected-fail aside) under {', '.join(required) or 'nothing'}")
        return t
    t.append("release gate FAILED", style="bold red")
    t.append(f": {m.candidate} " + "; ".join(f"{p} {v} under {s}" for s, p, v in fails))
    return t


def audit_json(m: AuditMatrix, spec_module: str | None) -> dict[str, Any]:
    """The ``tim3check audit --format json`` document (see docs/json-format.md)."""
    fails = m.gate_failures()
    return {
        "tool": TOOL,
        "version": tool_version(),
        "schema_version": JSON_SCHEMA_VERSION,
        "spec": {"name": m.spec.name, "module": spec_module, "source": m.spec.source},
        "version_param": m.version_param,
        "versions": m.versions,
        "release_candidate": m.candidate,
        "scenario_note": m.scenario_note,
        "settings": [{"name": s.name, "faults": list(s.faults), "informational": s.informational} for s in m.settings],
        "properties": m.properties,
        "cells": [
            {
                "version": v,
                "setting": s.name,
                "scenario": m.cells[(v, s.name)].scenario,
                "config": m.cells[(v, s.name)].config.to_json(),
                "results": [
                    {"name": r.name, "kind": r.kind, "verdict": r.verdict, "bound": r.bound, "detail": r.detail,
                     "expected_to_fail": r.expected_to_fail,
                     "trace_length": len(r.trace) if r.trace is not None else None}
                    for r in m.cells[(v, s.name)].results
                ],
                "stats": m.cells[(v, s.name)].stats.to_json(),
                "z3": None if (v, s.name) not in m.z3cells else {
                    "engine": m.z3_engine,
                    "results": [
                        {"name": r.name, "verdict": r.verdict, "bound": r.bound, "detail": r.detail,
                         "certificate": r.certificate}
                        for r in m.z3cells[(v, s.name)].results
                    ],
                },
            }
            for v in m.versions
            for s in m.settings
        ],
        "gate": {
            "passed": not fails,
            "required_settings": [s.name for s in m.settings if not s.informational],
            "failures": [{"setting": s, "property": p, "verdict": v} for s, p, v in fails],
        },
        "exit_code": m.exit_code,
    }
