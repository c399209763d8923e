"""Loading a spec, rejecting a bad one, and turning user options into a ``CheckConfig``.

* ``load_spec(ref)`` imports a spec by module path (``spec.tim3``) or file path
  (``path/to/model.py`` or a package directory), checks it exposes ``SPEC`` and runs
  ``validate``. It returns the spec and the name under which its module is importable.
* ``validate(spec)`` raises ``SpecError`` (naming ``spec.source`` and the fix) for a spec
  that cannot be checked meaningfully.
* ``config_from_options(spec, **options)`` validates command-line values and raises
  ``UsageError`` naming the flag and the accepted values: the parameters
  (``scenario_values``, ``resolve_params``), faults (``parse_faults``), limits
  (``parse_limits``) and properties (``select_properties``), each on its own.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import os
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from checker.config import NETWORKS, CheckConfig, Limits
from checker.errors import SpecError, UsageError, UserError
from checker.model.expectation import PropertyError, declarable_kinds, expectation
from checker.model.spec import Param, Params, ProcessDecl, Spec
from checker.model.values import FrozenMap

DEFAULT_SPEC = "spec.tim3"


# ------------------------------------------------------------------ loading


def load_spec(ref: str | None = None) -> tuple[Spec, str]:
    """Import the spec ``ref`` (default ``spec.tim3``), validate it, return (spec, module).

    Raises ``SpecError`` when the module cannot be imported, has no ``SPEC`` or the spec
    is invalid.
    """
    ref = ref or DEFAULT_SPEC
    _ensure_checkout_importable()
    path = Path(ref)
    if path.suffix == ".toml":  # a system manifest: a team's Lua repository (checker/repo)
        return load_system(path), str(path.resolve())
    if ref.endswith(".py") or os.sep in ref or "/" in ref or path.is_dir():
        module_name = _module_for_path(path)
        shown = str(path)
    else:
        module_name = ref
        shown = ref
    module = _import(module_name, shown)
    spec = getattr(module, "SPEC", None)
    where = getattr(module, "__file__", None) or shown
    if spec is None:
        raise SpecError(f"{where}: no SPEC defined; define a module attribute SPEC = Spec(...)")
    if not isinstance(spec, Spec):
        raise SpecError(f"{where}: SPEC is a {type(spec).__name__}, not a checker.model.spec.Spec; build it with Spec(...)")
    validate(spec)
    return spec, module_name


def load_system(path: Path) -> Spec:
    """The ``Spec`` of the system manifest at ``path`` (``tim3check.toml``), validated."""
    from checker.manifest import load_manifest
    from checker.repo.system import system_spec

    spec = system_spec(load_manifest(path))
    validate(spec)
    return spec


def _ensure_checkout_importable() -> None:
    """Make ``spec.*`` importable when running from a checkout without installing, and
    the current directory importable for user specs (both appended: installed wins)."""
    root = str(Path(__file__).resolve().parents[2])
    for entry in (root, os.getcwd()):
        if entry not in sys.path:
            sys.path.append(entry)


def _module_for_path(path: Path) -> str:
    """The dotted module name of a file or package directory; its import root goes on
    ``sys.path`` (the first ancestor directory without ``__init__.py``)."""
    if not path.exists():
        raise SpecError(f"{path}: no such spec file or directory; pass a module path (spec.tim3) or an existing file")
    p = path.resolve()
    if p.is_dir() or p.name == "__init__.py":
        pkg = p if p.is_dir() else p.parent
        if not (pkg / "__init__.py").is_file():
            raise SpecError(f"{path}: not a Python package (no __init__.py); pass the model's .py file instead")
        parts, root = [pkg.name], pkg.parent
    elif p.suffix == ".py":
        parts, root = [p.stem], p.parent
    else:
        raise SpecError(f"{path}: not a Python file; a spec file must end in .py")
    while (root / "__init__.py").is_file():
        parts.insert(0, root.name)
        root = root.parent
    if not all(part.isidentifier() for part in parts):
        raise SpecError(f"{path}: {'.'.join(parts)!r} is not an importable module name; rename the file")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return ".".join(parts)


def _import(name: str, shown: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and (name == e.name or name.startswith(e.name + ".")):
            raise SpecError(
                f"cannot import spec {shown!r}: no module named {e.name!r}; "
                f"pass a module path like {DEFAULT_SPEC} or a path to a .py file"
            ) from None
        raise SpecError(f"{shown}: importing the spec failed: {e}; install the missing module") from None
    except SyntaxError as e:
        raise SpecError(f"{e.filename}:{e.lineno}: syntax error in the spec: {e.msg}") from None
    except UserError:
        raise
    except Exception as e:
        frames = traceback.extract_tb(e.__traceback__)
        at = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else shown
        raise SpecError(f"{at}: importing spec {shown!r} raised {type(e).__name__}: {e}; fix the spec module") from None


# ------------------------------------------------------------------ validation


def validate(spec: Spec) -> None:
    """Reject a spec that cannot be checked; every ``SpecError`` names ``spec.source``."""
    src = spec.source
    _check_params(spec)
    _check_properties(spec)
    declared = {a.name for a in spec.actions}
    if len(declared) != len(spec.actions):
        raise SpecError(f"{src}: Action {_first_dup(a.name for a in spec.actions)!r} is declared twice; keep one ActionDecl")
    for decl in spec.process_decls:
        for h in decl.handlers:
            if h.action not in declared:
                raise SpecError(
                    f"{src}: handler {h.name!r} of {decl.kind} ({decl.label}) matches Action {h.action!r}, "
                    f"which is not declared; add ActionDecl({h.action!r}, ...) to the spec's actions or fix the name"
                )
    try:
        defaults = spec.default_params()
        domains = spec.domains(defaults)
    except UserError:
        raise
    except Exception as e:
        raise SpecError(f"{src}: the default scenario cannot be built: {type(e).__name__}: {e}") from None
    for a in spec.actions:
        for tag, dom in a.tags:
            if dom not in domains:
                raise SpecError(
                    f"{src}: Action {a.name} tag {tag} uses domain {dom!r}, which spec.domains() does not define "
                    f"(defined: {', '.join(sorted(domains)) or 'none'}); add it to domains() or fix the name"
                )
    _check_fields(spec, defaults)


def _first_dup(names: Iterable[str]) -> str:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            return n
        seen.add(n)
    return ""


def _check_params(spec: Spec) -> None:
    src = spec.source
    names = [p.name for p in spec.params]
    if len(set(names)) != len(names):
        raise SpecError(f"{src}: parameter {_first_dup(names)!r} is declared twice; give each Param a unique name")
    flags = [p.option for p in spec.params]
    if len(set(flags)) != len(flags):
        raise SpecError(f"{src}: two parameters have the flag {_first_dup(flags)}; give one a flag= of its own")
    for p in spec.params:
        if p.flag is not None and not (p.flag[:1].isalpha() and p.flag.replace("-", "").isalnum()):
            raise SpecError(f"{src}: parameter {p.name!r} has flag {p.flag!r}; use letters, digits and '-' "
                            "(without the leading --)")
        if p.type not in ("int", "str", "ints"):
            raise SpecError(f"{src}: parameter {p.name!r} has type {p.type!r}; use 'int', 'str' or 'ints'")
        if p.default is None:
            continue
        problem = _type_problem(p, p.default)
        if problem:
            raise SpecError(f"{src}: default of parameter {p.name!r} is {p.default!r}: {problem}; fix the Param default")
    for command, scenarios in spec.command_scenarios.items():
        for scenario in scenarios:
            for name, value in scenario.items():
                q = spec.param(name)
                problem = f"no parameter {name!r}" if q is None else _type_problem(q, value)
                if problem:
                    raise SpecError(f"{src}: command_scenarios[{command!r}] sets {name}={value!r}: {problem}; "
                                    "fix the scenario")


def _type_problem(p: Param, v: Any) -> str:
    """Why ``v`` is not a valid value of ``p`` ('' if it is)."""
    if p.type == "int":
        if not isinstance(v, int) or isinstance(v, bool):
            return f"expected an int, got a {type(v).__name__}"
        if p.minimum is not None and v < p.minimum:
            return f"must be at least {p.minimum}"
    elif p.type == "str":
        if not isinstance(v, str):
            return f"expected a str, got a {type(v).__name__}"
        if p.choices is not None and v not in p.choices:
            return f"not one of {', '.join(p.choices)}"
    elif p.type == "ints":
        if not isinstance(v, tuple) or not v or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return "expected a non-empty tuple of ints"
        if p.minimum is not None and min(v) < p.minimum:
            return f"every value must be at least {p.minimum}"
    return ""


def _check_properties(spec: Spec) -> None:
    src = spec.source
    names = [p.name for p in spec.properties]
    if len(set(names)) != len(names):
        raise SpecError(f"{src}: property {_first_dup(names)!r} is declared twice; give each property a unique name")
    kinds = declarable_kinds()
    for p in spec.properties:
        if p.kind not in kinds:
            raise SpecError(f"{src}: property {p.name!r} has kind {p.kind!r}; use one of {', '.join(kinds)}")
        try:
            expectation(p)  # what the kind needs of the property
        except PropertyError as e:
            raise SpecError(f"{src}: {e}") from None


def _check_fields(spec: Spec, defaults: Params) -> None:
    """Evaluate every state check and goal on the initial world of the default scenario."""
    from checker.model.semantics import Semantics  # local: semantics is heavier than the loader

    src = spec.source
    try:
        sem = Semantics(spec, CheckConfig(params=defaults))
        view = sem.view(sem.initial())
    except UserError:
        raise
    except Exception as e:
        raise SpecError(f"{src}: the default scenario cannot be built: {type(e).__name__}: {e}") from None
    for inst in sem.instances:
        decl = inst.decl
        if isinstance(decl, ProcessDecl) and not isinstance(inst.init, decl.state_type):
            raise SpecError(
                f"{src}: build() gives {inst.pid} an initial state of type {type(inst.init).__name__}, but "
                f"{decl.kind} ({decl.label}) declares state_type {decl.state_type.__name__}; fix one of them"
            )
    for p in spec.properties:
        exp = expectation(p)
        checks: list[tuple[str, Any]] = [("", exp.check)] if exp.check is not None else []
        checks += [(f" goal {g!r}", fn) for g, fn in exp.goals.items()]
        for what, fn in checks:
            try:
                fn(view)
            except (AttributeError, KeyError) as e:
                raise SpecError(
                    f"{src}: property {p.name!r}{what} reads unknown field: {e}; {_fields(sem)}"
                ) from None
            except Exception as e:
                raise SpecError(
                    f"{src}: property {p.name!r}{what} raised {type(e).__name__} on the initial state: {e}; fix its check"
                ) from None


def _fields(sem: Any) -> str:
    """``fields of server: queue; fields of client1, client2: sent, answers; ...``"""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for inst in sem.instances:
        t = type(inst.init)
        key = f"{inst.decl.kind}/{t.__qualname__}"
        names = [f.name for f in dataclasses.fields(t)] if dataclasses.is_dataclass(t) else ["(not a dataclass)"]
        groups.setdefault(key, ([], names))[0].append(inst.pid)
    return "; ".join(f"fields of {', '.join(pids)}: {', '.join(names)}" for pids, names in groups.values())


# ------------------------------------------------------------------ options → config


def parse_param(p: Param, raw: Any, flag: str) -> Any:
    """The value of parameter ``p`` from a command-line string (or an already typed value).

    Raises ``UsageError`` naming ``flag`` and what is accepted.
    """
    v: Any = raw
    if isinstance(raw, str):
        text = raw.strip()
        if p.type == "int":
            try:
                v = int(text)
            except ValueError:
                raise UsageError(f"{flag}: expected an integer, got {raw!r}") from None
        elif p.type == "ints":
            try:
                v = tuple(int(x) for x in text.split(",")) if text else ()
            except ValueError:
                raise UsageError(f"{flag}: expected comma-separated integers like 1,2, got {raw!r}") from None
            if not v:
                raise UsageError(f"{flag}: expected comma-separated integers like 1,2, got {raw!r}")
        else:
            v = text
    elif isinstance(raw, list):
        v = tuple(raw)
    if p.type == "str" and p.choices is not None and v not in p.choices:
        raise UsageError(f"{flag}: unknown value {v!r}; choose one of {', '.join(p.choices)}")
    problem = _type_problem(p, v)
    if problem:
        raise UsageError(f"{flag}: {problem} (got {raw if isinstance(raw, str) else repr(raw)})")
    return v


def flag_of(spec: Spec, name: str) -> str:
    """The command-line flag of parameter ``name`` (its ``Param.option``; ``--name`` for
    a name the spec does not declare)."""
    p = spec.param(name)
    return p.option if p is not None else "--" + name.replace("_", "-")


def config_from_options(
    spec: Spec,
    *,
    params: Sequence[str] | Mapping[str, Any] = (),
    network: str = "unordered",
    faults: Iterable[str] = (),
    max_faults: int = 1,
    adversary_messages: int = 1,
    properties: Iterable[str] | None = None,
    max_depth: int | None = None,
    max_states: int | None = None,
    timeout: float | None = None,
    symmetry: bool = True,
    max_memory: int | None = None,
    conform: bool = False,
    **named: Any,
) -> CheckConfig:
    """A validated ``CheckConfig`` from user values (``None`` = the spec default).

    Every other keyword (``named``) sets the spec parameter of that name (a string as
    typed on the command line, or a typed value; ``None``: not given); ``params`` is
    ``name=value`` strings (``--param``) or a mapping. ``faults`` entries may be comma
    lists. Derived defaults are filled by ``spec.resolve``. Raises ``UsageError`` naming
    the flag.
    """
    values = scenario_values(spec, named, params)
    if network not in NETWORKS:
        raise UsageError(f"--network: unknown network {network!r}; choose one of {', '.join(NETWORKS)}")
    chosen = parse_faults(spec, faults)
    budgets = (("--max-faults", max_faults, 0), ("--adversary-messages", adversary_messages, 0))
    limits = parse_limits(max_depth, max_states, timeout, max_memory, budgets)
    selected = select_properties(spec, properties)
    return CheckConfig(
        params=resolve_params(spec, values),
        network=network,
        faults=chosen,
        max_faults=max_faults,
        adversary_messages=adversary_messages,
        limits=limits,
        properties=selected,
        symmetry=symmetry,
        conform=conform,
    )


def scenario_values(spec: Spec, named: Mapping[str, Any], params: Sequence[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's value: its default, or the value of the named option (a parameter's
    name or its flag's name, ``None``: not given), or of ``--param name=value`` (strings or a
    mapping)."""
    values: dict[str, Any] = {p.name: p.default for p in spec.params}
    for name, raw in named.items():
        if raw is None:
            continue
        p = param_named(spec, name)
        if p is None:
            raise UsageError(
                f"{flag_of(spec, name)}: spec {spec.name!r} has no parameter {name!r}; "
                f"its parameters: {_param_names(spec)}"
            )
        values[p.name] = parse_param(p, raw, p.option)
    items = params.items() if isinstance(params, Mapping) else (_split_param(s) for s in params)
    for name, raw in items:
        p = spec.param(name) or spec.param(name.replace("-", "_"))
        if p is None:
            raise UsageError(f"--param {name}: unknown parameter; spec {spec.name!r} has: {_param_names(spec)}")
        values[p.name] = parse_param(p, raw, f"--param {name}")
    return values


