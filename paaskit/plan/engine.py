"""The recording engine: a Pulumi program run in-process against a mock monitor.

Pulumi's Python SDK talks to the engine through a *resource monitor*. In unit
tests the SDK accepts a `MockMonitor` in its place; this module subclasses it
to keep a full record of every registration request (parent, dependencies,
protect, provider, inputs as sent on the wire) while `fakes` answers with
AWS-shaped ids, ARNs and function results.

Each run happens on a fresh thread: the SDK keeps its settings, config and
root stack in context variables, which a new thread starts without, so plans
never leak into each other or into the caller.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import hashlib
import heapq
import threading
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import mocks, settings
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime._callbacks import _CallbackServicer
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import engine_pb2, resource_pb2
from pulumi.runtime.stack import run_in_stack

from paaskit.errors import PaaskitError

from . import fakes
from .model import Plan, ResourceRecord

__all__ = [
    "ROOT_TYPE",
    "STACK_REFERENCE_TYPE",
    "UNKNOWN_MARKER",
    "InvokeFailed",
    "InvokeHandler",
    "MissingStackReference",
    "PlanMocks",
    "ProgramError",
    "RecordingMonitor",
    "RefResolver",
    "RunOptions",
    "from_wire",
    "run",
]

# The signatures of Pulumi's wire format for special values (sdk/proto/README).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a protocol tag, not a password
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

ROOT_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
UNKNOWN_MARKER = "[unknown]"

InvokeHandler = Callable[[dict[str, Any]], dict[str, Any]]
"""Answers one provider function (by token) in place of the built-in fakes."""

RefResolver = Callable[[str], Mapping[str, Any]]
"""Gives the outputs of the stack a program reads (`pulumi.StackReference(name)`), by name,
when the program reads it; what it raises stops the run and is raised as it is."""


class InvokeFailed(PaaskitError):
    """Raised by an `invokes` handler to answer as a provider whose function failed (a role
    that does not exist, say): the program sees the error the SDK raises for a failed invoke,
    `invoke of <token> failed: <message>`, and may catch it."""


class ProgramError(PaaskitError):
    """The program under plan raised; `__cause__` holds what it raised."""


class MissingStackReference(PaaskitError):
    """A program read a stack whose outputs the plan was not given."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        super().__init__("no outputs for stack reference(s): " + ", ".join(self.names))


def from_wire(value: Any) -> Any:
    """Pulumi's wire format (as JSON) to plain data: secrets masked, assets summarised.

    Protobuf carries every number as a double; whole numbers become ints again
    so that a port reads `443`, not `443.0`.
    """
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if isinstance(value, str):
        return UNKNOWN_MARKER if value == _UNKNOWN else value
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG_KEY)
    if sig == _SECRET_SIG:
        return fakes.SECRET_MARKER
    if sig == _RESOURCE_SIG:
        return value.get("urn")
    if sig == _OUTPUT_SIG:
        if value.get("secret"):
            return fakes.SECRET_MARKER
        return from_wire(value["value"]) if "value" in value else UNKNOWN_MARKER
    if sig == _ASSET_SIG:
        return {"@asset": _asset_summary(value)}
    if sig == _ARCHIVE_SIG:
        if "assets" in value:
            return {"@archive": {k: from_wire(v) for k, v in sorted(value["assets"].items())}}
        return {"@archive": {k: value[k] for k in ("path", "uri") if k in value}}
    return {k: from_wire(value[k]) for k in sorted(value)}


def _asset_summary(value: dict[str, Any]) -> dict[str, Any]:
    if "text" in value:
        text = str(value["text"])
        return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "size": len(text.encode())}
    return {k: value[k] for k in ("path", "uri") if k in value}


def _struct(message: Any) -> dict[str, Any]:
    if message is None:
        return {}
    data = json_format.MessageToDict(message)
    result = from_wire(data)
    return result if isinstance(result, dict) else {}


def _callback(token: str) -> Callable[[bytes], Awaitable[Any]] | None:
    """The program's callback (a transform) that the SDK registered under `token`."""
    for servicer in _CallbackServicer._servicers:
        found = servicer._callbacks.get(token)
        if found is not None:
            return found
    return None


