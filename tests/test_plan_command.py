"""`bluegreen plan`, end to end: through the CLI, against moto's HTTP server, in a scratch directory.

Every test copies `deployments/` into a temporary working directory (the CLI reads relative paths),
seeds the live infrastructure the examples refer to with `bluegreen.adapters.seed` (the same seeding
the demo and benchmarks use), puts a second image tag `v2` into each repository, and runs
`bluegreen.cli.main.main([...])` in-process, reading its output with capsys.

What is proven here, example by example:

- the strategy chosen and the reason given for it, in text and in JSON;
- the live color is read from listener weights, group attachments and record weights (seeding
  green as live makes the plan deploy to blue);
- the steps, in order, and that the inverse of every mutating step puts back what was there;
- impossible strategies are refused (exit 2) naming what is missing;
- every AWS operation `plan` makes is read-only;
- Markdown for pull requests (a summary table, one <details> per service) and no secret value in
  any format; JSON that validates against the checked-in schema and round-trips losslessly;
- `--detailed-exitcode`, `--offline`, `--out`, and an alarm in ALARM.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from bluegreen.adapters.aws.session import Aws, is_read_only
from bluegreen.local.seed import SeedResult, put_image, seed
from bluegreen.cli.main import main
from bluegreen.specfiles.loader import load_spec
from bluegreen.domain.plan import Plan, dump, load, plan_schema
from bluegreen.domain.steps import (
    Attach, SetRecordWeights, SetWeights, Step, SuspendProcesses, UpdateGroup, UpdateService, rollback_steps,
)

REPO = Path(__file__).resolve().parent.parent
DEPLOYMENTS = REPO / "deployments"
PLAN_SCHEMA = REPO / "schema" / "plan.schema.json"
EXAMPLES = ("web", "worker", "legacy", "api")
ENGINE_EXAMPLES = ("checkout.yaml", "billing.yaml")
COLORED = ("web", "legacy", "api")  # the examples with two colors (worker has one service)
NEW_TAG = "v2"

EXIT_OK, EXIT_INVALID, EXIT_CHANGES = 0, 2, 5

STRATEGY = {
    "web": ("ecs-target-group-swap",
            "listener web-alb:80 has blue and green target groups (web-blue, web-green) and each color has its "
            "own ECS service -> ECS target-group swap"),
    "worker": ("ecs-task-definition-swap", "strategy ecs-task-definition-swap is set explicitly in the spec"),
    "legacy": ("asg-swap",
               "platform is EC2 Auto Scaling (legacy-blue / legacy-green) behind target group legacy -> ASG swap"),
    "api": ("dns-cutover", "strategy dns-cutover is set explicitly in the spec"),
}


def shift_and_bake(kind: str, n: int) -> list[str]:
    return [kind, "bake"] * n


STEP_KINDS = {
    "web": ["check-alarms", "register-task-definition", "update-service", "wait-service-stable",
            "wait-targets-healthy", "set-weights",  # the test listener, before production
            *shift_and_bake("set-weights", 3),  # canary 10, 50, 100
            "wait-targets-healthy", "keep-warm", "update-service"],
    "worker": ["check-alarms", "register-task-definition", "update-service", "wait-service-stable",
               "wait-targets-healthy", "bake"],
    "legacy": ["check-alarms", "update-group", "suspend-processes", "suspend-processes", "create-launch-template-version",
               "update-group", "wait-group-in-service", "attach", "wait-targets-healthy", "attach", "bake",
               "suspend-processes", "suspend-processes", "keep-warm", "update-group"],
    "api": ["check-alarms", "register-task-definition", "update-service", "wait-service-stable",
            *shift_and_bake("set-record-weights", 4),  # linear, 25% a step
            "keep-warm", "update-service"],
}

MARKDOWN_COLUMNS = ["service", "strategy", "live", "changes", "estimate", "status"]


# --- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch working directory holding a copy of deployments/ (the CLI reads relative paths)."""
    work = tmp_path / "work"
    # the examples of AWS's own engines need their worlds (tests/test_deploy_native.py, test_deploy_codedeploy.py)
    shutil.copytree(DEPLOYMENTS, work / "deployments", ignore=shutil.ignore_patterns(*ENGINE_EXAMPLES))
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def world(seeder: Aws, workdir: Path) -> Callable[..., dict[str, SeedResult]]:
    """world(*examples, live_color=...): seed the examples' infrastructure and put tag v2 in their repositories."""

    def make(*names: str, live_color: str = "blue") -> dict[str, SeedResult]:
        out = {}
        for name in names or EXAMPLES:
            spec = load_spec(workdir / "deployments" / f"{name}.yaml").spec
            out[name] = seed(seeder, spec, live_color=live_color)
            put_image(seeder, spec.image.repository, NEW_TAG)
        return out

    return make


