"""Auto Scaling group swap, planned from hand-built live state and compared step for step."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.steps import (
    Attach, Bake, Capacity, CheckAlarms, CreateGroup, CreateLaunchTemplateVersion, DeleteGroup, KeepWarm,
    PutParameter, SetWeights, SuspendProcesses, UpdateGroup, WaitGroupInService, WaitTargetsHealthy,
)
from bluegreen.domain.spec import Spec
from bluegreen.planning.planner import make_plan
from support.builders import (
    NOW, asg, boot_script, by_name, classic_elb, launch_template, listener, listener_arn, live_weights, pinned,
    route, snapshot, spec, target_group, tg_arn,
)

PROCESSES = ["AlarmNotification", "AZRebalance", "ScheduledActions"]
TRAFFIC = {"target group": {"target_group": "legacy"}, "classic ELB": {"classic_elb": "legacy-elb"},
           "routes": {"routes": [route("legacy-alb", 80, "legacy-blue", "legacy-green")]}}
WAITS = dict(deadline=900.0, interval=10.0)
TG = tg_arn("legacy")


def legacy_spec(traffic: str = "target group", **sections) -> Spec:
    platform = {"launch_template": "legacy", "name_pattern": "legacy-{color}",
                "image_delivery": {"method": "user-data", "container_port": 8080, "host_port": 80}}
    platform |= sections.pop("asg", {})
    sections.setdefault("health", {"checks": ["asg-in-service", "target-health", "alarms"], "alarms": ["legacy-5xx"],
                                   "deadline": "15m", "bake": "5m"})
    sections.setdefault("rollback", {"keep_blue_warm": "1h"})
    return spec("legacy", {"asg": platform}, TRAFFIC[traffic], **sections)


def legacy_world(live: Color, traffic: str = "target group", *, version: str = "1", idle: bool = True,
                 runs: str = "legacy:v1", suspended: tuple[str, ...] = ()) -> Snapshot:
    """The live group runs `runs` at 2/2/4 attached to production; the idle one is at 0 (or absent)."""
    on = {"target group": dict(target_groups=["legacy"]), "classic ELB": dict(classic_elbs=["legacy-elb"]),
          "routes": dict(target_groups=[f"legacy-{live}"])}[traffic]
    idle_on = {"routes": dict(target_groups=[f"legacy-{live.other}"])}.get(traffic, {})
    ud = boot_script(runs)
    groups = [asg(f"legacy-{live}", 2, version=version, user_data=ud, suspended=suspended,
                  tags={"team": "payments", "aws:autoscaling:groupName": f"legacy-{live}"}, **on)]
    if idle:
        groups.append(asg(f"legacy-{live.other}", 0, min_size=0, version=version, user_data=ud, **idle_on))
    return snapshot(
        "legacy", asgs=by_name(*groups), launch_templates=by_name(launch_template("legacy", 3, 2, ud)),
        target_groups=by_name(target_group("legacy", 2, deregistration_delay=300),
                              *(target_group(f"legacy-{c}", 2 if c is live else 0, deregistration_delay=45) for c in Color)),
        classic_elbs=by_name(classic_elb("legacy-elb")),
        listeners=(listener("legacy-alb", 80, live_weights("legacy-blue", "legacy-green", live)),),
        alarms={"legacy-5xx": "OK"})


def bring_up(live: Color) -> list:
    """Both groups frozen, the image in a new launch template version, the idle group at live capacity, InService."""
    new = f"legacy-{live.other}"
    return [
        CheckAlarms(id="check-alarms", phase="preflight", alarms=["legacy-5xx"]),
        SuspendProcesses(id=f"suspend-{new}", phase="prepare", group=new, processes=PROCESSES),
        SuspendProcesses(id=f"suspend-legacy-{live}", phase="prepare", group=f"legacy-{live}", processes=PROCESSES),
        CreateLaunchTemplateVersion(id="create-launch-template-version", phase="prepare", template="legacy",
                                    source_version=3, image=pinned("legacy"),
                                    user_data=boot_script(pinned("legacy"), host_port=80, container_port=8080)),
        UpdateGroup(id=f"scale-{new}", phase="prepare", group=new, capacity=Capacity(min=2, max=4, desired=2),
                    previous_capacity=Capacity(min=0, max=4, desired=0), launch_template="legacy",
                    launch_template_version="@create-launch-template-version", previous_launch_template_version="1"),
        WaitGroupInService(id=f"wait-{new}-in-service", phase="rollout", group=new, desired=2, expected=90.0, **WAITS),
    ]


def retire(live: Color, drain: float) -> list:
    new, old = f"legacy-{live.other}", f"legacy-{live}"
    return [
        SuspendProcesses(id=f"resume-{new}", phase="verify", group=new, processes=PROCESSES, resume=True),
        SuspendProcesses(id=f"resume-{old}", phase="verify", group=old, processes=PROCESSES, resume=True),
        KeepWarm(id=f"keep-{live}-warm", phase="finalize", color=live, duration=3600.0, drain_seconds=drain),
        UpdateGroup(id=f"scale-down-{old}", phase="finalize", group=old, capacity=Capacity(min=0, max=4, desired=0),
                    previous_capacity=Capacity(min=2, max=4, desired=2)),
    ]


@pytest.mark.parametrize("live", list(Color))
def test_behind_one_target_group_the_new_group_joins_is_gated_then_the_old_one_leaves(live):
    plan = make_plan(legacy_spec(), legacy_world(live), image_tag="v2", now=NOW)

    new, old = f"legacy-{live.other}", f"legacy-{live}"
    assert plan.steps == bring_up(live) + [
        Attach(id=f"attach-{new}", phase="shift", group=new, target_group_arns=[TG], names={TG: "legacy"}),
        WaitTargetsHealthy(id="rollout-legacy-healthy", phase="rollout", target_group_arn=TG, target_group="legacy",
                           min_healthy=2, expected=30.0, group=new, **WAITS),
        Attach(id=f"detach-{old}", phase="shift", group=old, target_group_arns=[TG], names={TG: "legacy"}, detach=True),
        Bake(id="bake-100", phase="shift", duration=300.0, alarms=["legacy-5xx"], target_group_arns=[TG], interval=10.0),
    ] + retire(live, drain=300.0)
    assert (plan.live_color, plan.target_color) == (live, live.other)
    assert plan.state == [f"legacy-blue: {'attached' if live is Color.BLUE else 'not attached'}, "
                          f"{2 if live is Color.BLUE else 0}/{2 if live is Color.BLUE else 0} InService",
                          f"legacy-green: {'attached' if live is Color.GREEN else 'not attached'}, "
                          f"{2 if live is Color.GREEN else 0}/{2 if live is Color.GREEN else 0} InService"]
    assert plan.rollback[0] == (f"during the swap: re-attach {old}, detach {new}, restore {new}'s capacity and resume "
                                "exactly the scaling processes this deployment suspended")


@pytest.mark.parametrize("live", list(Color))
def test_behind_a_classic_elb_the_new_group_must_be_in_service_in_the_elb_before_the_old_one_leaves(live):
    plan = make_plan(legacy_spec("classic ELB"), legacy_world(live, "classic ELB"), image_tag="v2", now=NOW)

    new, old = f"legacy-{live.other}", f"legacy-{live}"
    assert plan.steps == bring_up(live) + [
        Attach(id=f"attach-{new}", phase="shift", group=new, classic_elbs=["legacy-elb"]),
        WaitGroupInService(id=f"wait-{new}-in-elb", phase="rollout", group=new, desired=2, classic_elb="legacy-elb",
                           expected=30.0, **WAITS),
        Attach(id=f"detach-{old}", phase="shift", group=old, classic_elbs=["legacy-elb"], detach=True),
        Bake(id="bake-100", phase="shift", duration=300.0, alarms=["legacy-5xx"], interval=10.0),
    ] + retire(live, drain=0.0)


@pytest.mark.parametrize("live", list(Color))
def test_behind_routes_each_group_has_its_own_target_group_and_the_listener_weights_move(live):
    spec_ = legacy_spec("routes", shift={"mode": "canary", "percentages": [50, 100]})

    plan = make_plan(spec_, legacy_world(live, "routes"), image_tag="v2", now=NOW)

    new, old = f"legacy-{live.other}", f"legacy-{live}"
    new_arn, old_arn = tg_arn(new), tg_arn(old)
    names = {tg_arn("legacy-blue"): "legacy-blue", tg_arn("legacy-green"): "legacy-green"}
    bake = dict(phase="shift", duration=300.0, alarms=["legacy-5xx"], target_group_arns=[new_arn], interval=10.0)
    weights = dict(listener_arn=listener_arn("legacy-alb", 80), label="legacy-alb:80", names=names, phase="shift")
    assert plan.steps == bring_up(live) + [
        Attach(id=f"attach-{new}", phase="rollout", group=new, target_group_arns=[new_arn], names={new_arn: new}),
        WaitTargetsHealthy(id=f"rollout-{new}-healthy", phase="rollout", target_group_arn=new_arn, target_group=new,
                           min_healthy=2, expected=30.0, group=new, **WAITS),
        SetWeights(id="shift-50", weights={old_arn: 50, new_arn: 50}, previous={old_arn: 100, new_arn: 0}, **weights),
        Bake(id="bake-50", **bake),
        SetWeights(id="shift-100", weights={old_arn: 0, new_arn: 100}, previous={old_arn: 50, new_arn: 50}, **weights),
        Bake(id="bake-100", **bake),
    ] + retire(live, drain=45.0)
    assert plan.warnings == []


def test_a_canary_behind_one_target_group_is_all_at_once_and_the_plan_says_so():
    spec_ = legacy_spec(shift={"mode": "canary", "percentages": [10, 100]})

    plan = make_plan(spec_, legacy_world(Color.BLUE), image_tag="v2", now=NOW)

    assert [s.id for s in plan.steps if isinstance(s, Bake)] == ["bake-100"]
    assert [t.percent for t in plan.traffic] == [100]
    assert ("shift canary needs two weighted target groups (routes); with one target group or a classic ELB the "
            "swap is all at once") in plan.warnings


@pytest.mark.parametrize("live", list(Color))
def test_ssm_parameter_delivery_writes_the_new_colors_parameter_and_keeps_the_launch_template(live):
    spec_ = legacy_spec(asg={"image_delivery": {"method": "ssm-parameter", "parameter": "/legacy/{color}/image"}})
    world = replace(legacy_world(live), image_parameters={f"/legacy/{live}/image": "legacy:v1",
                                                          f"/legacy/{live.other}/image": "legacy:v0"})

    plan = make_plan(spec_, world, image_tag="v2", now=NOW)

    new = f"legacy-{live.other}"
    assert plan.steps[3:6] == [
        PutParameter(id="put-image-parameter", phase="prepare", name=f"/legacy/{live.other}/image",
                     value=pinned("legacy"), previous="legacy:v0"),
        UpdateGroup(id=f"scale-{new}", phase="prepare", group=new, capacity=Capacity(min=2, max=4, desired=2),
                    previous_capacity=Capacity(min=0, max=4, desired=0)),
        WaitGroupInService(id=f"wait-{new}-in-service", phase="rollout", group=new, desired=2, expected=90.0, **WAITS),
    ]
    assert plan.changes[0].before == "legacy:v1"  # what the live color's parameter holds
    assert not any(isinstance(s, CreateLaunchTemplateVersion) for s in plan.steps)


def test_ssm_parameter_already_holding_the_digest_means_no_changes():
    spec_ = legacy_spec(asg={"image_delivery": {"method": "ssm-parameter", "parameter": "/legacy/{color}/image"}})
    world = replace(legacy_world(Color.GREEN), image_parameters={"/legacy/green/image": pinned("legacy")})

    plan = make_plan(spec_, world, image_tag="v2", now=NOW)

    assert plan.steps == [] and plan.changes == [] and plan.errors == []


@pytest.mark.parametrize("live", list(Color))
def test_a_missing_idle_group_is_recreated_as_an_empty_copy_of_the_live_one(live):
    plan = make_plan(legacy_spec(), legacy_world(live, idle=False), image_tag="v2", now=NOW)

    new, old = f"legacy-{live.other}", f"legacy-{live}"
    assert plan.steps[1:7] == [
        SuspendProcesses(id=f"suspend-{old}", phase="prepare", group=old, processes=PROCESSES),
        CreateLaunchTemplateVersion(id="create-launch-template-version", phase="prepare", template="legacy",
                                    source_version=3, image=pinned("legacy"),
                                    user_data=boot_script(pinned("legacy"), host_port=80, container_port=8080)),
        CreateGroup(id=f"create-{new}", phase="prepare", group=new, copy_of=old, launch_template="legacy",
                    launch_template_version="@create-launch-template-version", subnets=["subnet-a", "subnet-b"],
                    health_check_type="ELB", health_check_grace=90, tags={"team": "payments"}),
        SuspendProcesses(id=f"suspend-{new}", phase="prepare", group=new, processes=PROCESSES),
        UpdateGroup(id=f"scale-{new}", phase="prepare", group=new, capacity=Capacity(min=2, max=4, desired=2),
                    previous_capacity=Capacity(min=0, max=0, desired=0), launch_template="legacy",
                    launch_template_version="@create-launch-template-version",
                    previous_launch_template_version="@create-launch-template-version"),
        WaitGroupInService(id=f"wait-{new}-in-service", phase="rollout", group=new, desired=2, expected=90.0, **WAITS),
    ]
    assert [s.id for s in plan.steps if isinstance(s, SuspendProcesses) and s.resume] == [f"resume-{old}", f"resume-{new}"]
    assert f"{new}: absent (the deployment recreates it)" in plan.state


def test_a_live_group_following_latest_is_pinned_to_what_it_runs_before_the_new_version_exists():
    plan = make_plan(legacy_spec(), legacy_world(Color.BLUE, version="$Latest"), image_tag="v2", now=NOW)

    same = Capacity(min=2, max=4, desired=2)
    assert plan.steps[1] == UpdateGroup(id="pin-legacy-blue", phase="prepare", group="legacy-blue", capacity=same,
                                        previous_capacity=same, launch_template="legacy", launch_template_version="3",
                                        previous_launch_template_version="3")
    scale = next(s for s in plan.steps if s.id == "scale-legacy-green")
    assert scale.previous_launch_template_version == "3"  # rollback puts green back on what $Latest meant


def test_only_processes_not_already_suspended_are_suspended_and_resumed():
    spec_ = legacy_spec(asg={"suspend_processes": ["AZRebalance", "Launch"]})

    plan = make_plan(spec_, legacy_world(Color.BLUE, suspended=("AZRebalance",)), image_tag="v2", now=NOW)

    suspends = [(s.id, s.processes) for s in plan.steps if isinstance(s, SuspendProcesses)]
    assert suspends == [("suspend-legacy-green", ["AZRebalance", "Launch"]), ("suspend-legacy-blue", ["Launch"]),
                        ("resume-legacy-green", ["AZRebalance", "Launch"]), ("resume-legacy-blue", ["Launch"])]


def test_one_remaining_group_deletes_the_old_one_after_keep_warm_and_the_spec_capacity_is_used():
    spec_ = legacy_spec(asg={"max_remaining_groups": 1, "capacity": {"min": 1, "max": 6, "desired": 3}})

    plan = make_plan(spec_, legacy_world(Color.GREEN), image_tag="v2", now=NOW)

    assert plan.steps[-1] == DeleteGroup(id="delete-legacy-green", phase="finalize", group="legacy-green",
                                         reason="max_remaining_groups 1; the next deploy recreates it")
    scale = next(s for s in plan.steps if s.id == "scale-legacy-blue")
    assert scale.capacity == Capacity(min=1, max=6, desired=3)
    assert next(s for s in plan.steps if isinstance(s, WaitTargetsHealthy)).min_healthy == 3


def test_the_live_group_already_running_the_digest_means_no_changes():
    plan = make_plan(legacy_spec(), legacy_world(Color.BLUE, runs=pinned("legacy")), image_tag="v2", now=NOW)

    assert plan.steps == [] and plan.changes == [] and plan.errors == []


def test_no_image_tag_means_no_changes_even_when_the_live_image_is_unknown():
    world = legacy_world(Color.BLUE)
    world = replace(world, asgs={n: replace(g, user_data=None) for n, g in world.asgs.items()},
                    launch_templates={"legacy": replace(world.launch_templates["legacy"], user_data=None)})

    plan = make_plan(legacy_spec(), world, now=NOW)

    assert plan.steps == [] and plan.errors == []


def _group(world: Snapshot, name: str, **fields) -> Snapshot:
    """`world` with one group's fields replaced."""
    return replace(world, asgs={**world.asgs, name: replace(world.asgs[name], **fields)})


