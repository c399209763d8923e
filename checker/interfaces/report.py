"""Rendering a ``CheckResult``: the verdict table and statistics (rich), plain text, JSON.

Shared by ``tim3check check``, ``tim3check audit`` and the pytest plugin's failure
message. The JSON document is described in docs/json-format.md (``JSON_SCHEMA_VERSION``).
"""

from __future__ import annotations

import io
from importlib import metadata
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from checker.result import EXPECTED_FAIL, HOLDS, PROVED, UNKNOWN, VIOLATED, CheckResult, Engine, PropertyResult

JSON_SCHEMA_VERSION = 1
TOOL = "tim3check"

VERDICT_LABEL = {
    HOLDS: "HOLDS within bound",
    PROVED: "PROVED",
    VIOLATED: "VIOLATED",
    UNKNOWN: "UNKNOWN",
    EXPECTED_FAIL: "expected-fail observed",
}
VERDICT_STYLE = {HOLDS: "green", PROVED: "bold green", VIOLATED: "bold red", UNKNOWN: "yellow", EXPECTED_FAIL: "cyan"}


def tool_version() -> str:
    """The installed tim3check version ("unknown" when running from an uninstalled checkout)."""
    try:
        return metadata.version(TOOL)
    except metadata.PackageNotFoundError:
        return "unknown"


def verdict_label(r: PropertyResult) -> str:
    return VERDICT_LABEL.get(r.verdict, r.verdict)


def short_bound(r: PropertyResult) -> str:
    """The bound without its scenario/faults/network tail (the header states those). A
    PROVED row keeps only what is proved (and its scenario tag): its method and
    certificate are printed below the table (``certificates_text``)."""
    if r.verdict == PROVED:
        return r.bound.split("; ", 1)[0] + (" (certificate below)" if r.certificate else "")
    text = r.bound.split("; ", 1)[0] if r.verdict in (HOLDS, UNKNOWN, VIOLATED) else r.bound
    if r.detail:
        text = f"{text} — {r.detail}" if text else r.detail
    return text


def faults_text(result: CheckResult) -> str:
    cfg = result.config
    if not cfg.faults:
        return "none"
    extra = f", adversary messages ≤ {cfg.adversary_messages}" if "adversary" in cfg.faults else ""
    return f"{', '.join(sorted(cfg.faults))} (at most {cfg.max_faults} per run{extra})"


def limits_text(result: CheckResult) -> str:
    lim = result.config.limits
    parts = []
    if lim.max_depth is not None:
        parts.append(f"max depth {lim.max_depth}")
    if lim.max_states is not None:
        parts.append(f"max states {lim.max_states:,}")
    if lim.timeout is not None:
        parts.append(f"timeout {lim.timeout:g}s")
    return ", ".join(parts) or "none"


def header(result: CheckResult) -> Text:
    """Spec, scenario, faults, network, engine and limits, one per line."""
    t = Text()
    rows = (
        ("spec", f"{result.spec_name} ({result.spec_source})"),
        ("scenario", result.scenario),
        ("faults", faults_text(result)),
        ("network", result.config.network),
        ("engine", result.engine),
        ("limits", limits_text(result)),
    )
    for i, (k, v) in enumerate(rows):
        t.append(f"{k:<9}", style="dim")
        t.append(v + ("\n" if i < len(rows) - 1 else ""))
    if result.interrupted is not None:
        t.append("\n")
        t.append(f"{'stopped':<9}", style="dim")
        t.append(interrupted_text(result), style="bold yellow")
    return t


def interrupted_text(result: CheckResult) -> str:
    """What a run stopped by a signal established (the verdicts below are what it had)."""
    s = result.stats
    reached = f"{s.states:,} {s.unit} explored" + (f", depth {s.max_depth} reached" if s.max_depth else "")
    return (f"interrupted by {result.interrupted} after {s.seconds:.1f} s ({reached}): verdicts found before "
            f"the signal are kept, every other property is UNKNOWN")


def verdict_table(result: CheckResult, paths: bool = True) -> Table:
    """One row per property: name, kind, verdict, bound (or detail), counterexample path
    (``paths=False``: "saved (below)", when ``files_text`` follows the table)."""
    table = Table(show_header=True, header_style="bold", expand=False)
    several = len({r.engine for r in result.results}) > 1
    table.add_column("property", no_wrap=True)
    if several:
        table.add_column("engine")
    table.add_column("kind")
    table.add_column("verdict")
    table.add_column("bound", ratio=3)
    table.add_column("counterexample", overflow="fold", ratio=2)
    for r in result.results:
        table.add_row(
            r.name,
            *((r.engine,) if several else ()),
            r.kind,
            Text(verdict_label(r), style=VERDICT_STYLE.get(r.verdict, "")),
            short_bound(r),
            (r.counterexample_path if paths else "saved (below)") if r.counterexample_path else _unsaved(r),
        )
    return table


def _unsaved(r: PropertyResult) -> str:
    if r.trace is None or r.verdict == HOLDS:
        return "—"
    return "(not saved: --save-expected)" if r.verdict == EXPECTED_FAIL else "(not saved)"