class Run:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    @property
    def all(self) -> str:
        return self.out + self.err

    def plans(self) -> dict[str, Plan]:
        """The JSON output, read back with `bluegreen.domain.plan.load` (the loader `deploy --plan-file` uses)."""
        return {p.service: p for p in _load_text(self.out)}


@pytest.fixture
def bluegreen(capsys, workdir: Path) -> Callable[..., Run]:
    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


_loaded = 0


def _load_text(text: str) -> list[Plan]:
    """`load` reads files: write the text to a fresh file in the working directory first."""
    global _loaded
    _loaded += 1
    path = Path(f"loaded-{_loaded}.json")
    path.write_text(text, encoding="utf-8")
    return load(path)


def spec_file(name: str) -> str:
    return f"deployments/{name}.yaml"


def variant(workdir: Path, name: str, new_name: str, replace: list[tuple[str, str]]) -> str:
    """A copy of an example spec with some text replaced; returns its relative path."""
    text = (DEPLOYMENTS / f"{name}.yaml").read_text(encoding="utf-8")
    for old, new in replace:
        assert old in text, f"{old!r} not in {name}.yaml"
        text = text.replace(old, new)
    target = workdir / "variants" / f"{new_name}.yaml"
    target.parent.mkdir(exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return f"variants/{new_name}.yaml"


def inverse_restores(step: Step) -> None:
    """The inverse of a mutating step puts back exactly what the step found (and re-inverts to it)."""
    inverse = step.inverse()
    if isinstance(step, (SetWeights, SetRecordWeights)):
        assert inverse.weights == step.previous and inverse.previous == step.weights
    elif isinstance(step, UpdateService):
        assert (inverse.service, inverse.desired_count, inverse.previous_desired_count) == (
            step.service, step.previous_desired_count, step.desired_count)
        if step.task_definition is not None:
            assert inverse.task_definition == step.previous_task_definition
    elif isinstance(step, UpdateGroup):
        assert (inverse.group, inverse.capacity, inverse.previous_capacity) == (
            step.group, step.previous_capacity, step.capacity)
        if step.launch_template_version is not None:
            assert inverse.launch_template_version == step.previous_launch_template_version
    elif isinstance(step, SuspendProcesses):
        assert (inverse.group, inverse.processes, inverse.resume) == (step.group, step.processes, not step.resume)
    elif isinstance(step, Attach):
        assert (inverse.group, inverse.target_group_arns, inverse.classic_elbs, inverse.detach) == (
            step.group, step.target_group_arns, step.classic_elbs, not step.detach)
    else:  # registering a revision / launch-template version adds; nothing live is overwritten
        assert step.kind in ("register-task-definition", "create-launch-template-version"), step.kind
        assert inverse is None
        return
    assert inverse.id == f"undo-{step.id}" and inverse.kind == step.kind
    assert inverse.inverse().model_dump(exclude={"id"}) == step.model_dump(exclude={"id"})


def listener_weights(aws, arn: str) -> dict[str, int]:
    listener = aws.client("elbv2").describe_listeners(ListenerArns=[arn])["Listeners"][0]
    forward = next(a for a in listener["DefaultActions"] if a["Type"] == "forward")
    return {tg["TargetGroupArn"]: tg["Weight"] for tg in forward["ForwardConfig"]["TargetGroups"]}


def record_weights(aws, zone_id: str, name: str) -> dict[str, int]:
    sets = aws.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["SetIdentifier"]: r["Weight"] for r in sets
            if r["Name"].rstrip(".") == name and "SetIdentifier" in r}


# --- strategy choice --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_gets_its_strategy_with_the_reason_in_text_and_json(name, world, bluegreen):
    world(name)
    strategy, reason = STRATEGY[name]

    text = bluegreen("plan", spec_file(name), "--image-tag", NEW_TAG)
    as_json = bluegreen("plan", spec_file(name), "--image-tag", NEW_TAG, "--format", "json")

    assert text.code == EXIT_OK, text.all
    assert f"strategy: {strategy}\n  why: {reason}\n" in text.out
    assert as_json.code == EXIT_OK, as_json.all
    plan = as_json.plans()[name]
    assert plan.strategy is not None and plan.strategy.value == strategy
    assert plan.strategy_reasons == [reason]
    assert plan.errors == []
    assert json.loads(as_json.out)["plans"][0]["strategy"] == strategy


# --- the live color ---------------------------------------------------------------------------------


