"""The planner is a pure function: these tests build live state by hand and compare whole plans."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bluegreen.planning.planner import make_plan
from bluegreen.domain.snapshot import (
    EcsService, ImageInfo, Listener, Rule, Snapshot, TargetGroup, TargetHealth, TaskDefinition,
)
from bluegreen.domain.spec import Spec
from bluegreen.domain.steps import (
    Bake, CheckAlarms, KeepWarm, RegisterTaskDefinition, SetWeights, UpdateService, WaitServiceStable,
    WaitTargetsHealthy, rollback_steps,
)

ACCOUNT = "123456789012"
REPO_URI = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web"
DIGEST = "sha256:" + "ab" * 32
TG = {c: f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/web-{c}/{c}0" for c in ("blue", "green")}
LISTENER = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/web-alb/1/80"
TD1 = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:1"
NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)

SPEC = Spec.model_validate({
    "service": "web",
    "image": {"repository": "web"},
    "platform": {"ecs": {"cluster": "prod", "services": {"blue": "web-blue", "green": "web-green"},
                         "container": "web", "environment": {"LOG_LEVEL": "debug"}}},
    "traffic": {"routes": [{"load_balancer": "web-alb", "port": 80, "blue_target_group": "web-blue",
                            "green_target_group": "web-green"}]},
    "shift": {"mode": "canary", "percentages": [25, 100]},
    "health": {"alarms": ["web-5xx"], "deadline": "5m", "interval": "5s", "bake": "1m"},
    "rollback": {"keep_blue_warm": "10m"},
})


def target_group(color: str, healthy: int) -> TargetGroup:
    return TargetGroup(arn=TG[color], name=f"web-{color}", protocol="HTTP", port=8080, target_type="ip",
                       health_check_interval=10, healthy_threshold=3, deregistration_delay=30,
                       load_balancer_arns=(), targets=tuple(TargetHealth(f"10.0.0.{i}", 8080, "healthy")
                                                            for i in range(healthy)))


def service(color: str, desired: int) -> EcsService:
    return EcsService(cluster="prod", name=f"web-{color}", arn=f"arn:svc/web-{color}", status="ACTIVE",
                      task_definition=TD1, desired=desired, running=desired, pending=0, launch_type="FARGATE",
                      deployments=(), target_group_arns=(TG[color],), circuit_breaker=False)


def snapshot(blue_weight: int = 100, alarm: str = "OK") -> Snapshot:
    green_weight = 100 - blue_weight
    live = "blue" if blue_weight else "green"
    rule = Rule(arn=LISTENER, priority=None, forward=((TG["blue"], blue_weight), (TG["green"], green_weight)))
    body = {"family": "web", "containerDefinitions": [
        {"name": "web", "image": f"{REPO_URI}:v1", "environment": [{"name": "LOG_LEVEL", "value": "info"}]}]}
    return Snapshot(
        service="web", region="us-east-1",
        listeners=(Listener(arn=LISTENER, load_balancer="web-alb", port=80, protocol="HTTP", default=rule),),
        target_groups={f"web-{c}": target_group(c, 2 if c == live else 0) for c in ("blue", "green")},
        ecs_services={f"web-{c}": service(c, 2 if c == live else 0) for c in ("blue", "green")},
        task_definitions={TD1: TaskDefinition(arn=TD1, family="web", revision=1, body=body)},
        alarms={"web-5xx": alarm},
        image=ImageInfo(repository="web", repository_exists=True, repository_uri=REPO_URI, tag="v2", digest=DIGEST),
    )


def test_target_group_swap_plan_is_exactly_these_steps():
    plan = make_plan(SPEC, snapshot(), image_tag="v2", now=NOW)

    pinned = f"{REPO_URI}@{DIGEST}"
    names = {TG["blue"]: "web-blue", TG["green"]: "web-green"}
    bake = dict(alarms=["web-5xx"], target_group_arns=[TG["green"]], probe=None, interval=5.0)
    assert plan.steps == [
        CheckAlarms(id="check-alarms", phase="preflight", alarms=["web-5xx"]),
        RegisterTaskDefinition(id="register-task-definition", phase="prepare", family="web", base_arn=TD1,
                               container="web", image=pinned, environment={"LOG_LEVEL": "debug"}),
        UpdateService(id="deploy-web-green", phase="prepare", cluster="prod", service="web-green",
                      task_definition="@register-task-definition", previous_task_definition=TD1,
                      desired_count=2, previous_desired_count=0),
        WaitServiceStable(id="wait-web-green-stable", phase="rollout", cluster="prod", service="web-green",
                          task_definition="@register-task-definition", desired_count=2, deadline=300.0, interval=5.0),
        WaitTargetsHealthy(id="rollout-web-green-healthy", phase="rollout", target_group_arn=TG["green"],
                           target_group="web-green", min_healthy=2, deadline=300.0, interval=5.0, expected=30.0),
        SetWeights(id="shift-25", phase="shift", listener_arn=LISTENER, label="web-alb:80",
                   weights={TG["blue"]: 75, TG["green"]: 25}, previous={TG["blue"]: 100, TG["green"]: 0}, names=names),
        Bake(id="bake-25", phase="shift", duration=60.0, **bake),
        SetWeights(id="shift-100", phase="shift", listener_arn=LISTENER, label="web-alb:80",
                   weights={TG["blue"]: 0, TG["green"]: 100}, previous={TG["blue"]: 75, TG["green"]: 25}, names=names),
        Bake(id="bake-100", phase="shift", duration=60.0, **bake),
        WaitTargetsHealthy(id="verify-web-green-healthy", phase="verify", target_group_arn=TG["green"],
                           target_group="web-green", min_healthy=2, deadline=300.0, interval=5.0, expected=30.0),
        KeepWarm(id="keep-blue-warm", phase="finalize", color="blue", duration=600.0, drain_seconds=30.0),
        UpdateService(id="scale-down-web-blue", phase="finalize", cluster="prod", service="web-blue",
                      desired_count=0, previous_desired_count=2),
    ]
    assert plan.live_color == "blue" and plan.target_color == "green"
    assert [c.field for c in plan.changes] == ["image", "environment.LOG_LEVEL"]
    assert plan.errors == []


def test_live_color_comes_from_weights_not_names():
    plan = make_plan(SPEC, snapshot(blue_weight=0), image_tag="v2", now=NOW)

    assert plan.live_color == "green" and plan.target_color == "blue"
    assert next(s for s in plan.steps if isinstance(s, UpdateService)).service == "web-blue"


def test_split_traffic_refuses_to_plan_a_new_deployment():
    plan = make_plan(SPEC, snapshot(blue_weight=90), image_tag="v2", now=NOW)

    assert plan.steps == []
    assert any("splits traffic blue 90 / green 10" in e for e in plan.errors)


def test_alarm_already_firing_is_an_error_naming_the_alarm():
    plan = make_plan(SPEC, snapshot(alarm="ALARM"), image_tag="v2", now=NOW)

    assert any("web-5xx" in e and "ALARM" in e for e in plan.errors)


def test_rollback_restores_each_listener_in_one_change_before_scaling_green_down():
    plan = make_plan(SPEC, snapshot(), image_tag="v2", now=NOW)
    done = [s for s in plan.steps if s.id in {"register-task-definition", "deploy-web-green", "shift-25", "shift-100"}]

    inverses = rollback_steps(done)

    assert [type(s).__name__ for s in inverses] == ["SetWeights", "UpdateService"]
    assert inverses[0].weights == {TG["blue"]: 100, TG["green"]: 0}
    assert inverses[0].previous == {TG["blue"]: 0, TG["green"]: 100}
    assert inverses[1].service == "web-green" and inverses[1].desired_count == 0
    assert inverses[1].task_definition == TD1


def test_no_image_tag_and_no_config_change_means_no_changes():
    spec = SPEC.model_copy(update={"platform": SPEC.platform.model_copy(update={
        "ecs": SPEC.platform.ecs.model_copy(update={"environment": {}})})})

    plan = make_plan(spec, snapshot(), now=NOW)

    assert plan.steps == [] and not plan.has_changes and plan.errors == []


def test_unknown_image_tag_is_a_failed_preflight_check():
    snap = snapshot()
    snap = Snapshot(**{**snap.__dict__, "image": ImageInfo("web", True, REPO_URI, "nope", None)})

    plan = make_plan(SPEC, snap, image_tag="nope", now=NOW)

    assert any("tag nope not found" in e for e in plan.errors)


@pytest.mark.parametrize("mode, weights", [("all-at-once", [100]), ("linear", [40, 80, 100])])
def test_shift_policy_sets_the_traffic_steps(mode, weights):
    shift = {"mode": mode} | ({"step_percent": 40, "interval": "30s"} if mode == "linear" else {})
    spec = Spec.model_validate(SPEC.model_dump(mode="json") | {"shift": shift})

    plan = make_plan(spec, snapshot(), image_tag="v2", now=NOW)

    assert [t.percent for t in plan.traffic] == weights
    assert [s.weights[TG["green"]] for s in plan.steps if isinstance(s, SetWeights)] == weights


def test_estimate_adds_up_per_phase_budgets_from_live_settings():
    plan = make_plan(SPEC, snapshot(), image_tag="v2", now=NOW)

    assert plan.estimated_seconds == pytest.approx(sum(b.seconds for b in plan.budgets))
    shift = next(b for b in plan.budgets if b.phase == "shift")
    assert shift.seconds >= 120  # two steps x 1m bake
    assert any("deregistration delay" in w for w in plan.warnings) is False  # 30s < 1m bake
