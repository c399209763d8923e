"""Counterexample files: the JSON format (schema version 1), atomic writing, loading.

A counterexample is data. ``counterexample_data`` turns one property's trace into a
plain JSON-able dict; ``write_counterexample`` writes it as ``<property>--<label>.json``
with its Markdown rendering beside it, atomically; ``load_counterexample`` reads it back
and raises ``TraceFileError`` (one line naming the file) for anything malformed.

Top-level fields of schema version 1 (see ``REQUIRED_FIELDS``): ``schema_version``,
``tool``, ``spec`` {name, module, source, path}, ``scenario``, ``config`` (``CheckConfig.to_json``),
``config_label``, ``engine``, ``property`` {name, kind, meaning, expected_to_fail},
``verdict``, ``bound``, ``detail``, ``processes`` [{pid, kind, label}], ``initial``
{states {pid: state}, faults_left, injections_left}, ``steps`` [{index, kind, pid,
handler, message, choices, reason, sent, changes}], ``final`` {quiescent, in_flight,
states, obligations}, ``violation`` (one line, or null for a witness), ``witness``
({goal: step index} for a ``sometimes`` witness, else null); a ``progress``
counterexample (a lasso) adds ``cycle`` {start, length} and marks its steps ``cycle``; ``length`` (the number of
steps; absent in files written before it existed). ``spec.source`` is the spec file
relative to its repository root (the nearest ancestor holding ``.git`` or
``pyproject.toml``), or absolute outside one; ``spec.path`` is its absolute path. The
JSON Schema is ``docs/schema/counterexample.schema.json``.

Loading refuses a file larger than ``MAX_FILE_BYTES``, nested deeper than ``MAX_NESTING``,
or whose steps are not numbered 1, 2, … up to its ``length``.

A state change is ``{pid: {field: diff}}`` where a diff is ``{"before": x, "after": y}``
for a plain field, or ``{"keys": {key: {"before": x, "after": y}}}`` for a mapping field
(a side is omitted where the key is absent).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from checker.config import CheckConfig, Limits
from checker.model.conformance import find_property
from checker.errors import InternalError, TraceFileError, UserError
from checker.model.expectation import Form, expectation
from checker.model.property_eval import goals_met, open_obligations, required_goals, violated_at
from checker.result import CheckResult, Engine, PropertyResult
from checker.model.semantics import ADVERSARY, Semantics, Step, World
from checker.model.spec import Property, Spec
from checker.model.values import FrozenMap, Message, make_message
from checker.model.walk import Node, Walk, node_of, record_fields

SCHEMA_VERSION = 1
TOOL = "tim3check"
MAX_FILE_BYTES = 64 * 1024 * 1024  # a counterexample larger than this is refused, not parsed
MAX_NESTING = 200  # JSON arrays/objects nested deeper than this are refused (TIM3's: < 10)
REQUIRED_FIELDS: tuple[str, ...] = (
    "schema_version", "tool", "spec", "scenario", "config", "config_label", "engine", "property",
    "verdict", "bound", "processes", "initial", "steps", "final", "violation",
)
STEP_FIELDS: tuple[str, ...] = ("index", "kind", "pid", "handler", "message", "choices", "sent", "changes")

# ------------------------------------------------------------------ JSON conversion


class _Json(Walk):
    """``to_json`` as a walk over the value (``checker.model.walk``)."""

    def leaf(self, value: Any, path: str) -> Any:
        if isinstance(value, float) and not math.isfinite(value):  # (a Lua 0/0): JSON has no NaN
            return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise InternalError(f"cannot convert a {type(value).__name__} to JSON: {value!r}")

    def message(self, m: Message, path: str) -> Any:
        return {"src": m.src, "dst": m.dst, "action": m.action, "tags": [[k, self.walk(v)] for k, v in m.tags]}

    def mapping(self, m: Mapping[Any, Any], path: str) -> Any:
        out = {self._key(k): self.walk(v) for k, v in m.items()}
        return dict(sorted(out.items()))

    def _key(self, k: Any) -> str:
        return k if isinstance(k, str) else json.dumps(self.walk(k), sort_keys=True)

    def sequence(self, t: tuple[Any, ...], path: str) -> Any:
        return [self.walk(v) for v in t]

    def array(self, items: list[Any], path: str) -> Any:
        return [self.walk(v) for v in items]

    def collection(self, items: set[Any] | frozenset[Any], path: str) -> Any:
        return sorted((self.walk(v) for v in items), key=lambda x: json.dumps(x, sort_keys=True))

    def record(self, obj: Any, path: str) -> Any:
        return {n: self.walk(getattr(obj, n)) for n in public_fields(obj)}


_JSON = _Json()


def public_fields(obj: Any) -> tuple[str, ...]:
    """The fields of a record (a frozen dataclass) that JSON shows: those a walk visits
    (``checker.model.walk.record_fields``) but the private (``_``) ones."""
    return tuple(n for n in record_fields(obj) if not n.startswith("_"))


def to_json(value: Any) -> Any:
    """A JSON-able copy of a state value, deterministic in key order.

    Frozen dataclasses become dicts of their (public, init) fields in declaration order;
    ``FrozenMap`` and mappings become dicts (sorted keys; non-string keys are rendered with
    ``json.dumps`` of their converted form); tuples, lists and sets become lists (sets
    sorted); ``Message`` becomes ``message_to_json``; bool/int/float/str/None stay, but a
    non-finite float becomes the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``.
    """
    return _JSON.walk(value)


def message_to_json(m: Message) -> dict[str, Any]:
    """``{"src", "dst", "action", "tags": [[name, value], ...]}`` (tags in canonical order)."""
    out: dict[str, Any] = _JSON.message(m, "")
    return out


def message_from_json(d: Any) -> Message:
    """The ``Message`` that ``message_to_json`` produced (list tag values become tuples)."""
    if not isinstance(d, dict) or not {"src", "dst", "action", "tags"} <= d.keys():
        raise ValueError(f"not a message: {d!r}")
    tags: dict[str, Any] = {}
    for pair in d["tags"]:
        if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
            raise ValueError(f"bad tag {pair!r} in message {d.get('action')!r}")
        tags[pair[0]] = _tuples(pair[1])
    return make_message(str(d["src"]), str(d["dst"]), str(d["action"]), tags)


def _tuples(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_tuples(x) for x in v)
    return v


def config_from_json(d: Mapping[str, Any]) -> CheckConfig:
    """Rebuild the ``CheckConfig`` that ``CheckConfig.to_json`` produced (lists → tuples)."""
    limits = d.get("limits") or {}
    props = d.get("properties")
    return CheckConfig(
        params=FrozenMap({str(k): _tuples(v) for k, v in dict(d["params"]).items()}),
        network=str(d.get("network", "unordered")),
        faults=frozenset(str(f) for f in d.get("faults", ())),
        max_faults=int(d.get("max_faults", 1)),
        adversary_messages=int(d.get("adversary_messages", 1)),
        limits=Limits(limits.get("max_depth"), limits.get("max_states"), limits.get("timeout"),
                      max_memory_mb=limits.get("max_memory_mb")),
        properties=tuple(props) if props is not None else None,
        conform=bool(d.get("conform", False)),
        symmetry=bool(d.get("symmetry", True)),
    )


def step_key_json(step: Step) -> dict[str, Any]:
    """What identifies a step when a trace is replayed (``Step.key`` as JSON)."""
    return {
        "kind": step.kind,
        "pid": step.pid,
        "handler": step.handler,
        "message": message_to_json(step.msg) if step.msg is not None else None,
        "choices": [[label, to_json(v)] for label, v in step.choices],
    }


def state_diff(before: Any, after: Any) -> dict[str, Any]:
    """Field-level diff of two local states (see the module docstring): the fields of a
    record (as a walk sees them, ``checker.model.walk``), or the whole state as one field."""
    if node_of(before) is Node.RECORD and type(before) is type(after):
        b, a = to_json(before), to_json(after)
    else:
        b, a = {"(state)": to_json(before)}, {"(state)": to_json(after)}
    out: dict[str, Any] = {}
    for name in list(b) + [n for n in a if n not in b]:
        bv, av = b.get(name), a.get(name)
        if bv == av:
            continue
        raw = getattr(before, name, None) if name != "(state)" else before
        if node_of(raw) is Node.MAP and isinstance(bv, dict) and isinstance(av, dict):
            keys: dict[str, Any] = {}
            for k in sorted(set(bv) | set(av)):
                if bv.get(k) != av.get(k) or (k in bv) != (k in av):
                    entry: dict[str, Any] = {}
                    if k in bv:
                        entry["before"] = bv[k]
                    if k in av:
                        entry["after"] = av[k]
                    keys[k] = entry
            out[name] = {"keys": keys}
        else:
            out[name] = {"before": bv, "after": av}
    return out


def world_changes(sem: Semantics, w0: World, w1: World) -> dict[str, Any]:
    """``{pid: field diff}`` for every process whose local state differs (system order)."""
    return {
        pid: state_diff(sem.describe(i, w0.procs[i]), sem.describe(i, w1.procs[i]))
        for i, pid in enumerate(sem.pids)
        if w0.procs[i] != w1.procs[i]
    }


def step_json(sem: Semantics, index: int, step: Step, before: World, after: World) -> dict[str, Any]:
    """One trace step as JSON: its key, reason, messages sent and state changes."""
    d = {"index": index, **step_key_json(step)}
    d["reason"] = step.reason
    d["sent"] = [message_to_json(m) for m in step.sends]
    d["changes"] = world_changes(sem, before, after)
    if step.where is not None:  # the handler's source location (Lua file:line, for one)
        d["where"] = step.where
    if step.notes:  # what the process implementation reports besides (printed lines, ...)
        d["notes"] = {k: to_json(v) for k, v in step.notes}
    return d


# ------------------------------------------------------------------ building the data


def repo_root(start: Path) -> Path | None:
    """The nearest ancestor of ``start`` (itself included) holding ``.git`` or
    ``pyproject.toml``: the repository root, or ``None`` outside any repository."""
    here = start.resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists() or (d / "pyproject.toml").is_file():
            return d
    return None


def repo_relative(path: Path) -> str:
    """``path`` relative to its repository root (``repo_root``), else absolute; POSIX form."""
    p = path.resolve()
    root = repo_root(p.parent)
    if root is not None:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            pass
    return p.as_posix()


def spec_location(spec: Spec) -> tuple[str | None, str]:
    """``(importable module, source path)`` of a spec; the path is ``repo_relative``.

    The module is the (shortest-named) loaded module whose file is ``spec.source``, else
    derived from the ``sys.path`` entry containing it; ``None`` if neither works.
    """
    src = Path(spec.source).resolve()
    names = []
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        if name != "__main__" and f and Path(f).resolve() == src:
            names.append(name)
    modules = []
    for entry in sys.path:
        try:
            root = Path(entry or os.getcwd()).resolve()
            rel = src.relative_to(root)
        except (OSError, ValueError):
            continue
        parts = rel.with_suffix("").parts
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            modules.append(".".join(parts))
    module = min(names or modules, key=lambda n: (len(n), n)) if names or modules else None
    return module, repo_relative(src)


def counterexample_data(
    result: CheckResult, prop: PropertyResult, sem: Semantics, spec_module: str | None = None
) -> dict[str, Any]:
    """The JSON document for ``prop``'s trace (a counterexample, or a ``sometimes`` witness).

    ``sem`` must be the semantics the trace was produced under: built from
    ``prop.trace_config`` when set (a z3 engine's concrete scenario), else from
    ``result.config``. Raises ``InternalError`` if ``prop`` has no trace or names a
    property the spec does not have.
    """
    if prop.trace is None:
        raise InternalError(f"property {prop.name!r} has no trace to save ({prop.verdict})")
    spec_prop = find_property(sem.spec, prop.name)
    if spec_prop is None:
        raise InternalError(f"property {prop.name!r} is not in spec {sem.spec.name!r}")
    module, source = spec_location(sem.spec)
    if spec_module is not None:
        module = spec_module
    trace = prop.trace
    cfg = prop.trace_config or result.config
    engine = prop.engine or result.engine
    # a str parameter (other than version) at its default stays out of the file name
    omit = {p.name: p.default for p in sem.spec.params if p.type == "str" and p.name != "version" and p.default is not None}
    label = cfg.label(omit) + ("" if engine == Engine.EXPLORE else f"-{engine}")
    steps = []
    prev = trace.initial
    for i, (step, w) in enumerate(trace.steps, start=1):
        steps.append(step_json(sem, i, step, prev, w))
        prev = w
    final = trace.steps[-1][1] if trace.steps else trace.initial
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": TOOL,
        "spec": {"name": sem.spec.name, "module": module, "source": source,
                 "path": Path(sem.spec.source).resolve().as_posix()},
        "scenario": sem.spec.describe(cfg.params) if prop.trace_config is not None else result.scenario,
        "config": cfg.to_json(),
        "config_label": label,
        "engine": engine,
        "property": {
            "name": prop.name,
            "kind": spec_prop.kind,
            "shown_kind": prop.kind,
            "meaning": prop.meaning,
            "expected_to_fail": prop.expected_to_fail,
        },
        "verdict": prop.verdict,
        "bound": prop.bound,
        "detail": prop.detail,
        "processes": processes_json(sem),
        "initial": {
            "states": {pid: to_json(sem.describe(i, trace.initial.procs[i])) for i, pid in enumerate(sem.pids)},
            "faults_left": trace.initial.faults_left,
            "injections_left": trace.initial.injections_left,
        },
        "steps": steps,
        "length": len(steps),
        "final": final_json(sem, spec_prop, final),
        "violation": None,
        "witness": None,
    }
    if expectation(spec_prop).form is Form.REACHABLE:
        data["witness"] = witness_steps(sem, spec_prop, trace.initial, [w for _, w in trace.steps])
    elif expectation(spec_prop).form is Form.PROGRESS:
        data.update(lasso_fields(trace, steps))
    else:
        last = sem.divergent.get(id(trace.steps[-1][0])) if trace.steps else None
        data["violation"] = explain_violation(sem, spec_prop, final, last or prop.detail)
    return data


def lasso_fields(trace: Any, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A non-progress cycle's fields (``checker.engines.progress.LassoTrace``): ``cycle``
    {start, length} (the world after the last step is the world after step ``start``) and
    ``violation``; each step of the cycle is marked ``"cycle": true``."""
    start = getattr(trace, "cycle_start", None)
    if not isinstance(start, int):
        raise InternalError("a progress property's counterexample must be a lasso (LassoTrace)")
    for s in steps[start:]:
        s["cycle"] = True
    n = len(steps)
    return {"cycle": {"start": start, "length": n - start},
            "violation": f"lasso: after steps 1–{start} (the stem), steps {start + 1}–{n} lead back to the state "
                         f"after step {start} and repeat forever; no state on the cycle is a progress state"}


def lasso_cycle(data: Mapping[str, Any], name: str) -> int:
    """The ``cycle.start`` of a saved lasso, validated; ``TraceFileError`` if missing or malformed."""
    c = data.get("cycle")
    n = len(data["steps"])
    if not isinstance(c, dict) or not isinstance(c.get("start"), int) or not isinstance(c.get("length"), int):
        raise TraceFileError(f"{name}: a progress counterexample needs a field 'cycle' {{start, length}} (integers)")
    start, length = c["start"], c["length"]
    if isinstance(start, bool) or not 0 <= start < n or start + length != n:
        raise TraceFileError(f"{name}: field 'cycle' ({start}, {length}) does not fit the {n} steps (start + length = steps)")
    return int(start)


def processes_json(sem: Semantics) -> list[dict[str, str]]:
    """The participants in system order (plus the adversary when it is enabled)."""
    out = [{"pid": inst.pid, "kind": impl.kind, "label": impl.label} for inst, impl in zip(sem.instances, sem.impls)]
    if sem.adversary:
        out.append({"pid": ADVERSARY, "kind": ADVERSARY, "label": "Adversary"})
    return out


def final_json(sem: Semantics, prop: Property, w: World) -> dict[str, Any]:
    """The last world: quiescence, messages in flight, every local state, obligations."""
    return {
        "quiescent": not w.net,
        "in_flight": [message_to_json(m) for m in sem.net.messages(w.net)],
        "states": {pid: to_json(sem.describe(i, w.procs[i])) for i, pid in enumerate(sem.pids)},
        "obligations": to_json(open_obligations(sem, prop, w)) if expectation(prop).form is Form.OBLIGATIONS else None,
        "faults_left": w.faults_left,
        "injections_left": w.injections_left,
    }


def explain_violation(sem: Semantics, prop: Property, w: World, last_divergence: str | None = None) -> str:
    """One line: what is wrong in ``w`` (the property's own ``explain`` when it has one)."""
    parts: list[str] = []
    exp = expectation(prop)
    if exp.form is Form.OBLIGATIONS:
        obl = open_obligations(sem, prop, w)
        parts.append("quiescent with open obligations " + ", ".join(json.dumps(to_json(o)) for o in obl))
    elif exp.at_quiescence:
        parts.append("quiescent (nothing in flight)" if not w.net else "not quiescent")
    if exp.form is Form.CONFORMANCE:
        return "the last step is not a step of the model: " + (last_divergence or "?")
    if exp.form is Form.FINDING:
        return f"{prop.meaning}: {last_divergence or '?'}"
    if not violated_at(sem, prop, w):
        parts.append("(the property does not fail in this state)")
    if prop.explain is not None:
        try:
            parts.append(str(prop.explain(sem.view(w))))
        except (AttributeError, KeyError, TypeError, UserError) as e:
            parts.append(f"the property cannot read this state: {e}")
    else:
        states = "; ".join(
            f"{pid} {json.dumps(to_json(sem.describe(i, w.procs[i])), sort_keys=True)}" for i, pid in enumerate(sem.pids)
        )
        parts.append(f"fails: {prop.meaning}; final states: {states}")
    return "; ".join(parts)


def witness_steps(sem: Semantics, prop: Property, initial: World, worlds: list[World]) -> dict[str, int | None]:
    """For each required goal, the first step index (0 = initial) whose world witnesses it."""
    out: dict[str, int | None] = {g: None for g in required_goals(sem, prop)}
    for i, w in enumerate([initial, *worlds]):
        for g in goals_met(sem, prop, w):
            if out[g] is None:
                out[g] = i
    return out


# ------------------------------------------------------------------ files


def file_stem(data: Mapping[str, Any]) -> str:
    """``<property>--<config label>`` made file-name safe."""
    return _safe(str(data["property"]["name"])) + "--" + _safe(str(data["config_label"]))


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", s) or "_"


def dumps(data: Mapping[str, Any]) -> str:
    """The canonical JSON text of a counterexample (stable: same data, same bytes)."""
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as e:
        raise InternalError(f"counterexample data is not JSON-serialisable: {e}") from e


def finite(value: Any) -> Any:
    """A copy of a JSON-able value with every non-finite float (NaN, ±Infinity) as ``None``:
    JSON has no such numbers, and a document tim3check prints must parse anywhere."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def json_text(doc: Any) -> str:
    """The text of a ``--format json`` document: indented, UTF-8, never ``NaN``/``Infinity``
    (``finite``, then ``allow_nan=False`` as the guard)."""
    return json.dumps(finite(doc), indent=2, ensure_ascii=False, allow_nan=False)


def write_counterexample(data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``<out_dir>/<stem>.json`` and ``<stem>.md``; return the JSON path.

    The ``.md``'s replay command names the JSON file by ``repo_relative`` (so it runs from
    the repository root). Both texts are produced before anything is written, and each
    file is written to a temporary file in ``out_dir``, fsynced and renamed over the
    target: a failure (``OSError``) never leaves a partial file or a temporary file
    behind, and never touches an existing one.
    """
    from checker.interfaces.render import render_markdown

    out_dir = Path(out_dir)
    stem = file_stem(data)
    json_path = out_dir / f"{stem}.json"
    text = dumps(data)
    md = render_markdown(dict(data), replay_path=repo_relative(json_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(json_path, text)
    atomic_write_text(out_dir / f"{stem}.md", md)
    return json_path


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temp file in the same directory + rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a saved trace is ordinary data
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def load_counterexample(path: Path | str) -> dict[str, Any]:
    """Read and validate a counterexample file; any problem is one ``TraceFileError`` line
    (also a file over ``MAX_FILE_BYTES`` or nested deeper than ``MAX_NESTING``)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise TraceFileError(f"{p}: no such counterexample file") from None
    except OSError as e:
        raise TraceFileError(f"{p}: cannot read: {e.strerror or e}") from None
    if size > MAX_FILE_BYTES:
        raise TraceFileError(f"{p}: {size / 2**20:.0f} MB is too large for a counterexample "
                             f"(the limit is {MAX_FILE_BYTES // 2**20} MB); is it the right file?")
    try:
        text = p.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise TraceFileError(f"{p}: is a directory, not a counterexample file") from None
    except UnicodeDecodeError as e:
        raise TraceFileError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise TraceFileError(f"{p}: cannot read: {e.strerror or e}") from None
    deep = _nesting_beyond(text, MAX_NESTING)
    if deep is not None:
        raise TraceFileError(f"{p}: JSON nested deeper than {MAX_NESTING} levels (at character {deep}); "
                             "not a counterexample tim3check wrote")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise TraceFileError(f"{p}: not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:  # unreachable after the nesting check; kept as the last guard
        raise TraceFileError(f"{p}: JSON nested too deeply to read") from None
    except ValueError as e:  # NaN / Infinity (not JSON)
        raise TraceFileError(f"{p}: not valid JSON: {e}") from None
    validate(data, str(p))
    assert isinstance(data, dict)
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_JSON_SPECIAL = re.compile(r'["\\\[\]{}]')  # what changes the nesting depth (or starts/ends a string)


def _nesting_beyond(text: str, limit: int) -> int | None:
    """The offset where ``[``/``{`` nesting first exceeds ``limit`` (strings skipped), else None.

    A linear scan: deep nesting must be refused before ``json.loads`` (which recurses)."""
    depth = 0
    in_str = False
    i, n = 0, len(text)
    while True:
        m = _JSON_SPECIAL.search(text, i)
        if m is None:
            return None
        c, i = m.group(), m.end()
        if in_str:
            if c == "\\":
                i += 1  # skip the escaped character
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif c in "]}":
            depth -= 1
        if i >= n:
            return None


def validate(data: Any, name: str) -> None:
    """Check the shape of a loaded counterexample; ``TraceFileError`` names the first problem."""
    if not isinstance(data, dict):
        raise TraceFileError(f"{name}: not a counterexample (the JSON is a {type(data).__name__}, not an object)")
    if "schema_version" not in data:
        raise TraceFileError(f"{name}: not a counterexample: missing field 'schema_version'")
    if data["schema_version"] != SCHEMA_VERSION:
        raise TraceFileError(
            f"{name}: unsupported schema_version {data['schema_version']!r} (this tim3check reads {SCHEMA_VERSION})"
        )
    for f in REQUIRED_FIELDS:
        if f not in data:
            raise TraceFileError(f"{name}: missing field {f!r}")
    _need(data, "spec", dict, name)
    _need(data, "config", dict, name)
    _need(data["config"], "params", dict, name, "config.")
    _need(data, "property", dict, name)
    for f in ("name", "kind", "meaning"):
        _need(data["property"], f, str, name, "property.")
    _need(data, "processes", list, name)
    _need(data, "initial", dict, name)
    _need(data["initial"], "states", dict, name, "initial.")
    _need(data, "steps", list, name)
    _need(data, "final", dict, name)
    _need(data["final"], "states", dict, name, "final.")
    for i, s in enumerate(data["steps"], start=1):
        if not isinstance(s, dict):
            raise TraceFileError(f"{name}: steps[{i - 1}] is not an object")
        for f in STEP_FIELDS:
            if f not in s:
                raise TraceFileError(f"{name}: missing field 'steps[{i - 1}].{f}' (step {i})")
        if type(s["index"]) is not int or s["index"] != i:
            raise TraceFileError(f"{name}: steps[{i - 1}].index is {s['index']!r}, expected {i}: "
                                 "steps were removed, added or reordered")
        problem = _step_problem(s)
        if problem:
            raise TraceFileError(f"{name}: steps[{i - 1}].{problem} (step {i})")
        try:
            if s["message"] is not None:
                message_from_json(s["message"])
            for m in s["sent"]:
                message_from_json(m)
        except (ValueError, TypeError) as e:
            raise TraceFileError(f"{name}: step {i}: {e}") from None
    try:
        config_from_json(data["config"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise TraceFileError(f"{name}: bad config: {e}") from None
    _check_length(data, name)


def _step_problem(s: dict[str, Any]) -> str:
    """What is mistyped in one step (``field: why``), '' if nothing: kind, pid, handler and
    reason strings (handler, reason may be null), choices ``[[label, value], ...]``, sent a
    list, changes ``{pid: {field: diff}}`` with each diff as the module docstring says."""
    if not isinstance(s["kind"], str):
        return "kind must be a string"
    if not isinstance(s["pid"], str):
        return "pid must be a string"
    for f in ("handler", "reason"):
        if s.get(f) is not None and not isinstance(s[f], str):
            return f"{f} must be a string or null"
    ch = s["choices"]
    if not isinstance(ch, list) or not all(isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) for c in ch):
        return "choices must be a list of [label, value] pairs"
    if not isinstance(s["sent"], list):
        return "sent must be a list of messages"
    changes = s["changes"]
    if not isinstance(changes, dict) or not all(isinstance(v, dict) for v in changes.values()):
        return "changes must be an object {pid: {field: change}}"
    for pid, fields in changes.items():
        for field, diff in fields.items():
            if not _diff_ok(diff):
                return f"changes.{pid}.{field} must be {{before, after}} or {{keys: {{key: {{before?, after?}}}}}}"
    return ""


def _diff_ok(diff: Any) -> bool:
    if not isinstance(diff, dict):
        return False
    if "keys" in diff:
        keys = diff["keys"]
        return isinstance(keys, dict) and all(
            isinstance(e, dict) and set(e) <= {"before", "after"} for e in keys.values())
    return "before" in diff and "after" in diff


def _check_length(data: dict[str, Any], name: str) -> None:
    """The step count agrees with the recorded ``length`` and the witness's step indices."""
    count = len(data["steps"])
    if "length" in data and (type(data["length"]) is not int or data["length"] != count):
        raise TraceFileError(f"{name}: the trace records length {data['length']!r} but holds {count} steps: "
                             "steps were removed or added")
    witness = data.get("witness")
    if witness is None:
        return
    if not isinstance(witness, dict):
        raise TraceFileError(f"{name}: field 'witness' must be a JSON object or null")
    for goal, at in witness.items():
        if at is not None and (type(at) is not int or not 0 <= at <= count):
            raise TraceFileError(f"{name}: witness {goal!r} at step {at!r}, but the trace has steps 0..{count}")


def _need(d: dict[str, Any], f: str, typ: type, name: str, prefix: str = "") -> None:
    if f not in d:
        raise TraceFileError(f"{name}: missing field '{prefix}{f}'")
    if not isinstance(d[f], typ):
        what = "JSON object" if typ is dict else "JSON list" if typ is list else "string" if typ is str else typ.__name__
        raise TraceFileError(f"{name}: field '{prefix}{f}' must be a {what}")