@pytest.mark.parametrize("live", ["blue", "green"])
@pytest.mark.parametrize("name", COLORED)
def test_the_live_color_is_read_from_aws_and_the_plan_deploys_to_the_other(name, live, world, bluegreen):
    world(name, live_color=live)
    idle = "green" if live == "blue" else "blue"

    text = bluegreen("plan", spec_file(name), "--image-tag", NEW_TAG)
    plan = bluegreen("plan", spec_file(name), "--image-tag", NEW_TAG, "--format", "json").plans()[name]

    assert text.code == EXIT_OK, text.all
    assert f"live color: {live}; deploying to {idle}\n" in text.out
    assert (plan.live_color, plan.target_color) == (live, idle)
    evidence = {
        "web": f"listener web-alb:80: blue {100 if live == 'blue' else 0}% (web-blue), "
               f"green {100 if live == 'green' else 0}% (web-green)",
        "legacy": f"legacy-{live}: attached, 2/2 InService",
        "api": f"record api.example.com ({live}) -> api-{live}.lb.example.com: weight 100, TTL 60s",
    }[name]
    assert evidence in plan.state
    # the new version goes to the idle color, the old color is kept warm and scaled down last
    first_mutation = next(s for s in plan.steps if s.kind in ("update-service", "update-group")
                          and not s.id.startswith("pin-"))  # pinning the live group to its version comes first
    assert (getattr(first_mutation, "service", None) or first_mutation.group) == f"{name}-{idle}"
    keep_warm = next(s for s in plan.steps if s.kind == "keep-warm")
    assert keep_warm.color == live
    last = plan.steps[-1]
    assert (getattr(last, "service", None) or getattr(last, "group", None)) == f"{name}-{live}"
    assert all(live in line for line in plan.rollback[-1:])


def test_a_green_live_dns_cutover_keeps_green_warm_and_says_so(world, bluegreen):
    world("api", live_color="green")

    plan = bluegreen("plan", spec_file("api"), "--image-tag", NEW_TAG, "--format", "json").plans()["api"]

    ttl_warning = next(w for w in plan.warnings if w.startswith("resolvers may keep answering"))
    assert ttl_warning.endswith("green stays warm for 24h"), ttl_warning


def test_the_single_service_example_has_no_colors(world, bluegreen):
    world("worker")

    plan = bluegreen("plan", spec_file("worker"), "--image-tag", NEW_TAG, "--format", "json").plans()["worker"]

    assert (plan.live_color, plan.target_color) == (None, None)
    assert plan.state == ["worker runs 2/2 of worker:1"]


# --- steps and their inverses -------------------------------------------------------------------------


