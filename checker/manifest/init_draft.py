"""``draft_manifest(root) -> str`` and ``write_manifest(path, text, force=False)``: ``tim3check init``.

The draft is a valid TOML manifest built from ``scan_repository(root)``: one process per
file that registers handlers (helper files loaded first), boot ``Configure`` messages with
the tags and Data fields those handlers read (ids guessed from the names, else TODO),
wallet operations for the Actions no process of the repository sends (read-only ones
commented out), answer Actions (sent but handled by no process), trust from who sends
which Action, observables and properties as commented suggestions. Every value the scan
cannot know reads ``TODO``: ``load_manifest`` refuses the file until each is filled in.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from checker.manifest.errors import ManifestError, Problem
from checker.manifest.init_flows import Flows, guess_process, is_config, owner_side
from checker.manifest.init_scan import FileScan, HandlerScan, RepoScan, scan_repository
from checker.manifest.toml_lines import key_segment

# Fields every AO message has: never drafted as operation tags.
MESSAGE_FIELDS = (
    "Action", "From", "Owner", "Id", "Data", "Timestamp", "Target", "Module", "Reference", "Tags",
    "Cron", "Epoch", "Nonce", "Signature", "Anchor", "Block-Height", "Hash-Chain", "From-Process",
    "Forwarded-By", "Pushed-For", "X-Reference", "TagArray", "Name", "Process",
)  # fmt: skip
_GENERIC_STEMS = ("process", "main", "init", "index", "handlers", "app", "src", "source")
_GENERIC_DIRS = ("src", "lua", "build", "dist", "ao", "process", "processes", "source", "contracts")
_AMOUNT = re.compile(r"(?i)amount|quantity|qty|value|collateral|deposit|size")
_WALLET = re.compile(r"(?i)recipient|user|account|wallet|beneficiary|address")


@dataclass(frozen=True, slots=True)
class _Proc:
    name: str
    file: FileScan


def toml_string(s: str) -> str:
    """A TOML basic string (JSON escapes are TOML escapes)."""
    return json.dumps(s, ensure_ascii=False)


def toml_key(k: str) -> str:
    return key_segment(k)


def _inline(pairs: Iterable[tuple[str, str]]) -> str:
    return "{ " + ", ".join(f"{toml_key(k)} = {toml_string(v)}" for k, v in pairs) + " }"


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()
    return s if s and not s[0].isdigit() else f"v_{s}"


def _process_names(files: tuple[FileScan, ...]) -> list[_Proc]:
    out: list[_Proc] = []
    taken: set[str] = set()
    for f in files:
        parts = f.rel.split("/")
        stem = parts[-1][: -len(".lua")]
        base = stem
        if stem.lower() in _GENERIC_STEMS:
            dirs = [d for d in reversed(parts[:-1]) if d.lower() not in _GENERIC_DIRS]
            base = dirs[0] if dirs else stem
        name = _snake(base).replace("_", "_") or "process"
        if not name[0].isalpha():
            name = f"p_{name}"
        candidate, n = name, 2
        while candidate in taken:
            candidate = f"{name}{n}"
            n += 1
        taken.add(candidate)
        out.append(_Proc(candidate, f))
    return out


def _read_only(h: HandlerScan) -> bool:
    """Changes no global and only answers its sender: a query, not an operation."""
    return not h.changes_state and all(s.via == "reply" or (s.target or "").endswith(".From") for s in h.sends)


def _rel(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def draft_manifest(root: Path, manifest_dir: Path | None = None) -> str:
    """A starter manifest for the repository at ``root`` (paths relative to ``manifest_dir``,
    by default ``root``): valid TOML, loadable once its TODO values are filled in."""
    scan = scan_repository(root)
    base = (manifest_dir or root).resolve()
    return _Draft(scan, base).text()


class _Draft:
    def __init__(self, scan: RepoScan, base: Path) -> None:
        self.scan = scan
        self.base = base
        self.procs = _process_names(scan.process_files)
        self.lines: list[str] = []
        self.flows = Flows([(p.name, p.file) for p in self.procs])

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        self.header()
        if not self.procs:
            self.emit(
                "# TODO: the scan found no file that registers handlers (Handlers.add/append/prepend).",
                "[processes.TODO]",
                'files = ["TODO.lua"]',
                "",
            )
        self.processes()
        self.boot()
        self.sinks()
        self.wallets()
        self.observables()
        self.trust()
        self.tail()
        return "\n".join(self.lines).rstrip() + "\n"

    def header(self) -> None:
        s = self.scan
        self.emit(
            f"# tim3check.toml: drafted by `tim3check init` from {len(s.files)} Lua file(s) under {s.root.name}/.",
            "# Fill in every TODO (tim3check refuses a manifest that still has one), check the guesses",
            "# marked 'guessed', then run:  tim3check check --system tim3check.toml",
            "# The format: docs/manifest.md.",
        )
        if s.skipped:
            self.emit(f"# Not scanned (tests): {', '.join(s.skipped)}")
        for dup, of in s.duplicates:
            self.emit(
                f"# Not a process: {dup} registers the same handlers as {of} (a build or another version:"
                f" put it in {of}'s place under files if it is the one you deploy)"
            )
        self.emit(
            "",
            "[system]",
            f"name = {toml_string(_snake(s.root.name) or 'system')}",
            'aos = "default"  # or "require-json", "normalized-tags": the aos behaviour you deploy with',
            'owner = "owner"  # the wallet that spawns, owns and configures every process',
            "",
        )

    def processes(self) -> None:
        helpers = [_rel(f.path, self.base) for f in self.scan.helper_files]
        self.emit("# ------------------------------------------------------------------ processes")
        self.emit("# One process per file that registers handlers; ids default to the name.")
        if helpers:
            self.emit("# TODO: helper files (no handlers) are loaded first in every process: keep only those it loads.")
        self.emit("")
        for p in self.procs:
            f = p.file
            self.emit(f"[processes.{p.name}]")
            for h in f.handlers:
                acts = ", ".join(h.actions) if h.actions else f"pattern not understood: {h.pattern[:60]}"
                self.emit(f"# handler {h.name} ({f.rel}:{h.line}): {acts}")
            if f.requires:
                self.emit(f"# requires: {', '.join(f.requires)}")
            files = [*helpers, _rel(f.path, self.base)]
            self.emit("files = [" + ", ".join(toml_string(x) for x in files) + "]")
            self.emit(f"# id = {toml_string(p.name)}  # the process id in messages; the deployed id if you like")
            self.emit("")

    def boot(self) -> None:
        entries: list[tuple[_Proc, HandlerScan]] = [
            (p, h) for p in self.procs for h in p.file.handlers if is_config(h) and h.actions
        ]
        self.emit("# ------------------------------------------------------------------ boot")
        self.emit("# Sent in order by the owner after every process is spawned.")
        if not entries:
            self.emit("# The scan found no Configure handler. For example:")
            self.emit('# [[boot]]\n# target = "coordinator"\n# tags = { Action = "Configure", Token = "{id:token}" }')
        self.emit("")
        for p, h, action in self.owner_actions():
            funding: list[tuple[str, str]] = [("Action", action)]
            for t in h.reads:
                if t in MESSAGE_FIELDS:
                    continue
                funding.append((t, "{wallet}" if _WALLET.search(t) else "2" if _AMOUNT.search(t) else "TODO"))
            self.emit(
                f"# {p.name}'s {h.name} handler ({p.file.rel}:{h.line}) checks the owner: to fund each wallet at boot,",
                "# [[boot]]",
                f"# target = {toml_string(p.name)}",
                "# each_wallet = true",
                f"# tags = {_inline(funding)}",
                "",
            )
        for p, h in entries:
            keys = [k for k in p.file.config_keys]
            self.emit(f"[[boot]]  # {p.name}'s {h.name} handler ({p.file.rel}:{h.line})")
            if keys:
                self.emit(f"# Config keys in {p.file.rel}: {', '.join(keys)}")
            self.emit(f"target = {toml_string(p.name)}")
            tags: list[tuple[str, str]] = [("Action", h.actions[0])]
            notes: list[str] = []
            for tag in h.reads:
                if tag in MESSAGE_FIELDS:
                    continue
                tags.append((tag, self.value_for(tag, notes)))
            self.emit(f"tags = {_inline(tags)}")
            if h.data_fields:
                fields = [(f, self.value_for(f, notes)) for f in h.data_fields]
                self.emit(f"data = {_inline(fields)}  # sent as JSON")
            for n in notes:
                self.emit(f"# {n}")
            self.emit("")

    def value_for(self, word: str, notes: list[str]) -> str:
        guess = guess_process(word, [p.name for p in self.procs])
        if guess is not None:
            notes.append(f"{word}: guessed the id of process {guess} from the name")
            return f"{{id:{guess}}}"
        notes.append(f"{word}: TODO: the value to configure ({{id:NAME}} for a process id)")
        return "TODO"

    def sinks(self) -> None:
        ids: list[str] = []
        for f in self.scan.files:
            for s in f.sends:
                if s.target is not None and s.target_literal:
                    ids.append(s.target)
        self.emit("# ------------------------------------------------------------------ sinks")
        self.emit("# Ids outside the system your code sends to (a treasury wallet, an unmodelled process):")
        self.emit("# their incoming messages are recorded, never an error.")
        for i, sid in enumerate(dict.fromkeys(ids)):
            self.emit("[[sinks]]  # a literal Target in the code", f'name = "sink{i + 1}"', f"id = {toml_string(sid)}")
        if not ids:
            self.emit('# [[sinks]]\n# name = "treasury"\n# id = "TREASURY-WALLET-ID"')
        self.emit("")

    def user_actions(self) -> list[tuple[_Proc, HandlerScan, str]]:
        """(process, handler, Action) for each Action users send: no process sends it there."""
        out: list[tuple[_Proc, HandlerScan, str]] = []
        for p in self.procs:
            for h in p.file.handlers:
                if owner_side(h):
                    continue
                for a in h.actions:
                    if self.flows.user_facing(p.name, a) and not any(o[0] is p and o[2] == a for o in out):
                        out.append((p, h, a))
        return out

    def owner_actions(self) -> list[tuple[_Proc, HandlerScan, str]]:
        """Handlers that check the owner but do not configure (a faucet funding users, say)."""
        return [
            (p, h, h.actions[0])
            for p in self.procs
            for h in p.file.handlers
            if h.owner_only and not is_config(h) and h.actions
        ]

    def wallets(self) -> None:
        ops = self.user_actions()
        answers: list[str] = []
        query_answers: list[str] = []
        for a in self.flows.answers():
            sources = [h for p in self.procs for h in p.file.handlers for s in h.sends if a in s.possible_actions]
            (query_answers if sources and all(_read_only(h) for h in sources) else answers).append(a)
        uses_amount = any(_AMOUNT.search(t) for _, h, _ in ops for t in h.reads if t not in MESSAGE_FIELDS)
        self.emit("# ------------------------------------------------------------------ wallets")
        if uses_amount:
            self.emit("[domains]", "amount = [1, 2]  # values an operation's {amount} takes", "")
        active = [o for o in ops if not _read_only(o[1])]
        self.emit(
            "[wallets]",
            "count = 2  # wallets user1, user2 (or ids = [...])",
            f"ops = {2 if active else 0}  # operations per wallet",
            "wait = true  # a wallet waits for the answer before its next operation",
            "",
            "[wallets.answer]",
            "# Actions the processes send back to wallets (guessed from replies and targets).",
            "actions = [" + ", ".join(toml_string(a) for a in answers) + "]",
            *(
                [f"# answers of the read-only queries (commented out below): {', '.join(query_answers)}"]
                if query_answers
                else []
            ),
            'correlate = "X-Reference"  # or a tag both carry, or "none"',
            "",
        )
        self.emit("# Operations: the Actions handled here that no process of the repository sends there.")
        # an operation is named after its Action; one Action sent to two processes needs two names
        twice = {a for a in (a for _, _, a in ops) if sum(1 for _, _, b in ops if b == a) > 1}
        for p, h, action in ops:
            read_only = _read_only(h)
            c = "# " if read_only else ""
            note = " (read-only: changes no state)" if read_only else ""
            tags: list[tuple[str, str]] = [("Action", action)]
            todo: list[str] = []
            for t in h.reads:
                if t in MESSAGE_FIELDS:
                    continue
                if _AMOUNT.search(t):
                    tags.append((t, "{amount}"))
                elif _WALLET.search(t):
                    tags.append((t, "{wallet}"))
                else:
                    tags.append((t, "TODO"))
                    todo.append(t)
            self.emit(f"{c}[[wallets.operations]]  # {p.name}: {h.name} ({p.file.rel}:{h.line}){note}")
            if action in twice:
                self.emit(f"{c}name = {toml_string(f'{action}-{p.name}')}")
            self.emit(f"{c}target = {toml_string(p.name)}")
            self.emit(f"{c}tags = {_inline(tags)}")
            if h.data_fields:
                self.emit(f"{c}data = {_inline((f, 'TODO') for f in h.data_fields)}")
            if todo:
                self.emit(f"# TODO: values for {', '.join(todo)} (a literal, or {{name}} with a [domains] entry)")
            self.emit("")

    def observables(self) -> None:
        self.emit("# ------------------------------------------------------------------ observables")
        self.emit("# TODO: Lua expressions over one process's globals, used by the properties. Suggestions")
        self.emit("# from the globals the scan found (a table observable: use sum(x) or len(x)):")
        self.emit("# [observables]")
        taken: set[str] = set()
        for p in self.procs:
            for g in p.file.globals:
                if g.name == "Config" or g.kind not in ("number", "table", "numeric string"):
                    continue
                name = _snake(g.name)
                if name in taken:
                    name = f"{p.name}_{name}"
                taken.add(name)
                lua = f"tonumber({g.name})" if g.kind == "numeric string" else g.name
                self.emit(f"# {name} = {{ process = {toml_string(p.name)}, lua = {toml_string(lua)} }}  # {g.kind}")
        self.emit(
            "",
            "# ------------------------------------------------------------------ properties",
            "# Templates: equal-at-quiescence, equal-always, equal-counting-in-flight, backed-by,",
            "# every-request-answered, mint-and-burn-reachable, change-followed-by (docs/manifest.md).",
            "[[properties]]",
            'name = "every-request-answered"',
            'template = "every-request-answered"',
            "",
            "# [[properties]]",
            '# name = "positions-match-supply"',
            '# template = "equal-at-quiescence"',
            '# left = "sum(positions)"',
            '# right = "total_supply"',
            "",
        )

    def trust(self) -> None:
        self.emit("# ------------------------------------------------------------------ trust")
        self.emit("# Who each process should accept each Action from (owner, wallets, anyone, a process),")
        self.emit("# guessed from who sends it there.")
        for p in self.procs:
            rules: list[tuple[str, list[str]]] = []
            for h in p.file.handlers:
                for a in h.actions:
                    if any(r[0] == a for r in rules):
                        continue
                    senders = self.flows.senders(p.name, a) or ["anyone"]
                    rules.append((a, senders))
            if not rules:
                continue
            self.emit(f"[trust.{p.name}]")
            for a, senders in rules:
                note = "  # TODO check: the scan saw no sender" if senders == ["anyone"] else ""
                self.emit(f"{toml_key(a)} = [" + ", ".join(toml_string(s) for s in senders) + f"]{note}")
            self.emit("")

    def tail(self) -> None:
        self.emit(
            "# ------------------------------------------------------------------ adversary and limits",
            "[adversary]",
            "enabled = false  # true: a wallet that may send any Action found in a handler pattern",
            "budget = 1  # messages it may send",
            "",
            "# [limits]",
            "# max_depth = 60",
            '# network = "unordered"  # or "fifo"',
        )


def write_manifest(path: Path, text: str, *, force: bool = False) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed into place).

    Refuses (``ManifestError``) to replace an existing file unless ``force``.
    """
    path = Path(path)
    if path.exists() and not force:
        raise ManifestError(
            [Problem(str(path), "", None, "already exists", "pass --force to overwrite it, or choose another path")]
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ManifestError([Problem(str(path), "", None, f"the folder {folder} does not exist", "create it first")])
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the file appeared meanwhile
            except FileExistsError:
                raise ManifestError(
                    [
                        Problem(
                            str(path),
                            "",
                            None,
                            "already exists",
                            "pass --force to overwrite it, or choose another path",
                        )
                    ]
                ) from None
            except OSError:
                os.replace(tmp, path)  # no hard links on this file system
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
