"""Create, in the emulator (or any endpoint), the infrastructure a spec refers to.

Tests, the demo and the benchmarks all seed through `seed` (one spec) and `seed_fleet` (many
small ECS services), so they all start from the same, realistic world:

- image: the ECR repository with one image (a valid docker v2 manifest, so it has a digest);
- ECS: cluster, execution/task roles, a task definition with every commonly used field, and one
  service per color (live: 2 tasks, idle: 0) on FARGATE/awsvpc in a VPC with DNS hostnames on;
- traffic: ALB + target groups + a weighted listener (or a rule at `rule_priority`), a test
  listener, a single target group, a classic ELB, or a weighted Route53 record;
- ASG: a launch template whose user data runs the image, and the two groups (live attached);
- alarms in state OK; secret references (SSM parameters, Secrets Manager secrets) that exist.

`live_color="green"` builds the mirror image, so tests can prove that the live color is read from
weights and attachments, never from names.

moto specifics (harmless against a real endpoint, see MOTO.md): the ECS running count is taken
from MOTO_ECS_SERVICE_RUNNING when a service is created, so `seed` sets it around each creation
(an in-process server sees it); a Secrets Manager ARN's random suffix is requested through moto's
`_custom_id_` tag so the secret's ARN equals the spec's reference.

On the realistic emulator (an active `World` in this process) ECS starts the live color's tasks
and registers them itself, so `seed` registers no made-up targets; everything is created an hour
in the past (`world.seeding`), so the live color is running, healthy and COMPLETED when `seed`
returns, and `SeedResult.targets` lists the targets ECS (or Auto Scaling) registered.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bluegreen.domain.spec import Spec
from bluegreen.adapters.aws.session import Aws
from bluegreen.local import seed_extras
from bluegreen.local.seed_controlled import CodeDeploySeed, NativeSeed
from bluegreen.local.seed_extras import Extras
from bluegreen.local.world import seeding, simulating
from bluegreen.local.seed_parts import (
    COLORS, CONTAINER_PORT, SeedResult, account_of, ecs_running, forward_actions, forward_listener, make_alarms,
    make_alb, make_classic_elb, make_repository, make_role, make_target_group, put_image, seed_dns,
    shared_network,
)
from bluegreen.local.seed_compute import (
    create_service, ecs_extras, register_task_definition, seed_asg, seed_ecs,
)

FLEET_RULES_PER_ALB = 50

# --- public -------------------------------------------------------------------------------------


def seed(aws: Aws, spec: Spec, *, live_color: str = "blue", image_tag: str = "v1",
         running: bool = True, deregistration_delay: int = 30, controller: str = "ECS",
         ecs_strategy: str | None = None, scaling: dict[str, bool] | None = None,
         extras: Extras | None = None, engine: NativeSeed | CodeDeploySeed | None = None) -> SeedResult:
    """Create everything `spec` refers to, with `live_color` serving 100% of the traffic.

    ECS services only: `controller` is their deployment controller type (ECS, CODE_DEPLOY, EXTERNAL),
    `ecs_strategy` their deployment strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY; set with an update,
    which moto keeps where create drops it), and `scaling`, when given, the SuspendedState of an
    Application Auto Scaling target registered for each service (1 to 4 tasks). With `extras`, the
    attributes a traffic shift must keep (see `seed_extras`). With `engine`, the spec's one service
    is deployed by ECS's built-in blue/green or CodeDeploy (see `seed_controlled`).
    """
    with seeding():
        result = _seed(aws, spec, live_color=live_color, image_tag=image_tag, running=running,
                       deregistration_delay=deregistration_delay, controller=controller,
                       ecs_strategy=ecs_strategy, scaling=scaling, extras=extras, engine=engine)
    if simulating() is not None:
        _record_targets(aws.for_region(spec.region), result)
    return result


def _seed(aws: Aws, spec: Spec, *, live_color: str, image_tag: str, running: bool, deregistration_delay: int,
          controller: str, ecs_strategy: str | None, scaling: dict[str, bool] | None,
          extras: Extras | None, engine: NativeSeed | CodeDeploySeed | None = None) -> SeedResult:
    if live_color not in COLORS:
        raise ValueError(f"live_color must be blue or green, not {live_color!r}")
    aws = aws.for_region(spec.region)
    idle_color = "green" if live_color == "blue" else "blue"
    result = SeedResult(spec.service, aws.region, account_of(aws), live_color)
    net = shared_network(aws)
    result.vpc_id, result.subnet_ids, result.security_group_id = net.vpc_id, net.subnet_ids, net.security_group_id

    uri = make_repository(aws, spec.image.repository, immutable=spec.image.tag_immutable,
                      scan_on_push=spec.image.scan_on_push)
    result.repository_uri = uri
    result.image = f"{uri}:{image_tag}"
    result.image_digest = put_image(aws, spec.image.repository, image_tag)

    ecs, asg, traffic = spec.ecs, spec.asg, spec
    target_type = "ip" if ecs else "instance"
    port = CONTAINER_PORT if ecs else (asg.image_delivery.host_port if asg else 80)
    # color -> target group names that color's workload is registered in
    color_tgs: dict[str, list[str]] = {c: [] for c in COLORS}

    if traffic.routes:
        for route in traffic.routes:
            lb_arn = make_alb(aws, route.load_balancer, net, result)
            tg_arns = {c: make_target_group(aws, getattr(route, f"{c}_target_group"), net, port, target_type, result,
                                   deregistration_delay=deregistration_delay)
                       for c in COLORS}
            for c in COLORS:
                color_tgs[c].append(getattr(route, f"{c}_target_group"))
            weights = [(tg_arns[live_color], 100), (tg_arns[idle_color], 0)]
            forward_listener(aws, lb_arn, route.load_balancer, route.port, weights, route.rule_priority,
                              spec.service, result)
        if traffic.test_listener:
            first = traffic.routes[0]
            tg = {c: result.target_groups[getattr(first, f"{c}_target_group")] for c in COLORS}
            forward_listener(aws, result.load_balancers[first.load_balancer], first.load_balancer,
                              traffic.test_listener.port, [(tg[live_color], 100), (tg[idle_color], 0)],
                              None, spec.service, result)
        if extras is not None:
            seed_extras.routes(aws, spec, result, live_color, extras)
    elif traffic.target_group:
        lb_name = f"{spec.service}-alb"
        lb_arn = make_alb(aws, lb_name, net, result)
        tg_arn = make_target_group(aws, traffic.target_group, net, port, target_type, result,
                                   deregistration_delay=deregistration_delay)
        forward_listener(aws, lb_arn, lb_name, 80, [(tg_arn, 100)], None, spec.service, result)
        color_tgs[live_color].append(traffic.target_group)
    elif traffic.dns:
        dns = traffic.dns
        for c in COLORS:
            name = dns.target_groups.of(c) if dns.target_groups else f"{spec.service}-{c}"
            lb_name = f"{spec.service}-{c}"
            lb_arn = make_alb(aws, lb_name, net, result)
            tg_arn = make_target_group(aws, name, net, port, target_type, result,
                                   deregistration_delay=deregistration_delay)
            forward_listener(aws, lb_arn, lb_name, 80, [(tg_arn, 100)], None, spec.service, result)
            color_tgs[c].append(name)
    if traffic.classic_elb:
        make_classic_elb(aws, traffic.classic_elb, net, port, spec.service, result)

    if ecs:
        seed_ecs(aws, spec, net, result, color_tgs, live_color, image_tag, running, controller, engine)
        ecs_extras(aws, spec, ecs_strategy, scaling)
    if asg:
        seed_asg(aws, spec, net, result, color_tgs, live_color, extras)
    if traffic.dns:
        seed_dns(aws, spec, result, live_color, extras)
    if spec.health.alarms:
        make_alarms(aws, spec.health.alarms, spec.service)
        result.alarms = tuple(spec.health.alarms)
    return result


def seed_fleet(aws: Aws, n: int, *, cluster: str = "fleet", workers: int = 8) -> list[Spec]:
    """`n` ECS task-definition-swap services in one cluster (one shared ECR repository, one image
    tag per service, one target group each, behind a host-header rule of one of the fleet's load
    balancers: ECS refuses a target group no load balancer uses) and their specs, for the
    many-services benchmark."""
    account = account_of(aws)
    net = shared_network(aws)
    repo = cluster
    uri = make_repository(aws, repo, immutable=True, scan_on_push=False)
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    execution_role = make_role(aws, f"ecsTaskExecutionRole-{cluster}", cluster)
    task_role = make_role(aws, f"ecsTaskRole-{cluster}", cluster)
    width = max(3, len(str(n)))
    names = [f"{cluster}-svc-{i:0{width}d}" for i in range(1, n + 1)]
    scratch = SeedResult(cluster, aws.region, account, "blue")
    # an ALB takes 100 rules (its quota); 50 services each leave room
    albs = [make_alb(aws, f"{cluster}-alb-{i + 1}", net, scratch) for i in range(-(-n // FLEET_RULES_PER_ALB))]
    no_route = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"}}]
    listeners = [aws.client("elbv2").create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80,
                                                     DefaultActions=no_route)["Listeners"][0]["ListenerArn"]
                 for arn in albs]

    def one(index: int, name: str) -> dict[str, Any]:
        tag = f"{name}-v1"
        put_image(aws, repo, tag)
        # AWS's default deregistration delay (300 s) is kept: one call less per service
        tg_arn = make_target_group(aws, name, net, CONTAINER_PORT, "ip", scratch, deregistration_delay=None)
        aws.client("elbv2").create_rule(
            ListenerArn=listeners[index // FLEET_RULES_PER_ALB], Priority=index % FLEET_RULES_PER_ALB + 1,
            Actions=forward_actions([(tg_arn, 1)]),
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": [f"{name}.example.com"]}}])
        td = register_task_definition(
            aws, family=name, container="app", image=f"{uri}:{tag}", cpu=256, memory=512,
            environment={"SERVICE": name}, secrets={}, execution_role=execution_role, task_role=task_role,
            tags={"bluegreen:service": name}, region=aws.region)
        create_service(aws, cluster, name, td, desired=2, net=net, container="app",
                        target_group_arns=[tg_arn], tags={"bluegreen:service": name})
        return {
            "service": name,
            "region": aws.region,
            "strategy": "ecs-task-definition-swap",
            "image": {"repository": repo},
            "platform": {"ecs": {"cluster": cluster, "service": name, "container": "app"}},
            "traffic": {"target_group": name},
        }

    with seeding(), ecs_running(2), ThreadPoolExecutor(max_workers=workers) as pool:
        raw = list(pool.map(one, range(n), names))
    return [Spec.model_validate(item) for item in raw]


def _record_targets(aws: Aws, result: SeedResult) -> None:
    """The targets ECS or Auto Scaling registered while seeding (the realistic emulator)."""
    elbv2 = aws.client("elbv2")
    for name, arn in result.target_groups.items():
        found = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        ids = tuple(sorted(d["Target"]["Id"] for d in found if d["TargetHealth"]["State"] != "draining"))
        if ids:
            result.targets[name] = ids