@pytest.mark.parametrize("live", ["blue", "green"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_steps_come_in_order_and_every_mutating_step_can_be_undone(name, live, world, bluegreen):
    world(name, live_color=live)

    run = bluegreen("plan", spec_file(name), "--image-tag", NEW_TAG, "--format", "json")

    assert run.code == EXIT_OK, run.all
    plan = run.plans()[name]
    assert [s.kind for s in plan.steps] == STEP_KINDS[name]
    assert len({s.id for s in plan.steps}) == len(plan.steps), "step ids must be unique (the journal keys on them)"
    mutating = [s for s in plan.steps if s.mutates]
    assert mutating
    for step in mutating:
        inverse_restores(step)


def test_web_weights_move_from_what_the_listener_holds_and_roll_back_to_it_in_one_change(aws, world, bluegreen):
    seeded = world("web", live_color="green")["web"]
    blue, green = seeded.target_groups["web-blue"], seeded.target_groups["web-green"]
    production, test_listener = seeded.listeners["web-alb:80"], seeded.listeners["web-alb:8080"]

    plan = bluegreen("plan", spec_file("web"), "--image-tag", NEW_TAG, "--format", "json").plans()["web"]

    moves = [s for s in plan.steps if isinstance(s, SetWeights)]
    opening, shifts = moves[0], moves[1:]
    assert (opening.production, opening.listener_arn) == (False, test_listener)
    assert opening.previous == listener_weights(aws, test_listener)
    assert opening.weights == {green: 0, blue: 100}
    assert [s.listener_arn for s in shifts] == [production] * 3
    assert [s.weights[blue] for s in shifts] == [10, 50, 100]
    assert shifts[0].previous == listener_weights(aws, production) == {blue: 0, green: 100}
    for before, after in zip(shifts, shifts[1:]):
        assert after.previous == before.weights  # each step starts where the last one left off
    # undoing everything restores production as it is now, in a single listener change
    undo = [s for s in rollback_steps(plan.steps) if isinstance(s, SetWeights) and s.listener_arn == production]
    assert len(undo) == 1 and undo[0].weights == listener_weights(aws, production)


def test_ecs_updates_name_the_revision_each_service_runs_now(aws, world, bluegreen):
    seeded = world("web", "worker")

    plans = bluegreen("plan", "--image-tag", NEW_TAG, "--format", "json",
                      spec_file("web"), spec_file("worker")).plans()

    ecs = aws.client("ecs")
    for name, service in (("web", "web-green"), ("worker", "worker")):
        update = next(s for s in plans[name].steps if isinstance(s, UpdateService) and s.service == service)
        live = ecs.describe_services(cluster="prod", services=[service])["services"][0]
        assert update.previous_task_definition == live["taskDefinition"] == seeded[name].task_definition_arn
        assert update.previous_desired_count == live["desiredCount"]
        assert update.task_definition == "@register-task-definition"
        register = plans[name].step("register-task-definition")
        assert register.base_arn == seeded[name].task_definition_arn
        assert register.image == f"{seeded[name].repository_uri}@{plans[name].image.digest}"


def test_asg_capacity_changes_restore_what_the_groups_have_now(aws, world, bluegreen):
    world("legacy")

    plan = bluegreen("plan", spec_file("legacy"), "--image-tag", NEW_TAG, "--format", "json").plans()["legacy"]

    groups = {g["AutoScalingGroupName"]: g for g in aws.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["legacy-blue", "legacy-green"])["AutoScalingGroups"]}
    for step in (s for s in plan.steps if isinstance(s, UpdateGroup)):
        group = groups[step.group]
        assert step.inverse().capacity.model_dump() == {
            "min": group["MinSize"], "max": group["MaxSize"], "desired": group["DesiredCapacity"]}
    scale_up = plan.step("scale-legacy-green")
    assert (scale_up.capacity.min, scale_up.capacity.desired, scale_up.capacity.max) == (2, 2, 4)  # blue's
    attach, detach = (s for s in plan.steps if isinstance(s, Attach))
    assert (attach.group, attach.detach, detach.group, detach.detach) == ("legacy-green", False, "legacy-blue", True)
    suspended = [s for s in plan.steps if isinstance(s, SuspendProcesses) and not s.resume]
    resumed = [s for s in plan.steps if isinstance(s, SuspendProcesses) and s.resume]
    assert sorted((s.group, tuple(s.processes)) for s in suspended) == sorted(
        (s.group, tuple(s.processes)) for s in resumed)


def test_dns_weights_move_from_the_records_as_they_are(aws, world, bluegreen):
    seeded = world("api")["api"]

    plan = bluegreen("plan", spec_file("api"), "--image-tag", NEW_TAG, "--format", "json").plans()["api"]

    moves = [s for s in plan.steps if isinstance(s, SetRecordWeights)]
    assert [s.weights["green"] for s in moves] == [25, 50, 75, 100]
    assert moves[0].previous == record_weights(aws, seeded.hosted_zone_id, "api.example.com") == {"blue": 100, "green": 0}
    for before, after in zip(moves, moves[1:]):
        assert after.previous == before.weights
    undo = [s for s in rollback_steps(plan.steps) if isinstance(s, SetRecordWeights)]
    assert len(undo) == 1 and undo[0].weights == {"blue": 100, "green": 0}
    assert all(s.ttl == 60 for s in moves)
    assert all(b.duration >= 60 for b in plan.steps if b.kind == "bake")


# --- refusals -------------------------------------------------------------------------------------------


def _other_target_group(aws, seeded: SeedResult, name: str) -> str:
    return aws.client("elbv2").create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId=seeded.vpc_id, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]


def test_an_explicit_target_group_swap_is_refused_when_the_green_target_group_does_not_exist(workdir, world, bluegreen):
    world("web")
    path = variant(workdir, "web", "web-no-green", [
        ("strategy: auto ", "strategy: ecs-target-group-swap "),
        ("green_target_group: web-green", "green_target_group: web-green-missing")])

    run = bluegreen("plan", path, "--image-tag", NEW_TAG)

    assert run.code == EXIT_INVALID, run.all
    assert "strategy: ecs-target-group-swap\n  why: strategy ecs-target-group-swap is set explicitly in the spec" in run.out
    assert "ERROR: ecs-target-group-swap cannot be used: target group web-green-missing not found" in run.out
    assert "steps:" not in run.out
    assert "Traceback" not in run.all


