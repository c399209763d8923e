"""The ``tim3check`` command line: check (the default), audit, replay, show.

Exit codes (DESIGN.md): 0 every checked property holds (an expected-fail property that
fails as documented does not count), 1 a violation, 2 bad input or usage (one red line
on stderr, no traceback), 3 inconclusive (a limit was reached). ``InternalError`` and
any other unexpected exception is a tim3check bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from checker import stop
from checker.config import Limits
from checker.engines.registry import EngineOptions, run_engine
from checker.errors import UsageError, UserError
from checker.interfaces.cli_audit import AuditLines, version_param
from checker.interfaces.cli_params import SpecCommand, add_options, given_options, loaded_spec
from checker.interfaces.loader import load_spec
from checker.interfaces.options import (
    CONFIG_OPTIONS,
    CONFORM_OPTION,
    ENGINE_OPTIONS,
    FAULT_OPTION,
    SPEC_OPTIONS,
    Option,
    plan_check,
    split_params,
)
from checker.interfaces.progress import progress_display
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
)
from checker.model.spec import Spec

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


LABELS = {Engine.EXPLORE: "exploring", Engine.SIMULATE: "simulating", Engine.BMC: "bmc", Engine.PROVE: "proving"}
QUIET = Option("quiet", "--quiet", False, "no progress display; text output is the verdict table only", is_flag=True)
SCENARIO = (*SPEC_OPTIONS, *CONFIG_OPTIONS, *ENGINE_OPTIONS, QUIET)


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
    from checker.interfaces.counterexample import json_text

    if fmt == "json":
        click.echo(json_text(result_json(result, module)))
    elif fmt == "sarif":
        click.echo(json_text(ci_formats.sarif(result)))
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


def _faults(values: Sequence[str]) -> list[str]:
    """The fault names of repeated/comma-list ``--fault`` values; an empty name (``--fault ,``,
    ``--fault a,,b``) is a ``UsageError``."""
    names = [x.strip() for v in values for x in v.split(",")]
    if any(not x for x in names):
        shown = ", ".join(repr(v) for v in values)
        raise UsageError(f"--fault: empty fault name in {shown}; give fault names separated by commas, "
                         "e.g. --fault lock-fail,mint-fail")
    return names


def save_counterexamples(result: CheckResult, spec: Spec, module: str, out_dir: Path | None = None,
                         save_expected: bool = False) -> list[str]:
    """Write a counterexample (JSON + Markdown) for every VIOLATED property and finding with a
    trace (and every EXPECTED-FAIL one when ``save_expected``) and record its path on the
    result: a passing run writes no files unless asked. ``out_dir`` defaults to
    ``default_out_dir(spec)``. A file that cannot be written (read-only directory, disk
    full: ``OSError``) is left unsaved and named in the one warning line printed on stderr
    (returned as well); the verdicts and the exit code are untouched."""
    from checker.interfaces.counterexample import counterexample_data, write_counterexample
    from checker.model.semantics import Semantics

    kept = (VIOLATED, EXPECTED_FAIL) if save_expected else (VIOLATED,)
    todo = [r for r in result.results if r.verdict in kept and r.trace is not None]
    if not todo:
        return []
    out = out_dir if out_dir is not None else default_out_dir(spec)
    failed: list[tuple[str, str]] = []
    for r in todo:
        sem = Semantics(spec, r.trace_config or result.config)
        data = counterexample_data(result, r, sem, module)
        try:
            path = write_counterexample(data, out)
        except OSError as e:
            failed.append((r.name, e.strerror or str(e)))
            continue
        r.counterexample_path = _shown_path(path)
    if not failed:
        return []
    reasons = sorted({why for _, why in failed})
    line = (f"could not save the counterexample{'s' if len(failed) > 1 else ''} of "
            f"{', '.join(n for n, _ in failed)} to {_shown_path(out)}: {'; '.join(reasons)}; "
            "choose a writable --out or pass --no-save")
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"warning: {line}", style="bold yellow", markup=False)
    return [line]


def default_out_dir(spec: Spec, cwd: Path | None = None) -> Path:
    """``counterexamples/<spec name>/`` under the repository root holding ``cwd`` (the nearest
    ancestor with ``.git`` or ``pyproject.toml``), else under ``cwd`` itself."""
    from checker.interfaces.counterexample import repo_root

    here = (cwd or Path.cwd()).resolve()
    return (repo_root(here) or here) / "counterexamples" / spec.name


def _shown_path(path: Path) -> str:
    """``path`` relative to the current directory when below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


