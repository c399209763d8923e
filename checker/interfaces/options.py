"""The options of a check, declared once: the command line builds its flags from them and
the pytest plugin accepts the same names, with the same defaults and the same checks.

* ``Option``: one option (keyword name, flag, default, click type, help).
* ``SPEC_OPTIONS``, ``CONFIG_OPTIONS``, ``ENGINE_OPTIONS``, ``CHECK_ONLY``: the option
  sets; a spec's own parameters are not here (``spec_param_options`` makes one flag per
  ``Param``, from its declaration).
* ``plan_check(spec, given)``: the ``CheckConfig``, engine and ``EngineOptions`` of one
  check from the options the user gave (every other option: the spec's
  ``option_defaults``, else its own default); ``prove`` on the spec's
  ``command_scenarios["prove"]`` when the user set none of their parameters.
* ``command_scenario(spec, command, given)``: the parameters a command's default
  scenario sets, and a note naming their flags.

Raises ``UsageError`` (one line naming the flag) for every bad value.
"""

from __future__ import annotations

import dataclasses

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from checker.config import NETWORKS, CheckConfig
from checker.stop import HANDLER_BUDGET
from checker.engines.registry import BMC_DEPTH, ENGINES, EngineOptions, engine_named, engines_help
from checker.errors import UsageError
from checker.interfaces.loader import config_from_options, given_params
from checker.model.spec import Param, Spec
from checker.result import Engine

METHODS = ("auto", "kind", "reach", "chc", "parametric")


@dataclass(frozen=True)
class Option:
    """One option: ``name`` is its keyword (the plugin's, click's destination), ``flag``
    its command-line spelling (``--a/--no-a`` for a switch)."""

    name: str
    flag: str
    default: Any
    help: str
    type: click.ParamType[Any] | None = None
    multiple: bool = False
    is_flag: bool = False
    metavar: str | None = None
    show_default: bool = False

    @property
    def main_flag(self) -> str:
        """``--symmetry`` of ``--symmetry/--no-symmetry``."""
        return self.flag.split("/")[0]

    def click_option(self) -> click.Option:
        """The click option of this option."""
        return click.Option([self.flag, self.name], default=self.default, help=self.help, type=self.type,
                            multiple=self.multiple, is_flag=self.is_flag or "/" in self.flag, metavar=self.metavar,
                            show_default=self.show_default)

    def convert(self, value: Any) -> Any:
        """``value`` checked as the command line checks it (typed values pass through
        click's type); ``UsageError`` naming the flag."""
        if value is None:
            return value
        typ = self.type
        try:
            if self.multiple:
                return tuple(typ.convert(v, None, None) if typ is not None else v for v in _as_list(value))
            return typ.convert(value, None, None) if typ is not None else value
        except click.BadParameter as e:
            raise UsageError(f"{self.main_flag}: {e.format_message()}") from None


def _as_list(v: Any) -> list[Any]:
    return [v] if isinstance(v, str) or not isinstance(v, Iterable) else list(v)


SPEC_OPTIONS = (
    Option("spec_ref", "--spec", None, "spec module (spec.tim3), file/package path, or a system manifest (.toml); "
           "default spec.tim3; its parameters become the flags under 'Parameters of spec'", metavar="REF"),
    Option("system", "--system", None, "check a team's Lua repository described by this manifest "
           "(tim3check.toml; docs/manifest.md)", metavar="TOML"),
    Option("params", "--param", (), "any spec parameter (repeatable)", multiple=True, metavar="NAME=VALUE"),
)

CONFIG_OPTIONS = (
    Option("network", "--network", "unordered", "message ordering between processes", click.Choice(NETWORKS),
           show_default=True),
    Option("max_faults", "--max-faults", 1, "fault choices (losses, handler errors, spec faults) allowed per run",
           click.IntRange(min=0), show_default=True),
    Option("adversary_messages", "--adversary-messages", 1, "messages the adversary may inject",
           click.IntRange(min=0), show_default=True),
    Option("properties", "--property", (), "check only these properties (repeatable or comma list)",
           multiple=True, metavar="NAME"),
    Option("max_depth", "--max-depth", None, "depth limit", click.IntRange(min=0)),
    Option("max_states", "--max-states", None, "distinct-state limit", click.IntRange(min=1)),
    Option("timeout", "--timeout", None, "time limit", click.FloatRange(min=0, min_open=True), metavar="SECONDS"),
    Option("max_memory", "--max-memory", None, "peak-memory limit (checked every 4096 states)",
           click.IntRange(min=1), metavar="MB"),
    Option("symmetry", "--symmetry/--no-symmetry", True,
           "explore one world per orbit of interchangeable processes (the spec's symmetric kinds; sound)",
           show_default=True),
)

