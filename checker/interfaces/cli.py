"""The ``tim3check`` command line: check (the default), audit, replay, show.

Exit codes (DESIGN.md): 0 every checked property holds (an expected-fail property that
fails as documented does not count), 1 a violation, 2 bad input or usage (one red line
on stderr, no traceback), 3 inconclusive (a limit was reached). ``InternalError`` and
any other unexpected exception is a tim3check bug and keeps its traceback.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from checker import stop
from checker.config import NETWORKS
from checker.engines.registry import BMC_DEPTH, ENGINES, PROVE_SCENARIOS, EngineOptions, engines_help, run_engine
from checker.errors import UsageError, UserError
from checker.interfaces.loader import config_from_options, load_spec
from checker.interfaces.report import render_check, result_json, verdict_table
from checker.result import (
    EXIT_BY_SIGNAL,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    EXIT_VIOLATED,
    EXPECTED_FAIL,
    VIOLATED,
    CheckResult,
    Engine,
    Stats,
)
from checker.model.spec import Spec
from checker.stop import HANDLER_BUDGET

F = Callable[..., Any]


class _Tim3Group(click.Group):
    """A group that runs ``check`` when no subcommand is named and turns every user
    mistake (``UserError``, click usage errors) into one line on stderr and exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            rv = super().main(args, prog_name or "tim3check", complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else EXIT_OK
        except click.exceptions.Abort:
            _error_line("aborted")
            code = 130
        except click.UsageError as e:
            where = f"{e.ctx.command_path}: " if e.ctx is not None else ""
            _error_line(f"{where}{e.format_message()} (see --help)")
            code = EXIT_USAGE
        except click.ClickException as e:
            _error_line(e.format_message())
            code = EXIT_USAGE
        except UserError as e:
            _error_line(str(e))
            code = EXIT_USAGE
        if standalone_mode:
            sys.exit(code)
        return code


def _error_line(text: str) -> None:
    """One red line on stderr (no markup interpretation of the text)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {text}", style="bold red", markup=False)


def _stdout() -> Console:
    """stdout; wide (200 columns) when not a terminal so CI logs keep one row per line."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=200)
    return console


# ------------------------------------------------------------------ shared options


def scenario_options(f: F) -> F:
    """Spec, scenario, network, fault budget and limit options shared by check and audit."""
    opts = [
        click.option("--spec", "spec_ref", metavar="REF", default=None,
                     help="spec module (spec.tim3), file/package path, or a system manifest (.toml); default spec.tim3"),
        click.option("--system", "system", metavar="TOML", default=None,
                     help="check a team's Lua repository described by this manifest (tim3check.toml; docs/manifest.md)"),
        click.option("--users", type=int, default=None, help="number of users"),
        click.option("--ops", type=int, default=None, help="operations (mint or burn) per user"),
        click.option("--amounts", metavar="1,2", default=None, help="amounts a user may mint or burn"),
        click.option("--collateral", type=int, default=None, help="initial free collateral per user"),
        click.option("--max-supply", "max_supply", type=int, default=None, help="Token Manager's max-supply cap"),
        click.option("--impl", type=str, default=None, metavar="IMPL",
                     help="the spec parameter 'impl': python (the model) or lua (the aos Lua processes; TIM3)"),
        click.option("--aos", "aos", type=str, default=None, metavar="VARIANT",
                     help="the aos behaviour Lua processes run with (the spec parameter 'aos': default, "
                          "require-json, normalized-tags)"),
        click.option("--param", "params", metavar="NAME=VALUE", multiple=True,
                     help="any spec parameter (repeatable), for specs other than TIM3"),
        click.option("--network", type=click.Choice(NETWORKS), default="unordered", show_default=True,
                     help="message ordering between processes"),
        click.option("--max-faults", "max_faults", type=click.IntRange(min=0), default=1, show_default=True,
                     help="fault choices (losses, handler errors, spec faults) allowed per run"),
        click.option("--adversary-messages", "adversary_messages", type=click.IntRange(min=0), default=1,
                     show_default=True, help="messages the adversary may inject"),
        click.option("--property", "properties", metavar="NAME", multiple=True,
                     help="check only these properties (repeatable or comma list)"),
        click.option("--max-depth", "max_depth", type=click.IntRange(min=0), default=None, help="depth limit"),
        click.option("--max-states", "max_states", type=click.IntRange(min=1), default=None, help="distinct-state limit"),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
                     help="time limit"),
        click.option("--max-memory", "max_memory", type=click.IntRange(min=1), default=None, metavar="MB",
                     help="peak-memory limit (checked every 4096 states)"),
        click.option("--symmetry/--no-symmetry", default=True, show_default=True,
                     help="explore one world per orbit of interchangeable users (sound; see README)"),
        click.option("--engine", type=click.Choice([e.value for e in ENGINES]), default="explore", show_default=True,
                     help=engines_help()),
        click.option("--depth", type=click.IntRange(min=1), default=None,
                     help=f"bmc: steps to unroll [default: {BMC_DEPTH} for check (v3's deepest witness), 20 for "
                          "audit's small scenario]; cost grows steeply, pair with --timeout"),
        click.option("--max-shapes", "max_shapes", type=click.IntRange(min=1), default=20_000, show_default=True,
                     help="prove: limit on the control shapes of the proof graph (beyond it: UNKNOWN)"),
        click.option("--runs", type=click.IntRange(min=1), default=300, show_default=True,
                     help="simulate: random runs per property"),
        click.option("--steps", type=click.IntRange(min=1), default=60, show_default=True,
                     help="simulate: steps per run"),
        click.option("--method", type=click.Choice(("auto", "kind", "reach", "chc", "parametric")), default="auto", show_default=True,
                     help="prove: 1-induction with declared invariants (kind), exact symbolic reachability (reach), CHC/Spacer (chc), or each in turn (auto)"),
        click.option("--quiet", is_flag=True, help="no progress display; text output is the verdict table only"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


CHECK_FORMATS = ("text", "json", "sarif", "junit", "markdown")
AUDIT_FORMATS = ("text", "json", "markdown")


def format_option(choices: Sequence[str]) -> Callable[[F], F]:
    """``--format`` with the given choices (check: also the CI formats; audit: text, json, markdown)."""
    return click.option("--format", "fmt", type=click.Choice(choices), default="text", show_default=True,
                        help="output format (json: docs/json-format.md; sarif: SARIF 2.1.0 for code scanning; "
                             "junit: JUnit XML; markdown: a table for $GITHUB_STEP_SUMMARY)")


def github_actions() -> bool:
    """Running as a GitHub Actions step (``GITHUB_ACTIONS=true``)."""
    import os

    return os.environ.get("GITHUB_ACTIONS", "").lower() == "true"


def print_check(result: CheckResult, module: str, fmt: str, quiet: bool) -> None:
    """The report of one check in ``fmt``; with ``GITHUB_ACTIONS=true`` also one ``::error``
    annotation per violation or finding (on stdout for text and markdown, on stderr for the
    machine-readable formats so that their documents stay valid)."""
    from checker.interfaces import ci_formats

    if fmt == "json":
        click.echo(json.dumps(result_json(result, module), indent=2, ensure_ascii=False))
    elif fmt == "sarif":
        click.echo(json.dumps(ci_formats.sarif(result), indent=2, ensure_ascii=False))
    elif fmt == "junit":
        click.echo(ci_formats.junit(result), nl=False)
    elif fmt == "markdown":
        click.echo(ci_formats.markdown(result), nl=False)
    else:
        _stdout().print(verdict_table(result) if quiet else render_check(result))
    if github_actions():
        annotations = ci_formats.github_annotations(result)
        if annotations:
            click.echo(annotations, nl=False, err=fmt in ("json", "sarif", "junit"))


def _spec_option_defaults(spec: Spec, options: dict[str, Any], faults: tuple[str, ...]) -> tuple[str, ...]:
    """Apply the spec's own option defaults (a manifest's ``[limits]``) to every option
    the user did not give on the command line; returns the faults to use."""
    ctx = click.get_current_context()
    for name, value in spec.option_defaults.items():
        if name == "faults":
            if ctx.get_parameter_source("faults") == click.core.ParameterSource.DEFAULT:
                faults = tuple(value)
        elif name in options and ctx.get_parameter_source(name) == click.core.ParameterSource.DEFAULT:
            options[name] = value
    return faults


def _prove_defaults_apply(spec: Spec, options: dict[str, Any]) -> bool:
    """``prove`` runs on its default scenarios (``PROVE_SCENARIOS``): the spec has every
    parameter they set and the user set none of them (flag, ``--param`` or the spec's defaults)."""
    names = {n for scenario in PROVE_SCENARIOS for n in scenario}
    given = {str(x).partition("=")[0].strip().replace("-", "_") for x in options.get("params", ())}
    return all(spec.param(n) is not None and options.get(n) is None and n not in given for n in names)


def _faults(values: Sequence[str]) -> list[str]:
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


@contextmanager
def progress_display(enabled: bool, label: str = "exploring") -> Iterator[Callable[[Stats], None] | None]:
    """A rich status line on stderr (states, depth, states/s) when stderr is a terminal."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    with console.status(f"{label}…") as status:
        current = {"label": label}

        def update(s: Stats) -> None:
            if s.unit != "states":  # prove: building the graph of control shapes
                status.update(f"{current['label']}: {s.states:,} {s.unit}, {s.transitions:,} edges, {s.seconds:.1f} s")
                return
            status.update(
                f"{current['label']}: {s.states:,} states, depth {s.max_depth}, "
                f"{s.states_per_second:,.0f} states/s, {s.seconds:.1f} s"
            )

        yield update


def save_counterexamples(result: CheckResult, spec: Spec, module: str, out_dir: Path,
                         save_expected: bool = False) -> None:
    """Write a counterexample (JSON + Markdown) for every VIOLATED property and finding with a
    trace (and every EXPECTED-FAIL one when ``save_expected``) and record its path on the
    result: a passing run writes no files unless asked. ``UsageError`` if ``out_dir`` is
    unwritable."""
    from checker.interfaces.counterexample import counterexample_data, write_counterexample
    from checker.model.semantics import Semantics

    kept = (VIOLATED, EXPECTED_FAIL) if save_expected else (VIOLATED,)
    todo = [r for r in result.results if r.verdict in kept and r.trace is not None]
    if not todo:
        return
    for r in todo:
        sem = Semantics(spec, r.trace_config or result.config)
        data = counterexample_data(result, r, sem, module)
        try:
            path = write_counterexample(data, out_dir)
        except OSError as e:
            raise UsageError(f"--out {out_dir}: cannot write the counterexample: {e.strerror or e}; "
                             "choose a writable directory or pass --no-save") from None
        r.counterexample_path = _shown_path(path)


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ commands


@click.group(cls=_Tim3Group, invoke_without_command=False,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="tim3check", prog_name="tim3check", message="%(prog)s %(version)s")
def main() -> None:
    """tim3check: model checker for the TIM3 system of AO processes.

    Without a subcommand, runs `check` (the release candidate on the default scenario).
    """


@main.command()
@click.option("--coordinator", "version", metavar="VERSION", default=None,
              help="coordinator version (the spec parameter 'version'; TIM3: v1, v2, v3)")
@click.option("--fault", "faults", metavar="NAME", multiple=True,
              help="enable a fault (repeatable or comma list): the spec's faults, loss, handler-error, adversary")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="counterexample directory [default: counterexamples/<spec name>/]")
@click.option("--no-save", is_flag=True, help="do not write counterexample files")
@click.option("--save-expected", is_flag=True,
              help="also write the traces of expected-fail properties (by default only violations and findings)")
@click.option("--conform", is_flag=True,
              help="explore: check every step of the implementation (--impl lua) against the model's step "
                   "(refinement; property conforms-to-model)")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="simulate: the seed of the random runs (printed in every verdict)")
@click.option("--handler-timeout", "handler_timeout", type=click.FloatRange(min=0, min_open=True),
              default=HANDLER_BUDGET, show_default=True, metavar="SECONDS",
              help="without --timeout: a Python handler delivery running longer is a spec error (exit 2)")
@scenario_options
@format_option(CHECK_FORMATS)
def check(spec_ref: str | None, version: str | None, faults: tuple[str, ...], out: Path | None, no_save: bool,
          save_expected: bool, conform: bool, seed: int, handler_timeout: float, engine: str, fmt: str, quiet: bool,
          properties: tuple[str, ...], **options: Any) -> int:
    """Check every property of the spec (default: spec.tim3, coordinator v3).

    Exit 0: all hold; 1: a violation; 2: bad input; 3: a limit was reached (UNKNOWN);
    130 / 143: stopped by Ctrl-C / SIGTERM (what was established is printed).
    """
    system = options.pop("system")
    if system is not None and spec_ref is not None:
        raise UsageError("--system and --spec: pass one (a manifest is a spec of its own)")
    spec, module = load_spec(system or spec_ref)
    faults = _spec_option_defaults(spec, options, faults)
    eopts = EngineOptions(options.pop("depth") or BMC_DEPTH, options.pop("runs"), options.pop("steps"),
                          options.pop("method"), options.pop("max_shapes"), seed=seed)
    config = config_from_options(spec, version=version, faults=_faults(faults),
                                 properties=properties or None, conform=conform, **options)
    if engine in (Engine.PROVE, Engine.ALL) and _prove_defaults_apply(spec, options):
        eopts = dataclasses.replace(eopts, prove_configs=tuple(
            config_from_options(spec, version=version, faults=_faults(faults), properties=properties or None,
                                **{**options, **scenario}) for scenario in PROVE_SCENARIOS))
    if conform and engine != Engine.EXPLORE:
        raise UsageError("--conform: runs with --engine explore only (it compares explored steps with the model's)")
    with stop.guard(config.limits.timeout, handler_timeout), progress_display(not quiet) as progress:
        try:
            result = run_engine(spec, config, engine, progress, eopts)
        except stop.Stopped as e:  # stopped where no engine could report (a second Ctrl-C)
            _error_line(f"stopped: {e.reason}; nothing established")
            return EXIT_BY_SIGNAL.get(stop.interrupted_by() or "", EXIT_UNKNOWN)
        result.interrupted = stop.interrupted_by()
    if not no_save:
        save_counterexamples(result, spec, module, out if out is not None else Path("counterexamples") / spec.name,
                             save_expected)
    print_check(result, module, fmt, quiet)
    return result.exit_code


@main.command()
@click.option("--z3", "z3_engine", type=click.Choice((Engine.BMC.value, Engine.PROVE.value, "none")), default="bmc", show_default=True,
              help="z3 engine for the second verdict of every cell (bmc uses --depth)")
@click.option("--fault-set", "fault_sets", metavar="F1,F2|none", multiple=True,
              help="fault settings to audit (repeatable); default: none, each spec fault, loss, handler-error, adversary")
@scenario_options
@format_option(AUDIT_FORMATS)
def audit(spec_ref: str | None, z3_engine: str, fault_sets: tuple[str, ...], engine: str, fmt: str, quiet: bool,
          properties: tuple[str, ...], **options: Any) -> int:
    """Check every coordinator version under every fault setting and print the matrix.

    Exit 0 when the release candidate (the last version) holds every property (but the
    expected-fail ones) under no fault, each spec fault and the adversary; 1 if it violates
    one there; 3 if a cell there is UNKNOWN. Loss and handler-error columns are
    informational: they do not affect the exit code.
    """
    from checker.interfaces.cli_audit import audit_json, audit_markdown, render_audit, run_audit

    spec, module = load_spec(options.pop("system") or spec_ref)
    eopts = EngineOptions(options.pop("depth") or 20, options.pop("runs"), options.pop("steps"), options.pop("method"),
                          options.pop("max_shapes"))
    with progress_display(not quiet, "auditing") as progress:
        matrix = run_audit(spec, options, list(fault_sets), properties or None, engine,
                           None if z3_engine == "none" else z3_engine, progress=progress, engine_options=eopts)
    if fmt == "json":
        click.echo(json.dumps(audit_json(matrix, module), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(audit_markdown(matrix), nl=False)
    else:
        _stdout().print(render_audit(matrix))
    return matrix.exit_code


@main.command()
@click.option("--coordinator", "version", metavar="VERSION", default=None,
              help="coordinator version (the spec parameter 'version'; TIM3: v1, v2, v3)")
@click.option("--fault", "faults", metavar="NAME", multiple=True,
              help="enable a fault (repeatable or comma list): the spec's faults, loss, handler-error, adversary")
@click.option("--dot", is_flag=True, help="print Graphviz DOT instead of a Mermaid flowchart")
@scenario_options
def flow(spec_ref: str | None, version: str | None, faults: tuple[str, ...], dot: bool, engine: str, quiet: bool,
         properties: tuple[str, ...], **options: Any) -> int:
    """Draw the message-flow graph of the explored scenario (the seed's Process Flow Diagram).

    Explores every transition (up to --max-states, default 200,000 states) and prints a
    Mermaid flowchart (or --dot): an edge per (sender, Action, receiver) with how many
    transitions sent it, and the handlers that never ran (as comments, so the output still
    parses). For v1 there is no edge into the State Manager.
    """
    from checker.interfaces.flow import message_flow, to_dot, to_mermaid

    if engine != Engine.EXPLORE:
        raise UsageError("--engine: flow explores the scenario; it runs with --engine explore only")
    system = options.pop("system")
    if system is not None and spec_ref is not None:
        raise UsageError("--system and --spec: pass one (a manifest is a spec of its own)")
    spec, _ = load_spec(system or spec_ref)
    faults = _spec_option_defaults(spec, options, faults)
    for name in ("depth", "runs", "steps", "method", "max_shapes"):
        options.pop(name)
    config = config_from_options(spec, version=version, faults=_faults(faults), properties=properties or None,
                                 **options)
    max_states = config.limits.max_states or 200_000
    graph = message_flow(spec, config, max_states=max_states)
    comment = "//" if dot else "%%"
    click.echo(to_dot(graph) if dot else to_mermaid(graph), nl=False)
    never = ", ".join(graph.never_ran) or "none"
    click.echo(f"{comment} {spec.name}: {spec.describe(config.params)}; faults: {', '.join(sorted(config.faults)) or 'none'}")
    click.echo(f"{comment} never ran: {never}")
    searched = "exhaustive" if graph.exhaustive else f"NOT exhaustive: stopped at {max_states:,} states (--max-states)"
    click.echo(f"{comment} {graph.states:,} distinct states, {searched}")
    return EXIT_OK


def _load_trace(file: str, spec_ref: str | None) -> tuple[dict[str, Any], Spec]:
    """The counterexample in ``file`` and the spec it names (or ``--spec``)."""
    from checker.interfaces.counterexample import load_counterexample

    data = load_counterexample(file)
    ref = spec_ref or data["spec"].get("module")
    if not isinstance(ref, str) or not ref:
        source = data["spec"].get("source")
        if not isinstance(source, str) or not Path(source).is_file():
            raise UsageError(f"{file}: the trace names no importable spec module; pass --spec REF")
        ref = source
    spec, _ = load_spec(ref)
    return data, spec


@main.command()
@click.argument("file")
@click.option("--spec", "spec_ref", metavar="REF", default=None, help="replay against this spec instead")
def replay(file: str, spec_ref: str | None) -> int:
    """Re-run a saved counterexample against today's spec.

    Exit 1: it still violates its property (0 if that property is expected to fail);
    0: every step replays but the property holds now (or a witness is still reached);
    3: the trace diverges (or a witness is lost): today's spec cannot reproduce it, so
    the trace proves nothing either way; 2: unreadable or malformed file.
    """
    from checker.interfaces.replay import DIVERGED, HOLDS_NOW, VIOLATES, WITNESSED, replay as do_replay

    data, spec = _load_trace(file, spec_ref)
    outcome = do_replay(spec, data)
    prop = data["property"]
    console = _stdout()
    if outcome.status == VIOLATES:
        expected = bool(prop.get("expected_to_fail"))
        console.print(f"[bold {'cyan' if expected else 'red'}]still violates[/] {prop['name']}: ", end="")
        console.print(outcome.message + (" (expected to fail: documented behaviour)" if expected else ""), markup=False)
        return EXIT_OK if expected else EXIT_VIOLATED
    if outcome.status in (HOLDS_NOW, WITNESSED):
        word = "holds now" if outcome.status == HOLDS_NOW else "still witnessed"
        console.print(f"[bold green]{word}[/] {prop['name']}: ", end="")
        console.print(outcome.message + ("; this trace no longer reproduces the bug" if outcome.status == HOLDS_NOW else ""),
                      markup=False)
        return EXIT_OK
    word = "diverged" if outcome.status == DIVERGED else outcome.status
    console.print(f"[bold yellow]{word}[/] {prop['name']}: ", end="")
    console.print(outcome.message + "; inconclusive: re-run `tim3check check` to see whether the property fails today",
                  markup=False)
    return EXIT_UNKNOWN


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="where to write the manifest [default: DIRECTORY/tim3check.toml]")
@click.option("--force", is_flag=True, help="replace an existing manifest")
def init(directory: Path, output: Path | None, force: bool) -> int:
    """Draft a system manifest (tim3check.toml) from a repository's Lua files.

    Scans handlers, their Action patterns, ao.send targets, tags read from msg and
    Config keys, and writes a starter manifest with TODO markers to fill in.
    """
    from checker.manifest.init_draft import draft_manifest, write_manifest

    out = output or directory / "tim3check.toml"
    text = draft_manifest(directory, out.resolve().parent)
    write_manifest(out, text, force=force)
    todos = text.count("TODO")
    _stdout().print(f"wrote {_shown_path(out)}: {todos} TODO marker(s) to fill in; then run "
                    f"`tim3check check --system {_shown_path(out)}`", markup=False)
    return EXIT_OK


@main.command()
@click.argument("file")
@click.option("--markdown", is_flag=True, help="print the Markdown rendering instead")
def show(file: str, markdown: bool) -> int:
    """Print a saved counterexample readably."""
    from checker.interfaces.counterexample import load_counterexample
    from checker.interfaces.render import render_markdown, render_terminal

    data = load_counterexample(file)
    try:
        if markdown:
            click.echo(render_markdown(data), nl=False)
        else:
            _stdout().print(render_terminal(data))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UsageError(f"{file}: malformed counterexample: cannot render it ({type(e).__name__}: {e})") from None
    return EXIT_OK


if __name__ == "__main__":
    main()
