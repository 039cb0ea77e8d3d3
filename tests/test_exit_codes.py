"""Exit codes that never lie: one test (or more) per row of the README's table, through the CLI on the
realistic emulator (virtual clock), each asserting what AWS really looks like afterwards.

    1 only when the rollback ran and traffic is on the old color; 3 whenever AWS may have changed and
    was not verified; 6 for an error before any change; 2 only for input the user can fix.
"""

from __future__ import annotations

import types

import pytest

from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.errors import ExitCode, StepFailed
from bluegreen.local.faults import Fault, Rule
from bluegreen.local.seed import put_image, seed
from bluegreen.local.world import EXITS
from bluegreen.specfiles.loader import load_spec
from bluegreen.state.local import LocalStore
from bluegreen.state.store import LockInfo

from deploy_helpers import listener_weights, write_spec

REAL_WORLD = {"health": {"deadline": "10m", "interval": "10s", "bake": "2m"}, "rollback": {"keep_blue_warm": "30m"}}
BLUE_LIVE = {"web-blue": 100, "web-green": 0}


@pytest.fixture
def web(realistic_aws, workdir, product_on_virtual_clock):
    path = write_spec(workdir, "web", **REAL_WORLD)
    spec = load_spec(path).spec
    session = Aws(spec.region, endpoint_url=realistic_aws.endpoint_url)
    seed(session, spec, deregistration_delay=300)
    return {"path": str(path), "v2": put_image(session, spec.image.repository, "v2")}


@pytest.fixture
def retries_without_waiting(monkeypatch):
    """botocore's back-off between retries, skipped (it would sleep for real): the retries still happen."""
    import time

    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda _s: None, time=time.time))


def weights(aws) -> dict[str, int]:
    return listener_weights(aws.client("elbv2"), "web-alb", 80)


def green(aws) -> dict:
    return aws.client("ecs").describe_services(cluster="prod", services=["web-green"])["services"][0]


def test_0_a_deployment_that_succeeds(realistic_aws, web):
    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.OK
    assert weights(realistic_aws) == {"web-blue": 0, "web-green": 100}


def test_1_only_when_the_rollback_ran_and_traffic_is_back_on_the_old_color(realistic_aws, web, capsys):
    realistic_aws.mark_image(web["v2"], EXITS)

    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.DEPLOY_FAILED_ROLLED_BACK

    assert weights(realistic_aws) == BLUE_LIVE
    assert "Traffic is back on blue" in capsys.readouterr().err
    assert LocalStore(".bluegreen").history("web")[0]["result"] == "rolled-back"


def test_2_for_a_spec_the_user_can_fix_and_nothing_changes(realistic_aws, web, workdir, capsys):
    bad = workdir / "deployments" / "web.yaml"
    bad.write_text(bad.read_text() + "shfit:\n  mode: canary\n")  # a misspelt section

    assert main(["deploy", str(bad), "--image-tag", "v2"]) == ExitCode.INVALID_INPUT

    assert weights(realistic_aws) == BLUE_LIVE and green(realistic_aws)["desiredCount"] == 0
    assert capsys.readouterr().err.count("\n") == 1  # one line, path:line:col


def test_3_when_finalize_fails_after_changing_aws_and_never_says_traffic_restored(
        realistic_aws, web, monkeypatch, capsys):
    assert main(["deploy", web["path"], "--image-tag", "v2"]) == 0
    from bluegreen.adapters.aws import actions

    original = actions.AwsActions.update_service

    def scale_down_then_fail(self, cluster, service, task_definition, desired):  # noqa: ANN001, ANN202
        original(self, cluster, service, task_definition, desired)
        raise StepFailed(f"ECS service {service}: still 2 tasks draining")

    monkeypatch.setattr(actions.AwsActions, "update_service", scale_down_then_fail)
    capsys.readouterr()

    assert main(["finalize", "web", "--now"]) == ExitCode.ROLLBACK_INCOMPLETE

    err = capsys.readouterr().err
    assert "restored" not in err and "AWS may have been changed" in err and len(err.splitlines()) == 1
    assert weights(realistic_aws) == {"web-blue": 0, "web-green": 100}


def test_3_when_the_rollback_cannot_put_traffic_back(realistic_aws, web, monkeypatch, capsys):
    from bluegreen.adapters.aws import actions
    from bluegreen.execution import gates

    def alarm(*_args, **_kwargs):  # noqa: ANN202
        raise StepFailed("alarm web-5xx-rate in ALARM")

    original = actions.AwsActions.set_weights

    def refuse_blue(self, listener_arn, rule_arn, weights):  # noqa: ANN001, ANN202
        if sorted(weights.values()) == [0, 100] and "web-blue" in max(weights, key=weights.get):
            raise RuntimeError("ModifyListener: Rate exceeded")
        return original(self, listener_arn, rule_arn, weights)

    monkeypatch.setattr(gates.Gates, "bake", alarm)  # the first bake (green at 10%) fails
    monkeypatch.setattr(actions.AwsActions, "set_weights", refuse_blue)

    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.ROLLBACK_INCOMPLETE

    err = capsys.readouterr().err
    assert "did not complete" in err and "restored" not in err and "back on" not in err
    assert weights(realistic_aws) == {"web-blue": 90, "web-green": 10}


