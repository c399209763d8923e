"""The spec API: what a model declares. Pure data plus pure handler functions.

A spec is a ``Spec`` value (usually the module attribute ``SPEC``). It declares
Actions (with a value domain per tag, so the adversary knows what it may send),
scenario parameters, spec-level faults, the process declarations (every variant, so
all of them are validated at load time), a ``build`` function that instantiates the
system for a parameter set, and properties.

Handlers are ``fn(state, msg, ctx) -> new_state``; they send through ``ctx.send`` /
``ctx.reply``, branch on faults through ``ctx.fault``, pick values through
``ctx.choose``/``ctx.choose_value`` and abort through ``ctx.error`` (per AO: no state
change, nothing sent). Because every nondeterministic choice goes through ``ctx``, an
engine can enumerate all branches of a handler by re-executing it, concretely or over
symbolic values, without the spec changing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from checker.model.values import FrozenMap, Message

if TYPE_CHECKING:
    from checker.config import CheckConfig
    from checker.model.process import ProcessImpl

Params = FrozenMap[str, Any]



class PropertyKind(StrEnum):
    """The kinds of property (``Property.kind``: a member or its text); what each means to
    an engine is ``checker.model.expectation.expectation``."""

    ALWAYS = "always"
    AT_QUIESCENCE = "at-quiescence"
    RESPONSE = "response"
    SOMETIMES = "sometimes"
    PROGRESS = "progress"  # no reachable cycle avoids the progress states (SPIN's non-progress cycles)
    STEP = "step"  # conformance to the model (made by the engine under --conform)
    FINDING = "finding"  # a finding from execution (made by the engine)


# the kinds a spec declares (step and finding properties are made by the engines)
PROPERTY_KINDS = (PropertyKind.ALWAYS, PropertyKind.AT_QUIESCENCE, PropertyKind.RESPONSE, PropertyKind.SOMETIMES,
                  PropertyKind.PROGRESS)
ENGINE_FAULTS: dict[str, str] = {
    "loss": "a message in flight is lost (the MU gave up); at most --max-faults per run",
    "handler-error": "a handler raises: its effects are discarded and it sends nothing",
    "adversary": "an extra actor sends any declared Action with any tag values from its own id",
}


class Ctx(Protocol):
    """What a handler or initiative may do besides computing its new state."""

    @property
    def self_id(self) -> str: ...

    @property
    def params(self) -> Params: ...

    def send(self, dst: str, action: str, **tags: Any) -> None: ...

    def reply(self, msg: Message, action: str, **tags: Any) -> None: ...

    def fault(self, name: str) -> bool: ...

    def choose(self, label: str, options: Sequence[Any]) -> Any: ...

    def choose_value(self, label: str, domain: str) -> Any: ...

    def error(self, reason: str) -> Any: ...

    def pids(self, kind: str) -> tuple[str, ...]: ...


class StepKind(StrEnum):
    """What one atomic step is (``Step.kind``, ``StepInfo.kind``); members equal their text."""

    DELIVER = "deliver"  # a handler ran on a delivered message
    ERROR = "error"  # a handler or initiative called ctx.error: no state change, nothing sent
    UNHANDLED = "unhandled"  # no handler matched: the message went to the Inbox
    HANDLER_ERROR = "handler-error"  # fault: the handler ran but its effects were discarded
    LOSE = "lose"  # fault: a message in flight was lost
    INITIATIVE = "initiative"  # a process acted on its own (a user sending a request)
    INJECT = "inject"  # the adversary injected a message


# the steps that ran a handler or initiative (what handler coverage counts)
HANDLER_STEPS = frozenset({StepKind.DELIVER, StepKind.ERROR, StepKind.INITIATIVE})

class View(Protocol):
    """What a property's check, goal or explanation reads of one world: the one API
    property and invariant authors program against.

    ``view.<pid>`` / ``view[pid]`` is the local state of a process (as properties see it:
    an implementation's ``observe``); ``of_kind(kind)`` those of every process of a kind
    in system order; ``in_flight`` the messages in flight, ``in_flight_of(action)`` those
    with one Action (read only these where you can: a memoised check then hits far more);
    ``quiescent`` whether nothing is in flight; ``obligations(name)`` the open obligations
    of a response property (``None`` where the run does not track it); ``params`` the
    scenario. Implementations: a world's (``checker.model.semantics.WorldView``), a compact
    key's (``KeyView``, the explorer's), a recording one (``checker.model.property_eval``) and a
    symbolic one (``checker.engines.symbolic.semantics.SymView``), so a check must read the world
    through this API only and be a pure function of what it reads.
    """

    def __getattr__(self, pid: str) -> Any: ...

    def __getitem__(self, pid: str) -> Any: ...

    def of_kind(self, kind: str) -> tuple[Any, ...]: ...

    @property
    def in_flight(self) -> tuple[Message, ...]: ...

    def in_flight_of(self, action: str) -> tuple[Message, ...]: ...

    @property
    def quiescent(self) -> bool: ...

    def obligations(self, prop: str) -> tuple[Any, ...] | None: ...

    @property
    def params(self) -> Params: ...


HandlerFn = Callable[[Any, Message, Ctx], Any]
InitiativeFn = Callable[[Any, Ctx], Any]


@dataclass(frozen=True)
class ActionDecl:
    """An Action name, the domain of each of its tags, and what it means."""

    name: str
    tags: tuple[tuple[str, str], ...] = ()
    meaning: str = ""


def _no_handler_fn(state: Any, msg: Message, ctx: Ctx) -> Any:
    raise TypeError("a Handler needs fn=")


@dataclass(frozen=True)
class Handler:
    """aos ``Handlers.add(name, hasMatchingTag('Action', action), fn)``.

    ``Handler(name, action, fn)`` as in aos, or ``Handler(action=..., fn=...)``: the name
    defaults to the Action. ``sender`` (a process id) adds a ``msg.From`` check to the
    pattern; a message from anyone else does not match this handler.
    """

    name: str = ""
    action: str = ""
    fn: HandlerFn = _no_handler_fn
    sender: str | None = None

    def __post_init__(self) -> None:
        if not self.action:
            raise TypeError(f"Handler {self.name!r} needs action= (the Action it matches)")
        if self.fn is _no_handler_fn:
            raise TypeError(f"Handler {self.name or self.action!r} needs fn= (the handler function)")
        if not self.name:
            object.__setattr__(self, "name", self.action)


@dataclass(frozen=True)
class Initiative:
    """A step a process takes on its own (a user sending a request).

    ``fn(state, ctx)`` returns the new state, or ``None`` when the step is not enabled.
    """

    name: str
    fn: InitiativeFn


@dataclass(frozen=True)
class ProcessDecl:
    """One kind of process (one variant of it), its handlers in aos list order.

    ``state_type`` is the type of its local states: the loader rejects a ``build`` whose
    initial state of such a process has another type, and a handler or initiative must
    return one (``checker.model.process.PythonProcess``)."""

    kind: str
    label: str
    state_type: type
    handlers: tuple[Handler, ...] = ()
    initiatives: tuple[Initiative, ...] = ()


@dataclass(frozen=True)
class ProcessInstance:
    """A process in a built system: its id, its declaration (a ``ProcessDecl`` of
    Python handlers, or any process implementation, ``checker.model.process.ProcessImpl``,
    such as a Lua process) and its initial state."""

    pid: str
    decl: ProcessDecl | ProcessImpl
    init: Any


@dataclass(frozen=True)
class Param:
    """A scenario parameter.

    ``type`` is ``int``, ``str`` or ``ints`` (a tuple of ints, written ``1,2`` on the
    command line). ``choices`` restricts str values; ints must be >= ``minimum``. A
    default of ``None`` means "derived from the other parameters" (see ``Spec.resolve``).
    ``flag`` is the command-line flag's name without ``--`` (default: ``name`` with ``_``
    written ``-``); ``aliases`` are further flag names (without ``--``) accepted for it
    where no other option of the command takes them; every command-line flag of a
    parameter comes from here.
    """

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    flag: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        """The command-line flag: ``--max-size`` (name ``max_size``), or ``--`` + ``flag`` when given."""
        return "--" + (self.flag or self.name.replace("_", "-"))


@dataclass(frozen=True)
class StepInfo:
    """What a response property sees of one step: who acted, on what, and the effect."""

    pid: str
    kind: StepKind
    handler: str | None
    msg: Message | None
    before: Any
    after: Any
    sends: tuple[Message, ...]


@dataclass(frozen=True)
class Property:
    """A named property with a kind (a ``PropertyKind``) and a one-line meaning; what
    each kind asks of an engine is ``checker.model.expectation.expectation``.

    * ``always`` / ``at-quiescence``: ``check(view) -> bool``.
    * ``response``: ``trigger(step) -> keys`` opens obligations, ``discharge(step) -> keys``
      closes them; every quiescent state must have none open.
    * ``sometimes``: ``goals`` maps a goal name to ``check(view) -> bool``; each goal in
      ``required(params)`` must be reachable.
    * ``progress``: ``check(view) -> bool`` says which states are progress states; no
      reachable cycle of states may avoid them all (a non-progress cycle, as SPIN's).
    ``premise(view) -> bool`` (``always`` / ``at-quiescence`` only) says whether a state
    is one the property is about; ``check`` must include it (``not premise(v) or ...``):
    the premise only lets the explorer say in the verdict in how many (quiescent) states
    the check held vacuously, so a premise that is rarely or never met is not silent.
    ``expected_to_fail`` marks a property that documents a known, accepted behaviour.
    ``explain(view) -> str`` (optional) says in one line what the values are in a state
    where the property fails (shown in counterexamples).
    ``obligations_of`` (strengthening invariants only) names the response property whose
    open obligations the check reads through ``view.obligations(name)``; ``prove`` uses
    such an invariant only when it proves that response property.
    A check must be a pure function of the view; to serve the z3 engines too, combine
    conditions on data with ``checker.model.logic`` (``conj``, ``disj``, ``same_multiset``).
    Checks and goals read the world only through the ``View`` protocol (``view.<pid>``,
    ``view[pid]``, ``of_kind``, ``in_flight``, ``quiescent``, ``obligations``, ``params``):
    the explorer memoises them by the values of the parts they read
    (``checker.model.property_eval.CheckMemo``).
    """

    name: str
    kind: str
    meaning: str
    check: Callable[[View], bool] | None = None
    trigger: Callable[[StepInfo], Sequence[Any]] | None = None
    discharge: Callable[[StepInfo], Sequence[Any]] | None = None
    goals: Mapping[str, Callable[[View], bool]] = field(default_factory=dict)
    required: Callable[[Params], Sequence[str]] | None = None
    expected_to_fail: bool = False
    kind_label: str | None = None
    explain: Callable[[View], str] | None = None
    obligations_of: str | None = None
    premise: Callable[[View], bool] | None = None

    @property
    def shown_kind(self) -> str:
        return self.kind_label or self.kind


@dataclass(frozen=True)
class Spec:
    """A whole model. ``source`` is the file it was loaded from (for error messages)."""

    name: str
    source: str
    actions: tuple[ActionDecl, ...]
    params: tuple[Param, ...]
    faults: Mapping[str, str]
    process_decls: tuple[ProcessDecl, ...]
    build: Callable[[Params], tuple[ProcessInstance, ...]]
    domains: Callable[[Params], Mapping[str, tuple[Any, ...]]]
    properties: tuple[Property, ...]
    resolve: Callable[[Params], Params] = lambda p: p
    describe: Callable[[Params], str] = lambda p: ""
    symmetric_kinds: tuple[str, ...] = ()
    # z3 engines (additive): integer parameters that the symbolic engines treat as
    # "any value >= the parameter's minimum", and strengthening invariants (``always``
    # properties) that k-induction may use after proving each of them.
    symbolic_params: tuple[str, ...] = ()
    invariants: tuple[Property, ...] = ()
    # ``--conform``: the parameters under which ``build`` gives the model that an
    # implementation (say ``impl=lua``) must refine, step for step
    reference: Callable[[Params], Params] | None = None
    # defaults of command-line options this spec chooses (a manifest's [limits]):
    # option name -> value, used where the user gave no flag
    option_defaults: Mapping[str, Any] = field(default_factory=dict)
    # the scenarios a command runs when the user sets none of the parameters they name:
    # "audit" -> (one small scenario for the whole matrix,), "prove" -> the scenarios
    # prove runs instead of the default one (each property once per scenario)
    command_scenarios: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    # figures of its own that ``check`` prints under the statistics (text and JSON): the
    # spec computes them for the check's configuration (name -> int, str, or [low, high])
    statistics: Callable[[CheckConfig], Mapping[str, Any]] | None = None

    def action(self, name: str) -> ActionDecl | None:
        for a in self.actions:
            if a.name == name:
                return a
        return None

    def prop(self, name: str) -> Property | None:
        for p in self.properties:
            if p.name == name:
                return p
        return None

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def all_faults(self) -> dict[str, str]:
        return {**dict(self.faults), **ENGINE_FAULTS}

    def default_params(self) -> Params:
        """Every parameter at its default, with derived values resolved."""
        return self.resolve(FrozenMap({p.name: p.default for p in self.params}))