class PlanMocks(mocks.Mocks):
    """Answers resource registrations and function calls with `fakes`."""

    def __init__(
        self,
        ctx: fakes.Context,
        refs: Mapping[str, Mapping[str, Any]],
        invokes: Mapping[str, InvokeHandler],
        resolve_ref: RefResolver | None = None,
    ) -> None:
        self.ctx = ctx
        self.refs = dict(refs)
        self.invokes = dict(invokes)
        self.resolve_ref = resolve_ref
        self.missing_refs: list[str] = []
        self.ref_error: BaseException | None = None
        self._ref_lock = threading.Lock()
        self.urns: dict[tuple[str, str], str] = {}
        self.read_outputs: dict[str, dict[str, Any]] = {}
        """The outputs each stack reference was answered with, by stack name."""

    def _lookup_ref(self, name: str) -> Mapping[str, Any] | None:
        if name in self.refs:
            return self.refs[name]
        # "org/project/stack" matches "project/stack" and the reverse.
        tail = "/".join(name.split("/")[-2:])
        for key, outputs in self.refs.items():
            if "/".join(key.split("/")[-2:]) == tail:
                return outputs
        return None

    def _resolve(self, name: str) -> Mapping[str, Any]:
        """The outputs of stack `name`: given, or found now by the resolver.

        Answering while the program runs (this is called from the SDK's executor
        thread, and the referenced stack is planned on a thread of its own) means
        the program runs once, to the end: no half-run program leaves outputs
        nobody awaits.
        """
        with self._ref_lock:
            outputs = self._lookup_ref(name)
            if outputs is None and self.resolve_ref is not None and self.ref_error is None:
                try:
                    outputs = self.resolve_ref(name)
                except BaseException as exc:
                    self.ref_error = exc
                    raise
                self.refs[name] = outputs
        if outputs is None:
            # Without a resolver, fail fast: the caller runs again with the outputs.
            self.missing_refs.append(name)
            raise MissingStackReference([name])
        return outputs

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            name = str(args.inputs.get("name") or args.resource_id or args.name)
            outputs = self._resolve(name)
            self.read_outputs[name] = dict(outputs)
            return name, {"name": name, "outputs": dict(outputs), "secretOutputNames": []}
        urn = self.urns.get((args.typ, args.name), "")
        if args.resource_id:
            return fakes.read_state(
                args.typ, args.name, urn, str(args.resource_id), dict(args.inputs), self.ctx
            )
        return fakes.resource_state(args.typ, args.name, urn, dict(args.inputs), self.ctx)

    def call(self, args: mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        # The SDK accepts a bare dict (no check failures); its own annotation says tuple.
        handler = self.invokes.get(args.token)
        if handler is not None:
            try:
                return handler(dict(args.args))
            except InvokeFailed as exc:
                # The SDK turns failures into the exception a failed provider call raises.
                return ({}, [("", str(exc))])  # type: ignore[return-value]
        answer = fakes.INVOKES.get(args.token)
        if answer is None:
            raise ProgramError(
                f"the offline plan has no answer for the provider function {args.token}; "
                "pass one with invokes={token: handler} (paaskit.testing) or add it to paaskit.plan.fakes"
            )
        return answer(dict(args.args), self.ctx)


class RecordingEngine(mocks.MockEngine):
    """Pulumi's mock engine, keeping the program's warnings (`pulumi.log.warn`) for the plan,
    as `pulumi preview` shows them; other messages go to Python's logging as before."""

    def __init__(self) -> None:
        super().__init__(None)
        self.warnings: list[dict[str, str]] = []

    def Log(self, request: Any) -> None:  # the engine's RPC name
        if request.severity == engine_pb2.WARNING:
            self.warnings.append({"urn": request.urn, "message": request.message})
        else:
            super().Log(request)  # type: ignore[no-untyped-call]


class RecordingMonitor(mocks.MockMonitor):
    """A mock monitor that keeps every registration request as a `ResourceRecord`."""

    def __init__(self, mocks_: PlanMocks) -> None:
        super().__init__(mocks_)
        self.plan_mocks = mocks_
        self.records: dict[str, ResourceRecord] = {}
        self.order: list[str] = []
        self.stack_outputs: dict[str, Any] = {}
        self.root_urn = ""
        self._lock = threading.Lock()
        self._local = threading.local()
        self.thread_loops: list[asyncio.AbstractEventLoop] = []
        self._transform_tokens: dict[str, list[str]] = {}
        self._stack_transform_tokens: list[str] = []

    def _own_thread_loop(self) -> None:
        """Give this executor thread an event loop the run closes when it ends.

        The mock monitor needs a loop in each thread it is called on and makes
        one if there is none, which nobody closes; collected at random later,
        such loops fail noisily in their finaliser.
        """
        if getattr(self._local, "loop", None) is None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._local.loop = loop
            with self._lock:
                self.thread_loops.append(loop)

    def close_thread_loops(self) -> None:
        with self._lock:
            loops, self.thread_loops = self.thread_loops, []
        for loop in loops:
            if not loop.is_closed():
                loop.close()

    def Invoke(self, request: Any) -> Any:
        self._own_thread_loop()
        return super().Invoke(request)  # type: ignore[no-untyped-call]

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine's own rule: the parent's qualified type chain, without the root stack.
        if parent:
            qualified = parent.split("::")[2]
            if qualified != ROOT_TYPE:
                type_ = qualified + "$" + type_
        return "urn:pulumi:" + "::".join(
            [settings.get_stack(), settings.get_project(), type_, name]
        )

    def _record(self, request: Any, urn: str, *, custom: bool, read: bool = False) -> None:
        # A provider reference is "<urn>::<id>"; the record keeps the URN, which names a record.
        provider = request.provider or None
        if provider and provider.count("::") > 3:
            provider = provider.rsplit("::", 1)[0]
        record = ResourceRecord(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=custom,
            protect=bool(getattr(request, "protect", False)),
            retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
            dependencies=tuple(sorted(set(getattr(request, "dependencies", ())))),
            provider=provider,
            inputs=_struct(request.properties if read else request.object),
            delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
            ignore_changes=tuple(getattr(request, "ignoreChanges", ())),
            read=read,
        )
        with self._lock:
            if urn in self.records:
                raise ProgramError(
                    f"two resources have the same URN {urn}: give them distinct names"
                )
            self.records[urn] = record
            self.order.append(urn)

    # --- transforms ------------------------------------------------------------------

    def _transform(self, request: Any, urn: str) -> None:
        """Apply Pulumi transforms to a registration, in place, as the engine does.

        The resource's own transforms run first, then each ancestor's (nearest
        first), then the stack's; each sees the properties and options the one
        before it left. They are the program's own functions, reached through
        the SDK's callback servicer by the tokens in the request. The mock
        monitor does not run them; the engine does, and a plan must show what
        the engine would register.
        """
        own = [t.token for t in request.transforms]
        with self._lock:
            self._transform_tokens[urn] = own
            chain = list(own)
            parent = request.parent
            while parent:
                chain.extend(self._transform_tokens.get(parent, []))
                record = self.records.get(parent)
                parent = record.parent if record is not None else None
            chain.extend(self._stack_transform_tokens)
        if not chain:
            return
        options = resource_pb2.TransformResourceOptions(
            protect=bool(getattr(request, "protect", False)),
            retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
            delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
            ignore_changes=list(request.ignoreChanges),
        )
        properties = request.object
        for token in chain:
            callback = _callback(token)
            if callback is None:
                continue
            transform_request = resource_pb2.TransformRequest(
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                properties=properties,
                options=options,
            )
            loop = asyncio.get_event_loop()
            response = loop.run_until_complete(callback(transform_request.SerializeToString()))
            properties = response.properties
            if response.HasField("options"):
                options = response.options
        request.object.CopyFrom(properties)
        request.protect = options.protect
        request.retainOnDelete = options.retain_on_delete
        request.deleteBeforeReplace = options.delete_before_replace
        del request.ignoreChanges[:]
        request.ignoreChanges.extend(options.ignore_changes)

    def RegisterStackTransform(self, request: Any) -> Any:
        with self._lock:
            self._stack_transform_tokens.append(request.token)
        return super().RegisterStackTransform(request)  # type: ignore[no-untyped-call]

    def RegisterResource(self, request: Any) -> Any:
        self._own_thread_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type != ROOT_TYPE:
            self._transform(request, urn)
        if request.type == ROOT_TYPE:
            self.root_urn = urn
        self._record(request, urn, custom=bool(request.custom))
        self.plan_mocks.urns[(request.type, request.name)] = urn
        if request.type == ROOT_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    def ReadResource(self, request: Any) -> Any:
        self._own_thread_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        self._record(request, urn, custom=True, read=True)
        self.plan_mocks.urns[(request.type, request.name)] = urn
        return super().ReadResource(request)  # type: ignore[no-untyped-call]

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self.root_urn:
            self.stack_outputs = _struct(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]

    def ordered_records(self) -> list[ResourceRecord]:
        """Parents before children, dependencies before dependents, then by URN.

        Registration order depends on thread timing; this order does not, so two
        plans of the same program are byte-for-byte equal.
        """
        records = self.records
        incoming: dict[str, set[str]] = {urn: set() for urn in records}
        for urn, rec in records.items():
            for before in (rec.parent, rec.provider, *rec.dependencies):
                if before and before in records and before != urn:
                    incoming[urn].add(before)
        outgoing: dict[str, list[str]] = {urn: [] for urn in records}
        for urn, befores in incoming.items():
            for before in befores:
                outgoing[before].append(urn)
        ready = [urn for urn, befores in incoming.items() if not befores]
        heapq.heapify(ready)
        out: list[ResourceRecord] = []
        while ready:
            urn = heapq.heappop(ready)
            out.append(records[urn])
            for after in outgoing[urn]:
                incoming[after].discard(urn)
                if not incoming[after]:
                    heapq.heappush(ready, after)
        seen = {r.urn for r in out}
        out.extend(
            records[u] for u in sorted(records) if u not in seen
        )  # cycles cannot happen; be safe
        return out


async def _wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """Pulumi's `wait_for_rpcs`, in linear time.

    The SDK waits for pending outputs with `asyncio.wait(FIRST_COMPLETED)` over
    all of them, again after each completes: quadratic in the number of
    outputs, which is most of a large plan's time. Awaiting them in turn waits
    for exactly the same set (new ones are picked up on the next round) and
    re-raises the same errors.
    """
    rpc_manager = settings._get_rpc_manager()
    while True:
        while rpc_manager.rpcs:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(
                        rpc_manager.exception_traceback
                    )
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            while True:
                with settings.SETTINGS.lock:
                    if not settings.SETTINGS.outputs:
                        break
                    pending = list(settings.SETTINGS.outputs)
                    settings.SETTINGS.outputs.clear()
                for task in pending:
                    await task
        if not rpc_manager.rpcs:
            break


@dataclass
class RunOptions:
    """Everything that shapes one run of a program under the recording engine."""

    project: str
    stack: str = "dev"
    config: Mapping[str, str] = field(default_factory=dict)
    """Config values by full key (`project:key`, `aws:region`), as strings as Pulumi stores them."""
    secret_keys: Sequence[str] = ()
    refs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Outputs of other stacks, by stack name, for `pulumi.StackReference`."""
    resolve_ref: RefResolver | None = None
    """Outputs of a stack `refs` does not hold, asked for when the program reads it."""
    invokes: Mapping[str, InvokeHandler] = field(default_factory=dict)
    organization: str = "organization"


def run(program: Callable[[], Any], options: RunOptions) -> Plan:
    """Run `program` as a Pulumi program and return what it registered.

    Raises `ProgramError` (with the program's own exception as `__cause__`) if
    the program fails, what `options.resolve_ref` raised if it failed, and
    `MissingStackReference` if it read a stack whose outputs were not given and
    there is no resolver.
    """
    region = options.config.get("aws:region") or fakes.DEFAULT_REGION
    plan_mocks = PlanMocks(
        fakes.Context(region=region), options.refs, options.invokes, options.resolve_ref
    )
    monitor = RecordingMonitor(plan_mocks)
    recording_engine = RecordingEngine()
    outcome: dict[str, BaseException] = {}

    def go() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # A failed program leaves futures nobody awaits; its error is reported once, by us.
        loop.set_exception_handler(lambda _loop, _context: None)
        try:
            settings.configure(
                mocks.MockSettings(
                    monitor=monitor,
                    monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),  # type: ignore[no-untyped-call]
                    engine=recording_engine,
                    project=options.project,
                    stack=options.stack,
                    dry_run=False,
                    organization=options.organization,
                    callbacks=None,
                    # The SDK shares these across threads unless set: a failed run's
                    # pending outputs would otherwise haunt the next plan.
                    outputs=set(),
                    lock=threading.Lock(),
                    package_refs={},
                    base_providers_by_ref={},
                )
            )
            settings.ROOT.set(None)
            set_all_config(dict(options.config), list(options.secret_keys))
            loop.run_until_complete(run_in_stack(program))
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()
                monitor.close_thread_loops()

    sdk_wait = pulumi_stack.wait_for_rpcs
    pulumi_stack.wait_for_rpcs = _wait_for_rpcs
    with warnings.catch_warnings():
        # A program that failed half-way leaves coroutines of its outputs unawaited; its
        # error is the news, not they. (A program that succeeds leaves none: stack
        # references are answered while it runs, so it is never stopped to be rerun.)
        warnings.filterwarnings(
            "ignore", message="coroutine .* was never awaited", category=RuntimeWarning
        )
        thread = threading.Thread(target=go, name="paaskit-plan", daemon=True)
        thread.start()
        thread.join()
        _release_settings()
        if plan_mocks.ref_error is not None:
            # Its traceback runs through the SDK's frames of this run, which hold the
            # outputs it abandoned; the caller needs the message, not those frames.
            plan_mocks.ref_error.__traceback__ = None
        if "error" in outcome or plan_mocks.missing_refs or plan_mocks.ref_error is not None:
            # So the abandoned coroutines are collected while the filter is on (a stack
            # reference that failed to resolve leaves them too, with no program error).
            gc.collect()
    pulumi_stack.wait_for_rpcs = sdk_wait

    if plan_mocks.ref_error is not None:
        raise plan_mocks.ref_error
    if plan_mocks.missing_refs:
        raise MissingStackReference(sorted(set(plan_mocks.missing_refs)))
    error = outcome.get("error")
    if error is not None:
        raise ProgramError(str(error)) from error
    return Plan(
        project=options.project,
        stack=options.stack,
        resources=[_with_read_outputs(r, plan_mocks) for r in monitor.ordered_records()],
        outputs=monitor.stack_outputs,
        warnings=recording_engine.warnings,
    )


def _release_settings() -> None:
    """Let go of what the run's settings hold: its monitor, its outputs, its RPC errors.

    Pulumi keeps each setting in a ContextVar, but the first value set in a context
    where it is unset also becomes its default for every context (`contextproperty`),
    so a plan's monitor (with its records), outputs and a failed run's exception would
    live until the next plan replaced them, and their coroutines be reported then, as
    never awaited, in whatever the caller does next. Setting them afresh in an empty
    context makes the defaults the SDK's own again (those of `settings.SETTINGS`).
    """
    contextvars.Context().run(
        settings.Settings,
        project="project",
        stack="stack",
        root_directory="root_directory",
        organization="organization",
    )


def _with_read_outputs(record: ResourceRecord, plan_mocks: PlanMocks) -> ResourceRecord:
    """A stack reference's record, with the outputs of the stack it read.

    They come from the referenced stack's own plan (whose secrets are already
    masked) or from `--ref` (as `pulumi stack output --json` prints them,
    secrets masked): what the program was told, so readers of the plan alone
    (the cost of an app on another stack's rack) know it too.
    """
    if record.type != STACK_REFERENCE_TYPE:
        return record
    outputs = plan_mocks.read_outputs.get(str(record.inputs.get("name", record.name)), {})
    return replace(record, outputs={str(k): v for k, v in outputs.items()})
