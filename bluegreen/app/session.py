"""One command's session for one service: spec, store, records, journal, lock, and the runner.

The session is the one factory of collaborators: the AWS adapters, the run context's clocks and
sleep, the journal (with its local fallback) and the deployment records all come from here, so a
use case reads as a plain list of calls. `locked` is taken before a use case reads any record.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from bluegreen.app.context import RunContext
from bluegreen.app.stores import open_store
from bluegreen.domain.deployment import Deployment
from bluegreen.domain.plan import Plan
from bluegreen.domain.spec import Spec
from bluegreen.errors import InvalidInput, LockHeld
from bluegreen.events import Events
from bluegreen.execution.gates import Gates, Observer
from bluegreen.execution.runner import Journaled, Runner
from bluegreen.specfiles.loader import LoadedSpec, load_spec
from bluegreen.state.deployments import DeploymentRecords
from bluegreen.state.store import Store

if TYPE_CHECKING:
    from bluegreen.state.journal import JournalWriter
    from bluegreen.state.lease import LockLease

Adapters = Callable[[], "tuple[Any, Observer]"]  # () -> (actions, observer)


def resolve_service(target: str, search: str = "deployments") -> LoadedSpec:
    """SERVICE may be a spec path or a service name defined in deployments/."""
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_spec(path)
    from bluegreen.specfiles.loader import load_specs

    directory = Path(search)
    if not directory.is_dir():
        raise InvalidInput(f"{target}: not a spec file, and there is no {search}/ to look it up in")
    for item in load_specs([directory]):
        if item.spec.service == target:
            return item
    raise InvalidInput(f"no spec for service '{target}' in {search}/")


@dataclass
class Session:
    """Everything one command needs for one service: spec, store, AWS adapters, output."""

    ctx: RunContext
    loaded: LoadedSpec
    events: Events
    store: Store | None = None  # type: ignore[assignment]  # opened from the spec's `state:` when None
    lease: "LockLease | None" = None  # the held lock's lease while a command runs
    adapters: Adapters | None = None  # AWS actions and observer; tests pass an in-memory world
    dead_holder: "LockInfo | None" = None  # the lock of a dead process this command took over, if any
    _writer: "JournalWriter | None" = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.store is None:
            self.store = open_store(self.spec.state, lambda: self.aws())
        self.events.service = self.spec.service
        if self.spec.notifications is not None:
            from bluegreen.execution.notify import Notifier

            Notifier(self.spec.notifications, self.events, aws=self._notify_adapter).attach()

    @property
    def spec(self) -> Spec:
        return self.loaded.spec

    @property
    def service(self) -> str:
        return self.spec.service

    def aws(self) -> Any:
        return self.ctx.aws_for(self.spec)

    @property
    def records(self) -> DeploymentRecords:
        return DeploymentRecords(self.store, self.service)  # type: ignore[arg-type]

    # --- ids and times ------------------------------------------------------------------------------

    def new_id(self) -> str:
        """`web-20261122T210000Z-1a2b3c`: a deployment's (or a command's lock's) id."""
        moment = datetime.fromtimestamp(self.ctx.wall_clock(), timezone.utc)
        return f"{self.service}-{moment:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"

    def now_iso(self) -> str:
        return datetime.fromtimestamp(self.ctx.wall_clock(), timezone.utc).isoformat(timespec="seconds")

    # --- journal and runner --------------------------------------------------------------------------

    @property
    def journal_writer(self) -> "JournalWriter":
        """Journal through the store, falling back to a local file (and saying so) if the store fails."""
        from bluegreen.state.journal import JournalWriter

        if self._writer is None:
            fallback = Path(self.spec.state.directory) / "journal-fallback"
            self._writer = JournalWriter(self.store, fallback,  # type: ignore[arg-type]
                                         on_warning=lambda m: self.events.emit("journal.fallback", m))
        return self._writer

    def entries(self, deployment_id: str) -> list[dict[str, Any]]:
        return self.journal_writer.entries(self.service, deployment_id)

    def runner(self, plan: Plan, record: Deployment, *, resumed: bool = True) -> Runner:
        """The runner for `record`; `resumed` reads what its journal already holds (outputs, started steps)."""
        writer, service, deployment_id = self.journal_writer, self.service, record.id
        mutating = {step.id for step in plan.steps if step.mutates}

        def journal(event: str, **data: Any) -> None:
            if event == "rollback.started" or (event == "step.started" and data.get("step") in mutating):
                self.ctx.aws_changed = True  # before the call: a crash inside it may have changed AWS
            writer.append(service, deployment_id, {"event": event, **data})

        actions, observer = (self.adapters or self._aws_adapters)()
        gates = Gates(observer, clock=self.ctx.clock, sleep=self.ctx.sleep,
                      on_wait=lambda m: self.events.emit("gate.waiting", m), metrics=self._metrics(observer),
                      wall_clock=self.ctx.wall_clock)
        journaled = Journaled.from_entries(self.entries(deployment_id)) if resumed else Journaled()
        self.events.show_plan(plan)
        return Runner(plan=plan, actions=actions, gates=gates, journal=journal, events=self.events,
                      records=self.records, journaled=journaled, lease=self.lease,
                      automatic_rollback=self.spec.rollback.automatic, wall_clock=self.ctx.wall_clock,
                      sleep=self.ctx.sleep, clock=self.ctx.clock, hooks=self._hooks(plan, record))

    def _hooks(self, plan: Plan, record: Deployment) -> Any:
        """The hook runner, for a plan with hooks (its AWS adapter made only then)."""
        from bluegreen.domain.hook_steps import RunHook

        if not any(isinstance(s, RunHook) for s in [*plan.steps, *plan.after_rollback]):
            return None
        from bluegreen.adapters.aws.hooks import AwsHooks
        from bluegreen.execution.hooks import HookRunner

        return HookRunner(AwsHooks(self.aws()), self.events, clock=self.ctx.clock, sleep=self.ctx.sleep,
                          facts={"deployment_id": record.id})

    def _notify_adapter(self) -> Any:
        from bluegreen.adapters.aws.notify import AwsNotify

        return AwsNotify(self.aws())

    def _metrics(self, observer: Any) -> Any:
        """CloudWatch metrics for the metric gates: the observer's own reader (a test world's), else AWS's."""
        if hasattr(observer, "value"):
            return observer
        from bluegreen.adapters.aws.metrics import AwsMetrics

        return AwsMetrics(self.aws())

    def aws_actions(self) -> Any:
        """The actions adapter (a test's world when given), for read-only looks such as `status`."""
        return (self.adapters or self._aws_adapters)()[0]

    def _aws_adapters(self) -> "tuple[Any, Observer]":
        from bluegreen.adapters.aws.actions import AwsActions
        from bluegreen.adapters.aws.observe import AwsObserver

        return AwsActions(self.aws(), clock=self.ctx.clock, sleep=self.ctx.sleep), AwsObserver(self.aws())

    # --- the lock ------------------------------------------------------------------------------------

    @contextmanager
    def locked(self, operation: str, run_id: str | None = None, *, force_stale: bool = False) -> Iterator[str]:
        """Hold the service's lock (renewed in the background) for one command; yields the lock's id.

        A lock left by a dead process on this machine (a SIGKILLed CI job) is taken over and said so.
        """
        from bluegreen.state.lease import LockLease
        from bluegreen.state.store import LockInfo

        store, run_id = self.store, run_id or self.new_id()
        info = LockInfo.create(self.service, run_id, operation, self.ctx.identity, now=self.ctx.wall_clock())
        lease = LockLease(store, info, self.spec.state.lease,  # type: ignore[arg-type]
                          on_warning=lambda m: self.events.emit("lock.warning", m),
                          on_lost=lambda holder: self.events.emit(
                              "lock.lost", "lost the deployment lock" + (f" to {holder.describe()}" if holder else "")))
        try:
            lease.__enter__()
        except LockHeld:
            holder = store.read(self.service)  # type: ignore[union-attr]
            if holder is None or not (force_stale or _holder_is_dead(holder, self.ctx.identity.host)):
                raise
            store.break_lock(self.service)  # type: ignore[union-attr]
            self.events.emit("lock.taken-over", f"took over the lock of a dead process: {holder.describe()}")
            self.dead_holder = holder
            lease.__enter__()
        if lease.taken_over is not None:
            self.events.emit("lock.taken-over", f"took over an expired lock: {lease.taken_over.describe()}")
        self.lease = lease
        try:
            yield run_id
        finally:
            self.lease = None
            lease.__exit__(None, None, None)


def holder_is_dead(holder: Any, this_host: str) -> bool:
    """Whether a lock's holder is a process of this machine that no longer exists (never for another host)."""
    return _holder_is_dead(holder, this_host)


def _holder_is_dead(holder: Any, this_host: str) -> bool:
    """A lock left by a process on this machine that no longer exists (e.g. a SIGKILLed CI job)."""
    if holder.host != this_host or not holder.pid:
        return False
    try:
        os.kill(int(holder.pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
