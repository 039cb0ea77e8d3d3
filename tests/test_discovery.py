"""Discovery reads the live state a spec refers to, read-only and batched, from moto's HTTP server.

Everything is seeded through `bluegreen.adapters.seed` (the path the demo and benchmarks use), then
read back through `bluegreen.app.discover.discover` with a fresh call log, so each test can count the calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable


from bluegreen.adapters.aws.reads import read
from bluegreen.adapters.aws.session import is_read_only
from bluegreen.local.seed import put_image, seed, seed_fleet
from bluegreen.app.discover import discover
from bluegreen.discovery.assemble import TASK_DEFINITION_READ_ONLY, assemble, offline_snapshot
from bluegreen.discovery.raw import RawState
from bluegreen.specfiles.loader import load_spec
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.spec import Spec

DEPLOYMENTS = Path(__file__).resolve().parent.parent / "deployments"
EXAMPLES = ("web", "worker", "legacy", "api")
SECRET_READS = {"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "ssm:GetParameter",
                "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"}


def example(name: str) -> Spec:
    return load_spec(DEPLOYMENTS / f"{name}.yaml").spec


def variant(name: str, change: Callable[[dict[str, Any]], None]) -> Spec:
    """An example spec with one part changed (validated again)."""
    data = example(name).model_dump(mode="json")
    change(data)
    return Spec.model_validate(data)


def findings_text(snapshot: Snapshot) -> list[str]:
    return [f"{f.severity}: {f.subject}: {f.message}" for f in snapshot.findings]


# --- ECS target-group swap (web) --------------------------------------------------------------------


def test_discovery_reads_listener_weights_of_the_seeded_ecs_service(seeder, reader):
    spec = example("web")
    seeded = seed(seeder, spec)

    snap = discover(reader, [spec])["web"]

    assert snap.findings == ()
    blue, green = seeded.target_groups["web-blue"], seeded.target_groups["web-green"]
    production = snap.listener("web-alb", 80)
    assert production is not None and production.protocol == "HTTP"
    assert production.default.forward == ((blue, 100), (green, 0))
    test_listener = snap.listener("web-alb", 8080)
    assert test_listener is not None and test_listener.default.forward == ((blue, 100), (green, 0))
    assert snap.load_balancers["web-alb"].arn == seeded.load_balancers["web-alb"]
    assert snap.load_balancers["web-alb"].type == "application"


def test_target_groups_carry_health_check_timing_deregistration_delay_and_targets(seeder, reader):
    spec = example("web")
    seeded = seed(seeder, spec)

    snap = discover(reader, [spec])["web"]

    blue, green = snap.target_groups["web-blue"], snap.target_groups["web-green"]
    for tg in (blue, green):
        assert (tg.health_check_interval, tg.healthy_threshold, tg.deregistration_delay) == (10, 3, 30)
        assert tg.health_budget == 30.0
        assert tg.target_type == "ip" and tg.protocol == "HTTP"
        assert tg.load_balancer_arns == (seeded.load_balancers["web-alb"],)
    assert sorted(t.target_id for t in blue.targets) == sorted(seeded.targets["web-blue"])
    assert blue.healthy_count == 2 and green.targets == ()


def test_a_task_definition_swap_reads_no_target_group_attributes(seeder, reader):
    worker, web = example("worker"), example("web")
    seed(seeder, worker)
    seed(seeder, web)

    snaps = discover(reader, [worker])
    worker_calls = reader.log.counts()
    discover(reader, [web])

    # its target group stays attached while ECS replaces the tasks: no drain to time
    assert worker_calls["elbv2:DescribeTargetGroupAttributes"] == 0
    assert worker_calls["elbv2:DescribeTargetHealth"] == 1
    assert snaps["worker"].target_groups["worker"].healthy_count == 2
    assert reader.log.counts()["elbv2:DescribeTargetGroupAttributes"] == 2  # web's two groups drain in turn


def test_ecs_services_report_counts_deployments_and_their_target_groups(seeder, reader):
    spec = example("web")
    seeded = seed(seeder, spec)

    snap = discover(reader, [spec])["web"]

    live, idle = snap.ecs_services["web-blue"], snap.ecs_services["web-green"]
    assert (live.desired, live.running, idle.desired, idle.running) == (2, 2, 0, 0)
    assert live.task_definition == seeded.task_definition_arn  # a full ARN
    assert live.launch_type == "FARGATE" and live.cluster == "prod" and live.status == "ACTIVE"
    assert live.target_group_arns == (seeded.target_groups["web-blue"],)
    assert idle.target_group_arns == (seeded.target_groups["web-green"],)
    assert [d.status for d in live.deployments] == ["PRIMARY"]
    assert live.deployments[0].rollout_state == "COMPLETED"
    assert live.deployments[0].task_definition == seeded.task_definition_arn


def test_services_seeded_not_running_report_zero_running_tasks(seeder, reader):
    spec = example("worker")
    seed(seeder, spec, running=False)

    snap = discover(reader, [spec])["worker"]

    service = snap.ecs_services["worker"]
    assert (service.desired, service.running) == (2, 0)
    assert service.deployments[0].rollout_state == "IN_PROGRESS"
    assert snap.target_groups["worker"].targets == ()


def test_green_live_seed_is_reported_with_green_weights(seeder, reader):
    spec = example("web")
    seeded = seed(seeder, spec, live_color="green")

    snap = discover(reader, [spec])["web"]

    blue, green = seeded.target_groups["web-blue"], seeded.target_groups["web-green"]
    assert snap.listener("web-alb", 80).default.forward == ((green, 100), (blue, 0))
    assert snap.listener("web-alb", 8080).default.forward == ((green, 100), (blue, 0))
    assert snap.ecs_services["web-green"].desired == 2 and snap.ecs_services["web-blue"].desired == 0
    assert snap.target_groups["web-green"].healthy_count == 2 and snap.target_groups["web-blue"].targets == ()
    assert snap.findings == ()


def test_task_definition_body_is_the_registration_fields_verbatim(seeder, reader, aws):
    spec = example("web")
    seeded = seed(seeder, spec)

    snap = discover(reader, [spec])["web"]

    td = snap.task_definitions[seeded.task_definition_arn]
    assert (td.family, td.revision) == ("web", 1)
    assert not set(td.body) & TASK_DEFINITION_READ_ONLY
    web = td.container("web")
    assert web is not None and web["image"] == f"{seeded.repository_uri}:v1"
    assert web["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert web["secrets"] == [{"name": "DATABASE_URL", "valueFrom": spec.platform.ecs.secrets["DATABASE_URL"]}]
    assert web["logConfiguration"]["logDriver"] == "awslogs"
    assert td.container("metrics-sidecar") is not None
    assert td.body["volumes"] == [{"name": "scratch"}]
    assert td.body["executionRoleArn"] == seeded.roles["ecsTaskExecutionRole-web"]
    assert ("bluegreen:service", "web") in td.tags

    # the body registers as is: a new revision built from it loses nothing
    ecs = aws.client("ecs")
    again = ecs.register_task_definition(**td.body, tags=[{"key": k, "value": v} for k, v in td.tags])
    described = ecs.describe_task_definition(taskDefinition=again["taskDefinition"]["taskDefinitionArn"],
                                             include=["TAGS"])
    body = {k: v for k, v in described["taskDefinition"].items() if k not in TASK_DEFINITION_READ_ONLY}
    assert body == dict(td.body)
    assert described["taskDefinition"]["revision"] == 2


# --- the image --------------------------------------------------------------------------------------


def test_image_tag_resolves_to_digest(seeder, reader):
    spec = example("web")
    seeded = seed(seeder, spec, image_tag="v1")
    v2 = put_image(seeder, "web", "v2")
    assert v2 != seeded.image_digest

    wanted = discover(reader, [spec], image_tag="v2")["web"].image
    live = discover(reader, [spec])["web"].image

    assert (wanted.tag, wanted.digest) == ("v2", v2)
    assert wanted.repository_exists and wanted.repository_uri == seeded.repository_uri
    assert (live.tag, live.digest) == ("v1", seeded.image_digest)  # the tag the live container runs
    assert live.tag_immutable is True


def test_with_an_image_tag_the_image_read_also_names_its_repository(seeder, reader):
    spec = example("worker")
    seeded = seed(seeder, spec, image_tag="v1")
    v2 = put_image(seeder, "worker", "v2")

    image = discover(reader, [spec], image_tag="v2")["worker"].image

    assert (image.repository_exists, image.repository_uri, image.digest) == (True, seeded.repository_uri, v2)
    assert image.tag_immutable is None  # only DescribeRepositories tells it; a deploy does not need it
    assert reader.log.counts()["ecr:DescribeRepositories"] == 0


def test_a_tag_not_pushed_still_tells_a_missing_tag_from_a_missing_repository(seeder, reader):
    worker = example("worker")
    seed(seeder, worker)
    unseeded = variant("worker", lambda d: d["image"].update(repository="nowhere"))

    found = discover(reader, [worker], image_tag="v9")["worker"]
    missing = discover(reader, [unseeded], image_tag="v9")["worker"]

    assert found.image.repository_exists and found.image.repository_uri
    assert reader.log.counts()["ecr:DescribeRepositories"] == 1  # for the unpushed tag only
    assert missing.image.repository_exists is False
    assert ("error", "ecr repository nowhere") in {(f.severity, f.subject) for f in missing.findings}


def test_a_tag_that_is_not_pushed_is_a_warning_not_an_error(seeder, reader):
    spec = example("worker")
    seed(seeder, spec)

    snap = discover(reader, [spec], image_tag="v9")["worker"]

    assert (snap.image.tag, snap.image.digest) == ("v9", None)
    assert [(f.severity, f.subject) for f in snap.findings] == [("warning", "image worker:v9")]
    assert "not in ECR" in snap.findings[0].message


def test_a_missing_repository_is_an_error_unless_the_spec_creates_it(reader):
    web, worker = example("web"), example("worker")  # web has create_repository: true

    snaps = discover(reader, [web, worker])

    assert ("warning", "ecr repository web") in {(f.severity, f.subject) for f in snaps["web"].findings}
    assert ("error", "ecr repository worker") in {(f.severity, f.subject) for f in snaps["worker"].findings}
    assert snaps["worker"].image.repository_exists is False


# --- pre-flight references: roles and secrets -------------------------------------------------------


def test_secret_reference_existence_is_checked_without_reading_values(seeder, reader, aws):
    ssm_token = "arn:aws:ssm:us-east-1:123456789012:parameter/worker/queue-token"
    ssm_gone = "arn:aws:ssm:us-east-1:123456789012:parameter/worker/old-token"
    sm_gone = "arn:aws:secretsmanager:us-east-1:123456789012:secret:worker/gone-XyZabc"

    def with_secrets(data: dict[str, Any]) -> None:
        data["platform"]["ecs"]["secrets"] = {"QUEUE_TOKEN": ssm_token, "OLD_TOKEN": ssm_gone, "GONE": sm_gone}

    worker, web = variant("worker", with_secrets), example("web")
    seed(seeder, worker)
    seed(seeder, web)
    aws.client("ssm").delete_parameter(Name="/worker/old-token")
    aws.client("secretsmanager").delete_secret(SecretId=sm_gone, ForceDeleteWithoutRecovery=True)

    snaps = discover(reader, [worker, web])

    assert snaps["web"].secrets == {web.platform.ecs.secrets["DATABASE_URL"]: True}
    assert snaps["worker"].secrets == {ssm_token: True, ssm_gone: False, sm_gone: False}
    errors = {f.subject: f.message for f in snaps["worker"].findings if f.severity == "error"}
    assert set(errors) == {"secret OLD_TOKEN", "secret GONE"}
    assert ssm_gone in errors["secret OLD_TOKEN"] and "does not exist" in errors["secret OLD_TOKEN"]
    calls = reader.log.counts()
    assert calls["ssm:DescribeParameters"] == 1  # both parameters in one call
    assert calls["secretsmanager:DescribeSecret"] == 2
    assert not SECRET_READS & set(calls), "a secret value was read"


def test_roles_of_a_revision_no_task_runs_are_read_and_a_deleted_one_is_an_error(seeder, reader, aws):
    spec = example("worker")
    seeded = seed(seeder, spec)
    ecs, cluster = aws.client("ecs"), spec.platform.ecs.cluster
    ecs.update_service(cluster=cluster, service=spec.platform.ecs.service, desiredCount=0)
    for task in ecs.list_tasks(cluster=cluster, serviceName=spec.platform.ecs.service)["taskArns"]:
        ecs.stop_task(cluster=cluster, task=task)
    aws.client("iam").delete_role(RoleName="ecsTaskRole-worker")

    snap = discover(reader, [spec])["worker"]

    assert snap.roles == {seeded.roles["ecsTaskExecutionRole-worker"]: True, seeded.roles["ecsTaskRole-worker"]: False}
    assert snap.roles_in_use == frozenset()
    assert [(f.severity, f.subject) for f in snap.findings] == [("error", "role ecsTaskRole-worker")]
    assert "taskRoleArn" in snap.findings[0].message
    assert reader.log.counts()["iam:GetRole"] == 2


def test_roles_a_running_task_uses_are_not_read_again(seeder, reader, aws):
    """ECS assumed them to start the task: a deploy that copies them makes no IAM call. The price, stated
    in `names.roles_in_use`: a role deleted under running tasks is caught by the new tasks failing to
    start (the steady-state gate), not by the pre-flight."""
    spec = example("worker")
    seeded = seed(seeder, spec)
    running = aws.client("ecs").describe_services(cluster=spec.platform.ecs.cluster,
                                                  services=[spec.platform.ecs.service])["services"][0]
    assert running["deployments"][0]["runningCount"] > 0

    snap = discover(reader, [spec])["worker"]

    roles = {seeded.roles["ecsTaskExecutionRole-worker"], seeded.roles["ecsTaskRole-worker"]}
    assert snap.roles == {role: True for role in roles}
    assert snap.roles_in_use == roles
    assert "iam:GetRole" not in reader.log.counts()
    assert not [f for f in snap.findings if f.subject.startswith("role ")]


# --- missing things and AWS errors are findings -----------------------------------------------------


def test_missing_target_group_becomes_a_finding_not_an_exception(seeder, reader, aws):
    spec = example("web")
    seeded = seed(seeder, spec)
    elbv2 = aws.client("elbv2")
    blue_only = [{"Type": "forward", "TargetGroupArn": seeded.target_groups["web-blue"]}]
    for listener in seeded.listeners.values():
        elbv2.modify_listener(ListenerArn=listener, DefaultActions=blue_only)
    elbv2.delete_target_group(TargetGroupArn=seeded.target_groups["web-green"])

    snap = discover(reader, [spec])["web"]

    assert "web-green" not in snap.target_groups and "web-blue" in snap.target_groups
    assert "error: target group web-green: target group web-green not found" in findings_text(snap)
    assert any(f.subject == f"target group {seeded.target_groups['web-green']}" and "ecs service web-green" in f.message
               for f in snap.findings)
    assert snap.listener("web-alb", 80).default.forward == ((seeded.target_groups["web-blue"], 1),)


def test_nothing_seeded_gives_findings_for_every_example_and_no_exception(reader):
    specs = [example(name) for name in EXAMPLES]

    snaps = discover(reader, specs)

    assert set(snaps) == set(EXAMPLES)
    web = findings_text(snaps["web"])
    assert "error: ecs service web-blue: ECS cluster prod not found" in web
    assert "error: load balancer web-alb: load balancer web-alb not found" in web
    assert "error: target group web-green: target group web-green not found" in web
    assert "error: alarm web-5xx-rate: alarm web-5xx-rate not found" in web
    legacy = findings_text(snaps["legacy"])
    assert "error: auto scaling group legacy-green: auto scaling group legacy-green not found" in legacy
    assert "error: launch template legacy: launch template legacy not found" in legacy
    assert "error: hosted zone example.com: hosted zone example.com not found" in findings_text(snaps["api"])
    for snap in snaps.values():
        assert snap.findings and all(f.severity in ("error", "warning") for f in snap.findings)
        assert not snap.offline
    assert all(is_read_only(call) for call in reader.log.calls)


def test_an_aws_error_on_a_read_becomes_a_finding_naming_the_operation(seeder, reader):
    spec = example("web")
    seed(seeder, spec)

    class Refused:
        status_code = 403

    def deny(**_: Any):
        return Refused(), {"Error": {"Code": "AccessDenied", "Message": "not authorized to DescribeTargetHealth"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}

    reader.client("elbv2").meta.events.register("before-call.*.DescribeTargetHealth", deny)

    snap = discover(reader, [spec])["web"]

    errors = [f for f in snap.findings if f.severity == "error"]
    assert {f.subject for f in errors} == {"target group web-blue", "target group web-green"}
    assert all("DescribeTargetHealth failed: AccessDenied" in f.message for f in errors)
    assert snap.target_groups["web-blue"].deregistration_delay == 30  # the rest was still read
    assert snap.listener("web-alb", 80) is not None


def test_a_refused_batch_read_names_every_resource_of_the_batch(seeder, reader):
    spec = example("web")
    seed(seeder, spec)

    class Refused:
        status_code = 403

    reader.client("elbv2").meta.events.register(
        "before-call.*.DescribeTargetGroups",
        lambda **_: (Refused(), {"Error": {"Code": "AccessDenied", "Message": "no"},
                                 "ResponseMetadata": {"HTTPStatusCode": 403}}))

    snap = discover(reader, [spec])["web"]

    subjects = {f.subject: f.message for f in snap.findings}
    for name in ("web-blue", "web-green"):
        assert "DescribeTargetGroups failed: AccessDenied" in subjects[f"target group {name}"]


# --- read-only and batched --------------------------------------------------------------------------


def test_discovery_makes_only_read_only_calls(seeder, reader):
    specs = [example(name) for name in EXAMPLES]
    for spec in specs:
        seed(seeder, spec)

    for spec in specs:
        log_start = len(reader.log.calls)
        snap = discover(reader, [spec])[spec.service]
        assert snap.findings == (), findings_text(snap)
        calls = reader.log.calls[log_start:]
        assert calls, spec.service
        assert [c for c in calls if not is_read_only(c)] == [], spec.service
        assert not SECRET_READS & set(calls)


def test_one_run_batches_reads_across_specs(seeder, reader):
    specs = [example(name) for name in EXAMPLES]
    for spec in specs:
        seed(seeder, spec)

    snaps = discover(reader, specs)

    calls = reader.log.counts()
    assert calls["ecs:DescribeServices"] == 1  # web-blue, web-green, worker, api-blue, api-green in prod
    assert calls["ecr:DescribeRepositories"] == 1
    assert calls["cloudwatch:DescribeAlarms"] == 1
    assert calls["elbv2:DescribeTargetGroups"] == 2  # by name, then api's by ARN (only its services name them)
    assert calls["ecs:DescribeTaskDefinition"] == 3  # once per distinct ARN
    assert all(snap.findings == () for snap in snaps.values())


def test_describe_services_is_batched_by_ten(seeder, reader):
    specs = seed_fleet(seeder, 25)
    assert len(specs) == 25 and {s.platform.ecs.cluster for s in specs} == {"fleet"}

    snaps = discover(reader, specs)

    calls = reader.log.counts()
    assert calls["ecs:DescribeServices"] == 3
    assert calls["ecs:DescribeTaskDefinition"] == 25
    assert calls["elbv2:DescribeTargetGroups"] == 2  # 20 + 5 names
    assert calls["ecr:DescribeImages"] == 1  # every service's tag in one call
    assert calls["ecr:DescribeRepositories"] == 1
    assert all(snap.findings == () for snap in snaps.values())
    first = snaps[specs[0].service]
    assert first.image.tag == f"{specs[0].service}-v1" and first.image.digest
    assert first.ecs_services[specs[0].service].running == 2


def test_a_listener_rule_is_read_only_when_a_route_has_a_priority(seeder, reader):
    def with_rule(data: dict[str, Any]) -> None:
        data["traffic"]["routes"][0]["rule_priority"] = 10

    spec = variant("web", with_rule)
    seeded = seed(seeder, spec)

    snap = discover(reader, [spec])["web"]

    listener = snap.listener("web-alb", 80)
    assert listener.default.forward == ()  # a fixed response
    rule = listener.rule(10)
    assert rule is not None and rule.arn == seeded.rules["web-alb:80:10"]
    assert rule.forward == ((seeded.target_groups["web-blue"], 100), (seeded.target_groups["web-green"], 0))
    assert reader.log.counts()["elbv2:DescribeRules"] == 1
    assert snap.findings == ()

    discover(reader, [example("worker")])
    assert reader.log.counts()["elbv2:DescribeRules"] == 1  # no route with a priority, no DescribeRules


# --- Auto Scaling, classic ELB, DNS -----------------------------------------------------------------


def test_asg_discovery_reports_groups_attachments_and_the_launch_template(seeder, reader):
    spec = example("legacy")
    seeded = seed(seeder, spec)

    snap = discover(reader, [spec])["legacy"]

    assert snap.findings == ()
    blue, green = snap.asgs["legacy-blue"], snap.asgs["legacy-green"]
    assert (blue.min_size, blue.desired, blue.max_size) == (2, 2, 4)
    assert (green.min_size, green.desired, green.max_size) == (0, 0, 0)
    assert blue.target_group_arns == (seeded.target_groups["legacy"],) and green.target_group_arns == ()
    assert blue.in_service == 2 and green.instances == ()
    assert blue.launch_template_name == "legacy" and blue.launch_template_version == "$Latest"
    tg = snap.target_groups["legacy"]
    assert tg.target_type == "instance" and tg.port == 80
    assert sorted(t.target_id for t in tg.targets) == sorted(i.instance_id for i in blue.instances)
    lt = snap.launch_templates["legacy"]
    assert lt.id == seeded.launch_template_id and (lt.default_version, lt.latest_version) == (1, 1)
    assert lt.image_id and lt.image_id.startswith("ami-")
    assert f"-p 80:8080 {seeded.image}" in lt.user_data
    assert (snap.image.tag, snap.image.digest) == ("v1", seeded.image_digest)  # read from the user data
    assert snap.alarms == {"legacy-5xx": "OK"}


def test_green_live_asg_seed_attaches_the_green_group(seeder, reader):
    spec = example("legacy")
    seeded = seed(seeder, spec, live_color="green")

    snap = discover(reader, [spec])["legacy"]

    assert snap.asgs["legacy-green"].target_group_arns == (seeded.target_groups["legacy"],)
    assert snap.asgs["legacy-blue"].target_group_arns == () and snap.asgs["legacy-blue"].desired == 0


def test_classic_elb_discovery_reports_instance_health(seeder, reader):
    def behind_classic_elb(data: dict[str, Any]) -> None:
        data["traffic"] = {"classic_elb": "legacy-clb"}

    spec = variant("legacy", behind_classic_elb)
    seed(seeder, spec)

    snap = discover(reader, [spec])["legacy"]

    assert snap.findings == ()
    blue = snap.asgs["legacy-blue"]
    assert blue.load_balancer_names == ("legacy-clb",) and snap.asgs["legacy-green"].load_balancer_names == ()
    elb = snap.classic_elbs["legacy-clb"]
    assert elb.dns_name
    assert sorted((i.target_id, i.state) for i in elb.instances) == sorted(
        (i.instance_id, "InService") for i in blue.instances)
    assert reader.log.counts()["elb:DescribeInstanceHealth"] == 1


def test_ssm_image_delivery_reads_the_image_parameter(seeder, reader):
    def via_parameter(data: dict[str, Any]) -> None:
        data["platform"]["asg"]["image_delivery"] = {"method": "ssm-parameter", "parameter": "/legacy/{color}/image",
                                                     "container_port": 8080, "host_port": 80}

    spec = variant("legacy", via_parameter)
    seeded = seed(seeder, spec)

    snap = discover(reader, [spec])["legacy"]

    assert snap.image_parameters == {"/legacy/blue/image": seeded.image, "/legacy/green/image": seeded.image}
    assert (snap.image.tag, snap.image.digest) == ("v1", seeded.image_digest)
    assert snap.findings == ()


def test_dns_record_discovery_reports_weights_ttl_and_each_colors_stack(seeder, reader):
    spec = example("api")
    seeded = seed(seeder, spec)

    snap = discover(reader, [spec])["api"]

    assert snap.findings == ()
    assert snap.dns_zone_id == seeded.hosted_zone_id
    records = {r.set_identifier: r for r in snap.dns_records}
    assert set(records) == {"blue", "green"}
    assert (records["blue"].weight, records["green"].weight) == (100, 0)
    assert records["blue"].values == ("api-blue.lb.example.com",)
    assert records["green"].values == ("api-green.lb.example.com",)
    assert {r.ttl for r in records.values()} == {60} and {r.type for r in records.values()} == {"CNAME"}
    assert records["blue"].name == "api.example.com"
    # each color's target group is found through its ECS service
    assert set(snap.target_groups) == {"api-blue", "api-green"}
    assert snap.target_groups["api-blue"].healthy_count == 2 and snap.target_groups["api-green"].targets == ()
    assert reader.log.counts()["route53:ListResourceRecordSets"] == 1


def test_green_live_dns_seed_is_reported_with_green_weights(seeder, reader):
    spec = example("api")
    seed(seeder, spec, live_color="green")

    snap = discover(reader, [spec])["api"]

    assert {r.set_identifier: r.weight for r in snap.dns_records} == {"blue": 0, "green": 100}
    assert snap.ecs_services["api-green"].desired == 2 and snap.ecs_services["api-blue"].desired == 0


# --- offline ----------------------------------------------------------------------------------------


def test_offline_snapshot_says_nothing_live_was_read():
    snap = offline_snapshot(example("web"))

    assert snap.offline and snap.service == "web" and snap.region == "us-east-1"
    assert snap.ecs_services == {} and snap.listeners == ()
    assert len(snap.findings) == 1 and "nothing live was read" in snap.findings[0].message


def test_a_container_pinned_by_digest_resolves_through_the_digest(seeder, reader, aws):
    spec = example("worker")
    seeded = seed(seeder, spec)
    ecs = aws.client("ecs")
    body = ecs.describe_task_definition(taskDefinition=seeded.task_definition_arn)["taskDefinition"]
    containers = [dict(c, image=f"{seeded.repository_uri}@{seeded.image_digest}") if c["name"] == "worker" else c
                  for c in body["containerDefinitions"]]
    registration = {k: v for k, v in body.items() if k not in TASK_DEFINITION_READ_ONLY}
    pinned = ecs.register_task_definition(**{**registration, "containerDefinitions": containers})
    ecs.update_service(cluster="prod", service="worker",
                       taskDefinition=pinned["taskDefinition"]["taskDefinitionArn"])

    snap = discover(reader, [spec])["worker"]

    assert (snap.image.tag, snap.image.digest) == ("v1", seeded.image_digest)
    assert snap.findings == ()


# --- recorded answers -------------------------------------------------------------------------------


def test_raw_answers_round_trip_through_json_to_the_same_snapshots(seeder, reader):
    """tests/unit/discovery replays recorded RawState JSON: recording loses nothing a snapshot uses."""
    specs = [example(name) for name in EXAMPLES]
    for spec in specs:
        seed(seeder, spec)

    raw = read(reader, specs)
    replayed = RawState.from_json(json.loads(json.dumps(raw.to_json())))

    for spec in specs:
        live = assemble(spec, raw, None, reader.region)
        assert live.findings == () and live.image.digest
        assert assemble(spec, replayed, None, reader.region) == live
