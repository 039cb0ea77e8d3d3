"""`bluegreen iam-policy` for the services AWS deploys itself, checked against real deploys.

checkout (`ecs-native`) and billing (`ecs-codedeploy`) are seeded on the realistic emulator as ECS's
built-in blue/green and the CODE_DEPLOY controller deploy them, then deployed through the product with
every AWS call recorded on the deploying `RunContext`: a deploy whose gate fails where AWS waits for
bluegreen (for `ecs-codedeploy` the reroute wait: StopDeployment with rollback; for `ecs-native` ECS's
bake time: StopServiceDeployment ROLLBACK; an answer ROLLBACK at the PAUSE hook is the same IAM action as
the CONTINUE of the deploy that succeeds), a deploy that succeeds, and `rollback`
after it (a new AWS deployment of the previous revision). Every call, mapped with `iam_action`, must be
in the policy, and the policy may hold nothing else except the actions listed here with the reason they
cannot show up in these runs. Every action the policies name is an operation of botocore's model of its
service, or one of the authorization-only actions AWS documents.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

import pytest

from bluegreen.adapters.aws.codedeploy import CodeDeployEcs
from bluegreen.adapters.aws.native import NativeDeployments
from bluegreen.adapters.aws.session import iam_action, is_read_only
from bluegreen.app.context import RunContext
from bluegreen.app.deploy import deploy
from bluegreen.app.recovery import rollback
from bluegreen.app.session import Session
from bluegreen.errors import DeploymentFailed
from bluegreen.events import Events
from bluegreen.iam.policy import actions, policy
from bluegreen.local.clock import run_context_settings
from bluegreen.local.seed_controlled import CodeDeploySeed, NativeSeed
from bluegreen.specfiles.loader import load_spec

from deploy_helpers import REPO
from support.engines import seeded
from test_iam import (
    ECS_ONLY, EXAMPLES, IMAGE, SECRETS_MANAGER_REFERENCES, SSM_REFERENCES, TG_ATTRIBUTES, assert_valid_policy, compare,
)

REGION = "us-east-1"
CONTROLLED = ("checkout", "billing")

PASS_INFRASTRUCTURE_ROLE = ("authorization-only: iam:PassRole (the task roles of RegisterTaskDefinition, and for "
                            "ecs-native ECS's infrastructure role of advancedConfiguration.roleArn); IAM checks it, "
                            "no PassRole API call is made")
REGISTER_REVISION = ("authorization-only: CreateDeployment with an AppSpecContent revision registers it with the "
                     "application; no RegisterApplicationRevision/GetApplicationRevision call is made")
DEPLOYMENT_CONFIG = "authorization-only: CreateDeployment reads the group's deployment configuration"
LIST_SERVICE_DEPLOYMENTS = ("other answer: only when UpdateService or DescribeServices answers without "
                            "currentServiceDeployment (the emulator, like AWS today, always gives it)")

CONTROLLED_ONLY = ECS_ONLY | IMAGE | {"iam:PassRole": PASS_INFRASTRUCTURE_ROLE,
                                      "ssm:DescribeParameters": SSM_REFERENCES,
                                      "secretsmanager:DescribeSecret": SECRETS_MANAGER_REFERENCES,
                                      "elasticloadbalancing:DescribeTargetGroupAttributes": TG_ATTRIBUTES}
POLICY_ONLY: dict[str, dict[str, str]] = {
    "checkout": CONTROLLED_ONLY | {"ecs:ListServiceDeployments": LIST_SERVICE_DEPLOYMENTS},
    "billing": CONTROLLED_ONLY | {"codedeploy:RegisterApplicationRevision": REGISTER_REVISION,
                                  "codedeploy:GetApplicationRevision": REGISTER_REVISION,
                                  "codedeploy:GetDeploymentConfig": DEPLOYMENT_CONFIG},
}
# Actions AWS authorizes while serving another call; no API operation carries their name.
AUTHORIZATION_ONLY = {"iam:PassRole"}


def granted(name: str) -> set[str]:
    return actions(policy(load_spec(REPO / "deployments" / f"{name}.yaml").spec))


# --- structure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CONTROLLED)
@pytest.mark.parametrize("plan_only", [False, True], ids=["deploy", "plan-only"])
def test_policy_of_each_aws_deployed_example_is_valid_iam_json(name, plan_only):
    document = policy(load_spec(REPO / "deployments" / f"{name}.yaml").spec, plan_only=plan_only)

    assert_valid_policy(document)
    if plan_only:
        assert all(is_read_only(a) for a in actions(document))


def test_each_strategy_gets_its_engine_and_only_its_engine_scoped_to_the_service():
    native = policy(load_spec(REPO / "deployments" / "checkout.yaml").spec, account="123456789012")
    codedeploy = policy(load_spec(REPO / "deployments" / "billing.yaml").spec, account="123456789012")

    def statement(document: dict[str, Any], action: str) -> dict[str, Any]:
        return next(s for s in document["Statement"] if action in s["Action"])

    assert statement(native, "ecs:UpdateService")["Resource"] == "arn:aws:ecs:us-east-1:123456789012:service/prod/checkout"
    assert statement(native, "ecs:StopServiceDeployment")["Resource"] == \
        "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/checkout/*"
    assert statement(native, "ecs:ListServiceDeployments")["Resource"] == \
        "arn:aws:ecs:us-east-1:123456789012:service/prod/checkout"
    roles = [s for s in native["Statement"] if "iam:PassRole" in s["Action"]]
    assert sorted(s["Condition"]["StringEquals"]["iam:PassedToService"] for s in roles) == [
        "ecs-tasks.amazonaws.com", "ecs.amazonaws.com"]
    assert not {a for a in actions(native) if a.startswith("codedeploy:")}

    assert statement(codedeploy, "codedeploy:CreateDeployment")["Resource"] == \
        "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*/*"
    assert statement(codedeploy, "codedeploy:GetApplication")["Resource"] == \
        "arn:aws:codedeploy:us-east-1:123456789012:application:*"
    # ECS refuses UpdateService of a CODE_DEPLOY service from anyone but CodeDeploy: never asked for
    assert not {"ecs:UpdateService", "ecs:StopServiceDeployment", "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyRule"} & actions(codedeploy)
    assert not {"elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"} & actions(native)


def test_an_auto_one_service_ecs_spec_is_told_to_name_the_engine_strategy(capsys, tmp_path):
    from bluegreen.cli.main import main

    auto = tmp_path / "checkout.yaml"
    auto.write_text((REPO / "deployments" / "checkout.yaml").read_text().replace("strategy: ecs-native",
                                                                                  "strategy: auto"))
    capsys.readouterr()

    assert main(["iam-policy", str(auto)]) == 0
    assert main(["iam-policy", str(REPO / "deployments" / "checkout.yaml")]) == 0

    err = capsys.readouterr().err
    assert err.count("note:") == 1
    assert "checkout: strategy auto is taken as ecs-task-definition-swap offline" in err
    assert "`strategy: ecs-native` or `ecs-codedeploy`" in err


def test_every_action_of_every_example_policy_is_an_operation_of_botocores_service_model():
    import botocore.session

    session = botocore.session.get_session()
    named = set().union(*(granted(name) for name in EXAMPLES + CONTROLLED))
    prefixes = {a.split(":")[0] for a in named}
    # each botocore service whose calls map to one of these IAM prefixes (elbv2 and elb: elasticloadbalancing)
    services = [s for s in session.get_available_services() if iam_action(f"{s}:X").split(":")[0] in prefixes]
    known = {iam_action(f"{s}:{operation}") for s in services
             for operation in session.get_service_model(s).operation_names}

    unknown = named - AUTHORIZATION_ONLY - known
    assert not unknown, sorted(unknown)
    assert {"ecs:ListServiceDeployments", "ecs:ContinueServiceDeployment", "codedeploy:GetDeploymentTarget",
            "codedeploy:ContinueDeployment"} <= named


# --- truth: the policy against what real deployments call ------------------------------------------


def fire_alarm_when(owner: type, name: str, aws: Any, alarm: str, when: Callable[[Any], bool],
                    monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Patch `owner.name` (what the strategy reads AWS's progress with) to set `alarm` to ALARM once
    `when(answer)` holds; returns a flag list that says whether it fired."""
    original = getattr(owner, name)
    cloudwatch = aws.client("cloudwatch")
    fired: list[bool] = []

    def reading(self, *args):
        answer = original(self, *args)
        if not fired and answer is not None and when(answer):
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="iam test")
            fired.append(True)
        return answer

    monkeypatch.setattr(owner, name, reading)
    return fired


