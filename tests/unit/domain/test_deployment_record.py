"""The deployment record: one transition table, typed fields, and old dict records still loading."""

from __future__ import annotations

import itertools
import json

import pytest

from bluegreen.domain.colors import Color
from bluegreen.domain.deployment import (
    IN_FLIGHT, TRANSITIONS, Deployment, IllegalTransition, LiveBefore, Status, live_before,
)
from bluegreen.domain.spec import Strategy
from bluegreen.errors import BluegreenError
from bluegreen.specfiles.loader import load_spec

from support.runs import DEPLOYMENT_ID, REPOSITORY_URI, V1, V2, web_plan, web_spec
from support.world import revision

from deploy_helpers import REPO

ALLOWED = [(before, after) for before, afters in TRANSITIONS.items() for after in sorted(afters)]
FORBIDDEN = [pair for pair in itertools.product(Status, Status) if pair not in ALLOWED]


def record(status: Status = Status.RUNNING) -> Deployment:
    return Deployment(id=DEPLOYMENT_ID, service="web", status=status, plan=web_plan())


def test_the_status_strings_are_the_ones_stored_records_already_hold():
    assert [s.value for s in Status] == ["running", "paused", "rolling-back", "rollback-failed", "keeping-warm",
                                         "succeeded", "failed", "rolled-back"]


def test_the_table_names_every_status_and_only_known_ones():
    assert set(TRANSITIONS) == set(Status)
    assert all(afters <= set(Status) for afters in TRANSITIONS.values())


@pytest.mark.parametrize(("before", "after"), ALLOWED, ids=[f"{b}->{a}" for b, a in ALLOWED])
def test_an_allowed_transition_returns_the_record_in_the_new_status_and_leaves_the_old_one_alone(before, after):
    old = record(before)

    new = old.to(after, reason="why")

    assert new.status is after and new.reason == "why"
    assert old.status is before and old.reason == ""


@pytest.mark.parametrize(("before", "after"), FORBIDDEN, ids=[f"{b}->{a}" for b, a in FORBIDDEN])
def test_a_transition_outside_the_table_raises_naming_both_states(before, after):
    with pytest.raises(IllegalTransition) as raised:
        record(before).to(after)

    assert f"{before} -> {after} is not an allowed transition" in str(raised.value)
    assert not isinstance(raised.value, BluegreenError)  # a bug in bluegreen, never a user error


def test_finished_deployments_go_nowhere_and_every_in_flight_one_can_be_rolled_back():
    assert TRANSITIONS[Status.SUCCEEDED] == TRANSITIONS[Status.ROLLED_BACK] == frozenset()
    for status in IN_FLIGHT | {Status.KEEPING_WARM, Status.FAILED}:
        assert Status.ROLLING_BACK in TRANSITIONS[status], status


def test_other_fields_change_without_touching_the_status_and_the_status_only_through_the_table():
    running = record()

    assert running.with_(next_step=4).next_step == 4
    with pytest.raises(ValueError, match="Deployment.to"):
        running.with_(status=Status.SUCCEEDED)
    with pytest.raises(TypeError, match="no field nxt_step"):
        running.with_(nxt_step=4)


def test_a_record_written_by_the_dict_based_code_loads_with_its_values_typed():
    plan = web_plan()
    old = {"id": DEPLOYMENT_ID, "deployment_id": DEPLOYMENT_ID, "service": "web", "status": "keeping-warm",
           "operation": "deploy", "strategy": "ecs-target-group-swap", "from_color": "blue", "to_color": "green",
           "image": V2, "started_at": "2027-01-15T08:00:00+00:00", "started_epoch": 1800000000.5,
           "plan": plan.model_dump_json(), "next_step": 10, "who": "jenkins@agent-3 (https://ci/job/42)",
           "spec_path": "deployments/web.yaml", "keep_warm_until": 1800000900.5,
           "keep_warm_until_iso": "2027-01-15T08:15:00+00:00", "history_written": True}

    loaded = Deployment.from_record(old)

    assert loaded.status is Status.KEEPING_WARM and loaded.strategy is Strategy.ECS_TARGET_GROUPS
    assert loaded.from_color is Color.BLUE and loaded.to_color is Color.GREEN
    assert loaded.plan == plan and loaded.keep_warm_until == 1800000900.5 and loaded.history_written
    assert loaded.live_before is None  # the old code did not record it