def test_4_while_another_run_holds_the_lock(realistic_aws, web, capsys):
    holder = LockInfo(service="web", deployment_id="web-other", operation="deploy", holder="jenkins@agent-7",
                      host="agent-7", pid=4242)
    LocalStore(".bluegreen").acquire(holder, lease_seconds=3600)

    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.LOCKED

    assert "jenkins@agent-7" in capsys.readouterr().err and green(realistic_aws)["desiredCount"] == 0


def test_5_when_a_plan_has_changes(realistic_aws, web):
    assert main(["plan", web["path"], "--image-tag", "v2", "--detailed-exitcode"]) == ExitCode.CHANGES_PENDING
    assert main(["plan", web["path"], "--detailed-exitcode"]) == ExitCode.OK


def test_6_when_aws_throttles_discovery_past_the_retries(realistic_aws, web, fault_proxy, retries_without_waiting,
                                                         capsys):
    fault_proxy.configure([Rule(Fault.THROTTLE, operations=frozenset({"elbv2:*"}))])

    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.NOTHING_CHANGED

    fault_proxy.configure([])
    err = capsys.readouterr().err
    assert "nothing was changed" in err and "invalid" not in err.lower()
    assert weights(realistic_aws) == BLUE_LIVE and green(realistic_aws)["desiredCount"] == 0
    assert LocalStore(".bluegreen").read("web") is None


def test_6_when_aws_cannot_be_reached_during_discovery(realistic_aws, web, fault_proxy, retries_without_waiting):
    fault_proxy.configure([Rule(Fault.RESET_BEFORE, operations=frozenset({"ecs:DescribeServices"}))])

    assert main(["plan", web["path"], "--image-tag", "v2"]) == ExitCode.NOTHING_CHANGED
    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.NOTHING_CHANGED


def test_6_for_an_unexpected_error_before_any_change(realistic_aws, web, monkeypatch, capsys):
    from bluegreen.planning import planner

    def broken(*_args, **_kwargs):  # noqa: ANN202
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(planner, "make_plan", broken)

    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.NOTHING_CHANGED

    err = capsys.readouterr().err
    assert "unexpected error: RecursionError" in err and "nothing was changed" in err
    assert green(realistic_aws)["desiredCount"] == 0


def test_6_for_a_step_failure_in_status_never_traffic_restored(realistic_aws, web, monkeypatch, capsys):
    from bluegreen.app import views

    def denied(*_args, **_kwargs):  # noqa: ANN202
        raise StepFailed("DescribeTargetHealth failed: AccessDenied: not authorized")

    monkeypatch.setattr(views, "plan_specs", denied)

    assert main(["status", web["path"]]) == ExitCode.NOTHING_CHANGED

    err = capsys.readouterr().err
    assert "AccessDenied" in err and "restored" not in err and "nothing was changed" in err


def test_a_firing_alarm_refuses_the_deploy_in_one_clean_line_before_any_change(realistic_aws, web, capsys):
    realistic_aws.client("cloudwatch").set_alarm_state(AlarmName="web-5xx-rate", StateValue="ALARM",
                                                       StateReason="test")

    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.INVALID_INPUT

    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()]  # one line
    assert "alarm web-5xx-rate is in ALARM" in err and "not in ALARM: in ALARM" not in err
    assert green(realistic_aws)["desiredCount"] == 0


def test_6_when_iam_denies_a_read_during_discovery_not_invalid_input(realistic_aws, web, monkeypatch, capsys):
    import botocore.client
    from botocore.exceptions import ClientError

    original = botocore.client.BaseClient._make_api_call

    def denying(client, operation, params):  # noqa: ANN001, ANN202
        # plan counts target health with GetMetricData first; denied too, it reads each group's targets
        if operation in ("DescribeTargetHealth", "GetMetricData"):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:iam::1:user/ci is not "
                                         "authorized to perform: elasticloadbalancing:DescribeTargetHealth"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", denying)

    assert main(["deploy", web["path"], "--image-tag", "v2"]) == ExitCode.NOTHING_CHANGED
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "AccessDenied" in err and "nothing was changed" in err
    assert main(["plan", web["path"], "--image-tag", "v2"]) == ExitCode.NOTHING_CHANGED

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", original)
    assert green(realistic_aws)["desiredCount"] == 0
