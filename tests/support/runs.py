"""Builders for runner and use-case tests: the web spec, its plan (as the planner lays it out for an
ECS target-group swap), records, a journal in memory, and a runner or session wired to a `World`."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from bluegreen.app.context import RunContext
from bluegreen.app.session import Session
from bluegreen.domain.deployment import Deployment, started_record
from bluegreen.domain.identity import Identity
from bluegreen.domain.plan import Change, ImageRef, Plan
from bluegreen.domain.spec import Spec, Strategy
from bluegreen.domain.steps import (
    Bake, CheckAlarms, KeepWarm, RegisterTaskDefinition, SetWeights, Step, UpdateService, WaitServiceStable,
    WaitTargetsHealthy,
)
from bluegreen.events import Events
from bluegreen.execution.gates import Gates
from bluegreen.execution.runner import Journaled, Runner
from bluegreen.specfiles.loader import LoadedSpec, load_spec

from support.clock import FakeClock
from support.world import LISTENER, TG_BLUE, TG_GREEN, World, revision

REPOSITORY_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web"
V1 = f"{REPOSITORY_URI}@sha256:{'1' * 64}"
DIGEST_V2 = f"sha256:{'2' * 64}"
V2 = f"{REPOSITORY_URI}@{DIGEST_V2}"
DEPLOYMENT_ID = "web-20270115T080000Z-a1b2c3"

SPEC = """\
service: web
image: {{repository: web}}
platform:
  ecs: {{cluster: prod, services: {{blue: web-blue, green: web-green}}, container: web}}
traffic:
  routes: [{{load_balancer: web-alb, port: 80, blue_target_group: web-blue, green_target_group: web-green}}]
shift: {{mode: canary, percentages: [10, 100]}}
health: {{alarms: [web-5xx], deadline: 10m, interval: 10s, bake: 1m}}
rollback: {{automatic: {automatic}, keep_blue_warm: 15m}}
state: {{backend: local, directory: {state}}}
"""


def web_spec(directory: Path, *, automatic: bool = True) -> LoadedSpec:
    """deployments/web.yaml under `directory`, its state kept in `directory/.bluegreen`."""
    path = directory / "deployments" / "web.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SPEC.format(automatic=str(automatic).lower(), state=directory / ".bluegreen"))
    return load_spec(path)


def web_plan(*, bake: float = 60.0, interval: float = 10.0, keep_warm: float = 900.0, drain: float = 25.0,
             percentages: tuple[int, ...] = (10, 100)) -> Plan:
    """green gets v2, is gated, takes traffic in canary steps with a bake each; blue kept warm, then scaled down."""
    alarms = ["web-5xx"]
    steps: list[Step] = [
        CheckAlarms(id="check-alarms", phase="preflight", alarms=alarms),
        RegisterTaskDefinition(id="register-task-definition", phase="prepare", family="web", base_arn=revision(1),
                               container="web", image=V2),
        UpdateService(id="deploy-web-green", phase="prepare", cluster="prod", service="web-green",
                      task_definition="@register-task-definition", previous_task_definition=revision(1),
                      desired_count=2, previous_desired_count=0),
        WaitServiceStable(id="wait-web-green-stable", phase="rollout", cluster="prod", service="web-green",
                          task_definition="@register-task-definition", desired_count=2, deadline=600.0,
                          interval=interval),
        WaitTargetsHealthy(id="rollout-web-green-healthy", phase="rollout", target_group_arn=TG_GREEN,
                           target_group="web-green", min_healthy=2, deadline=600.0, interval=interval),
    ]
    names = {TG_BLUE: "web-blue", TG_GREEN: "web-green"}
    previous = 0
    for percent in percentages:
        steps.append(SetWeights(id=f"shift-{percent}", phase="shift", listener_arn=LISTENER, label="web-alb:80",
                                weights={TG_BLUE: 100 - percent, TG_GREEN: percent},
                                previous={TG_BLUE: 100 - previous, TG_GREEN: previous}, names=names))
        steps.append(Bake(id=f"bake-{percent}", phase="shift", duration=bake, alarms=alarms,
                          target_group_arns=[TG_GREEN], interval=interval))
        previous = percent
    steps += [KeepWarm(id="keep-blue-warm", phase="finalize", color="blue", duration=keep_warm, drain_seconds=drain),
              UpdateService(id="scale-down-web-blue", phase="finalize", cluster="prod", service="web-blue",
                            desired_count=0, previous_desired_count=2)]
    return Plan(service="web", spec_path="deployments/web.yaml", spec_digest="0" * 16, region="us-east-1",
                strategy=Strategy.ECS_TARGET_GROUPS, live_color="blue", target_color="green",
                image=ImageRef(repository="web", repository_uri=REPOSITORY_URI, tag="v2", digest=DIGEST_V2),
                changes=[Change(field="image", before=V1, after=V2)], steps=steps,
                facts={"listener web-alb:80": "web-blue=100, web-green=0", "ecs service web-blue": "web:1 desired=2",
                       "ecs service web-green": "web:1 desired=0"},
                keep_warm_seconds=keep_warm)


def running_record(spec: Spec, plan: Plan, clock: FakeClock, deployment_id: str = DEPLOYMENT_ID) -> Deployment:
    return started_record(deployment_id=deployment_id, spec=spec, plan=plan, spec_path="deployments/web.yaml",
                          who="ci@agent-1", now=clock.wall(), now_iso="2027-01-15T08:00:00+00:00")


def step_index(plan: Plan, step_id: str) -> int:
    return next(i for i, s in enumerate(plan.steps) if s.id == step_id)


# --- in-memory collaborators of the runner ------------------------------------------------------------


@dataclass
class MemoryRecords:
    """The runner's `Records`: every saved version of the record, and the history lines, in order."""

    saved: list[Deployment] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def save(self, record: Deployment) -> None:
        self.saved.append(record)

    def append_history(self, entry: Mapping[str, Any]) -> None:
        self.history.append(dict(entry))

    @property
    def latest(self) -> Deployment:
        return self.saved[-1]


