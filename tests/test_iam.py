"""`bluegreen iam-policy`: a valid, least-privilege IAM policy per strategy, checked against real deploys.

1. Structure: for the four examples (web: ECS target-group swap; worker: ECS task-definition swap;
   legacy: ASG swap; api: DNS cutover), the output is an IAM policy document, with and without
   `--plan-only`, and `--plan-only` is read-only.
2. Truth: each example is deployed through the emulator, once failing at a gate (an alarm fires when
   the first bake starts, so the rollback runs), once succeeding, then finalized (the old color is
   scaled down). Every AWS operation recorded on the deploying `RunContext`, mapped with `iam_action`,
   must be in the policy; and the policy may hold nothing else except the actions listed below,
   each with the reason it cannot show up in these runs. The DynamoDB state store and the image
   build (`deploy --build`, real Docker engine and loopback registry) are checked the same way.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bluegreen.adapters.aws.session import iam_action, is_read_only
from bluegreen.app.context import RunContext
from bluegreen.cli.main import cli, main
from bluegreen.cli.iam import iam_policy
from bluegreen.errors import DeploymentFailed
from bluegreen.events import Events
from bluegreen.iam.policy import actions, policy
from bluegreen.specfiles.loader import load_spec
from bluegreen.app.deploy import deploy
from bluegreen.app.recovery import finalize
from bluegreen.app.session import Session

from deploy_helpers import REPO, seeded, seeding_aws, write_spec

if "iam-policy" not in cli.commands:  # until cli.py registers it
    cli.add_command(iam_policy)

EXAMPLES = ("web", "worker", "legacy", "api")
EVERY_EXAMPLE = EXAMPLES + ("checkout", "billing")  # and the two AWS deploys itself: tests/test_iam_controlled.py
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
REGION = "us-east-1"

# --- why an action may be in a policy without being recorded in the runs below ---------------------

PASS_TASK_ROLES = ("authorization-only: RegisterTaskDefinition passes the revision's execution/task roles; "
                   "IAM checks iam:PassRole, no PassRole API call is made")
TAG_ON_CREATE = ("authorization-only: the new revision is registered with the live revision's tags, and ECS "
                 "checks ecs:TagResource for tags given at creation")
STOPPED_TASKS = ("failure-only: read when the ECS steady-state gate fails (stopped tasks' reasons); the "
                 "failure here is an alarm during a bake")
SSM_REFERENCES = ("other shape: only when a task definition references an SSM parameter as a secret "
                  "(the seeded ones reference Secrets Manager or nothing)")
SECRETS_MANAGER_REFERENCES = ("other shape: only when the spec or the live task definition references a "
                              "Secrets Manager secret (this one references none)")
RUN_INSTANCES = ("authorization-only: Auto Scaling checks ec2:RunInstances when a group is updated to a "
                 "launch-template version")
TAG_INSTANCES = ("authorization-only: the launch template's tag specifications tag instances at launch "
                 "(ec2:CreateTags with ec2:CreateAction RunInstances)")
PASS_INSTANCE_ROLE = ("authorization-only: a launch template with an instance profile passes its role to EC2 "
                      "when the group is updated")
GET_CHANGE = ("emulator: Route53 reports a change PENDING for a while and GetChange waits for INSYNC; moto "
              "answers INSYNC at once, so it is never polled")
CREATE_REPOSITORY = ("other state: only when the repository does not exist yet (create_repository: true); "
                     "the seeded world already has it")
DOCKER_PUSH = ("authorization-only: `docker push` to ECR is authorized per layer upload; here the bytes go "
               "to the loopback registry (--registry), so ECR's API never sees these")

REPOSITORY = ("other state: read only when the image read cannot tell that the repository exists (a tag not "
              "pushed yet); with --image-tag, DescribeImages names the repository too")
TG_ATTRIBUTES = ("other shape: the deregistration delay is read only where a deploy drains a target group the old "
                 "color leaves; this one keeps its one target group")

SCALING = ("other state: only when a service has an Application Auto Scaling target (the seeded ones have none; "
           "test_policy_holds_the_calls_that_suspend_and_restore_auto_scaling records it)")

ROLES_NOT_RUNNING = ("other state: a role is read only when no running task uses the revision that names it "
                     "(discovery.names.roles_in_use); the seeded services run theirs")

ECS_ONLY = {"iam:PassRole": PASS_TASK_ROLES, "iam:GetRole": ROLES_NOT_RUNNING, "ecs:TagResource": TAG_ON_CREATE,
            "ecs:ListTasks": STOPPED_TASKS, "ecs:DescribeTasks": STOPPED_TASKS,
            "application-autoscaling:RegisterScalableTarget": SCALING}

COUNTED_HEALTH = ("other command: `plan` counts target health with CloudWatch (test_plan_only_policy_covers_every_"
                  "call_plan_makes records it); a deploy reads each target, as its gates do")
FALLBACK_HEALTH = ("other state: `plan` reads a group's targets only when CloudWatch has no count for it (no load "
                   "balancer uses it, or it is new); every group here is behind one")

IMAGE = {"ecr:DescribeRepositories": REPOSITORY, "cloudwatch:GetMetricData": COUNTED_HEALTH}

POLICY_ONLY: dict[str, dict[str, str]] = {
    "web": ECS_ONLY | IMAGE | {"ssm:DescribeParameters": SSM_REFERENCES},
    "worker": ECS_ONLY | IMAGE | {"ssm:DescribeParameters": SSM_REFERENCES,
                                  "secretsmanager:DescribeSecret": SECRETS_MANAGER_REFERENCES,
                                  "elasticloadbalancing:DescribeTargetGroupAttributes": TG_ATTRIBUTES},
    "legacy": IMAGE | {"ec2:RunInstances": RUN_INSTANCES, "ec2:CreateTags": TAG_INSTANCES,
                       "iam:PassRole": PASS_INSTANCE_ROLE},
    "api": ECS_ONLY | IMAGE | {"ssm:DescribeParameters": SSM_REFERENCES,
                               "secretsmanager:DescribeSecret": SECRETS_MANAGER_REFERENCES,
                               "route53:GetChange": GET_CHANGE},
}


def iam_policy_cli(capsys, *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["iam-policy", *args]) == 0
    return json.loads(capsys.readouterr().out)


def assert_valid_policy(document: dict[str, Any]) -> None:
    assert set(document) == {"Version", "Statement"}
    assert document["Version"] == "2012-10-17"
    statements = document["Statement"]
    assert isinstance(statements, list) and statements
    sids = [s["Sid"] for s in statements]
    assert len(sids) == len(set(sids)), "Sids must be unique"
    for statement in statements:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
        assert statement["Effect"] == "Allow"
        assert isinstance(statement["Action"], list) and statement["Action"]
        assert len(statement["Action"]) == len(set(statement["Action"]))
        for action in statement["Action"]:
            assert ACTION.fullmatch(action), action
        resources = statement["Resource"]
        for resource in [resources] if isinstance(resources, str) else resources:
            assert resource == "*" or resource.startswith("arn:aws:"), resource
        if "Condition" in statement:
            assert all(isinstance(v, dict) and v for v in statement["Condition"].values())
    for action in ("secretsmanager:GetSecretValue", "kms:Decrypt", "iam:*", "*"):
        assert action not in actions(document)


# --- structure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("plan_only", [False, True], ids=["deploy", "plan-only"])
def test_policy_of_each_example_is_valid_iam_json(capsys, name, plan_only):
    document = iam_policy_cli(capsys, str(REPO / "deployments" / f"{name}.yaml"),
                              *(["--plan-only"] if plan_only else []))

    assert_valid_policy(document)


@pytest.mark.parametrize("name", EXAMPLES)
def test_plan_only_policy_is_read_only_and_part_of_the_deploy_policy(capsys, name):
    path = str(REPO / "deployments" / f"{name}.yaml")
    plan_only = actions(iam_policy_cli(capsys, path, "--plan-only"))
    full = actions(iam_policy_cli(capsys, path))

    assert all(is_read_only(action) for action in plan_only), sorted(a for a in plan_only if not is_read_only(a))
    assert plan_only < full
    assert {a for a in full if not is_read_only(a)}  # a deploy changes something


def test_policies_differ_by_strategy_and_scope_what_the_spec_names(capsys):
    by_name = {name: iam_policy_cli(capsys, str(REPO / "deployments" / f"{name}.yaml")) for name in EXAMPLES}
    granted = {name: actions(document) for name, document in by_name.items()}

    assert "elasticloadbalancing:ModifyListener" in granted["web"]
    assert not {"elasticloadbalancing:ModifyListener", "route53:ChangeResourceRecordSets"} & granted["worker"]
    assert {"autoscaling:AttachLoadBalancerTargetGroups", "ec2:CreateLaunchTemplateVersion"} <= granted["legacy"]
    assert not {a for a in granted["legacy"] if a.startswith("ecs:")}
    assert "route53:ChangeResourceRecordSets" in granted["api"]
    assert not {a for a in granted["api"] if a.startswith("autoscaling:")}
    # image pushes only for a spec with image.build; CreateRepository only with create_repository
    assert {"ecr:PutImage", "ecr:CreateRepository", "ecr:GetAuthorizationToken"} <= granted["web"]
    assert not {"ecr:PutImage", "ecr:GetAuthorizationToken", "ecr:CreateRepository"} & granted["worker"]

    def statement(name: str, action: str) -> dict[str, Any]:
        return next(s for s in by_name[name]["Statement"] if action in s["Action"])

    assert statement("web", "elasticloadbalancing:ModifyListener")["Resource"] == \
        "arn:aws:elasticloadbalancing:us-east-1:*:listener/*/web-alb/*"
    assert statement("web", "ecs:UpdateService")["Resource"] == [
        "arn:aws:ecs:us-east-1:*:service/prod/web-blue", "arn:aws:ecs:us-east-1:*:service/prod/web-green"]
    assert statement("web", "ecr:PutImage")["Resource"] == "arn:aws:ecr:us-east-1:*:repository/web"
    assert statement("web", "iam:PassRole")["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert statement("legacy", "autoscaling:UpdateAutoScalingGroup")["Resource"] == [
        "arn:aws:autoscaling:us-east-1:*:autoScalingGroup:*:autoScalingGroupName/legacy-blue",
        "arn:aws:autoscaling:us-east-1:*:autoScalingGroup:*:autoScalingGroupName/legacy-green"]
    dns = statement("api", "route53:ChangeResourceRecordSets")
    assert dns["Condition"]["ForAllValues:StringEquals"][
        "route53:ChangeResourceRecordSetsNormalizedRecordNames"] == ["api.example.com"]


def test_spec_shape_extras_dynamodb_state_ssm_image_parameter_rules_and_classic_elb(capsys, tmp_path):
    data = yaml.safe_load((REPO / "deployments" / "legacy.yaml").read_text())
    data["state"] = {"backend": "dynamodb", "table": "bluegreen-state"}
    data["platform"]["asg"]["image_delivery"] = {"method": "ssm-parameter", "parameter": "/legacy/{color}/image"}
    data["traffic"] = {"classic_elb": "legacy-clb"}
    path = tmp_path / "legacy.yaml"
    path.write_text(yaml.safe_dump(data))

    document = iam_policy_cli(capsys, str(path), "--account-id", "123456789012")
    assert_valid_policy(document)
    granted = actions(document)
    table = next(s for s in document["Statement"] if "dynamodb:PutItem" in s["Action"])
    assert table["Resource"] == "arn:aws:dynamodb:us-east-1:123456789012:table/bluegreen-state"
    assert set(table["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                    "dynamodb:DeleteItem", "dynamodb:Query"}
    parameter = next(s for s in document["Statement"] if "ssm:PutParameter" in s["Action"])
    assert parameter["Resource"] == ["arn:aws:ssm:us-east-1:123456789012:parameter/legacy/blue/image",
                                     "arn:aws:ssm:us-east-1:123456789012:parameter/legacy/green/image"]
    assert {"ssm:GetParameters", "autoscaling:AttachLoadBalancers", "elasticloadbalancing:DescribeInstanceHealth"} \
        <= granted
    # no launch-template version with ssm-parameter delivery, no target groups to attach to
    assert not {"ec2:CreateLaunchTemplateVersion", "ec2:RunInstances",
                "autoscaling:AttachLoadBalancerTargetGroups"} & granted
    assert all(is_read_only(a) for a in actions(iam_policy_cli(capsys, str(path), "--plan-only")))
    assert not {a for a in actions(iam_policy_cli(capsys, str(path), "--plan-only")) if a.startswith("dynamodb:")}

    data = yaml.safe_load((REPO / "deployments" / "web.yaml").read_text())
    data["traffic"]["routes"][0]["rule_priority"] = 10
    del data["traffic"]["test_listener"]
    path.write_text(yaml.safe_dump(data))
    granted = actions(iam_policy_cli(capsys, str(path)))
    assert {"elasticloadbalancing:ModifyRule", "elasticloadbalancing:DescribeRules"} <= granted
    assert "elasticloadbalancing:ModifyListener" not in granted  # the only route is a rule, no test listener


def test_several_specs_give_one_policy_with_a_statement_per_service(capsys):
    document = iam_policy_cli(capsys, str(REPO / "deployments"))

    assert_valid_policy(document)
    assert actions(document) == set().union(*(
        actions(policy(load_spec(REPO / "deployments" / f"{n}.yaml").spec)) for n in EVERY_EXAMPLE))


def test_iam_policy_is_offline_and_rejects_bad_input(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    assert main(["iam-policy", str(REPO / "deployments" / "web.yaml")]) == 0
    assert main(["iam-policy", str(REPO / "deployments" / "web.yaml"), "--account-id", "nope"]) == 2
    (tmp_path / "bad.yaml").write_text("service: Bad Name\n")
    assert main(["iam-policy", str(tmp_path / "bad.yaml")]) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_the_command_module_loads_no_sdk():
    import subprocess
    import sys

    code = ("import sys, bluegreen.cli.iam, bluegreen.iam.policy; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'docker')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


# --- truth: the policy against what real deployments call ------------------------------------------


@dataclass
class FireAlarmOnFirstBake(Events):
    """Sets an alarm to ALARM as the first bake starts: the gate fails and the rollback runs."""

    alarm_client: Any = None
    alarm: str = ""
    fired: bool = False

    def emit(self, event: str, message: str, **data: Any) -> None:
        if not self.fired and event == "step.started" and str(data.get("step", "")).startswith("bake"):
            self.alarm_client.set_alarm_state(AlarmName=self.alarm, StateValue="ALARM", StateReason="iam test")
            self.fired = True
        super().emit(event, message, **data)


def fast(name: str) -> dict[str, Any]:
    """Spec overrides that keep each example's shape but make it quick in the emulator."""
    if name != "api":
        return {}
    dns = yaml.safe_load((REPO / "deployments" / "api.yaml").read_text())["traffic"]["dns"] | {"ttl": "1s"}
    return {"traffic": {"dns": dns}, "shift": {"mode": "linear", "step_percent": 50, "interval": "300ms"}}


