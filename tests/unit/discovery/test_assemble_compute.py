"""Assembling what runs the service, from recorded answers: ECS services, task definitions, groups."""

from __future__ import annotations

from bluegreen.discovery.assemble import TASK_DEFINITION_READ_ONLY


def test_ecs_services_report_counts_deployments_and_their_target_groups(replay):
    web = replay("web")
    snap = web.snapshots["web"]

    live, idle = snap.ecs_services["web-blue"], snap.ecs_services["web-green"]
    assert (live.desired, live.running, idle.desired, idle.running) == (2, 2, 0, 0)
    assert (live.cluster, live.status, live.launch_type) == ("prod", "ACTIVE", "FARGATE")
    assert live.arn == web.raw.service("prod", "web-blue")["serviceArn"]
    assert live.target_group_arns == (web.tg_arn("web-blue"),) and idle.target_group_arns == (web.tg_arn("web-green"),)
    assert [d.status for d in live.deployments] == ["PRIMARY"]
    assert live.deployments[0].rollout_state == "COMPLETED"
    assert live.deployments[0].task_definition == live.task_definition == idle.task_definition


def test_the_task_definition_body_is_the_registration_fields_verbatim(replay):
    web = replay("web")
    snap = web.snapshots["web"]

    arn = snap.ecs_services["web-blue"].task_definition
    td = snap.task_definitions[arn]
    assert (td.arn, td.family, td.revision) == (arn, "web", 1)
    assert not set(td.body) & TASK_DEFINITION_READ_ONLY
    recorded = web.raw.task_definition(arn)
    assert td.body == {k: v for k, v in recorded.items() if k not in TASK_DEFINITION_READ_ONLY}
    container = td.container("web")
    assert container["image"] == f"{snap.image.repository_uri}:v1"
    assert container["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert container["secrets"] == [{"name": "DATABASE_URL",
                                     "valueFrom": web.specs["web"].platform.ecs.secrets["DATABASE_URL"]}]
    assert td.container("metrics-sidecar") is not None
    assert ("bluegreen:service", "web") in td.tags


def test_the_image_digest_is_that_of_the_tag_the_live_container_runs(replay):
    web = replay("web")
    image = web.snapshots["web"].image

    assert (image.repository, image.tag) == ("web", "v1")
    assert image.digest == web.raw.images["web:imageTag:v1"]["imageDigest"] and image.digest.startswith("sha256:")
    assert image.repository_exists and image.tag_immutable is True
    assert image.repository_uri == web.raw.repositories["web"]["repositoryUri"]


def test_roles_secrets_and_alarms_are_reported_as_found(replay):
    web = replay("web")
    snap = web.snapshots["web"]

    td = snap.task_definitions[snap.ecs_services["web-blue"].task_definition]
    assert snap.roles == {td.body["executionRoleArn"]: True, td.body["taskRoleArn"]: True}
    assert snap.secrets == {web.specs["web"].platform.ecs.secrets["DATABASE_URL"]: True}
    assert snap.alarms == {"web-5xx-rate": "OK", "web-p99-latency": "OK"}


def test_services_not_running_yet_report_zero_running_tasks(replay):
    snap = replay("worker").snapshots["worker"]

    service = snap.ecs_services["worker"]
    assert (service.desired, service.running) == (2, 0)
    assert service.deployments[0].rollout_state == "IN_PROGRESS"
    assert snap.target_groups["worker"].targets == ()


def test_asg_groups_attachments_and_launch_template(replay):
    legacy = replay("legacy")
    snap = legacy.snapshots["legacy"]

    blue, green = snap.asgs["legacy-blue"], snap.asgs["legacy-green"]
    assert (blue.min_size, blue.desired, blue.max_size) == (2, 2, 4)
    assert (green.min_size, green.desired, green.max_size) == (0, 0, 0)
    assert blue.target_group_arns == (legacy.tg_arn("legacy"),) and green.target_group_arns == ()
    assert blue.in_service == 2 and green.instances == ()
    assert (blue.launch_template_name, blue.launch_template_version) == ("legacy", "$Latest")
    assert (blue.health_check_type, blue.health_check_grace, blue.suspended) == ("ELB", 60, ())
    assert len(blue.subnets) == 2 and ("bluegreen-color", "blue") in blue.tags
    lt = snap.launch_templates["legacy"]
    assert lt.id == legacy.raw.launch_templates["legacy"]["LaunchTemplateId"]
    assert (lt.default_version, lt.latest_version) == (1, 1)
    assert lt.image_id.startswith("ami-")
    image = f"{snap.image.repository_uri}:v1"
    assert f"-p 80:8080 {image}" in lt.user_data and blue.user_data == lt.user_data  # decoded from base64
    assert (snap.image.tag, snap.image.digest) == ("v1", legacy.raw.images["legacy:imageTag:v1"]["imageDigest"])
    assert snap.alarms == {"legacy-5xx": "OK"} and snap.findings == ()


def test_a_service_created_with_the_defaults_is_on_the_ecs_controller_with_rolling_updates_and_no_scaling(replay):
    snap = replay("web").snapshots["web"]

    for service in snap.ecs_services.values():
        assert (service.deployment_controller, service.deployment_strategy) == ("ECS", "ROLLING")
        assert service.scaling is None and service.load_balancer_names == ()


def test_the_deployment_controller_and_strategy_are_read_from_the_service(replay):
    code_deploy = replay("worker-code-deploy").snapshots["worker"].ecs_services["worker"]
    native = replay("web-ecs-blue-green-scaled").snapshots["web"].ecs_services["web-green"]

    assert (code_deploy.deployment_controller, code_deploy.deployment_strategy) == ("CODE_DEPLOY", "ROLLING")
    assert (native.deployment_controller, native.deployment_strategy) == ("ECS", "BLUE_GREEN")


def test_each_services_application_auto_scaling_target_and_what_is_suspended(replay):
    scaled = replay("web-ecs-blue-green-scaled")
    snap = scaled.snapshots["web"]

    for name in ("web-blue", "web-green"):
        target = snap.ecs_services[name].scaling
        assert target is not None
        assert (target.resource_id, target.dimension) == (f"service/prod/{name}", "ecs:service:DesiredCount")
        assert (target.min_capacity, target.max_capacity) == (1, 4)
        assert (target.dynamic_in_suspended, target.dynamic_out_suspended, target.scheduled_suspended) == (
            False, False, True)
    assert snap.findings == ()


def test_a_plan_from_the_recorded_answers_refuses_a_code_deploy_service(replay):
    from bluegreen.planning.planner import make_plan

    recorded = replay("worker-code-deploy")

    plan = make_plan(recorded.specs["worker"], recorded.snapshots["worker"], image_tag="v1")

    assert plan.steps == []
    assert plan.errors == ["pre-flight check failed: ECS service worker uses the CODE_DEPLOY deployment controller: "
                           "CodeDeploy swaps it, and ECS refuses a task-definition update from anyone else; use "
                           "strategy ecs-codedeploy (or auto), which drives CodeDeploy, or move the service to the "
                           "ECS controller"]