def test_an_explicit_target_group_swap_is_refused_when_the_listener_forwards_elsewhere(aws, workdir, world, bluegreen):
    seeded = world("web")["web"]
    other = _other_target_group(aws, seeded, "web-legacy")
    aws.client("elbv2").modify_listener(ListenerArn=seeded.listeners["web-alb:80"], DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": other, "Weight": 100}]}}])
    path = variant(workdir, "web", "web-explicit", [("strategy: auto ", "strategy: ecs-target-group-swap ")])

    run = bluegreen("plan", path, "--image-tag", NEW_TAG, "--format", "json")

    assert run.code == EXIT_INVALID, run.all
    plan = run.plans()["web"]
    assert plan.steps == [] and not plan.applicable
    assert plan.errors == ["pre-flight check failed: listener web-alb:80 forwards to web-legacy (weight 100), which is "
                           "neither blue_target_group web-blue nor green_target_group web-green"]


def test_an_explicit_asg_swap_is_refused_when_neither_group_exists(aws, workdir, world, bluegreen):
    world("legacy")
    for name in ("legacy-blue", "legacy-green"):  # one missing group is recreated; none cannot be
        aws.client("autoscaling").delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    path = variant(workdir, "legacy", "legacy-explicit", [("strategy: auto", "strategy: asg-swap")])

    run = bluegreen("plan", path, "--image-tag", NEW_TAG)

    assert run.code == EXIT_INVALID, run.all
    assert "ERROR: asg-swap cannot be used: neither Auto Scaling group (legacy-blue, legacy-green) exists" in run.out


def test_an_asg_swap_is_refused_when_no_group_is_attached(aws, world, bluegreen):
    seeded = world("legacy")["legacy"]
    aws.client("autoscaling").detach_load_balancer_target_groups(
        AutoScalingGroupName="legacy-blue", TargetGroupARNs=[seeded.target_groups["legacy"]])

    run = bluegreen("plan", spec_file("legacy"), "--image-tag", NEW_TAG)

    assert run.code == EXIT_INVALID, run.all
    assert ("ERROR: pre-flight check failed: target_group legacy, but Auto Scaling group legacy-blue (2 instance(s)) "
            "is attached to no target group") in run.out


def test_a_dns_cutover_is_refused_when_the_green_record_is_missing(aws, world, bluegreen):
    seeded = world("api")["api"]
    route53 = aws.client("route53")
    green = next(r for r in route53.list_resource_record_sets(HostedZoneId=seeded.hosted_zone_id)["ResourceRecordSets"]
                 if r.get("SetIdentifier") == "green")
    route53.change_resource_record_sets(HostedZoneId=seeded.hosted_zone_id, ChangeBatch={
        "Changes": [{"Action": "DELETE", "ResourceRecordSet": green}]})

    run = bluegreen("plan", spec_file("api"), "--image-tag", NEW_TAG)

    assert run.code == EXIT_INVALID, run.all
    assert "ERROR: dns-cutover cannot be used: no weighted record api.example.com for green in zone example.com" in run.out


def test_a_task_definition_swap_is_refused_when_the_service_does_not_exist(workdir, world, bluegreen):
    world("worker")
    path = variant(workdir, "worker", "worker-elsewhere", [("service: worker\n", "service: worker-gone\n")])

    run = bluegreen("plan", path, "--image-tag", NEW_TAG)

    assert run.code == EXIT_INVALID, run.all
    assert "ERROR: ecs-task-definition-swap cannot be used: ECS service worker-gone not found in cluster prod" in run.out


def test_a_split_listener_is_refused_as_a_deployment_in_flight(aws, world, bluegreen):
    seeded = world("web")["web"]
    blue, green = seeded.target_groups["web-blue"], seeded.target_groups["web-green"]
    aws.client("elbv2").modify_listener(ListenerArn=seeded.listeners["web-alb:80"], DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 90}, {"TargetGroupArn": green, "Weight": 10}]}}])

    run = bluegreen("plan", spec_file("web"), "--image-tag", NEW_TAG)

    assert run.code == EXIT_INVALID, run.all
    assert "splits traffic blue 90 / green 10: a deployment is in flight" in run.out


def test_one_refused_spec_fails_the_fleet_but_the_others_are_still_planned(aws, world, bluegreen):
    world()
    aws.client("autoscaling").detach_load_balancer_target_groups(  # no group serves legacy any more
        AutoScalingGroupName="legacy-blue", TargetGroupARNs=[aws.client("elbv2").describe_target_groups(
            Names=["legacy"])["TargetGroups"][0]["TargetGroupArn"]])

    run = bluegreen("plan", "--image-tag", NEW_TAG, "--format", "json")

    assert run.code == EXIT_INVALID
    plans = run.plans()
    assert {name for name, p in plans.items() if p.errors} == {"legacy"}
    assert all(plans[name].steps for name in ("web", "worker", "api"))