def record_deployments(aws, path: Path) -> set[str]:
    """Fail at a gate (rollback), succeed, finalize; return the IAM actions of every AWS call made."""
    runtime = RunContext(endpoint_url=aws.endpoint_url)
    spec = load_spec(path).spec
    cloudwatch = aws.client("cloudwatch")

    def session(events: Events | None = None) -> Session:
        return Session(ctx=runtime, loaded=load_spec(path), events=events or Events(stream=io.StringIO()))

    failing = FireAlarmOnFirstBake(stream=io.StringIO(), alarm_client=cloudwatch, alarm=spec.health.alarms[0])
    with pytest.raises(DeploymentFailed, match=spec.health.alarms[0]):
        deploy(session(failing), image_tag="v2")
    assert failing.fired
    assert any(e["event"] == "rollback.begun" for e in failing.history)
    cloudwatch.set_alarm_state(AlarmName=spec.health.alarms[0], StateValue="OK", StateReason="iam test")

    assert deploy(session(), image_tag="v2") == 0
    assert finalize(session(), now=True) == 0
    return {iam_action(call) for call in runtime.aws(REGION).log.calls}


def compare(recorded: set[str], granted: set[str], justified: dict[str, str]) -> None:
    assert recorded <= granted, f"called but not in the policy: {sorted(recorded - granted)}"
    unexplained = granted - recorded - set(justified)
    assert not unexplained, f"in the policy but never called, with no reason given: {sorted(unexplained)}"
    assert set(justified) <= granted, f"justified but not in the policy: {sorted(set(justified) - granted)}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_policy_holds_every_call_of_a_real_deploy_and_rollback_and_nothing_unexplained(aws, workdir, placer, name):
    path = write_spec(workdir, name, **fast(name))
    seeded(aws.endpoint_url, path)

    recorded = record_deployments(aws, path)

    granted = actions(policy(load_spec(path).spec))
    compare(recorded, granted, POLICY_ONLY[name])