@dataclass
class JournalLog:
    """A journal sink that keeps entries in memory, numbered like the stores number them."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: str, **data: Any) -> None:
        self.entries.append({"seq": len(self.entries) + 1, "event": event, **data})

    def events(self, *names: str) -> list[tuple[str, str]]:
        """(event, step) of the entries whose event is one of `names` (all entries if none given)."""
        return [(e["event"], e.get("step", "")) for e in self.entries if not names or e["event"] in names]


@dataclass
class Rig:
    """A runner over a `World`, with a fake clock, an in-memory journal and records, and captured output."""

    world: World = field(default_factory=World)
    clock: FakeClock = field(default_factory=FakeClock)
    journal: JournalLog = field(default_factory=JournalLog)
    records: MemoryRecords = field(default_factory=MemoryRecords)
    out: io.StringIO = field(default_factory=io.StringIO)

    def __post_init__(self) -> None:
        self.events = Events(mode="json", stream=self.out, clock=self.clock.clock, service="web")

    def runner(self, plan: Plan, *, lease: Any = None, automatic: bool = True, resumed: bool = False) -> Runner:
        gates = Gates(self.world, clock=self.clock.clock, sleep=self.clock.sleep)
        journaled = Journaled.from_entries(self.journal.entries) if resumed else Journaled()
        return Runner(plan=plan, actions=self.world, gates=gates, journal=self.journal, events=self.events,
                      records=self.records, journaled=journaled, lease=lease, automatic_rollback=automatic,
                      wall_clock=self.clock.wall, sleep=self.clock.sleep, clock=self.clock.clock)

    def emitted(self) -> list[str]:
        return [e["event"] for e in self.events.history]


def web_session(directory: Path, world: World, clock: FakeClock, *, automatic: bool = True) -> Session:
    """A use-case session for the web spec: a real local store under `directory`, AWS replaced by `world`."""
    ctx = RunContext(identity=Identity(user="ci", host="agent-1", pid=os.getpid()), wall_clock=clock.wall,
                     clock=clock.clock, sleep=clock.sleep)
    events = Events(mode="json", stream=io.StringIO(), clock=clock.clock)
    return Session(ctx=ctx, loaded=web_spec(directory, automatic=automatic), events=events,
                   adapters=lambda: (world, world))