def stats_text(result: CheckResult) -> Text:
    """Distinct states, transitions, depth, time, rate, limit hit, and handler coverage
    (for ``prove``: the size of the control-shape graph and the time)."""
    s = result.stats
    t = Text()
    t.append("statistics ", style="bold")
    if result.engine == Engine.PROVE:  # a graph of control shapes, not a search by depth
        up_to = f" up to {s.reduction}" if s.reduction else ""
        t.append(f"{s.states:,} control shapes{up_to}, {s.transitions:,} edges (data are z3 variables), "
                 f"{s.seconds:.2f} s, limit hit: {s.limit_hit or 'none'}\n")
        return t
    what = {Engine.BMC: "symbolic states", Engine.SIMULATE: "worlds visited by the runs (with repeats)"}
    t.append(
        f"{s.states:,} {what.get(result.engine, 'distinct states')}, "
        f"{s.transitions:,} transitions, max depth {s.max_depth}, "
        f"{s.seconds:.2f} s, {s.states_per_second:,.0f} states/s, limit hit: {s.limit_hit or 'none'}"
        + (f", reduction: {s.reduction} (states counted are orbit representatives)" if s.reduction else "")
        + (f", explorer: {s.explorer}" if s.explorer else "")
        + "\n"
    )
    t.append("handler coverage", style="bold")
    t.append(" (times each handler fired)\n")
    by_kind: dict[str, list[str]] = {}
    for key, n in s.coverage.items():
        kind, _, name = key.partition(":")
        by_kind.setdefault(kind, []).append(f"{name} {n:,}")
    for kind, items in by_kind.items():
        t.append(f"  {kind:<12}", style="dim")
        t.append(", ".join(items) + "\n")
    never = s.never_fired
    t.append("never fired ", style="bold")
    t.append(", ".join(never) if never else "none", style="yellow" if never else "green")
    if result.spec_statistics:
        t.append("\nspec statistics", style="bold")
        for name, value in result.spec_statistics.items():
            shown = f"{value[0]}–{value[1]}" if isinstance(value, (list, tuple)) else str(value)
            t.append(f"\n  {name}: {shown}")
    return t


def certificates_text(result: CheckResult, max_lines: int = 40) -> Text | None:
    """The proof certificate of every PROVED property (the first ``max_lines`` lines each;
    ``--format json`` carries them whole)."""
    proved = [r for r in result.results if r.verdict == PROVED and r.certificate]
    if not proved:
        return None
    t = Text()
    for r in proved:
        tag = r.bound.split("] ", 1)[0] + "]" if r.bound.startswith("[") else ""
        t.append(f"certificate of {r.name}{' ' + tag if tag else ''}", style="bold green")
        t.append(f" ({r.detail})\n" if r.detail else "\n")
        lines = (r.certificate or "").splitlines()
        t.append("\n".join(lines[:max_lines]) + "\n")
        if len(lines) > max_lines:
            t.append(f"… {len(lines) - max_lines} more lines (see --format json)\n", style="dim")
    return t


def files_text(result: CheckResult) -> Text | None:
    """Every saved counterexample: its path and the replay command, each on a line of its
    own (never wrapped) so that either can be copied."""
    saved = [r for r in result.results if r.counterexample_path]
    if not saved:
        return None
    t = Text(no_wrap=True, overflow="ignore")
    t.append("counterexamples saved", style="bold")
    for r in saved:
        steps = f", {len(r.trace)} steps" if r.trace is not None else ""
        t.append(f"\n  {r.name} ({verdict_label(r)}{steps}):\n")
        t.append(f"    {r.counterexample_path}\n")
        t.append(f"    tim3check replay {r.counterexample_path}")
    return t


def render_check(result: CheckResult) -> RenderableType:
    """The whole text report of one check."""
    files = files_text(result)
    parts: list[RenderableType] = [header(result), verdict_table(result, paths=files is None)]
    if files is not None:
        parts.append(files)
    cert = certificates_text(result)
    if cert is not None:
        parts.append(cert)
    parts.append(stats_text(result))
    return Group(*parts)


def to_plain_text(renderable: RenderableType, width: int = 160) -> str:
    """Render without colour or terminal detection (deterministic; for messages and tests)."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, no_color=True,
                      highlight=False, emoji=False, soft_wrap=False)
    console.print(renderable)
    return buf.getvalue().rstrip() + "\n"


def check_text(result: CheckResult, width: int = 160) -> str:
    """``render_check`` as plain text."""
    return to_plain_text(render_check(result), width)


def property_json(r: PropertyResult) -> dict[str, Any]:
    return {
        "name": r.name,
        "kind": r.kind,
        "meaning": r.meaning,
        "verdict": r.verdict,
        "bound": r.bound,
        "detail": r.detail,
        "expected_to_fail": r.expected_to_fail,
        "counterexample": r.counterexample_path,
        "trace_length": len(r.trace) if r.trace is not None else None,
        "engine": r.engine,
        "certificate": r.certificate,
    }


def result_json(result: CheckResult, spec_module: str | None) -> dict[str, Any]:
    """The ``tim3check check --format json`` document (see docs/json-format.md)."""
    return {
        "tool": TOOL,
        "version": tool_version(),
        "schema_version": JSON_SCHEMA_VERSION,
        "spec": {"name": result.spec_name, "module": spec_module, "source": result.spec_source},
        "scenario": result.scenario,
        "config": result.config.to_json(),
        "engine": result.engine,
        "results": [property_json(r) for r in result.results],
        "stats": result.stats.to_json(),
        "spec_statistics": dict(result.spec_statistics),
        "interrupted": result.interrupted,
        "exit_code": result.exit_code,
    }
