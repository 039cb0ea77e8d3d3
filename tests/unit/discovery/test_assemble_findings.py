"""Every gap in what was read becomes a Finding, never an exception: missing, unusable, unreadable."""

from __future__ import annotations


def test_an_empty_account_gives_findings_for_every_example(replay):
    empty = replay("nothing-seeded")

    web = empty.findings("web")
    assert "error: ecs service web-blue: ECS cluster prod not found" in web  # the `gone` reason wins
    assert "error: load balancer web-alb: load balancer web-alb not found" in web
    assert "error: target group web-green: target group web-green not found" in web
    assert "error: alarm web-5xx-rate: alarm web-5xx-rate not found" in web
    assert ("warning: ecr repository web: ecr repository web does not exist yet "
            "(create_repository: it will be created)") in web
    assert ("error: ecr repository worker: ecr repository worker not found "
            "(set image.create_repository to create it)") in empty.findings("worker")
    legacy = empty.findings("legacy")
    assert "error: auto scaling group legacy-blue: auto scaling group legacy-blue not found" in legacy
    assert "error: auto scaling group legacy-green: auto scaling group legacy-green not found" in legacy
    assert "error: launch template legacy: launch template legacy not found" in legacy
    assert "error: hosted zone example.com: hosted zone example.com not found" in empty.findings("api")
    for snap in empty.snapshots.values():
        assert snap.findings and {f.severity for f in snap.findings} <= {"error", "warning"}
        assert not snap.offline and snap.region == "us-east-1"
        assert snap.ecs_services == {} and snap.target_groups == {} and snap.image.repository_exists is False


def test_a_refused_read_names_the_operation_and_the_rest_is_still_assembled(replay):
    denied = replay("web-target-health-denied")
    snap = denied.snapshots["web"]

    errors = [f for f in snap.findings if f.severity == "error"]
    assert {f.subject for f in errors} == {"target group web-blue", "target group web-green"}
    assert all(f.message == "could not read target group {}: DescribeTargetHealth failed: AccessDenied: "
               "not authorized to DescribeTargetHealth".format(f.subject.split()[-1]) for f in errors)
    blue = snap.target_groups["web-blue"]
    assert blue.deregistration_delay == 30 and blue.targets == ()  # attributes read, health unknown
    assert snap.listener("web-alb", 80).default.forward == ((denied.tg_arn("web-blue"), 100),
                                                              (denied.tg_arn("web-green"), 0))


def test_a_deleted_target_group_is_missing_by_name_and_by_the_arn_a_service_holds(replay):
    deleted = replay("web-green-target-group-deleted")
    snap = deleted.snapshots["web"]

    assert "web-green" not in snap.target_groups and "web-blue" in snap.target_groups
    assert "error: target group web-green: target group web-green not found" in deleted.findings("web")
    green_arn = snap.ecs_services["web-green"].target_group_arns[0]
    by_arn = [f for f in snap.findings if f.subject == f"target group {green_arn}"]
    assert len(by_arn) == 1 and by_arn[0].severity == "error"
    assert by_arn[0].message == f"ecs service web-green points at target group {green_arn}, which does not exist"
    assert snap.listener("web-alb", 80).default.forward == ((deleted.tg_arn("web-blue"), 1),)  # a plain forward


def test_a_role_the_task_definition_names_that_is_gone_is_an_error(replay):
    snap = replay("worker-task-role-deleted").snapshots["worker"]

    td = snap.task_definitions[snap.ecs_services["worker"].task_definition]
    assert snap.roles == {td.body["executionRoleArn"]: True, td.body["taskRoleArn"]: False}
    assert [(f.severity, f.subject) for f in snap.findings] == [("error", "role ecsTaskRole-worker")]
    assert "taskRoleArn" in snap.findings[0].message and "does not exist" in snap.findings[0].message


def test_an_unpushed_tag_to_deploy_is_a_warning(replay):
    snap = replay("worker").snapshots["worker"]

    assert (snap.image.tag, snap.image.digest) == ("v9", None)
    assert [(f.severity, f.subject, f.message) for f in snap.findings] == [
        ("warning", "image worker:v9", "image worker:v9 is not in ECR (it must be pushed before it can be deployed)")]
