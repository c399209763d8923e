"""Exception families: user mistakes (``UserError``) versus checker bugs (``InternalError``).

The command line turns every ``UserError`` into one clear line and exit code 2; an
``InternalError`` is a bug in tim3check and is shown with its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: bad spec, bad flag value, unreadable file."""


class SpecError(UserError):
    """A spec that cannot be checked; the message names the spec file and the fix."""


class UsageError(UserError):
    """A bad command-line value or option combination."""


class TraceFileError(UserError):
    """A counterexample file that is missing, unreadable or malformed."""


class InternalError(Exception):
    """A broken invariant inside tim3check itself (never the user's fault)."""


class HandlerError(Exception):
    """Raised by a handler (``ctx.error``): per AO, the delivery has no effect at all."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
