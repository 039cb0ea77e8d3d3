"""`bluegreen init`: from what runs (seeded on the emulator) to a spec that validates and plans with no changes.

Each strategy's topology is seeded from the example spec (`bluegreen.local.seed`), the example spec is
removed, and `init` must find it again from one name: the generated spec loads, and
`plan --detailed-exitcode` on the live image exits 0 (nothing to change).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bluegreen.app import init_facts as facts
from bluegreen.app.init import InitRequest, walk
from bluegreen.cli.main import main
from bluegreen.errors import InvalidInput
from bluegreen.local.seed import seed
from bluegreen.specfiles.loader import load_spec
from bluegreen.specfiles.writer import Document, Field, Item, render

from deploy_helpers import seeding_aws, write_spec

EXIT_OK, EXIT_INVALID, EXIT_UNREACHABLE = 0, 2, 6


def seed_example(aws, workdir: Path, name: str, **kwargs):
    """Seed the example `name` live (blue serving), then remove its spec: init must find everything itself."""
    path = write_spec(workdir, name)
    spec = load_spec(path).spec
    result = seed(seeding_aws(spec.region, aws.endpoint_url), spec, live_color=kwargs.pop("live_color", "blue"),
                  image_tag="v1", deregistration_delay=1, **kwargs)
    path.unlink()
    return spec, result


def generated(workdir: Path, name: str) -> dict:
    return yaml.safe_load((workdir / "deployments" / f"{name}.yaml").read_text())


def plans_clean(path: Path, capsys) -> None:
    capsys.readouterr()
    code = main(["plan", str(path), "--detailed-exitcode"])
    out = capsys.readouterr()
    assert code == EXIT_OK, out.out + out.err
    assert "0 with changes, 0 with errors" in out.out


def test_init_from_one_ecs_service_finds_the_target_group_swap_and_plans_clean(aws, workdir, capsys):
    seed_example(aws, workdir, "web")

    code = main(["init", "--cluster", "prod", "--service", "web-blue"])

    out = capsys.readouterr()
    assert code == EXIT_OK, out.err
    assert "wrote deployments/web.yaml (web, strategy ecs-target-group-swap" in out.out
    spec = generated(workdir, "web")
    assert spec["platform"]["ecs"]["services"] == {"blue": "web-blue", "green": "web-green"}
    assert spec["traffic"]["routes"] == [{"load_balancer": "web-alb", "port": 80, "blue_target_group": "web-blue",
                                          "green_target_group": "web-green"}]
    assert spec["traffic"]["test_listener"] == {"port": 8080}
    assert main(["validate", "deployments/web.yaml"]) == EXIT_OK
    plans_clean(workdir / "deployments" / "web.yaml", capsys)



def test_init_from_a_service_with_one_target_group_writes_a_task_definition_swap(aws, workdir, capsys):
    seed_example(aws, workdir, "worker")

    code = main(["init", "--cluster", "prod", "--service", "worker"])

    assert code == EXIT_OK, capsys.readouterr().err
    spec = generated(workdir, "worker")
    assert spec["strategy"] == "ecs-task-definition-swap"
    assert spec["platform"]["ecs"] == {"cluster": "prod", "service": "worker", "container": "worker"}
    assert spec["traffic"] == {"target_group": "worker"}
    assert spec["image"] == {"repository": "worker"}
    plans_clean(workdir / "deployments" / "worker.yaml", capsys)


def test_init_from_one_auto_scaling_group_finds_the_other_color_and_plans_clean(aws, workdir, capsys):
    seed_example(aws, workdir, "legacy")

    code = main(["init", "--asg", "legacy-blue"])

    assert code == EXIT_OK, capsys.readouterr().err
    spec = generated(workdir, "legacy")
    assert spec["strategy"] == "asg-swap"
    assert spec["platform"]["asg"]["groups"] == {"blue": "legacy-blue", "green": "legacy-green"}
    assert spec["platform"]["asg"]["launch_template"] == "legacy"
    assert spec["platform"]["asg"]["image_delivery"] == {"method": "user-data", "container_port": 8080,
                                                         "host_port": 80}
    assert spec["traffic"] == {"target_group": "legacy"}
    plans_clean(workdir / "deployments" / "legacy.yaml", capsys)


def test_init_from_a_weighted_record_finds_each_stack_and_plans_clean(aws, workdir, capsys):
    seed_example(aws, workdir, "api")

    code = main(["init", "--zone", "example.com", "--record", "api.example.com",
                 "--cluster", "prod", "--service", "api-blue", "--service", "api-green"])

    assert code == EXIT_OK, capsys.readouterr().err
    spec = generated(workdir, "api")
    assert spec["strategy"] == "dns-cutover"
    assert spec["traffic"]["dns"] == {
        "hosted_zone": "example.com", "record": "api.example.com", "ttl": "60s",
        "endpoints": {"blue": "api-blue.lb.example.com", "green": "api-green.lb.example.com"},
        "target_groups": {"blue": "api-blue", "green": "api-green"}}
    assert spec["platform"]["ecs"]["services"] == {"blue": "api-blue", "green": "api-green"}
    plans_clean(workdir / "deployments" / "api.yaml", capsys)


def test_init_finds_each_dns_stack_behind_alias_records_with_health_checks(aws, workdir, capsys):
    from bluegreen.local.seed_extras import Extras

    _, seeded = seed_example(aws, workdir, "api", extras=Extras(alias=True, health_checks=True))

    code = main(["init", "--zone", "example.com", "--record", "api.example.com"])

    assert code == EXIT_OK, capsys.readouterr().err
    dns = generated(workdir, "api")["traffic"]["dns"]
    assert dns["endpoints"] == {c: seeded.records[c] for c in ("blue", "green")}  # dualstack.<ALB DNS name>
    assert dns["health_check_ids"] == seeded.health_checks
    assert dns["ttl"] == "60s"  # alias records have no TTL of their own
    spec = generated(workdir, "api")
    assert spec["platform"]["ecs"] == {"cluster": "prod", "services": {"blue": "api-blue", "green": "api-green"},
                                       "container": "api"}
    plans_clean(workdir / "deployments" / "api.yaml", capsys)


def test_the_alarms_whose_dimensions_name_the_services_resources_become_gates(aws, workdir, capsys):
    _, seeded = seed_example(aws, workdir, "web")
    cloudwatch = aws.client("cloudwatch")
    lb = seeded.load_balancers["web-alb"].split(":loadbalancer/", 1)[1]
    green_tg = seeded.target_groups["web-green"].split(":", 5)[5]
    alarm = dict(Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Period=60,
                 EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.put_metric_alarm(AlarmName="web-green-5xx", **alarm,
                                Dimensions=[{"Name": "TargetGroup", "Value": green_tg},
                                            {"Name": "LoadBalancer", "Value": lb}])
    cloudwatch.put_metric_alarm(AlarmName="web-cpu", **{**alarm, "Namespace": "AWS/ECS",
                                                        "MetricName": "CPUUtilization", "Statistic": "Average"},
                                Dimensions=[{"Name": "ClusterName", "Value": "prod"},
                                            {"Name": "ServiceName", "Value": "web-blue"}])
    cloudwatch.put_metric_alarm(AlarmName="web-cpu-in-another-cluster", **alarm,
                                Dimensions=[{"Name": "ClusterName", "Value": "staging"},
                                            {"Name": "ServiceName", "Value": "web-blue"}])
    cloudwatch.put_metric_alarm(AlarmName="someone-elses-alarm", **alarm,
                                Dimensions=[{"Name": "TargetGroup", "Value": "targetgroup/other/0123456789abcdef"}])
    for name in ("web-green-5xx", "web-cpu"):
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test: healthy")

    assert main(["init", "--cluster", "prod", "--service", "web-green"]) == EXIT_OK

    text = (workdir / "deployments" / "web.yaml").read_text()
    assert yaml.safe_load(text)["health"]["alarms"] == ["web-cpu", "web-green-5xx"]
    assert "# its metric's dimensions name ECS service web-blue" in text
    assert "# its metric's dimensions name load balancer web-alb, target group web-green" in text
    plans_clean(workdir / "deployments" / "web.yaml", capsys)


def test_init_reads_a_listener_rule_and_colors_from_names_when_green_is_live(aws, workdir, capsys):
    route = {"load_balancer": "shared-alb", "port": 443, "rule_priority": 10,
             "blue_target_group": "web-blue", "green_target_group": "web-green"}
    path = write_spec(workdir, "web", traffic={"routes": [route], "test_listener": {"port": 8443}})
    spec = load_spec(path).spec
    seed(seeding_aws(spec.region, aws.endpoint_url), spec, live_color="green", image_tag="v1")
    path.unlink()

    code = main(["init", "--cluster", "prod", "--service", "web-green", "--service", "web-blue"])

    assert code == EXIT_OK, capsys.readouterr().err
    written = generated(workdir, "web")
    # blue is the one named blue, though green serves
    assert written["traffic"] == {"routes": [route], "test_listener": {"port": 8443}}
    assert written["platform"]["ecs"]["services"] == {"blue": "web-blue", "green": "web-green"}
    plans_clean(path, capsys)


def test_init_on_the_realistic_emulator_plans_clean(realistic_aws, workdir, capsys):
    seed_example(realistic_aws, workdir, "web")

    assert main(["init", "--cluster", "prod", "--service", "web-blue"]) == EXIT_OK

    plans_clean(workdir / "deployments" / "web.yaml", capsys)


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("controller, strategy, words", [
    ("CODE_DEPLOY", None, "is deployed by the CODE_DEPLOY deployment controller"),
    ("EXTERNAL", None, "is deployed by the EXTERNAL deployment controller"),
    ("ECS", "BLUE_GREEN", "is deployed by ECS's built-in BLUE_GREEN deployments"),
])
def test_a_service_another_controller_deploys_is_refused_and_no_spec_is_written(aws, workdir, capsys, controller,
                                                                                 strategy, words):
    seed_example(aws, workdir, "web", controller=controller, ecs_strategy=strategy)

    code = main(["init", "--cluster", "prod", "--service", "web-blue"])

    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert err.count("\n") == 1 and words in err and "bluegreen refuses to edit it" in err
    assert not (workdir / "deployments" / "web.yaml").exists()


def test_an_existing_spec_is_not_overwritten_without_force(aws, workdir, capsys):
    seed_example(aws, workdir, "worker")
    path = workdir / "deployments" / "worker.yaml"
    path.write_text("# mine\n")

    refused = main(["init", "--cluster", "prod", "--service", "worker"])
    err = capsys.readouterr().err
    forced = main(["init", "--cluster", "prod", "--service", "worker", "--force"])

    assert refused == EXIT_INVALID
    assert err == "deployments/worker.yaml already exists: not overwritten (--force replaces it)\n"
    assert forced == EXIT_OK
    assert load_spec(path).spec.service == "worker"
    plans_clean(path, capsys)


def test_out_dash_prints_the_spec_and_writes_nothing(aws, workdir, capsys):
    seed_example(aws, workdir, "worker")

    code = main(["init", "--cluster", "prod", "--service", "worker", "--out", "-", "--name", "jobs"])

    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert yaml.safe_load(out)["service"] == "jobs"
    assert not (workdir / "deployments").exists() or not list((workdir / "deployments").iterdir())


def test_an_unknown_service_is_one_line_and_exit_2(aws, workdir, capsys):
    seed_example(aws, workdir, "worker")

    code = main(["init", "--cluster", "prod", "--service", "no-such-service"])

    assert code == EXIT_INVALID
    assert capsys.readouterr().err == (
        "ECS service no-such-service not found in cluster prod (region us-east-1)\n")


def test_unreachable_aws_is_one_line_and_exit_6(workdir, monkeypatch, capsys):
    import socket

    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    import botocore.retries.standard

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)

    code = main(["--endpoint-url", f"http://127.0.0.1:{port}", "init", "--cluster", "prod", "--service", "web"])

    err = capsys.readouterr().err
    assert code == EXIT_UNREACHABLE
    assert err.count("\n") == 1 and "DescribeServices failed: AWS did not answer" in err


@pytest.mark.parametrize("args, message", [
    (["--service", "web"], "--service needs --cluster (the ECS cluster it runs in)"),
    (["--zone", "example.com"], "--zone and --record go together"),
    ([], "say where to start: --cluster C --service S, --asg NAME, or --zone ZONE --record NAME"),
    (["--asg", "a", "--asg", "b", "--asg", "c"], "give at most two --service or --asg (one per color)"),
])
def test_flags_that_name_no_place_to_start_are_refused_before_any_call(workdir, capsys, args, message):
    code = main(["--endpoint-url", "http://127.0.0.1:9", "init", *args])

    assert code == EXIT_INVALID
    assert message in capsys.readouterr().err


def test_init_reads_ssm_parameter_image_delivery_from_the_groups_user_data(aws, workdir, capsys):
    delivery = {"method": "ssm-parameter", "parameter": "/legacy/{color}/image", "container_port": 8080,
                "host_port": 80}
    group = {"launch_template": "legacy", "name_pattern": "legacy-{color}", "image_delivery": delivery}
    path = write_spec(workdir, "legacy", platform={"asg": group})
    spec = load_spec(path).spec
    seed(seeding_aws(spec.region, aws.endpoint_url), spec, image_tag="v1")
    path.unlink()

    assert main(["init", "--asg", "legacy-green", "--asg", "legacy-blue"]) == EXIT_OK, capsys.readouterr().err

    written = generated(workdir, "legacy")["platform"]["asg"]
    assert written["image_delivery"] == delivery
    assert written["groups"] == {"blue": "legacy-blue", "green": "legacy-green"}
    plans_clean(path, capsys)


def test_init_from_a_weighted_record_over_two_auto_scaling_groups(aws, workdir, capsys):
    asg = {"launch_template": "api", "name_pattern": "api-{color}",
           "image_delivery": {"method": "user-data", "container_port": 8080, "host_port": 80}}
    path = write_spec(workdir, "api")
    data = yaml.safe_load(path.read_text()) | {"platform": {"asg": asg}}  # the same record, over groups
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(path).spec
    seed(seeding_aws(spec.region, aws.endpoint_url), spec, image_tag="v1")
    path.unlink()

    code = main(["init", "--zone", "example.com", "--record", "api.example.com", "--asg", "api-blue",
                 "--asg", "api-green"])

    assert code == EXIT_OK, capsys.readouterr().err
    written = generated(workdir, "api")
    assert written["strategy"] == "dns-cutover"
    assert written["platform"]["asg"]["groups"] == {"blue": "api-blue", "green": "api-green"}
    assert written["traffic"]["dns"]["endpoints"] == {"blue": "api-blue.lb.example.com",
                                                      "green": "api-green.lb.example.com"}
    plans_clean(path, capsys)


# --- pure parts: the writer, names and colors, listeners, alarms, user data ------------------------



def test_the_writer_puts_each_comment_above_its_field_and_quotes_what_yaml_would_misread():
    doc = Document(header=("made by a test",), fields=(
        Field("service", "web", comment="the name"),
        Field("odd", ["on", "1e3", "*", "yes", "null"]),
        Field("traffic", (Field("routes", [Item((Field("load_balancer", "lb", comment="why this one"),
                                                 Field("port", 80, trailing="now")), comment="route one")]),)),
    ))

    text = render(doc)

    assert yaml.safe_load(text) == {"service": "web", "odd": ["on", "1e3", "*", "yes", "null"],
                                    "traffic": {"routes": [{"load_balancer": "lb", "port": 80}]}}
    assert text.splitlines()[:3] == ["# made by a test", "# the name", "service: web"]
    assert "    # route one\n    # why this one\n    - load_balancer: lb\n      port: 80  # now\n" in text


@pytest.mark.parametrize("names, stem", [
    (("web-blue", "web-green"), "web"), (("Blue_Shop", "Green_Shop"), "shop"), (("worker",), "worker"),
    (("api-blue-v2", "api-green-v2"), "api-v2"), (("orders-a", "orders-b"), "orders"),
])
def test_the_service_name_is_what_the_live_names_share_without_the_color(names, stem):
    assert facts.service_name(*names) == stem


def test_colors_come_from_names_then_from_the_live_one_then_from_the_order():
    assert facts.assign_colors("web-green", "web-blue", live="web-green")[:2] == ("web-blue", "web-green")
    assert facts.assign_colors("a", "b", live="b")[:2] == ("b", "a")
    assert facts.assign_colors("a", "b")[:2] == ("a", "b")
    assert facts.other_color_name("legacy-Blue") == "legacy-Green"
    assert facts.other_color_name("bluebird") is None  # a word, not a substring


def forwarder(port: int, priority: int | None = None, lb: str = "alb") -> facts.Forwarder:
    return facts.Forwarder(lb, f"arn:{lb}", port, priority, (("tg-b", 100), ("tg-g", 0)))


def test_production_is_443_or_80_or_a_rule_and_another_port_is_the_test_listener():
    routes, test, _ = facts.split_test_listener([forwarder(8080), forwarder(80)])
    assert [r.port for r in routes] == [80] and test is not None and test.port == 8080

    routes, test, _ = facts.split_test_listener([forwarder(443, priority=10), forwarder(9000)])
    assert [(r.port, r.priority) for r in routes] == [(443, 10)] and test is not None and test.port == 9000

    routes, test, _ = facts.split_test_listener([forwarder(3000), forwarder(3001, lb="other")])
    assert [r.port for r in routes] == [3000, 3001] and test is None  # a test listener is on the first route's LB


def test_alarms_are_matched_by_any_dimension_of_their_metrics_and_a_service_by_its_cluster_too():
    alarms = [
        {"AlarmName": "math", "Metrics": [{"MetricStat": {"Metric": {"Dimensions": [
            {"Name": "TargetGroup", "Value": "targetgroup/web-blue/1"}]}}}]},
        {"AlarmName": "cpu", "Dimensions": [{"Name": "ServiceName", "Value": "web-blue"},
                                            {"Name": "ClusterName", "Value": "prod"}]},
        {"AlarmName": "cpu-staging", "Dimensions": [{"Name": "ServiceName", "Value": "web-blue"},
                                                    {"Name": "ClusterName", "Value": "staging"}]},
    ]
    wanted = {("TargetGroup", "targetgroup/web-blue/1"): "target group web-blue",
              ("ServiceName", "web-blue"): "ECS service web-blue"}

    assert [name for name, _ in facts.alarms_naming(alarms, wanted, "prod")] == ["cpu", "math"]


def test_image_delivery_and_ports_are_read_from_user_data():
    plain = facts.delivery_from("docker run -d --name app -p 80:8080 123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1")
    ssm = facts.delivery_from('IMAGE=$(aws ssm get-parameter --name "/shop/${COLOR}/image" --query P)\n'
                              'docker run -p 8080:8080 "$IMAGE"')

    assert plain == facts.Delivery("user-data", 80, 8080)
    assert ssm == facts.Delivery("ssm-parameter", 8080, 8080, "/shop/{color}/image")
    assert facts.ecr_image("run 123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@sha256:" + "a" * 64
                           ).repository == "team/app"


class FakeReads:
    """AWS answers held in memory, for the walk's refusals (every method init's reads have)."""

    region = "us-east-1"

    def __init__(self, services=(), target_groups=(), load_balancers=(), listeners=None):
        self.services, self.tgs, self.lbs = list(services), list(target_groups), list(load_balancers)
        self._listeners = listeners or {}

    def ecs_services(self, cluster, names):
        return [s for s in self.services if s["serviceName"] in names]

    def cluster_services(self, cluster):
        return list(self.services)

    def clusters(self):
        return ["prod"]

    def task_definition(self, arn):
        return {"taskDefinitionArn": arn, "containerDefinitions": [
            {"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1"}]}

    def target_groups(self, arns):
        return [t for t in self.tgs if t["TargetGroupArn"] in arns]

    def load_balancers(self, arns=None):
        return [b for b in self.lbs if arns is None or b["LoadBalancerArn"] in arns]

    def listeners(self, arn):
        return self._listeners.get(arn, [])

    def rules(self, arn):
        return []

    def auto_scaling_groups(self, names=None):
        return []

    def launch_template_version(self, template):
        return None

    def parameter_value(self, name):
        return None

    def hosted_zone(self, zone):
        return None

    def record_sets(self, zone_id, name):
        return []

    def alarms(self):
        return []


def tg(name):
    return {"TargetGroupArn": f"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{name}/1", "TargetGroupName": name,
            "LoadBalancerArns": ["arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb/1"]}


def ecs_service(name, *tgs):
    return {"serviceName": name, "taskDefinition": f"arn:td/{name}:1", "desiredCount": 2,
            "loadBalancers": [{"targetGroupArn": tg(t)["TargetGroupArn"], "containerName": "app"} for t in tgs]}


def two_way_world(*services):
    lb = {"LoadBalancerArn": tg("x")["LoadBalancerArns"][0], "LoadBalancerName": "alb"}
    listener = {"ListenerArn": "arn:listener/80", "Port": 80, "DefaultActions": [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": tg("shop-blue")["TargetGroupArn"], "Weight": 100},
                         {"TargetGroupArn": tg("shop-green")["TargetGroupArn"], "Weight": 0}]}}]}
    return FakeReads(services, [tg("shop-blue"), tg("shop-green")], [lb], {lb["LoadBalancerArn"]: [listener]})


def test_a_two_way_forward_whose_other_target_group_no_service_uses_is_refused_naming_it():
    reads = two_way_world(ecs_service("shop-blue", "shop-blue"))

    with pytest.raises(InvalidInput) as refused:
        walk(reads, InitRequest(region="us-east-1", cluster="prod", services=("shop-blue",)))

    assert refused.value.message == ("alb:80 forwards to shop-blue and shop-green, but the ECS services of cluster "
                                     "prod registering into shop-green are: none; give both with --service")


def test_two_services_in_one_cluster_registering_into_the_other_target_group_are_ambiguous():
    reads = two_way_world(ecs_service("shop-blue", "shop-blue"), ecs_service("shop-green", "shop-green"),
                          ecs_service("shop-green-canary", "shop-green"))

    with pytest.raises(InvalidInput, match="registering into shop-green are: shop-green, shop-green-canary"):
        walk(reads, InitRequest(region="us-east-1", cluster="prod", services=("shop-blue",)))


def test_the_pair_found_in_memory_is_a_target_group_swap_with_its_weights_noted():
    reads = two_way_world(ecs_service("shop-blue", "shop-blue"), ecs_service("shop-green", "shop-green"))

    found = walk(reads, InitRequest(region="us-east-1", cluster="prod", services=("shop-green",)))

    assert found.service == "shop" and found.strategy.value == "ecs-target-group-swap"
    assert [s.name for s in found.stacks] == ["shop-blue", "shop-green"]
    route = found.traffic.value[0].value[0].value  # type: ignore[index,union-attr]
    assert [(f.key, f.value, f.trailing) for f in route][-2:] == [
        ("blue_target_group", "shop-blue", "weight 100 now"), ("green_target_group", "shop-green", "weight 0 now")]


def test_init_from_a_service_ecs_deploys_blue_green_itself_writes_an_ecs_native_spec_that_plans_clean(
        realistic_aws, workdir, capsys):
    from bluegreen.local.seed_controlled import NativeSeed

    seed_example(realistic_aws, workdir, "checkout", engine=NativeSeed(strategy="LINEAR", linear=(20, 1)))

    assert main(["init", "--cluster", "prod", "--service", "checkout"]) == EXIT_OK

    spec = generated(workdir, "checkout")
    assert spec["strategy"] == "ecs-native" and spec["traffic"] == {"target_group": "checkout"}
    assert spec["shift"] == {"mode": "all-at-once"}
    text = (workdir / "deployments" / "checkout.yaml").read_text()
    assert "built-in LINEAR" in text and "checkout-alt" in text
    plans_clean(workdir / "deployments" / "checkout.yaml", capsys)