def test_policy_holds_the_calls_that_suspend_and_restore_auto_scaling(aws, workdir, placer):
    path = write_spec(workdir, "web")
    spec = load_spec(path).spec
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.seed import put_image, seed

    emulator = Aws(REGION, endpoint_url=aws.endpoint_url)
    seed(emulator, spec, image_tag="v1", deregistration_delay=1, scaling={"ScheduledScalingSuspended": True})
    put_image(emulator, "web", "v2")

    recorded = record_deployments(aws, path)

    assert {"application-autoscaling:DescribeScalableTargets", "application-autoscaling:RegisterScalableTarget"} \
        <= recorded
    justified = {k: v for k, v in POLICY_ONLY["web"].items() if k != "application-autoscaling:RegisterScalableTarget"}
    compare(recorded, actions(policy(spec)), justified)


def test_policy_holds_the_metric_gates_calls(aws, workdir, placer):
    queue_depth = {"name": "queue-depth", "at_most": 100, "on_no_data": "pass", "metrics": {
        "depth": {"namespace": "Jobs", "name": "Depth", "stat": "Maximum", "dimensions": {"Queue": "jobs"}}}}
    path = write_spec(workdir, "web", analysis={"defaults": False, "queries": [queue_depth]})
    seeded(aws.endpoint_url, path)

    recorded = record_deployments(aws, path)

    assert "cloudwatch:GetMetricData" in recorded
    compare(recorded, actions(policy(load_spec(path).spec)), POLICY_ONLY["web"])
    plain = write_spec(workdir, "worker")
    sids = [st["Sid"] for st in policy(load_spec(plain).spec)["Statement"] if "cloudwatch:GetMetricData" in st["Action"]]
    assert sids and all(sid.startswith("PlanCountTargetHealth") for sid in sids)  # no gates: only the plan's count


