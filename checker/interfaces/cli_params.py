"""A click command whose flags include the parameters of the spec it checks.

``SpecCommand.parse_args`` peeks at ``--spec REF`` / ``--system TOML`` in the arguments
(default: ``spec.tim3``), loads that spec once (``loaded_spec`` gives it to the command)
and adds one option per ``Param`` (``checker.interfaces.options.spec_param_options``), so
``--help`` lists that spec's parameters and another spec or manifest gets its own flags.
``given_options`` is what the user set: the options whose value did not come from a
default, and the parameters given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from checker.errors import UsageError
from checker.interfaces.loader import load_spec
from checker.interfaces.options import PARAM_DEST, Option, spec_param_options, split_params
from checker.model.spec import Spec

F = Callable[..., Any]
SPEC_KEY = "tim3check.spec"
PARAMS_KEY = "tim3check.spec_params"


def peek_spec(args: Sequence[str]) -> tuple[str | None, str | None]:
    """(the value of ``--spec``, of ``--system``) in ``args`` (``--x V`` or ``--x=V``;
    none after ``--``). ``UsageError`` when both are given."""
    found: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            break
        for flag in ("--spec", "--system"):
            if a == flag and i + 1 < len(args):
                found[flag] = args[i + 1]
                i += 1
            elif a.startswith(flag + "="):
                found[flag] = a[len(flag) + 1:]
        i += 1
    if "--spec" in found and "--system" in found:
        raise UsageError("--system and --spec: pass one (a manifest is a spec of its own)")
    return found.get("--spec"), found.get("--system")


class SpecCommand(click.Command):
    """A command with one flag per parameter of the spec named in its arguments.

    ``skip_params(spec)`` names parameters that get no flag (``audit``'s version axis)."""

    def __init__(self, *args: Any, skip_params: Callable[[Spec], Iterable[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.skip_params = skip_params

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ref, system = peek_spec(args)
        spec, module = load_spec(system or ref)
        ctx.meta[SPEC_KEY] = (spec, module)
        taken = {flag for p in super().get_params(ctx) for flag in (*p.opts, *p.secondary_opts)}
        skip = self.skip_params(spec) if self.skip_params is not None else ()
        ctx.meta[PARAMS_KEY] = spec_param_options(spec, taken, skip)
        return super().parse_args(ctx, args)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return [*super().get_params(ctx), *ctx.meta.get(PARAMS_KEY, [])]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The spec's parameters first (titled with the spec's name), then the options."""
        dynamic = ctx.meta.get(PARAMS_KEY, [])
        loaded = ctx.meta.get(SPEC_KEY)
        rows = [r for p in dynamic if (r := p.get_help_record(ctx)) is not None]
        if rows and loaded is not None:
            with formatter.section(f"Parameters of spec {loaded[0].name} (--param NAME=VALUE sets any of them)"):
                formatter.write_dl(rows)
        others = [r for p in super().get_params(ctx) if (r := p.get_help_record(ctx)) is not None]
        with formatter.section("Options"):
            formatter.write_dl(others)


def loaded_spec() -> tuple[Spec, str]:
    """The (spec, module) the running ``SpecCommand`` loaded."""
    loaded: tuple[Spec, str] = click.get_current_context().meta[SPEC_KEY]
    return loaded


def given_options(values: dict[str, Any]) -> dict[str, Any]:
    """The options the user set among click's ``values`` (not from a default), the spec
    parameters under their names."""
    ctx = click.get_current_context()
    given = {k: v for k, v in values.items()
             if k.startswith(PARAM_DEST) or ctx.get_parameter_source(k) not in (None, click.core.ParameterSource.DEFAULT)}
    named, rest = split_params(given)
    return {**rest, **{k: v for k, v in named.items() if v is not None}}


def add_options(options: Iterable[Option]) -> Callable[[F], F]:
    """Decorate a command with these options (in order)."""
    opts = list(options)

    def deco(f: F) -> F:
        for o in reversed(opts):
            params: list[click.Parameter] = f.__dict__.setdefault("__click_params__", [])
            params.append(o.click_option())
        return f

    return deco