# ------------------------------------------------------------------ commands


@click.group(cls=_Tim3Group, invoke_without_command=False,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="tim3check", prog_name="tim3check", message="%(prog)s %(version)s")
def main() -> None:
    """tim3check: model checker for the TIM3 system of AO processes.

    Without a subcommand, runs `check` (the release candidate on the default scenario).
    """


@main.command(cls=SpecCommand)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="counterexample directory [default: counterexamples/<spec name>/ at the repository root "
                   "(nearest ancestor with .git or pyproject.toml), else in the current directory]")
@click.option("--no-save", is_flag=True, help="do not write counterexample files")
@click.option("--save-expected", is_flag=True,
              help="also write the traces of expected-fail properties (by default only violations and findings)")
@add_options((FAULT_OPTION, CONFORM_OPTION, *SCENARIO))
@format_option(CHECK_FORMATS)
def check(out: Path | None, no_save: bool, save_expected: bool, fmt: str, quiet: bool, **options: Any) -> int:
    """Check every property of the spec (default: spec.tim3, its release candidate).

    The spec's parameters are flags of their own, listed first below (for another spec,
    add its --spec REF). Exit 0: all hold; 1: a violation; 2: bad input; 3: a limit was
    reached (UNKNOWN); 130 / 143: stopped by Ctrl-C / SIGTERM (what was established is printed).
    """
    spec, module = loaded_spec()
    given = given_options(options)
    if "faults" in given:
        given["faults"] = _faults(given["faults"])
    plan = plan_check(spec, given)
    config = plan.config
    with stop.guard(config.limits.timeout, plan.handler_timeout), \
            progress_display(not quiet, LABELS.get(plan.engine, "checking"), config.limits) as status:
        try:
            result = run_engine(spec, config, plan.engine, status.update if status.shown else None,
                                plan.engine_options)
        except stop.Stopped as e:  # stopped where no engine could report (a second Ctrl-C)
            _error_line(f"stopped: {e.reason}; nothing established")
            return EXIT_BY_SIGNAL.get(stop.interrupted_by() or "", EXIT_UNKNOWN)
        result.interrupted = stop.interrupted_by()
    if spec.statistics is not None:
        result.spec_statistics = dict(spec.statistics(config))
    if not no_save:
        save_counterexamples(result, spec, module, out, save_expected)
    print_check(result, module, fmt, quiet)
    return result.exit_code


@main.command(cls=SpecCommand, skip_params=lambda spec: [p] if (p := version_param(spec)) else [])
@click.option("--z3", "z3_engine", type=click.Choice((Engine.BMC.value, Engine.PROVE.value, "none")), default="bmc",
              show_default=True, help="z3 engine for the second verdict of every cell (bmc uses --depth)")
@click.option("--fault-set", "fault_sets", metavar="F1,F2|none", multiple=True,
              help="fault settings to audit (repeatable); default: none, each spec fault, loss, handler-error, adversary")