def test_plan_only_policy_covers_every_call_plan_makes(aws, workdir):
    from bluegreen.app.plans import plan_specs

    paths = [write_spec(workdir, name, **fast(name)) for name in EXAMPLES]
    for path in paths:
        seeded(aws.endpoint_url, path)
    runtime = RunContext(endpoint_url=aws.endpoint_url)
    loaded = [load_spec(p) for p in paths]

    plans = plan_specs(runtime, loaded, image_tag="v2", count_health=True)  # as `bluegreen plan`

    assert all(not p.errors for p in plans), [p.errors for p in plans]
    recorded = {iam_action(call) for call in runtime.aws(REGION).log.calls}
    assert "cloudwatch:GetMetricData" in recorded
    granted = actions(policy([item.spec for item in loaded], plan_only=True))
    justified = {k: v for k, v in IMAGE.items() if k != "cloudwatch:GetMetricData"}
    compare(recorded, granted, justified | {
        "ssm:DescribeParameters": SSM_REFERENCES, "iam:GetRole": ROLES_NOT_RUNNING,
        "elasticloadbalancing:DescribeTargetGroupAttributes": TG_ATTRIBUTES,
        "elasticloadbalancing:DescribeTargetHealth": FALLBACK_HEALTH})


def test_dynamodb_state_actions_are_the_ones_the_store_calls(aws, workdir, placer):
    from bluegreen.adapters.aws.dynamo_store import ensure_table

    # A 1s lease is renewed every third of a second, so the renewal (UpdateItem) is recorded too.
    path = write_spec(workdir, "web", state={"backend": "dynamodb", "table": "bluegreen-state", "lease": "1s"})
    seeded(aws.endpoint_url, path)
    ensure_table(seeding_aws(REGION, aws.endpoint_url), "bluegreen-state")  # set-up, not the tool's

    recorded = record_deployments(aws, path)

    granted = actions(policy(load_spec(path).spec))
    compare(recorded, granted, POLICY_ONLY["web"])
    assert {a for a in recorded if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"}


def test_image_build_actions_match_a_deploy_that_builds_and_pushes(aws, workdir, placer, docker_engine, registry,
                                                                    busybox_context):
    repository = f"bgtest/iam-{uuid.uuid4().hex[:10]}"
    (busybox_context / "index.html").write_text(f"<h1>{repository}</h1>\n")
    example = yaml.safe_load((REPO / "deployments" / "web.yaml").read_text())["image"]
    # the example's image section (create_repository, immutable tags, scan on push), built from busybox
    image = example | {"repository": repository, "build": {"context": "../busybox-context"}}
    path = write_spec(workdir, "web")
    data = yaml.safe_load(path.read_text())
    data["image"] = image
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    seeded(aws.endpoint_url, path)
    tag = f"b{uuid.uuid4().hex[:8]}"
    try:
        runtime = RunContext(endpoint_url=aws.endpoint_url)
        events = Events(stream=io.StringIO())
        session = Session(ctx=runtime, loaded=load_spec(path), events=events)

        assert deploy(session, image_tag=tag, build=True, registry=registry) == 0

        assert any(e["event"] == "push.done" for e in events.history)
        recorded = {iam_action(call) for call in runtime.aws(REGION).log.calls}
        granted = actions(policy(load_spec(path).spec))
        compare(recorded, granted, POLICY_ONLY["web"] | {
            "ecr:CreateRepository": CREATE_REPOSITORY, "ecr:BatchGetImage": (
                "other state: only when the tag is already in ECR (compare before pushing); this tag is new"),
            **{a: DOCKER_PUSH for a in ("ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                                        "ecr:UploadLayerPart", "ecr:CompleteLayerUpload")}})
        assert {a for a in recorded if a.startswith("ecr:")} == {
            "ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:GetAuthorizationToken", "ecr:PutImage"}
    finally:
        import docker.errors

        for reference in (f"{registry}/{repository}:{tag}",):
            try:
                docker_engine.images.remove(reference)
            except docker.errors.ImageNotFound:
                pass


# --- hooks and notifications -----------------------------------------------------------------------


def test_policy_holds_every_call_of_hooks_and_notifications(realistic_aws, workdir):
    """A deploy whose Lambda hook answers failure (rollback, after-rollback hook), then one that
    succeeds, with a migration task, a Lambda, SNS and EventBridge: every call is in the policy."""
    from bluegreen.local.clock import run_context_settings
    from bluegreen.local.seed import put_image, seed
    from bluegreen.adapters.aws.session import Aws
    from test_hooks import lambda_function
    from deploy_helpers import REALISTIC

    lambda_function(realistic_aws, "web-smoke")
    topic = realistic_aws.client("sns").create_topic(Name="deployments")["TopicArn"]
    hooks = [{"name": "migrate", "kind": "ecs-task", "stage": "before-scale-up", "command": ["./migrate"]},
             {"name": "smoke", "kind": "lambda", "stage": "after-test-traffic", "function": "web-smoke"},
             {"name": "page", "kind": "command", "stage": "after-rollback", "command": ["true"]}]
    path = write_spec(workdir, "web", timings=REALISTIC, hooks=hooks,
                      notifications={"sns_topic": topic, "event_bus": "default"})
    spec = load_spec(path).spec
    emulator = Aws(REGION, endpoint_url=realistic_aws.endpoint_url)
    seed(emulator, spec, deregistration_delay=5)
    put_image(emulator, "web", "v2")
    runtime = RunContext(endpoint_url=realistic_aws.endpoint_url, **run_context_settings(realistic_aws.clock))

    def session() -> Session:
        return Session(ctx=runtime, loaded=load_spec(path), events=Events(stream=io.StringIO()))

    realistic_aws.world.functions.answer("web-smoke", {"status": "failed"})
    with pytest.raises(DeploymentFailed, match="answered failed"):
        deploy(session(), image_tag="v2")
    realistic_aws.world.functions.answer("web-smoke", {"status": "ok"})
    assert deploy(session(), image_tag="v2") == 0
    assert finalize(session(), now=True) == 0

    recorded = {iam_action(call) for call in runtime.aws(REGION).log.calls}
    assert {"lambda:InvokeFunction", "ecs:RunTask", "ecs:DescribeTasks", "sns:Publish", "events:PutEvents"} <= recorded
    compare(recorded, actions(policy(spec)), POLICY_ONLY["web"])
