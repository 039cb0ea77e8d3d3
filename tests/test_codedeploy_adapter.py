"""The CodeDeploy adapter against the realistic emulator: it finds a CODE_DEPLOY service's deployment
group, starts a deployment once per revision, follows it, continues it past the reroute wait and
stops it with rollback, each call safe to repeat."""

from __future__ import annotations

from bluegreen.adapters.aws.codedeploy import CodeDeployEcs
from bluegreen.adapters.aws.session import Aws
from bluegreen.domain.codedeploy import AppSpec
from bluegreen.local.seed_codedeploy import make_codedeploy_service

from emulator_helpers import web

INSTALLED = 45  # BeforeInstall, the replacement's health checks (3 x 10 s) and the hooks before the wait


def setup(realistic_aws, **kwargs):
    w = web(realistic_aws)
    seeded = make_codedeploy_service(realistic_aws, vpc=w.vpc, subnets=w.subnets, security_group=w.security_group,
                                     load_balancer=w.load_balancer, task_definition=w.revision("repo:v1"),
                                     ports=(81, 8443), **kwargs)
    adapter = CodeDeployEcs(Aws(realistic_aws.region, endpoint_url=realistic_aws.endpoint_url))
    return w, seeded, adapter


def test_the_deployment_group_of_a_code_deploy_service_is_found_with_its_wait_and_target_groups(realistic_aws):
    w, seeded, adapter = setup(realistic_aws, wait_minutes=60, termination_minutes=5)

    group = adapter.find_group("c", "web")

    assert group is not None and (group.application, group.name) == (seeded.application, seeded.group)
    assert group.waits_for_reroute and group.ready_wait_minutes == 60 and group.termination_wait_minutes == 5
    assert group.target_groups == ("web-blue", "web-green") and group.prod_listeners == (seeded.prod_listener,)
    assert group.rollback_on_stop
    assert adapter.find_group("c", "other") is None


def test_starting_twice_finds_the_deployment_already_under_way(realistic_aws):
    w, seeded, adapter = setup(realistic_aws, wait_minutes=60)
    group = adapter.find_group("c", "web")
    appspec = AppSpec(task_definition=w.revision("repo:v2"), container="web", port=8080)

    first, _ = adapter.start(group, appspec, "bluegreen deploy web")
    again, said = adapter.start(group, appspec, "bluegreen deploy web")

    assert again == first and "already under way" in said


def test_a_waiting_deployment_is_ready_at_the_test_traffic_stage_and_continues_when_told(realistic_aws):
    w, seeded, adapter = setup(realistic_aws, wait_minutes=60)
    group = adapter.find_group("c", "web")
    deployment_id, _ = adapter.start(group, AppSpec(w.revision("repo:v2"), "web", 8080), "deploy")
    realistic_aws.advance(INSTALLED)

    seen = adapter.progress(deployment_id, "c", "web")
    assert seen.ready and seen.replacement_weight == 0 and seen.task_definition == w.revision("repo:v2")
    assert [e.name for e in seen.events if e.status == "Succeeded"][-1] == "AfterAllowTestTraffic"
    assert "rerouted" in adapter.proceed(deployment_id)
    realistic_aws.advance(5)
    after = adapter.progress(deployment_id, "c", "web")
    assert after.replacement_weight == 100 and after.termination_wait_started
    assert "not waiting" in adapter.proceed(deployment_id)


def test_stopping_rolls_back_and_stopping_again_changes_nothing(realistic_aws):
    w, seeded, adapter = setup(realistic_aws, wait_minutes=60)
    group = adapter.find_group("c", "web")
    deployment_id, _ = adapter.start(group, AppSpec(w.revision("repo:v2"), "web", 8080), "deploy")
    realistic_aws.advance(INSTALLED)

    said = adapter.stop(deployment_id)

    seen = adapter.progress(deployment_id, "c", "web")
    assert "rolled back" in said and seen.status == "Stopped" and seen.rollback_deployment
    assert seen.error is not None and seen.error.startswith("MANUAL_STOP")
    assert "already Stopped" in adapter.stop(deployment_id)
