"""An aos-compatible Lua process runtime on lupa's Lua 5.3, written by this project.

``AoProcess(pid, files)`` loads Lua files (in order, once) into a fresh Lua 5.3 runtime
with a prelude that behaves like aos 2.0 (``checker/ao/lua/``: Handlers, Handlers.utils,
ao, json, Utils, Send, msg.reply/forward, os.time, math.random, print, require). Its
state is a ``Snapshot``; ``deliver(state, msg)`` restores the globals from the snapshot,
runs aos's handler evaluation on the message and returns an ``Outcome``: the handlers
that ran, the new state, the messages queued, a Lua error (then the old state and no
sends, as AO rolls back), prints, and reads of absent message fields.

Pinned behaviour (each point has a test in ``tests/ao/``):

* Handler list semantics of aos 2.0 handlers.lua (see ``lua/handlers.lua`` and
  ``lua/process.lua``): a pattern returning ``nil`` is an error, as in aos; a message
  that no handler *breaks* on (only ``continue`` matches, or none) goes to the Inbox
  (``Outcome.inbox``). ``Inbox`` itself is not part of the snapshot: it is empty at the
  start of every delivery.
* Before any handler, as aos's process.handle: a message whose ``Owner`` is not its
  ``From`` is refused unless one of them is an ``Authority`` (a spawn tag), and a
  message whose ``Target`` is not this process (an assignment) is refused; the sender
  gets a "... is not trusted by this process!" notice, no handler runs, nothing goes
  to the Inbox, the state is unchanged.
* ``msg.reply`` targets ``Reply-To`` or the reply's own ``Target`` or ``From`` and sets
  ``X-Reference`` to the message's ``X-Reference``, else its ``Reference``, else its
  ``Id`` (aos has no ``Id`` fallback, but it adds a ``Reference`` tag, a per-process
  send counter, to every send; this runtime adds none, since the counter would make
  every send a new state, so the message id stands in). The reply's Action is whatever
  the handler gives (aos 2.0 sets none).
* Sends carry the tags the handler gave (top-level fields except Target/Data/Anchor/
  Tags/From, plus ``Tags``), not aos's Data-Protocol/Variant/Type/Reference tags.
* ``pairs``/``next`` iterate in sorted (type, value) order (``pairs_order="sorted"``),
  or the reverse (``"reversed"``): Lua's own order depends on a per-runtime string hash
  seed. Cost: ``pairs`` sorts the keys at every call, ``next`` scans the table.
* ``os.time()`` is ``msg.Timestamp`` (ms; 0 while loading); ``os.date`` is UTC;
  ``math.random`` is xorshift64 seeded from the pid (its state is in the snapshot);
  ``tostring`` of a table gives a number counted within the delivery, not an address.
* ``Checker.fault(name)`` (not aos; nil there): the checker's hook for modelled
  refusals in stand-in processes, answered by ``Hooks.fault``; false without hooks.
* ``require``: ``json``, ``ao``/``.ao``, ``.utils``, ``.handlers``, ``.handlers-utils``
  and the standard libraries; then the loaded files by module name (``a/b/utils.lua``
  is ``utils``, ``b.utils`` and ``a.b.utils``; a file required before its turn runs
  then, once; a name two files share is an error). Other aos modules (``.bint``,
  ``.crypto``...) are unsupported; anything else is an unknown module
  (``AoRuntimeError``).
* State: user globals (strings, numbers, booleans, tables by content with their
  metatables, functions), the handler list (name, pattern, handle function, maxRuns),
  ``Handlers.onceNonce``, the PRNG state, the values of loaded modules, and the upvalues
  of every function that existed after loading (top-level ``local`` tables that
  handlers mutate are state). Functions are identified by a deterministic numbering of
  the functions that existed after loading; closures created later are rebuilt from
  ``string.dump`` with their upvalues (shared upvalues stay shared). Tables shared
  between globals stay shared after a restore, cycles are kept (graph mode). Runtime
  tables (``ao``, ``Handlers``, ``string``...) are not state: a delivery that adds a
  field to one, or changes a data field of ``ao``/``Handlers``, raises ``AoUnsupported``
  (replacing an existing runtime *function* in a handler is not detected). Coroutines,
  userdata and tables used as keys in the state raise ``AoUnsupported`` naming the path.
* Renaming (symmetry reduction, ``rename(state, mapping)``): every string of the state
  that equals a key of ``mapping``, or is ``key#tail``, renamed as
  ``checker.engines.symmetry.rename_value`` renames strings: keys and values of the globals and
  of every table (shared tables once, cycles kept), upvalues that are state, the
  handler list's names and patterns (a name is data like any other string: a literal
  name is no user id and stays), ``Handlers.onceNonce``, the modules' values; code is
  not renamed. The result is a fresh canonical snapshot (``lua/rename.lua``).
* Globals: the runtime's globals sit behind ``_G``'s metatable, so ``pairs(_G)`` and
  ``rawget(_G, name)`` see only the process's own globals; assigning to a runtime
  global's name (``print = f``) makes a process global that shadows it (state);
  assigning nil to one is unsupported, and ``setmetatable(_G, ...)`` fails (protected).
* Messages: fields a handler reads that the message lacks (``Block-Height``, ``Nonce``,
  ... are never set here) are reported in ``Outcome.reads``; ``msg.reply`` and
  ``msg.forward`` are made on first use (``pairs(msg)`` lists them only then).
* Limits: ``instruction_budget`` VM instructions per delivery (a count hook; the
  runtime's own matching and sends count too) and ``memory_limit_mb`` for the whole
  Lua state (lupa's ``max_memory``; the runtime's cache of compiled states is kept to
  about a fifth of it). Both are ``Outcome.error`` (``AoBudgetExceeded``,
  ``AoMemoryExceeded``); a user ``pcall`` cannot swallow the budget.
* Variants: ``"default"`` (aos 2.0: a global ``json``, tag names as written),
  ``"require-json"`` (no global ``json``; code must ``require("json")``),
  ``"normalized-tags"`` (incoming tag names in title case per ``-``/``_`` segment, as
  aos PR #451 (aos 2.0.4) did: ``data-PROTOCOL`` -> ``Data-Protocol``, ``TokenType`` ->
  ``Tokentype``).
* Unsupported (``AoUnsupported`` naming file:line, even if the code catches the Lua
  error): ``Spawn``/``ao.spawn``, ``Receive``/``Handlers.receive``,
  ``ao.send(...).receive()``/``.onReply()``, ``ao.assign``/``Assign``, resolver tables,
  an ``Eval`` message from the owner, non-string Data or Target, table or function tag
  values, files and host clocks (``io``, ``os.clock``...).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import lupa.lua53 as lua53

from checker.ao.snapshot import Snapshot, from_view
from checker.errors import InternalError, UserError

VARIANTS = ("default", "require-json", "normalized-tags")
PAIRS_ORDERS = ("sorted", "reversed")
_MODULES = ("kernel", "state", "snapshot", "rename", "json", "utils", "handlers_utils", "handlers", "ao", "env", "process")
_CHUNK_CACHE = 2048
_RENAME_MEMO = 8192


class AoRuntimeError(UserError):
    """A Lua process that cannot be run: syntax error, unknown module, bad option."""


class AoUnsupported(AoRuntimeError):
    """Process code uses an aos feature this runtime does not implement ("unsupported: ...")."""


@dataclass(frozen=True, slots=True)
class AoMessage:
    """One AO message as a process receives it."""

    id: str
    src: str
    dst: str
    tags: tuple[tuple[str, Any], ...]
    data: str = ""
    owner: str = ""
    timestamp: int = 0


@dataclass(frozen=True, slots=True)
class Send:
    """A message a handler queued (ao.send / msg.reply / Send / msg.forward).

    ``tags`` are sorted by name (equal names keep their order); a value is a ``str``
    unless the Lua gave a number or boolean, which is kept as an int/float/bool.
    ``target`` is "" when the Lua gave none. ``id`` is "<incoming id>.<k>".
    """

    target: str
    tags: tuple[tuple[str, Any], ...]
    data: str
    id: str
    where: str


@dataclass(frozen=True, slots=True)
class HandlerRun:
    """A handler that ran; ``where`` is where its function is defined."""

    name: str
    where: str


@dataclass(frozen=True, slots=True)
class LuaFailure:
    """A Lua error in a delivery: its text, the first process-code frame, the handler."""

    message: str
    where: str
    handler: str | None

    @property
    def budget_exceeded(self) -> bool:
        """The instruction budget ran out (an endless loop?): an ``AoBudgetExceeded``."""
        return False

    @property
    def memory_exceeded(self) -> bool:
        """The process's memory cap was reached: an ``AoMemoryExceeded``."""
        return False


