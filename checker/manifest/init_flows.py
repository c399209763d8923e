"""Who sends which Action to whom, as far as a static scan can tell (for ``tim3check init``).

A send's recipient is read from its ``Target``: the last name in it (``Config.stateManager``
-> ``stateManager``) is matched against the process names; ``msg.reply`` and
``Target = msg.From`` go back to whoever sends the handler's Actions to that process (a
wallet for a user-facing Action, the owner for configuration). A target the scan cannot
place is ``"?"``: any process that handles the Action, else a wallet. Replies depend on
senders and senders on replies, so the relation is recomputed until it settles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from checker.manifest.init_scan import FileScan, HandlerScan, Send

WALLETS = "wallets"
OWNER = "owner"
UNKNOWN = "?"
SINK = "sink"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONFIG = re.compile(r"(?i)config")
_ID_SUFFIX = re.compile(r"(processid|process|pid|id|address|addr)$")


def norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def guess_process(word: str, names: Sequence[str]) -> str | None:
    """The process a tag, Config key or variable name refers to (``TokenProcess`` -> token), if one."""
    w = _ID_SUFFIX.sub("", norm(word)) or norm(word)
    if len(w) < 3:
        return None
    exact = [n for n in names if norm(n) == w]
    if exact:
        return exact[0]
    close = [n for n in names if len(norm(n)) >= 3 and (w.startswith(norm(n)) or norm(n).startswith(w))]
    return close[0] if len(close) == 1 else None


def is_config(h: HandlerScan) -> bool:
    return bool(h.config_sets) or bool(_CONFIG.search(h.name)) or any(_CONFIG.search(a) for a in h.actions)


def owner_side(h: HandlerScan) -> bool:
    """Configuration, or a handler that checks its sender against the owner."""
    return is_config(h) or h.owner_only


class Flows:
    """Senders and recipients per (process, Action) over the processes ``procs`` (name, file)."""

    def __init__(self, procs: Sequence[tuple[str, FileScan]]) -> None:
        self.procs = tuple(procs)
        self.names = tuple(n for n, _ in procs)
        self._edges: dict[tuple[str, str], frozenset[str]] = {}  # (sender, action) -> recipients
        for _ in range(6):
            edges = self._compute()
            if edges == self._edges:
                break
            self._edges = edges

    # ------------------------------------------------------------ queries

    def handlers(self, proc: str, action: str) -> list[HandlerScan]:
        return [h for n, f in self.procs if n == proc for h in f.handlers if action in h.actions]

    def handles(self, proc: str, action: str) -> bool:
        return bool(self.handlers(proc, action))

    def _reaches(self, recipients: frozenset[str], proc: str, action: str) -> bool:
        return proc in recipients or (UNKNOWN in recipients and self.handles(proc, action))

    def process_senders(self, proc: str, action: str) -> list[str]:
        """Processes of the repository that send ``action`` to ``proc``."""
        return [s for (s, a), rec in self._edges.items() if a == action and self._reaches(rec, proc, action)]

    def user_facing(self, proc: str, action: str) -> bool:
        """Handled at ``proc`` by a handler that is not the owner's, and no process sends it there."""
        hs = self.handlers(proc, action)
        return bool(hs) and not all(owner_side(h) for h in hs) and not self.process_senders(proc, action)

    def senders(self, proc: str, action: str) -> list[str]:
        """Who ``proc`` receives ``action`` from: processes, ``wallets``, ``owner``."""
        out = list(dict.fromkeys(self.process_senders(proc, action)))
        if self.user_facing(proc, action):
            out.append(WALLETS)
        if any(owner_side(h) for h in self.handlers(proc, action)):
            out.append(OWNER)
        return out

    def answers(self) -> tuple[str, ...]:
        """Actions the processes send to wallets (the answers users receive)."""
        out: list[str] = []
        for (_, action), rec in self._edges.items():
            to_wallet = WALLETS in rec or (UNKNOWN in rec and not any(self.handles(n, action) for n in self.names))
            if to_wallet and action not in out:
                out.append(action)
        return tuple(out)

    def recipients(self, proc: str, action: str) -> frozenset[str]:
        return self._edges.get((proc, action), frozenset())

    # ------------------------------------------------------------ the relation

    def _compute(self) -> dict[tuple[str, str], frozenset[str]]:
        edges: dict[tuple[str, str], set[str]] = {}
        for name, f in self.procs:
            for s in f.sends:
                h = _handler_of(f, s)
                for action in s.possible_actions:
                    edges.setdefault((name, action), set()).update(self._send_recipients(name, h, s))
        return {k: frozenset(v) for k, v in edges.items()}

    def _send_recipients(self, proc: str, h: HandlerScan | None, s: Send) -> set[str]:
        if s.via == "reply" or (s.target or "").endswith(".From"):
            if h is None:
                return {UNKNOWN}
            out: set[str] = set()
            for a in h.actions:
                out.update(self.senders(proc, a) if self._edges else ([OWNER] if owner_side(h) else [UNKNOWN]))
            return out or {UNKNOWN}
        if s.target_literal:
            return {SINK}
        idents = _IDENT.findall(s.target or "")
        guess = guess_process(idents[-1], self.names) if idents else None
        return {guess} if guess is not None else {UNKNOWN}


def _handler_of(f: FileScan, s: Send) -> HandlerScan | None:
    """The handler whose body holds a file-level send (same line, Action and kind), if any."""
    for h in f.handlers:
        for hs in h.sends:
            if hs.line == s.line and hs.action == s.action and hs.via == s.via:
                return h
    return None
