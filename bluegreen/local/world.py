"""The realistic emulator's world: moto, plus time that passes.

moto stores configuration and answers at once; AWS moves things along by itself. A `World`
keeps a queue of things due at a time (a task becomes RUNNING, a deployment is checked again, an
instance comes InService) and runs everything due before it answers each request to ECS, ELB,
Auto Scaling or EC2. State is therefore computed when it is read, from the clock: no background
threads, no races, and with a `VirtualClock` a 300 s deregistration delay is one `sleep(300)`.

One world is active per process (`activate` / `deactivate`); moto's own behaviour is untouched
when none is. The patches are installed once by `install()` and live in the modules by service
(`ecs`, `elb`, `autoscaling`, `rejections`, `answers`, `dynamodb`, `route53`); every way they differ from moto is listed in
`DIVERGENCES.md` with the AWS documentation it follows.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from bluegreen.local.clock import Clock, RealClock

# What a test can make an image do (see `Images.mark`).
STARTS = "starts"            # runs and answers its health check
PULL_FAILS = "pull-fails"    # never starts: CannotPullContainerError
EXITS = "exits"              # starts, then its essential container exits with code 1
UNHEALTHY = "unhealthy"      # runs, but its health endpoint answers 500
BEHAVIOURS = (STARTS, PULL_FAILS, EXITS, UNHEALTHY)

# Requests to these services run the world up to "now" first (and one at a time).
SIMULATED_SERVICES = frozenset({"ecs", "elbv2", "elb", "autoscaling", "ec2", "codedeploy"})


@dataclass
class Timings:
    """How long AWS takes for the things nobody configures (virtual seconds)."""

    provisioning: float = 5.0        # Fargate task: ENI attached (PROVISIONING -> PENDING)
    pending: float = 10.0            # image pulled, containers started (PENDING -> RUNNING)
    exit_after: float = 5.0          # how long an EXITS image's container runs before it exits
    stopping: float = 2.0            # STOPPING + DEPROVISIONING once a task has drained
    replacement_delay: float = 10.0  # ECS waits this long before replacing a failed task
    instance_boot: float = 30.0      # EC2 instance in an Auto Scaling group: Pending -> InService
    route53_propagation: float = 30.0  # a Route53 change: PENDING -> INSYNC


@dataclass
class Images:
    """Image behaviours chosen by the test: any image reference containing a marked string (a
    digest, a tag, a repository name) behaves that way; everything else starts and is healthy."""

    marks: dict[str, str] = field(default_factory=dict)

    def mark(self, fragment: str, behaviour: str) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown image behaviour {behaviour!r}; one of {', '.join(BEHAVIOURS)}")
        if not fragment:
            raise ValueError("an empty mark would match every image")
        self.marks[fragment] = behaviour

    def behaviour(self, *references: str | None) -> str:
        """The worst behaviour of any of the images (a task fails if any essential image does)."""
        found = [b for ref in references if ref for frag, b in self.marks.items() if frag in ref]
        for worst in (PULL_FAILS, EXITS, UNHEALTHY):
            if worst in found:
                return worst
        return STARTS


@dataclass(frozen=True)
class TaskEnding:
    """How a one-off task (RunTask) ends: its essential container's exit code, after running `runs_for`."""

    exit_code: int = 0
    runs_for: float = 20.0
    reason: str = "Essential container in task exited"


@dataclass
class OneOffTasks:
    """One-off task endings chosen by the test: a task whose command override (or image) contains a
    marked string ends that way; every other one runs 20 s and exits 0 (`ecs_tasks.py`)."""

    marks: dict[str, TaskEnding] = field(default_factory=dict)

    def mark(self, fragment: str, exit_code: int = 0, *, runs_for: float = 20.0,
             reason: str = "Essential container in task exited") -> None:
        if not fragment:
            raise ValueError("an empty mark would match every task")
        self.marks[fragment] = TaskEnding(exit_code, runs_for, reason)

    def ending(self, *words: str | None) -> TaskEnding:
        found = [e for w in words if w for frag, e in self.marks.items() if frag in w]
        return found[0] if found else TaskEnding()


@dataclass
class Functions:
    """Lambda answers chosen by the test, per function name (`lambdas.py`); unmarked ones echo the payload."""

    answers: dict[str, tuple[Any, str | None, float]] = field(default_factory=dict)

    def answer(self, function: str, payload: Any, *, error: str | None = None, takes: float = 0.0) -> None:
        """`payload` (JSON-able) is the answer; `error` (Unhandled / Handled) sets X-Amz-Function-Error;
        `takes` real seconds before it answers (for timeouts)."""
        self.answers[function] = (payload, error, takes)


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    key: Any = field(compare=False)
    action: Callable[[], None] = field(compare=False)