REFUSALS = {
    "both groups attached": ("target group", lambda w: _group(
        w, "legacy-green", target_group_arns=(TG,), desired=2),
        "both groups are attached to legacy: a swap is in flight; roll it back or promote it first"),
    "both groups in the classic ELB": ("classic ELB", lambda w: _group(
        w, "legacy-green", load_balancer_names=("legacy-elb",), desired=2),
        "both groups are attached to legacy-elb: a swap is in flight; roll it back or promote it first"),
    # the serving group attached to nothing, or routes forwarding elsewhere: wiring checks (test_wiring_checks.py)
    "the attached group has no capacity": ("target group", lambda w: _group(w, "legacy-blue", desired=0),
                                           "neither group is attached to legacy with capacity"),
    "neither group exists": ("target group", lambda w: replace(w, asgs={}),
                             "neither Auto Scaling group (legacy-blue, legacy-green) exists"),
    "the target group is not found": ("target group", lambda w: replace(w, target_groups={}),
                                      "target group legacy not found"),
    "the classic ELB is not found": ("classic ELB", lambda w: replace(w, classic_elbs={}),
                                     "classic load balancer legacy-elb not found"),
    "the launch template is not found": ("target group", lambda w: replace(w, launch_templates={}),
                                         "launch template legacy not found"),
    "the live group behind routes is not found": ("routes", lambda w: replace(w, asgs={}),
                                                  "Auto Scaling group legacy-blue not found"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_live_state_that_cannot_be_swapped_is_refused(case):
    traffic, broken, message = REFUSALS[case]

    plan = make_plan(legacy_spec(traffic), broken(legacy_world(Color.BLUE, traffic)), image_tag="v2", now=NOW)

    assert plan.steps == []
    assert plan.errors == [f"asg-swap cannot be used: {message}"]