ENGINE_OPTIONS = (
    Option("engine", "--engine", Engine.EXPLORE.value, engines_help(), click.Choice([e.value for e in ENGINES]),
           show_default=True),
    Option("depth", "--depth", None, f"bmc: steps to unroll [default: {BMC_DEPTH} for check, 20 for audit]; "
           "cost grows steeply, pair with --timeout", click.IntRange(min=1)),
    Option("max_shapes", "--max-shapes", 20_000, "prove: limit on the control shapes of the proof graph "
           "(beyond it: UNKNOWN)", click.IntRange(min=1), show_default=True),
    Option("runs", "--runs", 300, "simulate: random runs per property", click.IntRange(min=1), show_default=True),
    Option("steps", "--steps", 60, "simulate: steps per run", click.IntRange(min=1), show_default=True),
    Option("seed", "--seed", 0, "simulate: the seed of the random runs (printed in every verdict)",
           click.IntRange(min=0), show_default=True),
    Option("handler_timeout", "--handler-timeout", HANDLER_BUDGET, "without --timeout: a Python handler delivery "
           "running longer is a spec error (exit 2)", click.FloatRange(min=0, min_open=True), metavar="SECONDS",
           show_default=True),
    Option("method", "--method", "auto", "prove: 1-induction with declared invariants (kind), exact symbolic "
           "reachability (reach), CHC/Spacer (chc), for any number of processes (parametric), or each in turn "
           "(auto)", click.Choice(METHODS), show_default=True),
)

FAULT_OPTION = Option("faults", "--fault", (), "enable a fault (repeatable or comma list): the spec's faults, loss, "
                      "handler-error, adversary", multiple=True, metavar="NAME")
CONFORM_OPTION = Option("conform", "--conform", False, "explore: check every step of the implementation against "
                        "the model's step (refinement; property conforms-to-model)", is_flag=True)

RUN_OPTIONS = (*CONFIG_OPTIONS, *ENGINE_OPTIONS, FAULT_OPTION, CONFORM_OPTION)
BY_NAME: Mapping[str, Option] = {o.name: o for o in (*SPEC_OPTIONS, *RUN_OPTIONS)}
ALIASES: Mapping[str, str] = {"fault": "faults", "property": "properties", "param": "params"}


# ------------------------------------------------------------------ a spec's parameters as flags


def param_metavar(p: Param) -> str:
    """``[v1|v2|v3]``, ``INT``, ``1,2`` or ``TEXT``."""
    if p.choices:
        return "[" + "|".join(p.choices) + "]"
    return {"int": "INT", "ints": "1,2"}.get(p.type, "TEXT")


def param_help(p: Param) -> str:
    """The parameter's help and its default (``derived`` for ``None``, unless the help
    already says what the default is)."""
    if "default" in p.help:
        return p.help
    if p.default is None:
        shown = "derived"
    elif isinstance(p.default, tuple):
        shown = ",".join(str(x) for x in p.default)
    else:
        shown = str(p.default)
    return f"{p.help} [default: {shown}]"


PARAM_DEST = "param__"


def spec_param_options(spec: Spec, taken: Iterable[str], skip: Iterable[str] = ()) -> list[click.Option]:
    """One click option per parameter of ``spec`` (destination ``param__<name>``, value
    the text typed, checked by the loader), except those in ``skip`` and those whose flag
    is ``taken`` by another option (they stay settable with ``--param``); a parameter's
    ``aliases`` are extra flags of the same option, each where no other option takes it."""
    used, skipped = set(taken), set(skip)
    out = []
    for p in spec.params:
        if p.name in skipped or p.option in used:
            continue
        aliases = [f"--{a}" for a in p.aliases if f"--{a}" not in used and f"--{a}" != p.option]
        used.update([p.option, *aliases])
        out.append(click.Option([p.option, *aliases, PARAM_DEST + p.name], default=None, metavar=param_metavar(p),
                                help=param_help(p)))
    return out