class World:
    """Time, the queue of things due, and the test's choices (image behaviours, timings)."""

    MAX_STEPS_PER_SETTLE = 200_000  # a runaway schedule is a bug: fail loudly, not hang

    def __init__(self, clock: Clock | None = None, *, timings: Timings | None = None,
                 simulate: bool = True, reject: bool = True) -> None:
        self.clock: Clock = clock or RealClock()
        self.timings = timings or Timings()
        self.images = Images()
        self.tasks = OneOffTasks()
        self.functions = Functions()
        self.simulate = simulate      # ECS, ELB and Auto Scaling progress by themselves
        self.reject = reject          # AWS's rejections for the calls we make
        self.lock = threading.RLock()
        self._queue: list[_Due] = []
        self._wanted: dict[Any, float] = {}  # key -> the time it is (re)scheduled for
        self._seq = itertools.count()
        self._event_time: float | None = None
        self._backdate = 0.0
        self._watchers: dict[Any, Callable[[], None]] = {}
        self.steps = 0  # things run so far, for reports

    # --- time -------------------------------------------------------------------------------

    def now(self) -> float:
        """The world's time: the due time of what is running, else the clock (minus any backdate)."""
        if self._event_time is not None:
            return self._event_time
        return self.clock.time() - self._backdate

    def stamp(self, at: float | None = None) -> datetime:
        return datetime.fromtimestamp(self.now() if at is None else at, tz=timezone.utc)

    @contextmanager
    def frozen(self) -> Iterator[float]:
        """Time stands still inside (a scaled clock moves between calls): one change, one instant."""
        with self.lock:
            if self._event_time is not None:
                yield self._event_time
                return
            self._event_time = self.now()
            try:
                yield self._event_time
            finally:
                self._event_time = None

    @contextmanager
    def backdated(self, seconds: float) -> Iterator[None]:
        """Everything done inside happens `seconds` ago, so by the time it is read again it has
        long settled: how seeding makes a live service that has been running for a while."""
        with self.lock:
            self._backdate += seconds
        try:
            yield
        finally:
            with self.lock:
                self._backdate -= seconds

    # --- the queue ------------------------------------------------------------------------------

    def schedule(self, at: float, key: Any, action: Callable[[], None]) -> None:
        """Run `action` at `at`; one pending run per key (the earliest wins)."""
        with self.lock:
            current = self._wanted.get(key)
            if current is not None and current <= at:
                return
            self._wanted[key] = at
            heapq.heappush(self._queue, _Due(at, next(self._seq), key, action))

    def settle(self) -> None:
        """Run everything due up to now, in time order, each at its own due time."""
        with self.lock:
            limit = self.now()
            steps = 0
            while self._queue and self._queue[0].at <= limit:
                due = heapq.heappop(self._queue)
                if self._wanted.get(due.key) != due.at:
                    continue  # superseded by an earlier run of the same key
                del self._wanted[due.key]
                self._event_time = due.at
                try:
                    due.action()
                finally:
                    self._event_time = None
                steps += 1
                if steps > self.MAX_STEPS_PER_SETTLE:
                    raise RuntimeError(f"the emulator's world ran {steps} steps without settling")
            self.steps += steps

    def pending(self) -> int:
        return len(self._wanted)

    def watch(self, key: Any, look: Callable[[], None]) -> None:
        """`look` (a service's or group's scheduler) runs again whenever `wake_all` is called."""
        self._watchers[key] = look

    def wake_all(self) -> None:
        """Something changed that no schedule foresaw (a test broke a health endpoint): every
        watcher looks again now."""
        with self.lock:
            for key, look in list(self._watchers.items()):
                self.schedule(self.now(), key, look)


_active: World | None = None
_install_lock = threading.Lock()
_installed = False


def active() -> World | None:
    return _active


def simulating() -> World | None:
    """The active world if it makes ECS, ELB and Auto Scaling progress by themselves."""
    return _active if _active is not None and _active.simulate else None


def activate(world: World) -> World:
    """Make `world` the one this process's moto answers from (installs the patches once)."""
    global _active
    install()
    _active = world
    return world


def deactivate(world: World | None = None) -> None:
    global _active
    if world is None or _active is world:
        _active = None


@contextmanager
def seeding(age: float = 3600.0) -> Iterator[None]:
    """Seeding in this process: what is created inside has existed for `age` seconds (no-op
    without an active simulating world)."""
    world = simulating()
    if world is None:
        yield
        return
    with world.backdated(age):
        yield


def install() -> None:
    """Patch moto, in this process, once. Every patch does nothing while no world is active."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from bluegreen.local import (
            answers, autoscaling, cloudwatch, codedeploy_api, dynamodb, ecs, ecs_tasks, elb, lambdas, rejections,
            route53,
        )

        _hook_requests()
        elb.install()
        ecs.install()
        autoscaling.install()
        rejections.install()
        answers.install()
        dynamodb.install()
        route53.install()
        ecs_tasks.install()
        lambdas.install()
        cloudwatch.install()
        codedeploy_api.install()
        _installed = True


def _hook_requests() -> None:
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        world = _active
        if world is None or getattr(self, "service_name", None) not in SIMULATED_SERVICES:
            return original(self)
        with world.lock:  # moto is not thread-safe, and the world must not move mid-request
            world.settle()
            return original(self)

    BaseResponse.call_action = call_action  # type: ignore[method-assign]