@add_options(SCENARIO)
@format_option(AUDIT_FORMATS)
def audit(z3_engine: str, fault_sets: tuple[str, ...], engine: str, fmt: str, quiet: bool,
          properties: tuple[str, ...], **options: Any) -> int:
    """Check every version (the choices of the spec's version parameter) under every fault
    setting and print the matrix, each cell's row as it finishes (stderr).

    Exit 0 when the release candidate (the last version) holds every property (but the
    expected-fail ones) under no fault, each spec fault and the adversary; 1 if it violates
    one there; 3 if a cell there is UNKNOWN. Loss and handler-error columns are
    informational: they do not affect the exit code.
    """
    from checker.interfaces.cli_audit import audit_json, audit_markdown, render_audit, run_audit

    spec, module = loaded_spec()
    named, rest = split_params(options)
    for name in ("spec_ref", "system"):
        rest.pop(name)
    eopts = EngineOptions(rest.pop("depth") or 20, rest.pop("runs"), rest.pop("steps"), rest.pop("method"),
                          rest.pop("max_shapes"), seed=rest.pop("seed"))
    handler_timeout = float(rest.pop("handler_timeout"))
    limits = Limits(timeout=rest["timeout"], max_states=rest["max_states"])  # every cell's
    # the watchdog and Ctrl-C/SIGTERM; --timeout is each cell's (its engine enforces it)
    with stop.guard(None, handler_timeout), progress_display(not quiet, "auditing", limits) as status:
        listener = AuditLines(status, status.line) if not quiet else None
        matrix = run_audit(spec, {**rest, **named}, list(fault_sets), properties or None, engine,
                           None if z3_engine == "none" else z3_engine, progress=status.update if status.shown else None,
                           engine_options=eopts, listener=listener)
    if fmt == "json":
        from checker.interfaces.counterexample import json_text

        click.echo(json_text(audit_json(matrix, module)))
    elif fmt == "markdown":
        click.echo(audit_markdown(matrix), nl=False)
    else:
        _stdout().print(render_audit(matrix))
    by = stop.interrupted_by()  # the cells after a signal are UNKNOWN "interrupted"
    return EXIT_BY_SIGNAL.get(by, matrix.exit_code) if by else matrix.exit_code


@main.command(cls=SpecCommand)
@click.option("--dot", is_flag=True, help="print Graphviz DOT instead of a Mermaid flowchart")
@add_options((FAULT_OPTION, *SCENARIO))
def flow(dot: bool, quiet: bool, **options: Any) -> int:
    """Draw the message-flow graph of the explored scenario (the seed's Process Flow Diagram).

    Explores every transition (up to --max-states, default 200,000 states) and prints a
    Mermaid flowchart (or --dot): an edge per (sender, Action, receiver) with how many
    transitions sent it, and the handlers that never ran (as comments, so the output still
    parses). For v1 there is no edge into the State Manager.
    """
    from checker.interfaces.flow import message_flow, to_dot, to_mermaid

    spec, _ = loaded_spec()
    given = given_options(options)
    if "faults" in given:
        given["faults"] = _faults(given["faults"])
    plan = plan_check(spec, given)
    if plan.engine != Engine.EXPLORE:
        raise UsageError("--engine: flow explores the scenario; it runs with --engine explore only")
    config = plan.config
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


def _load_trace(file: str, spec_ref: str | None) -> tuple[dict[str, Any], Spec, str]:
    """The counterexample in ``file``, the spec to replay it against, and which spec that is.

    Never imports the module a file names: the spec is ``--spec`` when given, else the
    shipped spec when the file names it (``_shipped_module``: e.g. ``spec.tim3``), else the
    spec *file* the trace records (``spec.path``, or ``spec.source`` relative to the
    repository holding the trace, the current repository, the current directory or
    tim3check's own root) when that file exists; otherwise a ``UsageError`` asking for
    ``--spec``."""
    from checker.interfaces.counterexample import load_counterexample

    data = load_counterexample(file)
    if spec_ref is not None:
        spec, _ = load_spec(spec_ref)
        return data, spec, f"{spec_ref} (--spec)"
    module = data["spec"].get("module")
    shipped = _shipped_module(data["spec"])
    if shipped is not None:
        spec, _ = load_spec(shipped)
        return data, spec, f"{shipped} (the shipped spec)"
    found = _recorded_spec_file(data["spec"], Path(file))
    if found is None:
        raise UsageError(f"{file}: the trace's spec (module {module!r}, source {data['spec'].get('source')!r}) is not "
                         "the shipped one and its file does not exist here; pass --spec FILE")
    spec, _ = load_spec(str(found))
    return data, spec, f"{_shown_path(found)} (the spec file recorded in the trace)"


def _shipped_module(recorded: dict[str, Any]) -> str | None:
    """The recorded module when it is one of the specs shipped with tim3check: its file,
    ``<module path>.py`` or ``<module path>/__init__.py`` under tim3check's own root, exists
    and is the recorded ``source``; else None."""
    module, source = recorded.get("module"), recorded.get("source")
    if not isinstance(module, str) or not isinstance(source, str) or not all(p.isidentifier() for p in module.split(".")):
        return None
    root = Path(__file__).resolve().parents[2]
    top = module.split(".")[0]
    if top == "checker" or not _ships(root, top):
        return None
    stem = module.replace(".", "/")
    for rel in (f"{stem}.py", f"{stem}/__init__.py"):
        if rel == source and (root / rel).is_file():
            return module
    return None


