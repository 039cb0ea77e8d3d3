"""Which strategy the planner picks from the spec's shape, and how it explains the choice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bluegreen.domain.spec import Strategy
from bluegreen.planning.planner import choose_strategy, make_plan
from support.builders import NOW, by_name, route, snapshot, spec, target_group

ECS_PER_COLOR = {"ecs": {"cluster": "prod", "services": {"blue": "web-blue", "green": "web-green"}, "container": "web"}}
ECS_ONE = {"ecs": {"cluster": "prod", "service": "worker", "container": "worker"}}
ASG = {"asg": {"launch_template": "legacy", "name_pattern": "legacy-{color}"}}
ROUTES = {"routes": [route("web-alb", 80, "web-blue", "web-green")]}
DNS = {"dns": {"hosted_zone": "example.com", "record": "api.example.com", "ttl": "60s",
               "endpoints": {"blue": "b.example.com", "green": "g.example.com"}}}

CHOICES = [
    (ECS_PER_COLOR, ROUTES, Strategy.ECS_TARGET_GROUPS,
     "listener web-alb:80 has blue and green target groups (web-blue, web-green) and each color has its own "
     "ECS service -> ECS target-group swap"),
    (ECS_ONE, {"target_group": "worker"}, Strategy.ECS_TASK_DEFINITION,
     "one ECS service (worker) behind target group worker -> ECS task-definition swap"),
    (ECS_ONE, {"classic_elb": "old"}, Strategy.ECS_TASK_DEFINITION, "one ECS service (worker) -> ECS task-definition swap"),
    (ASG, {"target_group": "legacy"}, Strategy.ASG_SWAP,
     "platform is EC2 Auto Scaling (legacy-blue / legacy-green) behind target group legacy -> ASG swap"),
    (ASG, {"classic_elb": "legacy-elb"}, Strategy.ASG_SWAP,
     "platform is EC2 Auto Scaling (legacy-blue / legacy-green) behind classic ELB legacy-elb -> ASG swap"),
    (ASG, ROUTES, Strategy.ASG_SWAP, "platform is EC2 Auto Scaling (legacy-blue / legacy-green) behind listener "
                                     "routes with blue and green target groups -> ASG swap"),
    (ECS_PER_COLOR, DNS, Strategy.DNS_CUTOVER,
     "traffic is the Route53 weighted record api.example.com with one endpoint per color -> DNS cutover"),
    (ASG, DNS, Strategy.DNS_CUTOVER,
     "traffic is the Route53 weighted record api.example.com with one endpoint per color -> DNS cutover"),
]


@pytest.mark.parametrize("platform, traffic, strategy, reason", CHOICES)
def test_the_automatic_choice_follows_the_spec_and_says_why(platform, traffic, strategy, reason):
    choice = choose_strategy(spec("svc", platform, traffic))

    assert (choice.strategy, choice.reasons) == (strategy, [reason])


def test_an_explicit_strategy_wins_and_says_it_was_set():
    choice = choose_strategy(spec("svc", ECS_PER_COLOR, DNS, strategy="ecs-target-group-swap"))

    assert (choice.strategy, choice.reasons) == (Strategy.ECS_TARGET_GROUPS,
                                                 ["strategy ecs-target-group-swap is set explicitly in the spec"])


def test_services_per_color_behind_one_target_group_fit_no_strategy_and_the_plan_says_what_would():
    spec_ = spec("web", ECS_PER_COLOR, {"target_group": "web"})

    plan = make_plan(spec_, snapshot("web", target_groups=by_name(target_group("web"))), image_tag="v2", now=NOW)

    message = ("no strategy fits this spec: give ECS services per color with listener routes, one ECS service, "
               "an Auto Scaling platform, or a DNS record")
    assert plan.strategy is None and plan.steps == [] and plan.errors == [message]


def test_an_offline_plan_lays_out_no_steps_and_says_why():
    plan = make_plan(spec("web", ECS_PER_COLOR, ROUTES), snapshot("web", offline=True), image_tag="v2", now=NOW)

    assert plan.steps == [] and plan.errors == []
    assert "offline: no live state was read, so no steps can be laid out" in plan.warnings


PLANNING = Path(__file__).resolve().parents[3] / "bluegreen" / "planning"
FORBIDDEN = ("bluegreen.adapters", "bluegreen.state", "bluegreen.app", "bluegreen.cli", "bluegreen.execution",
             "bluegreen.local", "bluegreen.discovery", "boto3", "botocore", "docker", "moto")


@pytest.mark.parametrize("module", sorted(p.relative_to(PLANNING).as_posix() for p in PLANNING.rglob("*.py")))
def test_planning_imports_only_the_domain_and_itself_and_narrows_without_assert(module):
    tree = ast.parse((PLANNING / module).read_text(encoding="utf-8"))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]

    assert [m for m in imported if m.startswith(FORBIDDEN)] == []
    assert [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)] == []  # `python -O` drops asserts
