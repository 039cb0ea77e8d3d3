"""The steps of services AWS deploys itself, run by the executor against in-memory engines on a fake
clock: following ECS's and CodeDeploy's deployments, answering where they wait for bluegreen's gates,
AWS's own rollback (in flight, after success, after a crash), verifying it, and where a run may pause."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest

from bluegreen.domain.deployment import Status
from bluegreen.domain.native import STAGES
from bluegreen.domain.plan import Plan
from bluegreen.domain.steps import Step
from bluegreen.errors import StepFailed
from bluegreen.events import Events
from bluegreen.execution.executor import Executor
from bluegreen.execution.gates import Gates
from bluegreen.execution.gates_restored import verify_restored
from bluegreen.execution.runner import Ending, Journaled, Runner

from support.builders import td_arn
from support.clock import FakeClock
from support.engine_fakes import (
    ALTERNATE, BLUE_TG, GREEN_TG, LISTENER, PRIMARY, RULE, EngineActions, EngineWorld, FakeCodeDeploy, FakeNative,
)
from support.runs import JournalLog, MemoryRecords, running_record
from unit.planning.test_controlled_plans import (
    BILLING_TD, CHECKOUT_TD, billing_group, billing_plan, billing_spec, checkout_plan, checkout_spec, native,
)

NEW_CHECKOUT = td_arn("checkout", 4)
NEW_BILLING = td_arn("billing", 8)
HOOK = "hook-POST_TEST_TRAFFIC_SHIFT"


@dataclass
class Bench:
    """An executor over in-memory engines, on a fake clock, journaling and emitting into memory."""

    world: EngineWorld
    pauses: set[str] = field(default_factory=set)
    waits_for_reroute: bool = True
    clock: FakeClock = field(default_factory=FakeClock)
    journal: JournalLog = field(default_factory=JournalLog)

    def __post_init__(self) -> None:
        self.native = FakeNative(self.world, self.pauses)
        self.codedeploy = FakeCodeDeploy(self.world, self.waits_for_reroute)
        self.actions = EngineActions(self.world, self.native, self.codedeploy)
        self.events = Events(mode="json", stream=io.StringIO(), clock=self.clock.clock, service=self.world.service_name)
        self.gates = Gates(self.world, clock=self.clock.clock, sleep=self.clock.sleep)

    def executor(self, plan: Plan, outputs: dict[str, str] | None = None) -> Executor:
        return Executor(plan=plan, actions=self.actions, gates=self.gates, journal=self.journal, events=self.events,
                        outputs=dict(outputs or {}), clock=self.clock.clock)

    def run(self, executor: Executor, *, through: str | None = None, after: str | None = None) -> list[Step]:
        """The plan's steps in order, from the one after `after` (the first without) up to and including
        `through` (the last without); the ones that ran."""
        ran = []
        steps = executor.plan.steps
        first = next(i + 1 for i, s in enumerate(steps) if s.id == after) if after else 0
        for index, step in list(enumerate(steps))[first:]:
            ran.append(step)
            executor.run_step(step, index=index)
            if step.id == through:
                break
        return ran

    def emitted(self, event: str) -> list[str]:
        return [e["message"] for e in self.events.history if e["event"] == event]


def checkout(*, hook: bool = True) -> tuple[Bench, Plan]:
    plan = checkout_plan() if hook else checkout_plan(native(hooks=()))
    return Bench(EngineWorld(), pauses={"POST_TEST_TRAFFIC_SHIFT"} if hook else set()), plan


def billing(*, waits: bool = True) -> tuple[Bench, Plan]:
    plan = billing_plan() if waits else billing_plan(billing_group(waits_for_reroute=False))
    world = EngineWorld(service_name="billing", task_definition=BILLING_TD, revisions=7)
    return Bench(world, waits_for_reroute=waits), plan


# --- following ECS and answering its hooks ------------------------------------------------------------


def test_following_ecs_reports_each_stage_it_reaches_and_ends_on_the_new_revision():
    bench, plan = checkout(hook=False)

    bench.run(bench.executor(plan))

    lines = bench.emitted("ecs.stage")
    stages = [line.split(":")[1].split()[0] for line in lines]
    assert list(dict.fromkeys(stages)) == list(STAGES) and len(set(lines)) == len(lines)  # changes, not polls
    assert lines[-1] == "ECS: CLEAN_UP (SUCCESSFUL; production 100% on the new revision)"
    assert bench.world.task_definition == NEW_CHECKOUT and bench.world.weights[RULE] == {PRIMARY: 0, ALTERNATE: 100}
    assert bench.world.calls == [("start", NEW_CHECKOUT, 2)]  # never answered, never stopped


def test_at_the_pause_hook_the_gates_are_held_for_the_bake_then_ecs_is_told_to_continue():
    bench, plan = checkout()
    executor = bench.executor(plan)
    bench.run(executor, through="ecs-to-post-test-traffic-shift-hook")
    held_from = bench.clock.now

    executor.run_step(plan.step("answer-post-test-traffic-shift-hook"))

    assert bench.clock.now - held_from == pytest.approx(60.0)  # health.bake
    assert bench.world.calls[-1] == ("resume", HOOK, "CONTINUE")
    assert bench.emitted("ecs.hook") == ["ECS hook at POST_TEST_TRAFFIC_SHIFT: CONTINUE (bluegreen's gates passed)"]


def test_an_alarm_firing_while_the_gates_are_held_answers_the_hook_rollback_and_fails_the_step():
    bench, plan = checkout()
    executor = bench.executor(plan)
    bench.run(executor, through="ecs-to-post-test-traffic-shift-hook")
    bench.clock.at(30.0, lambda: bench.world.alarm_states.update({"checkout-5xx": "ALARM"}))

    with pytest.raises(StepFailed, match="alarm in ALARM: checkout-5xx"):
        executor.run_step(plan.step("answer-post-test-traffic-shift-hook"))

    assert bench.world.calls[-1] == ("resume", HOOK, "ROLLBACK")
    assert ("resume", HOOK, "CONTINUE") not in bench.world.calls


def test_ecs_rolling_back_by_itself_fails_the_follow_step_with_ecs_s_reason():
    bench, plan = checkout()
    bench.native.rolls_back_at("PRODUCTION_TRAFFIC_SHIFT", "alarm checkout-latency in ALARM")

    with pytest.raises(StepFailed, match="ECS rolled the deployment back: alarm checkout-latency in ALARM"):
        bench.run(bench.executor(plan))

    assert bench.journal.entries[-1]["step"] == "ecs-post-production-traffic-shift"


def test_a_watch_failing_while_production_moves_stops_ecs_s_deployment_with_rollback_before_the_step_fails():
    bench, plan = checkout()
    bench.native.on_stage("PRODUCTION_TRAFFIC_SHIFT", lambda: bench.world.alarm_states.update({"checkout-5xx": "ALARM"}))

    with pytest.raises(StepFailed, match="alarm in ALARM: checkout-5xx"):
        bench.run(bench.executor(plan))

    assert bench.world.calls[-1] == ("stop", "sd-1")
    order = [e["event"] for e in bench.events.history if e["event"] in ("ecs.rollback", "step.failed")]
    assert order == ["ecs.rollback", "step.failed"]
    assert bench.journal.entries[-1]["step"] == "ecs-post-production-traffic-shift"


def test_a_hook_the_plan_did_not_know_is_answered_after_an_alarm_check_not_left_to_time_out():
    bench, plan = checkout(hook=False)
    bench.native.pauses.add("POST_SCALE_UP")

    bench.run(bench.executor(plan))

    assert ("resume", "hook-POST_SCALE_UP", "CONTINUE") in bench.world.calls
    assert bench.world.task_definition == NEW_CHECKOUT


# --- ECS's rollback ------------------------------------------------------------------------------------


def test_rolling_back_an_in_flight_deployment_stops_it_and_waits_for_rollback_successful():
    bench, plan = checkout()
    executor = bench.executor(plan)
    bench.run(executor, through="ecs-post-production-traffic-shift")
    assert bench.world.weights[RULE] == {PRIMARY: 0, ALTERNATE: 100}  # production is on the new revision

    result = executor.run_step(plan.step("start-service-deployment").inverse(), rollback=True)

    assert bench.world.calls[-1] == ("stop", "sd-1")
    assert result.detail == "ECS rolled checkout back to checkout:3 (ROLLBACK_SUCCESSFUL)"
    assert bench.world.task_definition == CHECKOUT_TD and bench.world.weights[RULE] == {PRIMARY: 100, ALTERNATE: 0}


def test_rolling_back_a_finished_deployment_deploys_the_previous_revision_and_continues_its_hooks_ungated():
    bench, plan = checkout()
    executor = bench.executor(plan)
    bench.run(executor)
    bench.world.alarm_states["checkout-5xx"] = "ALARM"  # a rollback is not gated: production goes back regardless
    before = len(bench.world.calls)

    result = executor.run_step(plan.step("start-service-deployment").inverse(), rollback=True)

    assert bench.world.calls[before:] == [("start", CHECKOUT_TD, 2), ("resume", HOOK, "CONTINUE")]
    assert result.detail == "ECS deployed checkout:3 again; production is on it"
    assert bench.world.task_definition == CHECKOUT_TD and bench.world.weights[RULE] == {PRIMARY: 100, ALTERNATE: 0}


def test_killed_before_the_start_was_journaled_the_rollback_finds_the_deployment_through_the_service():
    bench, plan = checkout()
    executor = bench.executor(plan)
    bench.run(executor, through="register-task-definition")
    bench.native.start("prod", "checkout", NEW_CHECKOUT, 2)  # ECS started it; the journal never heard
    resumed = bench.executor(plan, outputs={"register-task-definition": NEW_CHECKOUT})

    result = resumed.run_step(plan.step("start-service-deployment").inverse(), rollback=True)

    assert ("stop", "sd-1") in bench.world.calls and "ROLLBACK_SUCCESSFUL" in result.detail
    assert bench.world.task_definition == CHECKOUT_TD


def test_with_nothing_started_there_is_nothing_to_undo():
    bench, plan = checkout()
    executor = bench.executor(plan)
    bench.run(executor, through="register-task-definition")

    result = executor.run_step(plan.step("start-service-deployment").inverse(), rollback=True)

    assert result.detail == "nothing to undo: no ECS deployment of the new revision was started on checkout"
    assert bench.world.calls == []


# --- CodeDeploy ----------------------------------------------------------------------------------------


def test_codedeploy_standing_ready_is_held_for_the_gates_then_continued():
    bench, plan = billing()
    executor = bench.executor(plan)
    bench.run(executor, through="codedeploy-ready")
    held_from = bench.clock.now

    executor.run_step(plan.step("continue-codedeploy-deployment"))

    assert bench.clock.now - held_from == pytest.approx(60.0)
    assert bench.world.calls == [("create", NEW_BILLING, ()), ("continue", "d-00000001")]
    bench.run(executor, after="continue-codedeploy-deployment")
    assert bench.world.task_definition == NEW_BILLING and bench.world.weights[LISTENER] == {BLUE_TG: 0, GREEN_TG: 100}


def test_a_gate_failing_at_the_reroute_wait_stops_codedeploy_with_rollback():
    bench, plan = billing()
    executor = bench.executor(plan)
    bench.run(executor, through="codedeploy-ready")
    bench.world.unhealthy.add(GREEN_TG)

    with pytest.raises(StepFailed, match="billing-alt: 10.0.2.1 unhealthy"):
        executor.run_step(plan.step("continue-codedeploy-deployment"))

    assert bench.world.calls[-1] == ("stop", "d-00000001", True)
    assert ("continue", "d-00000001") not in bench.world.calls
    assert bench.world.weights[LISTENER] == {BLUE_TG: 100, GREEN_TG: 0}


def test_a_watch_failing_while_codedeploy_reroutes_stops_it_with_rollback():
    bench, plan = billing(waits=False)
    bench.codedeploy.on_event("AllowTraffic", lambda: bench.world.alarm_states.update({"billing-5xx": "ALARM"}))

    with pytest.raises(StepFailed, match="alarm in ALARM: billing-5xx"):
        bench.run(bench.executor(plan))

    assert bench.world.calls[-1] == ("stop", "d-00000001", True)
    assert bench.world.task_definition == BILLING_TD


def test_rolling_back_an_in_flight_codedeploy_deployment_stops_it_and_waits_until_it_is_done():
    bench, plan = billing()
    executor = bench.executor(plan)
    bench.run(executor, through="codedeploy-test-traffic")

    result = executor.run_step(plan.step("start-codedeploy-deployment").inverse(), rollback=True)

    assert bench.world.calls[-1] == ("stop", "d-00000001", True)
    assert result.detail == "CodeDeploy deployment d-00000001 stopped and rolled back"


def test_rolling_back_a_succeeded_codedeploy_deployment_deploys_the_previous_revision_and_continues_at_ready():
    bench, plan = billing()
    executor = bench.executor(plan)
    bench.run(executor)
    before = len(bench.world.calls)

    result = executor.run_step(plan.step("start-codedeploy-deployment").inverse(), rollback=True)

    assert bench.world.calls[before:] == [("create", BILLING_TD, ()), ("continue", "d-00000002")]
    assert result.detail == "CodeDeploy deployed billing:7 again; production is on it"
    assert bench.world.task_definition == BILLING_TD and bench.world.weights[LISTENER] == {BLUE_TG: 100, GREEN_TG: 0}


def test_with_no_codedeploy_deployment_started_there_is_nothing_to_undo():
    bench, plan = billing()
    executor = bench.executor(plan)
    bench.run(executor, through="register-task-definition")

    result = executor.run_step(plan.step("start-codedeploy-deployment").inverse(), rollback=True)

    assert result.detail.startswith("nothing to undo: no CodeDeploy deployment of the new revision was started")


# --- verifying AWS's rollback --------------------------------------------------------------------------


def rolled_back_checkout() -> tuple[Bench, Plan, list[Step]]:
    bench, plan = checkout()
    executor = bench.executor(plan)
    ran = bench.run(executor, through="ecs-post-production-traffic-shift")
    executor.run_step(plan.step("start-service-deployment").inverse(), rollback=True)
    return bench, plan, ran


def test_after_ecs_s_rollback_the_previous_revision_serving_all_of_production_healthy_is_verified():
    bench, plan, ran = rolled_back_checkout()
    verified: list[str] = []

    problems = verify_restored(plan.steps, ran, bench.gates, on_verified=verified.append)

    assert problems == []
    assert verified == ["checkout back on checkout:3; checkout takes all of production and is healthy"]


@pytest.mark.parametrize("broken, problem", [
    (lambda w: setattr(w, "task_definition", NEW_CHECKOUT), "checkout is on checkout:4, not checkout:3"),
    (lambda w: w.weights.update({RULE: {PRIMARY: 50, ALTERNATE: 50}}),
     "production rule 0080 forwards checkout=50, checkout-alt=50, not all of it to one target group"),
    (lambda w: w.unhealthy.add(PRIMARY), "target group checkout: not healthy after 30s"),
])
def test_what_is_not_so_after_ecs_s_rollback_is_a_problem(broken, problem):
    bench, plan, ran = rolled_back_checkout()
    broken(bench.world)

    problems = verify_restored(plan.steps, ran, bench.gates, deadline=30.0, interval=10.0)

    assert len(problems) == 1 and problems[0].startswith(f"not verified: {problem}"), problems


# --- where a run may pause ------------------------------------------------------------------------------


def runner(bench: Bench, plan: Plan) -> tuple[Runner, MemoryRecords]:
    records = MemoryRecords()
    return Runner(plan=plan, actions=bench.actions, gates=bench.gates, journal=bench.journal, events=bench.events,
                  records=records, journaled=Journaled(), wall_clock=bench.clock.wall, sleep=bench.clock.sleep,
                  clock=bench.clock.clock), records


def test_pause_before_shift_never_pauses_where_ecs_moves_on_by_itself():
    bench, plan = checkout(hook=False)
    run, _ = runner(bench, plan)

    outcome = run.run(running_record(checkout_spec(), plan, bench.clock), pause_before_shift=True)

    assert outcome.ending is Ending.SUCCEEDED
    assert bench.world.task_definition == NEW_CHECKOUT


def test_pause_before_shift_pauses_before_answering_ecs_s_hook_while_ecs_waits():
    bench, plan = checkout()
    run, records = runner(bench, plan)

    outcome = run.run(running_record(checkout_spec(), plan, bench.clock), pause_before_shift=True)

    assert outcome.ending is Ending.PAUSED and records.latest.status is Status.PAUSED
    assert plan.steps[outcome.record.next_step].id == "answer-post-test-traffic-shift-hook"
    assert bench.native.latest("prod", "checkout").awaiting == (HOOK,)  # ECS is still waiting for the answer


def test_pause_before_shift_on_codedeploy_pauses_at_the_reroute_wait():
    bench, plan = billing()
    run, _ = runner(bench, plan)

    outcome = run.run(running_record(billing_spec(), plan, bench.clock), pause_before_shift=True)

    assert outcome.ending is Ending.PAUSED
    assert plan.steps[outcome.record.next_step].id == "continue-codedeploy-deployment"
