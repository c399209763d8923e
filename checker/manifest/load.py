"""``load_manifest(path) -> Manifest``: read ``tim3check.toml``, check every key, resolve it.

Every mistake is a ``ManifestError`` (a ``UserError``: exit 2 at the command line) whose
message names the file, the key path, the line and the fix; independent mistakes are
reported together. Values still reading ``TODO`` (left by ``tim3check init``) are
mistakes too. The sections are read in dependency order: names and ids first
(processes, sinks, wallets), then everything that refers to them. Messages (boot,
operations) are read by ``checker.manifest.load_messages``, observables and properties
by ``checker.manifest.load_properties``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from checker.manifest.cursor import Table, fill, type_name
from checker.manifest.errors import ABORT, ManifestError, Problem, Problems, did_you_mean
from checker.manifest.load_messages import load_boot, load_domains, load_wallets
from checker.manifest.load_properties import load_observables, load_properties
from checker.manifest.names import Names
from checker.manifest.schema import (
    AOS_VARIANTS,
    LIMIT_FAULTS,
    NETWORKS,
    Adversary,
    AnswerRule,
    BootMessage,
    Domain,
    LimitsSpec,
    TimeSpec,
    Manifest,
    Observable,
    ProcessSpec,
    PropertySpec,
    Sink,
    SystemInfo,
    TrustRule,
    Wallets,
)
from checker.manifest.toml_lines import index_key, join_key

T = TypeVar("T")
SECTIONS = (
    "system",
    "processes",
    "sinks",
    "domains",
    "wallets",
    "boot",
    "observables",
    "properties",
    "trust",
    "adversary",
    "limits",
    "time",
    "faults",
)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_TODO = re.compile(r"\bTODO\b")
DEFAULT_OWNER = "owner"
DEFAULT_ADVERSARY = "adversary"


def load_manifest(path: Path | str) -> Manifest:
    """Load and check the manifest at ``path``; raise ``ManifestError`` listing every mistake."""
    shown = str(path)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _one(shown, "no such file", "write one (see docs/manifest.md) or draft it: tim3check init DIR") from None
    except IsADirectoryError:
        raise _one(shown, "is a folder", f"pass the manifest file, e.g. {p / 'tim3check.toml'}") from None
    except UnicodeDecodeError:
        raise _one(shown, "is not UTF-8 text", "save the manifest as UTF-8") from None
    except OSError as e:
        raise _one(shown, f"cannot be read ({e.strerror})", "check the path and its permissions") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        what = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) if m else msg
        raise ManifestError(
            [
                Problem(
                    shown,
                    "",
                    line,
                    f"not valid TOML: {what}",
                    "fix the syntax (strings need quotes, a key appears once per table, inline tables stay on one line)",
                )
            ]
        ) from None
    return _Loader(shown, p.resolve(), text, data).load()


def _one(shown: str, what: str, fix: str) -> ManifestError:
    return ManifestError([Problem(shown, "", None, what, fix)])


class _Loader:
    def __init__(self, shown: str, path: Path, text: str, data: dict[str, Any]) -> None:
        self.path = path
        self.problems = Problems(shown, text)
        self.doc = Table(self.problems, "", data)

    def section(self, fn: Callable[[], T], fallback: T) -> T:
        """Run one section; a problem that abandons it yields ``fallback``."""
        try:
            return fn()
        except ABORT:
            return fallback

    def load(self) -> Manifest:
        doc = self.doc
        _find_todos(self.problems, "", doc.data)
        doc.allow(SECTIONS, "the manifest")
        system = self.section(self.system, SystemInfo("?", "default", DEFAULT_OWNER))
        names = Names(owner=system.owner)
        processes: tuple[ProcessSpec, ...] = self.section(lambda: self.processes(names), ())
        sinks: tuple[Sink, ...] = self.section(lambda: self.sinks(names), ())
        domains: tuple[Domain, ...] = self.section(lambda: load_domains(doc), ())
        empty = Wallets((), 0, False, AnswerRule((), None), ())
        wallets = self.section(lambda: load_wallets(doc, names, domains), empty)
        adversary_id = self.section(lambda: self.adversary_id(names), None)
        names.check_unique(self.problems)
        for p in processes:
            for k, v in p.tags:
                key = join_key(join_key(join_key("processes", p.name), "tags"), k)
                names.check_static_holes(self.problems, key, v)
        processes = tuple(
            ProcessSpec(p.name, p.id, p.files, tuple((k, fill(v, names.static_value)) for k, v in p.tags))
            for p in processes
        )
        boot: tuple[BootMessage, ...] = self.section(lambda: load_boot(doc, names), ())
        observables: tuple[Observable, ...] = self.section(lambda: load_observables(doc, names), ())
        declared = list(doc.data["observables"]) if isinstance(doc.data.get("observables"), dict) else []
        properties: tuple[PropertySpec, ...] = self.section(lambda: load_properties(doc, declared, wallets.ops), ())
        trust: tuple[TrustRule, ...] = self.section(lambda: self.trust(names), ())
        adversary = self.section(lambda: self.adversary(names, adversary_id, wallets), None)
        faults: tuple[tuple[str, str], ...] = self.section(self.faults, ())
        limits = self.section(lambda: self.limits(tuple(n for n, _ in faults)),
                              LimitsSpec(None, None, None, None, "unordered", (), None))
        time = self.section(self.time, TimeSpec())
        self.problems.raise_if_any()
        return Manifest(
            path=self.path,
            root=self.path.parent,
            system=system,
            processes=processes,
            boot=boot,
            wallets=wallets,
            sinks=sinks,
            domains=domains,
            observables=observables,
            properties=properties,
            trust=trust,
            adversary=adversary,
            limits=limits,
            time=time,
            faults=faults,
        )

    # ------------------------------------------------------------ sections

    def system(self) -> SystemInfo:
        t = self.doc.table("system", '[system] name = "tim3"')
        t.allow(("name", "aos", "owner"), "[system]")
        name = t.text("name", 'name = "tim3"')
        aos = t.text("aos", 'aos = "default"', "default")
        if aos not in AOS_VARIANTS:
            self.problems.add(
                t.key("aos"),
                f"unknown aos variant '{aos}'",
                f"{did_you_mean(aos, AOS_VARIANTS)} (variants: {', '.join(AOS_VARIANTS)})",
            )
        owner = t.text("owner", 'owner = "owner-wallet"', DEFAULT_OWNER)
        return SystemInfo(name, aos, owner)

    def processes(self, names: Names) -> tuple[ProcessSpec, ...]:
        t = self.doc.table("processes", '[processes.coordinator] files = ["src/coordinator.lua"]')
        if not t.data:
            raise t.fail("", "no processes", 'declare one: [processes.coordinator] files = ["src/coordinator.lua"]')
        for name in t.data:  # every name is known, even if its entry has a mistake
            names.processes[name] = name
        out: list[ProcessSpec] = []
        for name in t.data:
            spec = self.section(lambda: self.process(t, name, names), None)
            if spec is not None:
                out.append(spec)
        return tuple(out)

    def process(self, parent: Table, name: str, names: Names) -> ProcessSpec:
        if not _NAME.fullmatch(name):
            raise parent.fail(
                name,
                f"'{name}' is not a usable process name",
                "use letters, digits, '-' and '_', starting with a letter (e.g. state_manager)",
            )
        t = parent.table(name, f'[processes.{name}] files = ["src/{name}.lua"]')
        t.allow(("files", "id", "tags"), f"[processes.{name}]")
        pid = t.text("id", f'id = "{name}"', name)
        names.processes[name] = pid
        files = t.strings("files", f'files = ["src/{name}.lua"]')
        resolved: list[Path] = []
        for i, f in enumerate(files):
            fpath = (self.path.parent / f).resolve()
            key = index_key(t.key("files"), i)
            if not fpath.exists():
                self.problems.add(
                    key, f"file {f} does not exist", f"paths are relative to the manifest's folder ({self.path.parent})"
                )
            elif not fpath.is_file():
                self.problems.add(key, f"{f} is not a file", "list Lua files, in the order aos loads them")
            resolved.append(fpath)
        tags = t.tags("tags", 'tags = { Name = "TIM3 Coordinator" }', [])
        return ProcessSpec(name, pid, tuple(resolved), tuple(tags))

    def sinks(self, names: Names) -> tuple[Sink, ...]:
        out: list[Sink] = []
        for t in self.doc.tables("sinks", '[[sinks]] name = "treasury"'):
            try:
                t.allow(("name", "id"), "a [[sinks]] entry")
                name = t.text("name", 'name = "treasury"')
                if not _NAME.fullmatch(name):
                    raise t.fail("name", f"'{name}' is not a usable sink name", "use letters, digits, '-' and '_'")
                if name in names.processes or name in names.sinks:
                    raise t.fail("name", f"the name '{name}' is already taken", "give the sink another name")
                sid = t.text("id", f'id = "{name}"', name)
                names.sinks[name] = sid
                out.append(Sink(name, sid))
            except ABORT:
                continue
        return tuple(out)

    def adversary_id(self, names: Names) -> str | None:
        t = self.doc.table("adversary", "[adversary] enabled = true", None)
        if t is None or not isinstance(t.data.get("enabled", True), bool) or not t.data.get("enabled", True):
            return None
        aid = t.text("id", f'id = "{DEFAULT_ADVERSARY}"', DEFAULT_ADVERSARY)
        names.adversary = aid
        return str(aid)

    def trust(self, names: Names) -> tuple[TrustRule, ...]:
        t = self.doc.table("trust", '[trust.coordinator] Configure = ["owner"]', None)
        if t is None:
            return ()
        out: list[TrustRule] = []
        for pname in t.data:
            if pname not in names.processes:
                self.problems.add(
                    t.key(pname),
                    f"'{pname}' is not a process",
                    f"{did_you_mean(pname, names.processes)} ([trust.NAME] names a process)",
                )
                continue
            try:
                pt = t.table(pname, f'[trust.{pname}] Configure = ["owner"]')
            except ABORT:
                continue
            for action in pt.data:
                try:
                    senders = pt.strings(action, f'{action} = ["owner"]')
                except ABORT:
                    continue
                ids: set[str] = set()
                anyone = False
                for i, s in enumerate(senders):
                    resolved = names.sender_ids(s)
                    if resolved is None:
                        self.problems.add(
                            index_key(pt.key(action), i),
                            f"unknown sender '{s}'",
                            f"{did_you_mean(s, names.sender_words())} "
                            "(owner, wallets, anyone, a process or sink name, or a wallet id)",
                        )
                    elif s == "anyone":
                        anyone = True
                    else:
                        ids |= resolved
                out.append(TrustRule(pname, action, tuple(senders), frozenset(ids), anyone))
        return tuple(out)

    def adversary(self, names: Names, aid: str | None, wallets: Wallets) -> Adversary | None:
        t = self.doc.table("adversary", "[adversary] enabled = true", None)
        if t is None:
            return None
        t.allow(("enabled", "id", "budget", "actions", "targets", "tags"), "[adversary]")
        if not t.flag("enabled", "enabled = true", True) or aid is None:
            return None
        budget = t.integer("budget", "budget = 1", 1, minimum=1)
        actions = t.strings("actions", 'actions = ["Configure", "UpdatePosition"]', None)
        targets = t.strings("targets", 'targets = ["coordinator"]', None)
        if targets is not None:
            for i, name in enumerate(targets):
                if name not in names.processes:
                    self.problems.add(
                        index_key(t.key("targets"), i),
                        f"'{name}' is not a process",
                        did_you_mean(name, names.processes),
                    )
        tags_t = t.table("tags", 'tags = { Quantity = ["1", "-1"] }', None)
        domains: list[Domain] = []
        if tags_t is not None:
            for tag, values in tags_t.data.items():
                key = tags_t.key(tag)
                if not isinstance(values, list) or not values:
                    self.problems.add(
                        key,
                        f"expected a non-empty array of values, got {type_name(values)}",
                        f'write {tag} = ["1", "{{wallet:1}}"]',
                    )
                    continue
                out: list[str] = []
                for i, v in enumerate(values):
                    if isinstance(v, bool) or not isinstance(v, (str, int)):
                        self.problems.add(
                            index_key(key, i),
                            f"expected a string or integer, got {type_name(v)}",
                            'write values like "1" or "{wallet:1}"',
                        )
                        continue
                    s = str(v)
                    names.check_static_holes(self.problems, index_key(key, i), s)
                    out.append(fill(s, names.static_value))
                domains.append(Domain(tag, tuple(out)))
        else:
            domains = _operation_tag_domains(wallets)
        return Adversary(
            aid,
            budget,
            None if actions is None else tuple(actions),
            None if targets is None else tuple(targets),
            tuple(domains),
        )

    def time(self) -> TimeSpec:
        t = self.doc.table("time", "[time] hop_ms = 1000", None)
        if t is None:
            return TimeSpec()
        t.allow(("hop_ms", "op_interval_ms"), "[time]")
        return TimeSpec(
            hop_ms=t.integer("hop_ms", "hop_ms = 1000", 1000, minimum=0) or 0,
            op_interval_ms=t.integer("op_interval_ms", "op_interval_ms = 1000", 1000, minimum=0) or 0,
        )

    def faults(self) -> tuple[tuple[str, str], ...]:
        """``[faults]``: fault name = its meaning; the names the Lua may ask ``Checker.fault`` about."""
        example = '[faults] lock-fail = "the lock manager refuses a lock"'
        t = self.doc.table("faults", example, None)
        if t is None:
            return ()
        out: list[tuple[str, str]] = []
        for name in t.data:
            if not _NAME.fullmatch(name) or name in LIMIT_FAULTS:
                self.problems.add(t.key(name), f"'{name}' cannot name a process fault",
                                  "use letters, digits, - and _ (loss and handler-error are the engine's own)")
                continue
            out.append((name, t.text(name, f'{name} = "what happens"')))
        return tuple(out)

    def limits(self, declared: tuple[str, ...] = ()) -> LimitsSpec:
        t = self.doc.table("limits", "[limits] max_depth = 40", None)
        if t is None:
            return LimitsSpec(None, None, None, None, "unordered", (), None)
        t.allow(("max_depth", "max_states", "timeout", "max_memory_mb", "network", "faults", "max_faults"), "[limits]")
        network = t.text("network", 'network = "unordered"', "unordered")
        if network not in NETWORKS:
            self.problems.add(
                t.key("network"),
                f"unknown network '{network}'",
                f"{did_you_mean(network, NETWORKS)} (networks: {', '.join(NETWORKS)})",
            )
        faults = t.strings("faults", 'faults = ["loss"]', [], nonempty=False)
        known = tuple(LIMIT_FAULTS) + declared
        for i, f in enumerate(faults):
            if f not in known:
                self.problems.add(
                    index_key(t.key("faults"), i),
                    f"unknown fault '{f}'",
                    f"{did_you_mean(f, known)} (faults: {', '.join(known)}; declare a process's own in [faults]; "
                    "the adversary has its own [adversary] section)",
                )
        return LimitsSpec(
            max_depth=t.integer("max_depth", "max_depth = 40", None, minimum=1),
            max_states=t.integer("max_states", "max_states = 1000000", None, minimum=1),
            timeout=t.number("timeout", "timeout = 600", None),
            max_memory_mb=t.integer("max_memory_mb", "max_memory_mb = 4096", None, minimum=1),
            network=network,
            faults=tuple(faults),
            max_faults=t.integer("max_faults", "max_faults = 1", None, minimum=0),
        )


def _operation_tag_domains(wallets: Wallets) -> list[Domain]:
    """Default adversary tag values: per tag name, the values the wallets' operations use."""
    values: dict[str, list[str]] = {}
    for op in wallets.operations:
        for inst in op.instances:
            for k, v in inst.tags:
                if k == "Action":
                    continue
                seen = values.setdefault(k, [])
                if v not in seen:
                    seen.append(v)
    return [Domain(k, tuple(v)) for k, v in values.items()]


def _find_todos(problems: Problems, path: str, value: object) -> None:
    """Record every string value still containing the word TODO."""
    if isinstance(value, dict):
        for k, v in value.items():
            _find_todos(problems, join_key(path, k), v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _find_todos(problems, index_key(path, i), v)
    elif isinstance(value, str) and _TODO.search(value):
        problems.add(
            path,
            f"still says {value!r}",
            "replace it with the real value (tim3check init writes TODO where it cannot know)",
        )