def split_params(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the spec parameters among click's ``values``, by name; every other value)."""
    named = {k[len(PARAM_DEST):]: v for k, v in values.items() if k.startswith(PARAM_DEST)}
    rest = {k: v for k, v in values.items() if not k.startswith(PARAM_DEST)}
    return named, rest


# ------------------------------------------------------------------ one check's plan


@dataclass(frozen=True)
class CheckPlan:
    """What one check runs: the configuration, the engine and its settings."""

    config: CheckConfig
    engine: Engine
    engine_options: EngineOptions
    handler_timeout: float = HANDLER_BUDGET  # the watchdog's budget per Python delivery (checker.stop)


def normalise(given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the known options among ``given``, checked and under their own names; the rest,
    taken as spec parameters). Aliases: ``fault``, ``property``, ``param``."""
    known: dict[str, Any] = {}
    named: dict[str, Any] = {}
    for key, value in given.items():
        name = ALIASES.get(key, key)
        opt = BY_NAME.get(name)
        if opt is None:
            named[key] = value
        elif opt.multiple and name in known:
            known[name] = (*known[name], *opt.convert(value))
        elif name == "params" and isinstance(value, Mapping):
            known[name] = value
        else:
            known[name] = opt.convert(value)
    return known, named


def plan_check(spec: Spec, given: Mapping[str, Any], *, depth: int = BMC_DEPTH) -> CheckPlan:
    """The plan of a check of ``spec`` with the options in ``given`` (those the user set;
    spec parameters by name or flag name, ``params`` for ``--param``); every option not
    given takes the spec's ``option_defaults`` value, else its own default (``depth``:
    bmc's). ``UsageError`` for a bad value or combination."""
    known, named = normalise(given)
    opts: dict[str, Any] = {o.name: o.default for o in RUN_OPTIONS}
    for name, value in spec.option_defaults.items():
        if name in opts and name not in known:
            opts[name] = tuple(value) if BY_NAME[name].multiple else value
    opts.update({k: v for k, v in known.items() if k in opts})
    params = known.get("params", ())
    engine = engine_named(str(opts.pop("engine")))
    eopts = EngineOptions(opts.pop("depth") or depth, opts.pop("runs"), opts.pop("steps"), opts.pop("method"),
                          opts.pop("max_shapes"), seed=opts.pop("seed"))
    handler_timeout = float(opts.pop("handler_timeout"))
    if opts["conform"] and engine != Engine.EXPLORE:
        raise UsageError("--conform: runs with --engine explore only (it compares explored steps with the model's)")
    opts["properties"] = opts["properties"] or None
    config = config_from_options(spec, params=params, **opts, **named)
    scenarios, _ = command_scenario(spec, "prove", named, params)
    if engine in (Engine.PROVE, Engine.ALL) and scenarios:
        configs = tuple(config_from_options(spec, params=params, **{**opts, "conform": False}, **{**named, **s})
                        for s in scenarios)
        eopts = dataclasses.replace(eopts, prove_configs=configs)
    return CheckPlan(config, engine, eopts, handler_timeout)


def command_scenario(spec: Spec, command: str, named: Mapping[str, Any],
                     params: Sequence[str] | Mapping[str, Any]) -> tuple[tuple[Mapping[str, Any], ...], str]:
    """The spec's scenarios for ``command`` (``Spec.command_scenarios``) when the user set
    none of the parameters they name (else ``()``), and a note naming their flags
    (``--clients 1 --ops 2``)."""
    scenarios = tuple(spec.command_scenarios.get(command, ()))
    names = list(dict.fromkeys(n for s in scenarios for n in s))
    if not scenarios or any(spec.param(n) is None for n in names) or given_params(spec, named, params) & set(names):
        return (), ""
    shown = " | ".join(" ".join(f"{_flag(spec, n)} {v}" for n, v in s.items()) for s in scenarios)
    return scenarios, shown


def scenario_flags(spec: Spec, command: str) -> str:
    """``--clients/--ops``: the flags of the parameters the command's scenarios set."""
    names = dict.fromkeys(n for s in spec.command_scenarios.get(command, ()) for n in s)
    return "/".join(_flag(spec, n) for n in names)


def _flag(spec: Spec, name: str) -> str:
    p = spec.param(name)
    return p.option if p is not None else "--" + name