def _ships(root: Path, top: str) -> bool:
    """``top`` is a package of tim3check's own: in a checkout (``root`` holds pyproject.toml)
    any package of it, else one the installed distribution provides (not any site-package)."""
    if (root / "pyproject.toml").is_file():
        return (root / top / "__init__.py").is_file()
    from importlib.metadata import packages_distributions

    return "tim3check" in packages_distributions().get(top, [])


def _recorded_spec_file(recorded: dict[str, Any], trace: Path) -> Path | None:
    """The first existing file among the trace's recorded spec paths (see ``_load_trace``)."""
    from checker.interfaces.counterexample import repo_root

    candidates: list[Path] = []
    path, source = recorded.get("path"), recorded.get("source")
    if isinstance(path, str) and path:
        candidates.append(Path(path))
    if isinstance(source, str) and source:
        src = Path(source)
        if src.is_absolute():
            candidates.append(src)
        else:
            roots = [repo_root(trace.resolve().parent), repo_root(Path.cwd()), Path.cwd(),
                     Path(__file__).resolve().parents[2]]
            candidates += [r / src for r in roots if r is not None]
    return next((c.resolve() for c in candidates if c.is_file() or (c.is_dir() and (c / "__init__.py").is_file())),
                None)


@main.command()
@click.argument("file")
@click.option("--spec", "spec_ref", metavar="REF", default=None,
              help="replay against this spec [default: the shipped spec when the trace names it, else the spec "
                   "file the trace records]")
def replay(file: str, spec_ref: str | None) -> int:
    """Re-run a saved counterexample against today's spec (nothing in the file is trusted).

    Exit 1: it still violates its property at the recorded step (0 if that property is
    expected to fail, or a witness is still reached); 3: it does not reproduce (a step
    diverges, the end is not the recorded one, or the property no longer fails there):
    inconclusive, a replay never shows that a property holds; 2: unreadable or malformed
    file, or one that does not fit today's spec (unknown property, parameter or fault).
    """
    from checker.interfaces.replay import VIOLATES, WITNESSED, replay as do_replay

    data, spec, loaded = _load_trace(file, spec_ref)
    outcome = do_replay(spec, data, file)
    console = _stdout()
    console.print(f"spec: {loaded}", markup=False, highlight=False)
    prop = data["property"]
    if outcome.status == VIOLATES:
        expected = bool(prop.get("expected_to_fail"))
        console.print(f"[bold {'cyan' if expected else 'red'}]still violates[/] {prop['name']}: ", end="")
        console.print(outcome.message + (" (expected to fail: documented behaviour)" if expected else ""), markup=False)
        return EXIT_OK if expected else EXIT_VIOLATED
    if outcome.status == WITNESSED:
        console.print(f"[bold green]still witnessed[/] {prop['name']}: ", end="")
        console.print(outcome.message, markup=False)
        return EXIT_OK
    console.print(f"[bold yellow]does not reproduce[/] {prop['name']} ({outcome.status}): ", end="")
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
@click.option("--max-steps", "max_steps", type=click.IntRange(min=0), default=200, show_default=True,
              help="steps shown (the first ones; 0 = all); each cell is cut at 2,000 characters, saying so")
def show(file: str, markdown: bool, max_steps: int) -> int:
    """Print a saved counterexample readably (cells wrap; a long trace is cut, saying where)."""
    from checker.interfaces.counterexample import load_counterexample, repo_relative
    from checker.interfaces.render import MAX_CELL, render_markdown, render_terminal

    data = load_counterexample(file)
    limit = max_steps or None
    try:
        if markdown:
            click.echo(render_markdown(data, replay_path=repo_relative(Path(file)), max_steps=limit,
                                       max_cell=MAX_CELL), nl=False)
        else:
            _stdout().print(render_terminal(data, max_steps=limit, max_cell=MAX_CELL))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise UsageError(f"{file}: malformed counterexample: cannot render it ({type(e).__name__}: {e})") from None
    return EXIT_OK


if __name__ == "__main__":
    main()
