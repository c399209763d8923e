"""The names a manifest declares (processes, sinks, wallets, owner, adversary) and their ids.

``Names`` is filled while the loader reads the naming sections and then answers:
what a hole (``{id:lock}``, ``{owner}``, ``{wallet:2}``, ``{wallet}``, ``{amount}``) means
where it is written, what sender words in ``[trust]`` stand for, and whether two
things got the same id.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

from checker.manifest.cursor import HOLE
from checker.manifest.errors import Problems, did_you_mean
from checker.manifest.toml_lines import index_key

SENDER_WORDS = ("owner", "wallets", "anyone")


class Names:
    """Names to ids; ``processes``/``sinks`` map manifest name -> id, in declaration order."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.processes: dict[str, str] = {}
        self.sinks: dict[str, str] = {}
        self.wallets: list[str] = []
        self.adversary: str | None = None

    # ------------------------------------------------------------ holes

    def static_value(self, name: str, arg: str | None) -> str | None:
        """The value of a hole that is the same everywhere ({id:X}, {owner}, {wallet:N}); else None."""
        if name == "id" and arg is not None:
            if arg in self.processes:
                return self.processes[arg]
            return self.sinks.get(arg)
        if name == "owner" and arg is None:
            return self.owner
        if name == "wallet" and arg is not None and arg.isdigit() and 1 <= int(arg) <= len(self.wallets):
            return self.wallets[int(arg) - 1]
        return None

    def hole_fix(
        self,
        name: str,
        arg: str | None,
        *,
        wallet_ok: bool = False,
        variables: Collection[str] = (),
        ref_ok: bool = False,
    ) -> str | None:
        """None if the hole is allowed here, else how to fix it."""
        if name == "id":
            if arg is None:
                return "write {id:NAME} with the name of a process or sink"
            if arg in self.processes or arg in self.sinks:
                return None
            return f"{did_you_mean(arg, [*self.processes, *self.sinks])} ({{id:NAME}} takes a process or sink name)"
        if name == "owner":
            return None if arg is None else "write {owner} (the [system] owner wallet)"
        if name == "wallet":
            if arg is None:
                if wallet_ok:
                    return None
                return (
                    "{wallet} is the current wallet: use it in [[wallets.operations]] or in a [[boot]] entry "
                    "with each_wallet = true; elsewhere write {wallet:1}"
                )
            n = len(self.wallets)
            if arg.isdigit() and 1 <= int(arg) <= n:
                return None
            return f"wallets are numbered 1..{n}: write {{wallet:1}}" if n else "declare [wallets] first"
        if name == "ref" and arg is None and ref_ok:
            return None
        if arg is None and name in variables:
            return None
        known = ["id", "owner", "wallet", *(["ref"] if ref_ok else []), *variables]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        here = [
            "{id:NAME}",
            "{owner}",
            "{wallet:N}",
            *(["{wallet}"] if wallet_ok else []),
            *(["{ref}"] if ref_ok else []),
        ]
        here += [f"{{{v}}}" for v in variables]
        hint = f"did you mean '{{{close[0]}}}'? " if close else ""
        if variables or ref_ok:
            return f"{hint}(placeholders here: {', '.join(here)}; declare a new one under [domains])"
        return f"{hint}(placeholders here: {', '.join(here)})"

    def check_holes(
        self,
        problems: Problems,
        key: str,
        text: str,
        *,
        wallet_ok: bool = False,
        variables: Collection[str] = (),
        ref_ok: bool = False,
    ) -> list[str]:
        """Record a problem per disallowed hole; return the domain variables used, in order."""
        used: list[str] = []
        for m in HOLE.finditer(text):
            fix = self.hole_fix(m.group(1), m.group(2), wallet_ok=wallet_ok, variables=variables, ref_ok=ref_ok)
            if fix is not None:
                problems.add(key, f"unknown placeholder '{m.group(0)}'", fix)
            elif m.group(2) is None and m.group(1) in variables and m.group(1) not in used:
                used.append(m.group(1))
        return used

    def check_static_holes(self, problems: Problems, key: str, text: str) -> None:
        self.check_holes(problems, key, text)

    # ------------------------------------------------------------ senders

    def sender_ids(self, word: str) -> set[str] | None:
        """The ids a ``[trust]`` sender word stands for; None if it names nothing."""
        if word == "owner":
            return {self.owner}
        if word == "wallets":
            return set(self.wallets)
        if word == "anyone":
            return set()
        if word in self.processes:
            return {self.processes[word]}
        if word in self.sinks:
            return {self.sinks[word]}
        if word in self.wallets:
            return {word}
        if self.adversary is not None and word == self.adversary:
            return {word}
        return None

    def sender_words(self) -> list[str]:
        return [*SENDER_WORDS, *self.processes, *self.sinks, *self.wallets]

    # ------------------------------------------------------------ uniqueness

    def check_unique(self, problems: Problems) -> None:
        """Record a problem for every id used by two things (a message could not be routed)."""
        seen: dict[str, str] = {}

        def claim(pid: str, what: str, key: str) -> None:
            if pid in seen:
                problems.add(key, f"id '{pid}' of {what} is already the id of {seen[pid]}", "give each its own id")
            else:
                seen[pid] = what

        claim(self.owner, "the owner", "system.owner")
        for name, pid in self.processes.items():
            claim(pid, f"process {name}", f"processes.{name}.id")
        for i, (name, sid) in enumerate(self.sinks.items()):
            claim(sid, f"sink {name}", index_key("sinks", i) + ".id")
        for i, wid in enumerate(self.wallets):
            claim(wid, f"wallet {wid}", index_key("wallets.ids", i))
        if self.adversary is not None:
            claim(self.adversary, "the adversary", "adversary.id")