def param_named(spec: Spec, name: str) -> Param | None:
    """The parameter called ``name``, or whose flag is ``--name`` (``-`` or ``_``)."""
    found = spec.param(name)
    if found is not None:
        return found
    flag = "--" + name.replace("_", "-")
    return next((p for p in spec.params if p.option == flag), None)


def given_params(spec: Spec, named: Mapping[str, Any], params: Sequence[str] | Mapping[str, Any]) -> set[str]:
    """The names of the parameters the user set (named options not ``None``, ``--param``)."""
    out = {p.name for n, v in named.items() if v is not None and (p := param_named(spec, n)) is not None}
    keys = params.keys() if isinstance(params, Mapping) else (str(x).partition("=")[0].strip() for x in params)
    for k in keys:
        p = spec.param(k) or spec.param(k.replace("-", "_"))
        if p is not None:
            out.add(p.name)
    return out


def resolve_params(spec: Spec, values: Mapping[str, Any]) -> Params:
    """The scenario's parameters with the derived ones filled in (``spec.resolve``)."""
    try:
        return spec.resolve(FrozenMap(values))
    except UserError:
        raise
    except Exception as e:
        raise SpecError(f"{spec.source}: resolve() failed on these parameters: {type(e).__name__}: {e}") from None


def parse_faults(spec: Spec, faults: Iterable[str]) -> frozenset[str]:
    """The faults named in ``faults`` (entries may be comma lists), each known to the spec."""
    known = spec.all_faults()
    chosen: set[str] = set()
    for entry in faults:
        for f in (x.strip() for x in entry.split(",")):
            if not f:
                raise UsageError(f"--fault: empty fault name in {entry!r}; name faults like lock-fail,mint-fail "
                                 f"(choose from {', '.join(known)})")
            if f not in known:
                raise UsageError(f"--fault: unknown fault {f!r}; choose from {', '.join(known)}")
            chosen.add(f)
    return frozenset(chosen)