# --- read-only ------------------------------------------------------------------------------------------


def test_plan_makes_only_read_only_aws_calls_for_the_whole_fleet(aws, world, bluegreen, monkeypatch):
    world()
    import botocore.client

    from bluegreen.app.context import RunContext

    # every call any botocore client makes, whoever made the client ...
    everything: list[str] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        everything.append(f"{client.meta.service_model.service_name}:{operation_name}")
        return make_api_call(client, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    # ... and what the CLI's own adapters logged
    adapters: list[Aws] = []
    make_aws = RunContext.aws

    def keeping(self, region):
        made = make_aws(self, region)
        adapters.append(made)
        return made

    monkeypatch.setattr(RunContext, "aws", keeping)

    run = bluegreen("plan", "--image-tag", NEW_TAG, "--format", "markdown")

    assert run.code == EXIT_OK, run.all
    logged = [call for log in {id(a.log): a.log for a in adapters}.values() for call in log.calls]
    assert sorted(logged) == sorted(everything)
    writes = sorted({call for call in everything if not is_read_only(call)})
    assert writes == [], f"plan made non-read-only calls: {writes}"
    secret_reads = {"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "ssm:GetParameter",
                    "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"}
    assert not secret_reads & set(everything)
    # the proof covers every kind of resource the four examples use
    for needed in ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "elbv2:DescribeListeners",
                   "cloudwatch:GetMetricData", "autoscaling:DescribeAutoScalingGroups",
                   "ec2:DescribeLaunchTemplateVersions", "route53:ListResourceRecordSets",
                   "cloudwatch:DescribeAlarms", "ecr:DescribeImages", "secretsmanager:DescribeSecret"):
        assert needed in everything, f"{needed} not called: {sorted(set(everything))}"


# --- Markdown -------------------------------------------------------------------------------------------


def _markdown_tokens(text: str) -> list[Any]:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").parse(text)


def _tables(tokens: list[Any]) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first), as a Markdown reader sees them."""
    tables: list[list[list[str]]] = []
    row: list[str] | None = None
    in_cell = False
    for token in tokens:
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            in_cell = True
        elif token.type == "inline" and in_cell and row is not None:
            row.append("".join(child.content for child in token.children or [] if child.type in ("text", "code_inline")))
        elif token.type in ("th_close", "td_close"):
            in_cell = False
        elif token.type == "tr_close" and row is not None:
            tables[-1].append(row)
            row = None
    return tables


@pytest.fixture
def secret_value(aws, world) -> str:
    """Seed the fleet; give web's DATABASE_URL secret a recognisable value and read it back (test side only)."""
    seeded = world()
    reference = next(iter(seeded["web"].secrets.values()))
    sm = aws.client("secretsmanager")
    sm.put_secret_value(SecretId=reference, SecretString="postgres://web:Sup3r-S3cret-Pa55@db.internal/web")
    value = sm.get_secret_value(SecretId=reference)["SecretString"]
    assert value and "Sup3r-S3cret-Pa55" in value
    return value


def test_markdown_has_a_summary_table_and_a_details_block_per_service(secret_value, bluegreen):
    run = bluegreen("plan", "deployments/", "--image-tag", NEW_TAG, "--format", "markdown")

    assert run.code == EXIT_OK, run.all
    tokens = _markdown_tokens(run.out)
    tables = _tables(tokens)
    assert tables, "no table in the Markdown"
    summary = tables[0]
    assert summary[0] == MARKDOWN_COLUMNS
    rows = {row[0]: dict(zip(MARKDOWN_COLUMNS, row)) for row in summary[1:]}
    assert len(summary) - 1 == len(rows) == 4 and set(rows) == set(EXAMPLES)
    for name in EXAMPLES:
        assert rows[name]["strategy"] == STRATEGY[name][0]
        assert rows[name]["changes"] == f"image -> {NEW_TAG}"
        assert rows[name]["status"] == "changes"
    assert rows["web"]["live"] == "blue -> green"
    assert rows["worker"]["live"] == "-"

    html = [t.content for t in tokens if t.type == "html_block"]
    for name in EXAMPLES:
        opening = [b for b in html if "<details>" in b and f"<summary><b>{name}</b>" in b]
        assert len(opening) == 1, f"no <details>/<summary> block for {name}: {html}"
    # each opened block is closed (a service's block holds its "full image references" block)
    assert sum(b.count("</details>") for b in html) == sum(b.count("<details") for b in html) >= 4
    # each service's change table is a real table too (field / before / after)
    assert sum(1 for t in tables[1:] if t[0] == ["field", "before", "after"]) == 4
    assert secret_value not in run.out