def recorded_runs(aws: Any, path: Path, failures: list[Callable[[pytest.MonkeyPatch], list[bool]]],
                  monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Each failure set up in turn (a deploy that fails at a gate), then a deploy that succeeds and a
    rollback after it; the IAM actions of every AWS call the product made."""
    runtime = RunContext(endpoint_url=aws.endpoint_url, **run_context_settings(aws.clock))
    spec = load_spec(path).spec
    alarm = spec.health.alarms[0]

    def session() -> Session:
        return Session(ctx=runtime, loaded=load_spec(path), events=Events(stream=io.StringIO()))

    for arm in failures:
        with monkeypatch.context() as patched:
            fired = arm(patched)
            with pytest.raises(DeploymentFailed, match=alarm):
                deploy(session(), image_tag="v2")
            assert fired
        aws.client("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="iam test")

    assert deploy(session(), image_tag="v2") == 0
    assert rollback(session()) == 0
    return {iam_action(call) for call in runtime.aws(REGION).log.calls}


def test_policy_holds_every_call_of_a_native_deploy_its_rollbacks_and_nothing_unexplained(
        realistic_aws, workdir, monkeypatch):
    path = seeded(realistic_aws, workdir, "checkout", NativeSeed(bake_minutes=1))

    def in_the_bake_time(patched):
        return fire_alarm_when(NativeDeployments, "describe", realistic_aws, "checkout-5xx",
                               lambda v: v.stage == "BAKE_TIME", patched)

    recorded = recorded_runs(realistic_aws, path, [in_the_bake_time], monkeypatch)

    assert {"ecs:UpdateService", "ecs:ContinueServiceDeployment", "ecs:StopServiceDeployment",
            "ecs:DescribeServiceDeployments", "elasticloadbalancing:DescribeRules"} <= recorded
    compare(recorded, actions(policy(load_spec(path).spec)), POLICY_ONLY["checkout"])


def test_policy_holds_every_call_of_a_codedeploy_deploy_its_rollbacks_and_nothing_unexplained(
        realistic_aws, workdir, monkeypatch):
    path = seeded(realistic_aws, workdir, "billing", CodeDeploySeed(termination_minutes=1))

    def at_the_reroute_wait(patched):
        return fire_alarm_when(CodeDeployEcs, "progress", realistic_aws, "billing-5xx", lambda p: p.ready, patched)

    recorded = recorded_runs(realistic_aws, path, [at_the_reroute_wait], monkeypatch)

    assert {"codedeploy:CreateDeployment", "codedeploy:ContinueDeployment", "codedeploy:StopDeployment",
            "codedeploy:GetDeploymentTarget", "codedeploy:GetDeploymentGroup"} <= recorded
    assert "ecs:UpdateService" not in recorded
    compare(recorded, actions(policy(load_spec(path).spec)), POLICY_ONLY["billing"])


def test_plan_only_policy_covers_every_call_plan_makes_for_both(realistic_aws, workdir):
    from bluegreen.app.plans import plan_specs

    paths = [seeded(realistic_aws, workdir, "checkout", NativeSeed()),
             seeded(realistic_aws, workdir, "billing", CodeDeploySeed())]
    runtime = RunContext(endpoint_url=realistic_aws.endpoint_url)
    loaded = [load_spec(p) for p in paths]

    plans = plan_specs(runtime, loaded, image_tag="v2")

    assert all(not p.errors for p in plans), [p.errors for p in plans]
    recorded = {iam_action(call) for call in runtime.aws(REGION).log.calls}
    compare(recorded, actions(policy([item.spec for item in loaded], plan_only=True)),
            IMAGE | {"ssm:DescribeParameters": SSM_REFERENCES, "secretsmanager:DescribeSecret": SECRETS_MANAGER_REFERENCES,
                     "elasticloadbalancing:DescribeTargetGroupAttributes": TG_ATTRIBUTES})