def parse_limits(max_depth: int | None, max_states: int | None, timeout: float | None, max_memory: int | None,
                 budgets: Sequence[tuple[str, int | None, int]] = ()) -> Limits:
    """The exploration ``Limits``, each checked against its least value (as are the
    ``budgets``: (flag, value, least value))."""
    for flag, n, low in (*budgets, ("--max-depth", max_depth, 0), ("--max-states", max_states, 1),
                         ("--max-memory", max_memory, 1)):
        if n is not None and n < low:
            raise UsageError(f"{flag}: must be at least {low} (got {n})")
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--timeout: must be a positive number of seconds (got {timeout:g})")
    return Limits(max_depth=max_depth, max_states=max_states, timeout=timeout, max_memory_mb=max_memory)


def select_properties(spec: Spec, properties: Iterable[str] | None) -> tuple[str, ...] | None:
    """The properties named (entries may be comma lists; ``None`` or none named: all)."""
    if properties is None:
        return None
    names = [x.strip() for entry in properties for x in entry.split(",")]
    if "" in names:
        raise UsageError(f"--property: empty property name; choose from {', '.join(q.name for q in spec.properties)}")
    props = tuple(dict.fromkeys(names))
    for name in props:
        if spec.prop(name) is None:
            raise UsageError(
                f"--property: unknown property {name!r}; choose from {', '.join(q.name for q in spec.properties)}"
            )
    return props or None


def _split_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"--param: expected name=value, got {text!r}")
    return name.strip(), value


def _param_names(spec: Spec) -> str:
    return ", ".join(p.name for p in spec.params) or "none"