def test_a_record_that_only_names_its_deployment_id_loads():
    loaded = Deployment.from_record({"deployment_id": DEPLOYMENT_ID, "service": "web", "status": "rolled-back",
                                     "plan": web_plan().model_dump_json(), "rollback_failures": []})

    assert loaded.id == DEPLOYMENT_ID and loaded.status is Status.ROLLED_BACK


def test_a_stored_record_keeps_the_keys_and_strings_readers_of_the_old_records_use():
    stored = record(Status.ROLLBACK_FAILED).with_(rollback_failures=("undo-shift-10: throttled",)).to_record()

    assert json.loads(json.dumps(stored)) == stored  # plain JSON for every store
    assert stored["id"] == stored["deployment_id"] == DEPLOYMENT_ID
    assert stored["status"] == "rollback-failed" and stored["rollback_failures"] == ["undo-shift-10: throttled"]
    assert isinstance(stored["plan"], str) and Deployment.from_record(stored).plan == web_plan()
    assert Deployment.from_record(stored) == Deployment.from_record(json.loads(json.dumps(stored)))


def test_what_was_live_before_is_the_live_colors_revision_count_and_image(tmp_path):
    spec = web_spec(tmp_path).spec

    before = live_before(spec, web_plan())

    assert before == LiveBefore(color=Color.BLUE, resource="ecs service web-blue", image=V1,
                                task_definition=revision(1), desired_count=2)


def test_what_was_live_before_an_auto_scaling_swap_is_the_live_groups_version_and_capacity():
    spec = load_spec(REPO / "deployments" / "legacy.yaml").spec
    plan = web_plan().model_copy(update={
        "strategy": Strategy.ASG_SWAP, "steps": [], "live_color": "green",
        "changes": [], "facts": {"asg legacy-green": "lt=legacy:7 capacity=2/3/6 tgs=legacy elbs=",
                                 "asg legacy-blue": "lt=legacy:6 capacity=0/0/6 tgs= elbs="}})

    before = live_before(spec, plan)

    assert before == LiveBefore(color=Color.GREEN, resource="asg legacy-green", launch_template_version="7",
                                desired_count=3)


def test_a_new_record_starts_running_with_the_plans_colors_pinned_image_and_live_state(tmp_path):
    from support.runs import running_record
    from support.clock import FakeClock

    clock = FakeClock()

    started = running_record(web_spec(tmp_path).spec, web_plan(), clock)

    assert started.status is Status.RUNNING and started.next_step == 0
    assert (started.from_color, started.to_color) == (Color.BLUE, Color.GREEN)
    assert started.image == f"{REPOSITORY_URI}@sha256:{'2' * 64}" and started.started_epoch == clock.wall()
    assert started.live_before is not None and started.live_before.task_definition == revision(1)


def test_what_was_live_before_a_task_definition_swap_is_the_one_services_revision_and_count():
    spec = load_spec(REPO / "deployments" / "worker.yaml").spec
    register = next(s for s in web_plan().steps if s.id == "register-task-definition")
    worker_revision = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:4"
    plan = web_plan().model_copy(update={
        "strategy": Strategy.ECS_TASK_DEFINITION, "live_color": None, "target_color": None, "changes": [],
        "steps": [register.model_copy(update={"base_arn": worker_revision, "image": V1})],
        "facts": {"ecs service worker": "worker:4 desired=3"}})

    before = live_before(spec, plan)

    assert before == LiveBefore(resource="ecs service worker", image=V1, task_definition=worker_revision,
                                desired_count=3)  # a configuration-only change: the image stays