@dataclass(frozen=True, slots=True)
class AoBudgetExceeded(LuaFailure):
    """The delivery ran out of instructions: "instruction budget of N exceeded (endless
    loop?)", ``where`` the line it was running. An ``Outcome.error``, never raised."""

    @property
    def budget_exceeded(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class AoMemoryExceeded(LuaFailure):
    """The process reached its memory cap: "memory limit of N MB exceeded". An
    ``Outcome.error``, never raised."""

    @property
    def memory_exceeded(self) -> bool:
        return True


@dataclass(frozen=True)
class Outcome:
    """The result of one delivery.

    ``handlers``: the handlers that ran, in order. ``state``: the new state (on error
    exactly the old one). ``sends``: empty on error. ``reads``: (``"msg"``, ``"Tags"`` or
    ``"Data"``, field, "file:line") for each absent field process code read. ``inbox``:
    no handler broke the loop, so the message went to the Inbox (which is not kept in
    the snapshot).
    """

    handlers: tuple[HandlerRun, ...]
    state: Snapshot
    sends: tuple[Send, ...]
    error: LuaFailure | None
    prints: tuple[str, ...]
    reads: tuple[tuple[str, str, str], ...]
    inbox: bool


class Hooks(Protocol):
    """What the checker answers when process code asks (``Checker.fault``)."""

    def fault(self, name: str) -> bool: ...


def _lua_source(name: str) -> str:
    return (resources.files("checker.ao") / "lua" / f"{name}.lua").read_text(encoding="utf-8")


def _module_names(names: Sequence[str]) -> dict[str, int]:
    """Module name -> 1-based file index; 0 where two files share the name."""
    out: dict[str, int] = {}
    for i, name in enumerate(names, 1):
        parts = Path(name).with_suffix("").parts
        parts = tuple(p for p in parts if p not in ("/", ".", ".."))
        for start in range(len(parts)):
            mod = ".".join(parts[start:])
            out[mod] = 0 if mod in out and out[mod] != i else i
    return out


_first = itemgetter(0)
_FAILURES: Mapping[str | None, type[LuaFailure]] = MappingProxyType(
    {"budget": AoBudgetExceeded, "memory": AoMemoryExceeded}
)


def _plain_key(k: str) -> bool:
    """True when a snapshot text holds ``k`` verbatim wherever a state string contains it
    (printable ASCII without quotes or backslashes: nothing the text escapes)."""
    return k.isascii() and k.isprintable() and '"' not in k and "\\" not in k and k != ""


def _to_lua(v: Any) -> Any:
    if type(v) is str and not v.isascii():
        return v.encode("utf-8", "surrogateescape")
    return v


class AoProcess:
    """One Lua process: its files loaded in a lupa Lua 5.3 runtime with the aos prelude."""

    def __init__(
        self,
        pid: str,
        files: Sequence[str | Path],
        *,
        owner: str = "owner",
        spawn_tags: Sequence[tuple[str, str]] = (),
        variant: str = "default",
        instruction_budget: int = 1_000_000,
        memory_limit_mb: int = 64,
        pairs_order: str = "sorted",
    ) -> None:
        if variant not in VARIANTS:
            raise AoRuntimeError(f"unknown aos variant {variant!r}; known variants: {', '.join(VARIANTS)}")
        if pairs_order not in PAIRS_ORDERS:
            raise AoRuntimeError(f"unknown pairs_order {pairs_order!r}; known: {', '.join(PAIRS_ORDERS)}")
        if instruction_budget < 1 or memory_limit_mb < 1:
            raise AoRuntimeError("instruction_budget and memory_limit_mb must be positive")
        self.pid = pid
        self.owner = owner
        self.variant = variant
        self.pairs_order = pairs_order
        self.instruction_budget = instruction_budget
        self.memory_limit_mb = memory_limit_mb
        self._lua = lua53.LuaRuntime(
            max_memory=memory_limit_mb * 2**20, register_eval=False, register_builtins=False
        )
        self._chunks: dict[str, Any] = {}
        self._cached_chars = 0
        self._cache_budget = memory_limit_mb * 2**20 // 64  # chunks take ~12x their text
        self._runs: dict[tuple[str, str], HandlerRun] = {}
        config: dict[str, Any] = {
            "pid": pid,
            "owner": owner,
            "variant": variant,
            "budget": instruction_budget,
            "memoryMb": memory_limit_mb,
            "tags": [[str(k), str(v)] for k, v in spawn_tags],
        }
        sources = {name: _lua_source(name) for name in _MODULES}
        texts = self._read(files)
        digest = hashlib.sha256(variant.encode())
        for name in _MODULES:
            digest.update(sources[name].encode())
        for text in texts:
            digest.update(text + b"\0")
        config["fingerprint"] = digest.hexdigest()[:16]
        try:
            api = self._lua.execute(
                _lua_source("boot"),
                self._lua.table_from(sources),
                self._lua.table_from(config, recursive=True),
            )
        except lua53.LuaError as e:  # pragma: no cover - a broken prelude
            raise InternalError(f"the ao runtime's prelude failed to load: {e}") from e
        self._api = api
        self._deliver_fn = api.deliver
        self._evaluate_fn = api.evaluate
        self._rename_fn = api.rename
        self._maps: dict[tuple[tuple[str, str], ...], Any] = {}  # renamings as Lua tables
        # (state text, renaming) -> renamed state: symmetry and its commuting check
        # (checker/ao/commute.py) rename the same states
        self._renamed: dict[tuple[str, tuple[tuple[str, str], ...]], Snapshot] = {}
        self._initial = self._load(files, texts)

    @staticmethod
    def _read(files: Sequence[str | Path]) -> list[bytes]:
        texts: list[bytes] = []
        for f in files:
            try:
                texts.append(Path(f).read_bytes())
            except OSError as e:
                raise AoRuntimeError(f"cannot read Lua file {f}: {e}") from e
        return texts

    def _load(self, files: Sequence[str | Path], texts: list[bytes]) -> Snapshot:
        names = [str(f) for f in files]
        lua = self._lua
        try:
            status, result, prints = self._api.load(
                lua.table_from(names), lua.table_from(texts), lua.table_from(_module_names(names))
            )
        except lua53.LuaMemoryError as e:
            raise AoRuntimeError(f"memory limit of {self.memory_limit_mb} MB exceeded while loading") from e
        self.load_prints: tuple[str, ...] = tuple(json.loads(prints))
        if status == "ok":
            return Snapshot(result)
        if status == "unsupported":
            raise AoUnsupported(result)
        if status in ("runtime", "error"):
            raise AoRuntimeError(f"loading failed: {result}")
        raise InternalError(f"ao runtime failed while loading: {result}")

    @property
    def initial(self) -> Snapshot:
        """The state after loading the files."""
        return self._initial

    def _chunk_arg(self, text: str) -> Any:
        chunk = self._chunks.get(text)
        return text if chunk is None else chunk

    def _remember(self, text: str, compiled: Any) -> None:
        """Keep the compiled restore chunk of a state (oldest first out, bounded by the
        total length of the texts so the chunks stay well inside the memory cap)."""
        if compiled is None:
            return
        chunks = self._chunks
        self._cached_chars += len(text)
        while chunks and (len(chunks) >= _CHUNK_CACHE or self._cached_chars > self._cache_budget):
            old = next(iter(chunks))
            del chunks[old]
            self._cached_chars -= len(old)
        chunks[text] = compiled

    def deliver(self, state: Snapshot, msg: AoMessage, hooks: Hooks | None = None) -> Outcome:
        """Restore ``state``, run aos's handler evaluation on ``msg``, capture the outcome.

        Raises ``AoUnsupported`` / ``AoRuntimeError`` when the code uses what the runtime
        does not implement; Lua errors, an exhausted instruction budget and the memory
        cap are ``Outcome.error`` (with the old state and no sends).
        """
        return self._deliver(state, msg, hooks, self.pairs_order)

    def _deliver(self, state: Snapshot, msg: AoMessage, hooks: Hooks | None, order: str) -> Outcome:
        text = state.text
        problems: list[BaseException] = []
        hook = None
        if hooks is not None:
            fault = hooks.fault

            def hook(name: str) -> bool:
                try:
                    return bool(fault(name))
                except BaseException as e:  # re-raised after the delivery
                    problems.append(e)
                    return False

        args: list[Any] = [
            self._chunk_arg(text), order, hook, msg.id, msg.src, msg.dst, msg.owner or msg.src,
            msg.timestamp, _to_lua(msg.data), len(msg.tags),
        ]
        for k, v in msg.tags:
            args.append(_to_lua(k))
            args.append(_to_lua(v))
        try:
            status, result, meta, compiled = self._deliver_fn(*args)
        except lua53.LuaMemoryError:
            self._chunks.clear()
            self._cached_chars = 0
            self._lua.gccollect()
            failure = AoMemoryExceeded(f"memory limit of {self.memory_limit_mb} MB exceeded", "?", None)
            return Outcome((), state, (), failure, (), (), False)
        except lua53.LuaError as e:
            if "a snapshot of another process's code" in str(e):
                raise AoRuntimeError(f"cannot deliver {msg.id}: {str(e).splitlines()[0]}") from e
            raise InternalError(f"ao runtime failed delivering {msg.id}: {e}") from e
        if problems:
            raise problems[0]
        self._remember(text, compiled)
        if status == "ok":
            return self._outcome(state, msg, result, meta)
        if status == "error":
            return self._outcome(state, msg, None, meta)
        if status == "unsupported":
            raise AoUnsupported(result)
        if status == "runtime":
            raise AoRuntimeError(result)
        raise InternalError(f"ao runtime failed delivering {msg.id}: {result}")

    def _outcome(self, state: Snapshot, msg: AoMessage, text: str | None, meta_json: str) -> Outcome:
        runs_flat, sends_meta, prints, reads_meta, err, inbox = json.loads(meta_json)
        runs = self._runs
        handlers = []
        it = iter(runs_flat)
        for key in zip(it, it):
            run = runs.get(key)
            if run is None:
                run = runs[key] = HandlerRun(*key)
            handlers.append(run)
        reads = tuple(map(tuple, reads_meta))
        if err is not None:
            failure = _FAILURES.get(err[3], LuaFailure)(err[0], err[1], err[2])
            return Outcome(tuple(handlers), state, (), failure, tuple(prints), reads, False)
        sends = []
        base = msg.id
        k = 0
        for target, data, where, flat in sends_meta:
            k += 1
            t = iter(flat)
            tags = sorted(zip(t, t), key=_first)
            sends.append(Send(target, tuple(tags), data, f"{base}.{k}", where))
        assert text is not None
        new_state = state if text == state.text else Snapshot(text)
        return Outcome(tuple(handlers), new_state, tuple(sends), None, tuple(prints), reads, inbox)

    def evaluate(self, state: Snapshot, expr: str) -> Any:
        """The value of a Lua expression in the globals of ``state`` (as ``Snapshot.decode``).

        Functions and runtime objects evaluate to None. Errors raise ``AoRuntimeError``.
        """
        text = state.text
        try:
            status, result, compiled = self._evaluate_fn(self._chunk_arg(text), expr)
        except lua53.LuaMemoryError as e:
            self._lua.gccollect()
            raise AoRuntimeError(f"observable {expr!r}: memory limit of {self.memory_limit_mb} MB exceeded") from e
        except lua53.LuaError as e:
            if "a snapshot of another process's code" in str(e):
                raise AoRuntimeError(f"cannot evaluate {expr!r}: {str(e).splitlines()[0]}") from e
            raise InternalError(f"ao runtime failed evaluating {expr!r}: {e}") from e
        self._remember(text, compiled)
        if status == "ok":
            return from_view(json.loads(result))
        if status == "unsupported":
            raise AoUnsupported(result)
        raise AoRuntimeError(f"observable {expr!r} failed: {result}")

    def rename(self, state: Snapshot, mapping: Mapping[str, str]) -> Snapshot:
        """``state`` with every string of the process's state renamed by ``mapping``, as
        ``checker.engines.symmetry.rename_value`` renames a string: ``s`` becomes ``mapping[s]``,
        ``head#tail`` becomes ``mapping[head]#tail``; everything else stays.

        Renamed: the keys and values of the user globals and of every table reachable
        from the state (shared tables once, cycles kept), upvalues that are state, the
        handler list's data (names too: see ``lua/rename.lua``), ``Handlers.onceNonce``
        and the loaded modules' values; not renamed: code. The result is a fresh
        canonical snapshot, so equal renamed states give equal texts. For symmetry
        reduction ``mapping`` is a permutation of user ids; two keys of one table that
        become equal raise ``InternalError``.
        """
        if not mapping:
            return state
        text = state.text
        if all(_plain_key(k) and k not in text for k in mapping):
            return state  # no string of the state is or starts with a renamed id
        items = tuple(sorted(mapping.items()))
        memo_key = (text, items)
        hit = self._renamed.get(memo_key)
        if hit is not None:
            return hit
        table = self._maps.get(items)
        if table is None:
            if len(self._maps) >= 64:
                self._maps.clear()
            table = self._maps[items] = self._lua.table_from({_to_lua(k): _to_lua(v) for k, v in items})
        try:
            status, result, compiled = self._rename_fn(self._chunk_arg(text), table)
        except lua53.LuaMemoryError as e:
            self._chunks.clear()
            self._cached_chars = 0
            self._lua.gccollect()
            raise AoRuntimeError(f"renaming a state: memory limit of {self.memory_limit_mb} MB exceeded") from e
        except lua53.LuaError as e:
            if "a snapshot of another process's code" in str(e):
                raise AoRuntimeError(f"cannot rename: {str(e).splitlines()[0]}") from e
            raise InternalError(f"ao runtime failed renaming a state of {self.pid}: {e}") from e
        self._remember(text, compiled)
        if status == "ok":
            renamed = state if result == text else Snapshot(result)
            if len(self._renamed) >= _RENAME_MEMO:
                self._renamed.clear()
            self._renamed[memo_key] = renamed
            return renamed
        if status == "collision":
            raise InternalError(f"{self.pid}: renaming by {dict(mapping)!r} is not injective on this state: {result}")
        if status == "unsupported":
            raise AoUnsupported(result)
        raise InternalError(f"ao runtime failed renaming a state of {self.pid}: {result}")

    def order_dependent(self, state: Snapshot, msg: AoMessage,
                        hooks: Callable[[], Hooks] | None = None) -> str | None:
        """None when the delivery's outcome is the same under sorted and reversed ``pairs()``
        order; otherwise a sentence saying what differs: the error, the new state, or the
        messages sent *as a multiset* (their order, and the ids that follow from it, mean
        nothing on AO's unordered network; JSON ``Data`` is compared as the value it encodes,
        since its key order is ``pairs()`` order). ``hooks`` makes fresh answers for each run.
        """
        a = self._deliver(state, msg, hooks() if hooks else None, "sorted")
        b = self._deliver(state, msg, hooks() if hooks else None, "reversed")
        ea = a.error.message if a.error else "no error"
        eb = b.error.message if b.error else "no error"
        if ea != eb:
            return f"the error depends on pairs() order: {ea!r} (sorted) vs {eb!r} (reversed)"
        new_state, sends = a.state != b.state, _sent(a) != _sent(b)
        if new_state and sends:
            return "the new state and the messages sent depend on pairs() order"
        if new_state:
            return "the new state depends on pairs() order"
        if sends:
            return "the messages sent (not only their order) depend on pairs() order"
        return None


def _sent(o: Outcome) -> list[str]:
    """The messages an outcome sends as a sorted multiset, JSON ``Data`` by value."""
    return sorted(repr((x.target, x.tags, json_value(x.data))) for x in o.sends)


def json_value(data: str) -> str:
    """``data`` in a canonical form when it is JSON (key order is ``pairs()`` order in
    aos's encoder, not meaning), else as it is."""
    try:
        return json.dumps(json.loads(data), sort_keys=True)
    except ValueError:
        return data
