"""Never move traffic on a guess: wrong wiring is refused by `plan` and `deploy` before anything moves.

Every strategy, seeded in the emulator and then broken in one way (a spec naming the wrong target
group, a target group of another load balancer, a listener forwarding to a third group, one group
for both colors, an Auto Scaling group attached elsewhere, a CODE_DEPLOY or ECS blue/green service):
`plan` and `deploy` exit 2 with ONE line naming both sides, and not one mutating AWS call is made
(every call any botocore client makes is recorded). moto accepts a task-definition update of a
CODE_DEPLOY service where AWS rejects it, so for those the proof is that we never send one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from bluegreen.adapters.aws.session import Aws, is_read_only
from bluegreen.cli.main import main
from bluegreen.errors import ExitCode
from bluegreen.local.seed import SeedResult, put_image, seed
from bluegreen.specfiles.loader import load_spec

from deploy_helpers import listener_weights, write_spec

Breaks = Callable[[Any, SeedResult], None]  # (the emulator's boto3 handle, what was seeded)
Edits = Callable[[dict[str, Any]], None]  # changes to the spec file, after seeding


def nothing(*_: Any) -> None:
    return None


@dataclass(frozen=True)
class Case:
    example: str
    line: str  # the one line `deploy` prints (and `plan` shows as its one ERROR)
    breaks: Breaks = nothing
    edits: Edits = nothing
    seed: dict[str, Any] = field(default_factory=dict)
    traffic: dict[str, Any] | None = None  # the example's traffic replaced before seeding
    spec_error: bool = False  # refused by spec validation (the line ends the loader's path:line:col)


def new_tg(aws: Any, seeded: SeedResult, name: str, target_type: str = "ip") -> str:
    return aws.client("elbv2").create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId=seeded.vpc_id, TargetType=target_type)["TargetGroups"][0][
        "TargetGroupArn"]


def other_alb_with(aws: Any, seeded: SeedResult, tg: str) -> None:
    """A second load balancer whose listener forwards to `tg` (so `tg` is associated with it)."""
    elbv2 = aws.client("elbv2")
    lb = elbv2.create_load_balancer(Name="other-alb", Subnets=list(seeded.subnet_ids),
                                    SecurityGroups=[seeded.security_group_id], Type="application")
    elbv2.create_listener(LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])


def registers(aws: Any, service: str, tg: str, container: str = "web") -> None:
    aws.client("ecs").update_service(cluster="prod", service=service, loadBalancers=[
        {"targetGroupArn": tg, "containerName": container, "containerPort": 8080}])


def forward(aws: Any, listener: str, weights: dict[str, int]) -> None:
    aws.client("elbv2").modify_listener(ListenerArn=listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in weights.items()]}}])


def green_is(name: str) -> Edits:
    def edit(data: dict[str, Any]) -> None:
        data["traffic"]["routes"][0]["green_target_group"] = name
    return edit


# --- the breaks ------------------------------------------------------------------------------------


def web_stray_on_other_alb(aws: Any, s: SeedResult) -> None:
    stray = new_tg(aws, s, "web-stray")
    other_alb_with(aws, s, stray)
    registers(aws, "web-green", stray)


def web_third_group(aws: Any, s: SeedResult) -> None:
    third = new_tg(aws, s, "web-third")
    forward(aws, s.listeners["web-alb:80"], {s.target_groups["web-blue"]: 90, s.target_groups["web-green"]: 0,
                                             third: 10})


def legacy_attached_elsewhere(aws: Any, s: SeedResult) -> None:
    old = new_tg(aws, s, "legacy-old", "instance")
    autoscaling = aws.client("autoscaling")
    autoscaling.detach_load_balancer_target_groups(AutoScalingGroupName="legacy-blue",
                                                   TargetGroupARNs=[s.target_groups["legacy"]])
    autoscaling.attach_load_balancer_target_groups(AutoScalingGroupName="legacy-blue", TargetGroupARNs=[old])


def legacy_stray_on_other_alb(aws: Any, s: SeedResult) -> None:
    other_alb_with(aws, s, new_tg(aws, s, "legacy-stray", "instance"))


def legacy_third_group(aws: Any, s: SeedResult) -> None:
    third = new_tg(aws, s, "legacy-third", "instance")
    forward(aws, s.listeners["legacy-alb:80"], {s.target_groups["legacy-blue"]: 100, third: 5})


def legacy_green_on_blue(aws: Any, s: SeedResult) -> None:
    aws.client("autoscaling").attach_load_balancer_target_groups(
        AutoScalingGroupName="legacy-green", TargetGroupARNs=[s.target_groups["legacy-blue"]])


LEGACY_ROUTES = {"routes": [{"load_balancer": "legacy-alb", "port": 80, "blue_target_group": "legacy-blue",
                             "green_target_group": "legacy-green"}]}
CODE_DEPLOY = ("the CODE_DEPLOY deployment controller: CodeDeploy swaps it, and ECS refuses a task-definition "
               "update from anyone else; use strategy ecs-codedeploy (or auto), which drives CodeDeploy, or move "
               "the service to the ECS controller")


def native(strategy: str) -> str:
    return (f"ECS's built-in {strategy} deployments: ECS moves its listener rules itself, and editing them too "
            "would fight it; use strategy ecs-native (or auto), which lets ECS deploy it and gates it, or set its "
            "deploymentConfiguration.strategy to ROLLING")


def dns_target_groups(blue: str, green: str) -> Edits:
    def edit(data: dict[str, Any]) -> None:
        data["traffic"]["dns"]["target_groups"] = {"blue": blue, "green": green}
    return edit


CASES: dict[str, Case] = {
    # ECS target-group swap
    "web: wrong target group": Case(
        "web", "pre-flight check failed: green_target_group web-other, but ECS service web-green registers into "
               "web-green", breaks=lambda aws, s: new_tg(aws, s, "web-other"), edits=green_is("web-other")),
    "web: a target group of another load balancer": Case(
        "web", "pre-flight check failed: green_target_group web-stray belongs to load balancer other-alb, not web-alb",
        breaks=web_stray_on_other_alb, edits=green_is("web-stray")),
    "web: the listener forwards to a third group": Case(
        "web", "pre-flight check failed: listener web-alb:80 forwards to web-third (weight 10), which is neither "
               "blue_target_group web-blue nor green_target_group web-green", breaks=web_third_group),
    "web: the same group for both colors, in the spec": Case(
        "web", "traffic.routes[0].green_target_group: must differ from blue_target_group (both are web-blue): "
               "each color needs its own", edits=green_is("web-blue"), spec_error=True),
    "web: the same group for both colors, live": Case(
        "web", "pre-flight check failed: green_target_group web-green, but ECS service web-green registers into "
               "web-blue", breaks=lambda aws, s: registers(aws, "web-green", s.target_groups["web-blue"])),
    "web: CODE_DEPLOY services": Case(
        "web", f"pre-flight check failed: ECS services web-blue and web-green use {CODE_DEPLOY}",
        seed={"controller": "CODE_DEPLOY"}),
    "web: BLUE_GREEN services": Case(
        "web", f"pre-flight check failed: ECS services web-blue and web-green use {native('BLUE_GREEN')}",
        seed={"ecs_strategy": "BLUE_GREEN"}),
    # ECS task-definition swap
    "worker: wrong target group": Case(
        "worker", "pre-flight check failed: target_group worker-other, but ECS service worker registers into worker",
        breaks=lambda aws, s: new_tg(aws, s, "worker-other"),
        edits=lambda data: data["traffic"].update(target_group="worker-other")),
    "worker: a CODE_DEPLOY service": Case(
        "worker", f"pre-flight check failed: ECS service worker uses {CODE_DEPLOY}", seed={"controller": "CODE_DEPLOY"}),
    "worker: a CANARY service": Case(
        "worker", f"pre-flight check failed: ECS service worker uses {native('CANARY')}", seed={"ecs_strategy": "CANARY"}),
    # ASG swap behind one target group
    "legacy: wrong target group": Case(
        "legacy", "pre-flight check failed: target_group legacy-other, but Auto Scaling group legacy-blue "
                  "(2 instance(s)) is attached to legacy",
        breaks=lambda aws, s: new_tg(aws, s, "legacy-other", "instance"),
        edits=lambda data: data["traffic"].update(target_group="legacy-other")),
    "legacy: the group is attached elsewhere": Case(
        "legacy", "pre-flight check failed: target_group legacy, but Auto Scaling group legacy-blue (2 instance(s)) "
                  "is attached to legacy-old", breaks=legacy_attached_elsewhere),
    # ASG swap behind listener routes
    "legacy routes: a target group of another load balancer": Case(
        "legacy", "pre-flight check failed: green_target_group legacy-stray belongs to load balancer other-alb, "
                  "not legacy-alb", traffic=LEGACY_ROUTES, breaks=legacy_stray_on_other_alb,
        edits=green_is("legacy-stray")),
    "legacy routes: the listener forwards to a third group": Case(
        "legacy", "pre-flight check failed: listener legacy-alb:80 forwards to legacy-third (weight 5), which is "
                  "neither blue_target_group legacy-blue nor green_target_group legacy-green",
        traffic=LEGACY_ROUTES, breaks=legacy_third_group),
    "legacy routes: the idle group is attached to the live color's group": Case(
        "legacy", "pre-flight check failed: Auto Scaling group legacy-green (green) is attached to legacy-blue too, "
                  "which is blue's blue_target_group", traffic=LEGACY_ROUTES, breaks=legacy_green_on_blue),
    "legacy routes: the same group for both colors, in the spec": Case(
        "legacy", "traffic.routes[0].green_target_group: must differ from blue_target_group (both are legacy-blue): "
                  "each color needs its own", traffic=LEGACY_ROUTES, edits=green_is("legacy-blue"), spec_error=True),
    # DNS cutover
    "api: wrong target group of a stack": Case(
        "api", "pre-flight check failed: dns.target_groups.green api-other, but ECS service api-green registers "
               "into api-green", breaks=lambda aws, s: new_tg(aws, s, "api-other"),
        edits=dns_target_groups("api-blue", "api-other")),
    "api: the same group for both stacks, in the spec": Case(
        "api", "traffic.dns.target_groups.green: must differ from blue (both are api-blue): each color needs its own",
        edits=dns_target_groups("api-blue", "api-blue"), spec_error=True),
    "api: CODE_DEPLOY services": Case(
        "api", f"pre-flight check failed: ECS services api-blue and api-green use {CODE_DEPLOY}",
        seed={"controller": "CODE_DEPLOY"}),
    "api: BLUE_GREEN services": Case(
        "api", f"pre-flight check failed: ECS services api-blue and api-green use {native('BLUE_GREEN')}",
        seed={"ecs_strategy": "BLUE_GREEN"}),
}


@pytest.fixture
def every_call(monkeypatch) -> Callable[[], list[str]]:
    """Start recording every AWS operation any botocore client makes; returns the list as it grows."""
    import botocore.client

    calls: list[str] = []

    def start() -> list[str]:
        original = botocore.client.BaseClient._make_api_call

        def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
            calls.append(f"{client.meta.service_model.service_name}:{operation}")
            return original(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
        return calls

    return start


def broken_world(aws: Any, workdir: Path, case: Case) -> Path:
    path = write_spec(workdir, case.example)
    if case.traffic is not None:  # replaced, not merged: the example's own traffic section goes
        data = yaml.safe_load(path.read_text())
        data["traffic"] = case.traffic
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(path).spec
    emulator = Aws(spec.region, endpoint_url=aws.endpoint_url)
    seeded = seed(emulator, spec, image_tag="v1", deregistration_delay=1, **case.seed)
    put_image(emulator, spec.image.repository, "v2")
    case.breaks(aws, seeded)
    data = yaml.safe_load(path.read_text())
    case.edits(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_wrong_wiring_stops_plan_and_deploy_with_one_line_and_no_change(aws, workdir, capsys, every_call, name):
    case = CASES[name]
    path = broken_world(aws, workdir, case)
    calls = every_call()
    capsys.readouterr()

    planned = main(["plan", str(path), "--image-tag", "v2"])
    plan_out = capsys.readouterr()
    deployed = main(["deploy", str(path), "--image-tag", "v2"])
    deploy_out = capsys.readouterr()

    assert (planned, deployed) == (2, 2), plan_out.out + plan_out.err + deploy_out.err
    deploy_lines = deploy_out.err.splitlines()
    assert len(deploy_lines) == 1, deploy_out.err
    if case.spec_error:
        assert deploy_lines[0].endswith(case.line) and deploy_lines[0].startswith(str(path))
        assert plan_out.err == deploy_out.err
    else:
        assert deploy_lines == [case.line]
        errors = [line for line in plan_out.out.splitlines() if line.startswith("ERROR:")]
        assert errors == [f"ERROR: {case.line}"], plan_out.out
        assert plan_out.out.count(case.line.removeprefix("pre-flight check failed: ")) == 1, plan_out.out
    assert [c for c in calls if not is_read_only(c)] == []
    assert deploy_out.out == ""  # nothing was announced, no step started


def test_the_plan_lists_each_wiring_check_on_its_own_line(aws, workdir, capsys):
    path = broken_world(aws, workdir, Case("web", ""))
    capsys.readouterr()

    assert main(["plan", str(path), "--image-tag", "v2"]) == 0

    out = capsys.readouterr().out
    for check in ("routes forward only to blue and green: web-alb:80 -> web-blue 100% / web-green 0%",
                  "target groups are the ones each color uses: web-blue -> web-blue, web-green -> web-green",
                  "target groups belong to the load balancer: web-blue, web-green on web-alb",
                  "blue and green differ: blue: web-blue; green: web-green",
                  "deployment controller: web-blue, web-green: ECS controller, rolling updates",
                  "live color healthy: blue: web-blue runs 2/2, web-blue 2 healthy (0 unhealthy, counted by CloudWatch)"):
        assert f"check: ok   {check}\n" in out, out


def test_an_empty_target_group_with_steady_state_and_alarms_only_is_refused_not_deployed(aws, workdir, capsys):
    """The issue as reported: with only ecs-steady-state and alarms, nothing waited on target health, so
    100% of production went to a target group with no targets and the deploy exited 0."""
    case = CASES["web: wrong target group"]
    path = broken_world(aws, workdir, case)
    data = yaml.safe_load(path.read_text())
    data["health"]["checks"] = ["ecs-steady-state", "alarms"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    elbv2 = aws.client("elbv2")
    before = listener_weights(elbv2, "web-alb", 80)
    capsys.readouterr()

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 2

    assert listener_weights(elbv2, "web-alb", 80) == before == {"web-blue": 100, "web-green": 0}
    assert capsys.readouterr().err.splitlines() == [case.line]


# --- messages: one line per distinct cause ------------------------------------------------------------


def test_a_wrong_region_is_one_line_with_a_hint_not_a_list_of_not_found(aws, workdir, capsys):
    path = broken_world(aws, workdir, Case("web", ""))
    path.write_text(path.read_text().replace("region: us-east-1", "region: us-west-2"))
    capsys.readouterr()

    assert main(["plan", str(path), "--image-tag", "v2"]) == 2
    plan_out = capsys.readouterr().out
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 2
    deploy_err = capsys.readouterr().err

    hint = ("nothing web names exists in region us-west-2 (load balancer web-alb, target group web-blue, "
            "target group web-green, ecs service web-blue, ecs service web-green, alarm web-5xx-rate, "
            "alarm web-p99-latency, ecr repository web, secret DATABASE_URL): check the spec's `region` "
            "(or --region), or create them first")
    assert [line for line in plan_out.splitlines() if line.startswith("ERROR:")] == [f"ERROR: {hint}"]
    assert "not found" not in plan_out
    assert deploy_err.splitlines() == [hint]


def test_two_distinct_causes_are_two_lines_and_a_summary_that_does_not_repeat_them(aws, workdir, capsys):
    path = broken_world(aws, workdir, CASES["web: CODE_DEPLOY services"])
    aws.client("cloudwatch").set_alarm_state(AlarmName="web-5xx-rate", StateValue="ALARM", StateReason="test")
    capsys.readouterr()

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 2

    assert capsys.readouterr().err.splitlines() == [
        CASES["web: CODE_DEPLOY services"].line,
        "pre-flight check failed: alarm web-5xx-rate is in ALARM (no deployment starts while a gate alarm fires)",
        "error: web: cannot deploy (2 problems above)",
    ]


def test_a_missing_target_group_is_said_once(aws, workdir, capsys):
    path = broken_world(aws, workdir, Case("web", "", edits=green_is("web-missing")))
    capsys.readouterr()

    assert main(["plan", str(path), "--image-tag", "v2"]) == 2
    out = capsys.readouterr().out
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 2
    err = capsys.readouterr().err

    line = "ecs-target-group-swap cannot be used: target group web-missing not found"
    assert [l for l in out.splitlines() if l.startswith("ERROR:")] == [f"ERROR: {line}"]
    assert err.splitlines() == [line]


def test_a_target_group_that_cannot_be_read_is_said_once_as_unreadable(aws, workdir, capsys, monkeypatch):
    path = broken_world(aws, workdir, Case("web", ""))
    import botocore.client
    from botocore.exceptions import ClientError

    original = botocore.client.BaseClient._make_api_call

    def deny(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "DescribeTargetHealth":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, operation)
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", deny)
    capsys.readouterr()

    # IAM denied a read: nothing can be planned, so nothing changed (exit 6), said in one line
    # naming the call and a group it was denied for, not one "not found" per group.
    assert main(["deploy", str(path), "--image-tag", "v2"]) == ExitCode.NOTHING_CHANGED

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: web: cannot plan: AWS denied a read (DescribeTargetHealth failed: AccessDenied")
    assert "could not read target group web-blue: DescribeTargetHealth failed: AccessDenied: not allowed" in lines[0]
    assert lines[0].endswith("nothing was changed") and "not found" not in lines[0]


GLOBAL_SERVICES = {"iam", "route53", "sts"}  # one endpoint for every region


def test_plan_and_deploy_with_region_read_and_write_that_region_only(aws, workdir, product_on_virtual_clock,
                                                                     monkeypatch):
    """--region overrides the spec's region for every call of the run: discovery and the changes alike."""
    from deploy_helpers import REALISTIC, recorded_calls, seeded

    path = write_spec(workdir, "worker", timings=REALISTIC)
    path.write_text(path.read_text().replace("region: us-east-1", "region: eu-west-1"))
    seeded(aws.endpoint_url, path)  # the service lives in eu-west-1 only
    path.write_text(path.read_text().replace("region: eu-west-1", "region: us-east-1"))
    calls = recorded_calls(monkeypatch)

    assert main(["--region", "eu-west-1", "plan", str(path), "--image-tag", "v2"]) == 0
    assert main(["--region", "eu-west-1", "deploy", str(path), "--image-tag", "v2"]) == 0

    regional = [(service, region, action) for service, region, action in calls if service not in GLOBAL_SERVICES]
    assert any(action == "UpdateService" for _, _, action in regional)  # a change was made, and recorded
    assert {region for _, region, _ in regional} == {"eu-west-1"}, [c for c in regional if c[1] != "eu-west-1"]