def test_no_output_format_contains_a_secret_value(secret_value, bluegreen, workdir):
    outputs = {fmt: bluegreen("plan", "--image-tag", NEW_TAG, "--format", fmt, "--out", f"saved-{fmt}.json")
               for fmt in ("text", "markdown", "json")}

    for fmt, run in outputs.items():
        assert run.code == EXIT_OK, run.all
        for where, text in (("stdout", run.out), ("stderr", run.err),
                            ("--out", (workdir / f"saved-{fmt}.json").read_text())):
            assert secret_value not in text, f"secret value in {fmt} {where}"
            assert "Sup3r-S3cret-Pa55" not in text
    # the reference is shown (it is not a secret); the value is not
    reference = "arn:aws:secretsmanager:us-east-1:123456789012:secret:web/database-url-AbCdEf"
    assert reference in outputs["json"].out
    assert "secret references exist: 1 reference(s), values not read" in outputs["text"].out


def test_a_refused_service_shows_as_an_error_row_in_the_markdown_table(aws, world, bluegreen):
    world("legacy")
    aws.client("autoscaling").detach_load_balancer_target_groups(  # no group serves legacy any more
        AutoScalingGroupName="legacy-blue", TargetGroupARNs=[aws.client("elbv2").describe_target_groups(
            Names=["legacy"])["TargetGroups"][0]["TargetGroupArn"]])

    run = bluegreen("plan", "deployments/legacy.yaml", "--image-tag", NEW_TAG, "--format", "markdown")

    assert run.code == EXIT_INVALID
    summary = _tables(_markdown_tokens(run.out))[0]
    assert summary[1] == ["legacy", "asg-swap", "-", "cannot apply", "-", "error"]


# --- JSON -----------------------------------------------------------------------------------------------


def test_the_checked_in_plan_schema_is_the_one_the_code_publishes():
    assert json.loads(PLAN_SCHEMA.read_text(encoding="utf-8")) == plan_schema(), (
        "schema/plan.schema.json is stale: regenerate it from bluegreen.plan.plan_schema()")


@pytest.fixture
def plan_validator():
    from jsonschema import Draft202012Validator

    schema = json.loads(PLAN_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("live", ["blue", "green"])
def test_json_output_validates_against_the_published_schema(live, world, bluegreen, plan_validator):
    world(live_color=live)

    with_tag = bluegreen("plan", "--image-tag", NEW_TAG, "--format", "json")
    without = bluegreen("plan", "--format", "json")

    for run in (with_tag, without):
        assert run.code == EXIT_OK, run.all
        document = json.loads(run.out)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in plan_validator.iter_errors(document)]
        assert errors == []
        assert document["format"] == "bluegreen-plan-set" and len(document["plans"]) == 4
    kinds = {step["kind"] for plan in json.loads(with_tag.out)["plans"] for step in plan["steps"]}
    assert len(kinds) >= 12  # the schema was exercised on most step kinds, not an empty list


def test_the_schema_rejects_a_plan_it_does_not_describe(world, bluegreen, plan_validator):
    world("web")
    document = json.loads(bluegreen("plan", spec_file("web"), "--image-tag", NEW_TAG, "--format", "json").out)

    unknown_kind = json.loads(json.dumps(document))
    unknown_kind["plans"][0]["steps"][0]["kind"] = "delete-everything"
    extra_field = json.loads(json.dumps(document))
    extra_field["plans"][0]["steps"][-1]["force"] = True
    bad_color = json.loads(json.dumps(document))
    bad_color["plans"][0]["live_color"] = "purple"

    for broken in (unknown_kind, extra_field, bad_color):
        assert not plan_validator.is_valid(broken)


def test_json_round_trip_is_lossless(world, bluegreen, workdir):
    world(live_color="green")

    run = bluegreen("plan", "--image-tag", NEW_TAG, "--format", "json")

    plans = _load_text(run.out)
    assert len(plans) == 4
    again = workdir / "again.json"
    again.write_text(dump(plans), encoding="utf-8")
    assert load(again) == plans
    assert dump(plans) + "\n" == run.out  # byte for byte what the CLI printed


def test_out_saves_the_plan_that_was_printed(world, bluegreen, workdir):
    world()

    as_json = bluegreen("plan", "--image-tag", NEW_TAG, "--format", "json", "--out", "plan.json")
    as_text = bluegreen("plan", "--image-tag", NEW_TAG, "--out", "text-run.json")

    assert as_json.code == as_text.code == EXIT_OK
    saved = load(workdir / "plan.json")
    assert saved == _load_text(as_json.out)
    assert (workdir / "plan.json").read_text(encoding="utf-8") == as_json.out
    from_text_run = load(workdir / "text-run.json")  # --out is JSON whatever --format prints
    assert [p.service for p in from_text_run] == sorted(EXAMPLES)
    assert all(p.applicable and p.has_changes for p in from_text_run)


# --- exit codes -----------------------------------------------------------------------------------------


def test_detailed_exitcode_is_0_without_changes_and_5_with_a_new_image(world, bluegreen):
    world()

    unchanged = bluegreen("plan", "--detailed-exitcode")
    changed = bluegreen("plan", "--detailed-exitcode", "--image-tag", NEW_TAG)
    plain = bluegreen("plan", "--image-tag", NEW_TAG)

    assert unchanged.code == EXIT_OK, unchanged.all
    assert "4 service(s) planned: 0 with changes, 0 with errors" in unchanged.out
    assert changed.code == EXIT_CHANGES, changed.all
    assert "4 service(s) planned: 4 with changes, 0 with errors" in changed.out
    assert plain.code == EXIT_OK, plain.all


def test_an_alarm_in_alarm_is_an_error_naming_it(aws, world, bluegreen):
    world("worker")
    aws.client("cloudwatch").set_alarm_state(AlarmName="worker-dlq-depth", StateValue="ALARM",
                                             StateReason="test: the queue is backing up")

    text = bluegreen("plan", spec_file("worker"), "--image-tag", NEW_TAG)
    as_json = bluegreen("plan", spec_file("worker"), "--image-tag", NEW_TAG, "--format", "json")

    assert text.code == as_json.code == EXIT_INVALID, text.all
    cause = "alarm worker-dlq-depth is in ALARM (no deployment starts while a gate alarm fires)"
    assert f"ERROR: pre-flight check failed: {cause}" in text.out
    assert "check: FAIL alarms not in ALARM (see below)" in text.out
    assert text.out.count(cause) == 1 and text.out.count("ERROR:") == 1  # one line for one cause
    plan = as_json.plans()["worker"]
    assert any("worker-dlq-depth" in e for e in plan.errors) and not plan.applicable


def test_an_alarm_in_alarm_fails_the_plan_even_without_a_new_image(aws, world, bluegreen):
    world("web")
    aws.client("cloudwatch").set_alarm_state(AlarmName="web-p99-latency", StateValue="ALARM", StateReason="test")

    run = bluegreen("plan", spec_file("web"))

    assert run.code == EXIT_INVALID, run.all
    assert "ERROR: pre-flight check failed: alarm web-p99-latency is in ALARM" in run.out


# --- offline --------------------------------------------------------------------------------------------


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """AWS unreachable (a closed port) and every botocore call recorded, so none can go unnoticed."""
    import botocore.client

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    calls: list[str] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def refusing(client, operation_name, api_params):
        calls.append(f"{client.meta.service_model.service_name}:{operation_name}")
        return make_api_call(client, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refusing)
    yield calls


def test_offline_plans_without_aws_and_marks_what_it_could_not_know(no_aws, bluegreen):
    text = bluegreen("plan", "--offline", "--image-tag", NEW_TAG)
    markdown = bluegreen("plan", "--offline", "--image-tag", NEW_TAG, "--format", "markdown")
    as_json = bluegreen("plan", "--offline", "--image-tag", NEW_TAG, "--format", "json")

    assert no_aws == []
    assert (text.code, markdown.code, as_json.code) == (EXIT_OK, EXIT_OK, EXIT_OK), text.all
    assert text.out.count("OFFLINE: planned from the spec alone; not known: live color and weights") == 4
    assert "check: unknown alarms not in ALARM: offline: not looked up" in text.out
    assert "ERROR" not in text.out, "an offline plan is not an error: it says what it does not know"
    plans = as_json.plans()
    for name in EXAMPLES:
        plan = plans[name]
        assert plan.offline and not plan.applicable
        assert plan.strategy is not None and plan.strategy.value == STRATEGY[name][0]
        assert "live color and weights" in plan.unknowns and "image digest" in plan.unknowns
        assert plan.live_color is None and plan.steps == []
        assert all(check.ok is None for check in plan.checks)
    rows = _tables(_markdown_tokens(markdown.out))[0][1:]
    assert [row[-1] for row in rows] == ["offline"] * 4


def test_offline_with_a_global_endpoint_flag_makes_no_call_either(no_aws, bluegreen):
    run = bluegreen("--endpoint-url", "http://127.0.0.1:9", "plan", "--offline", "deployments/web.yaml")

    assert run.code == EXIT_OK, run.all
    assert no_aws == []
    assert "OFFLINE" in run.out
