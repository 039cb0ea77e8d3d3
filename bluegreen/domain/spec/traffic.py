"""The spec's `traffic` section: listener routes, one target group, a classic ELB, or a Route53 record."""

from __future__ import annotations

from pydantic import Field, field_validator

from bluegreen.domain.colors import Color
from bluegreen.domain.durations import Duration
from bluegreen.domain.spec.base import ColorPair, Model, Name, Port, one_of, union


# --- traffic ---------------------------------------------------------------------------------


class Route(Model):
    """A listener's default action, or one rule of it on a shared ALB, forwarding to blue/green."""

    load_balancer: Name = Field(description="ALB/NLB name.")
    port: Port = Field(description="Production listener port.")
    rule_priority: int | None = Field(None, ge=1, le=50000, description="Omit for the default action.")
    blue_target_group: Name = Field(description="Target group of the blue color.")
    green_target_group: Name = Field(description="Target group of the green color.")

    def target_group(self, color: Color | str) -> str:
        return self.blue_target_group if color == Color.BLUE else self.green_target_group

    @property
    def label(self) -> str:
        """`web-alb:443` or `web-alb:443 rule 10`."""
        return f"{self.load_balancer}:{self.port}" + (f" rule {self.rule_priority}" if self.rule_priority else "")


class TestListener(Model):
    __test__ = False  # not a pytest test class
    port: Port


class Dns(Model):
    hosted_zone: str = Field(description="Zone name (example.com) or id (Z123...).")
    record: str = Field(description="Record name, e.g. api.example.com")
    endpoints: ColorPair = Field(description=(
        "Each color's endpoint hostname: the CNAME value, or the alias target (its load balancer's DNS "
        "name) of a weighted alias record. A record whose set identifier is the color's name is found "
        "either way; only the weights are ever changed."))
    ttl: Duration = Field(description=(
        "The record's TTL: each traffic step holds at least this long (or the live records' own TTL, "
        "if longer). The records keep their TTL; it is never rewritten."))
    health_check_ids: ColorPair | None = None
    target_groups: ColorPair | None = Field(None, description="Each color's target group, for gates.")

    @field_validator("ttl")
    @classmethod
    def _whole_seconds(cls, value: float) -> float:
        if value != int(value):
            raise ValueError("Route53 TTLs are whole seconds")
        return value


class RoutesTraffic(Model):
    routes: list[Route] = Field(min_length=1, description="Listener default actions or rules forwarding to blue/green.")
    test_listener: TestListener | None = Field(None, description="A listener on the first route's load balancer where green is probed first.")


class TargetGroupTraffic(Model):
    target_group: Name = Field(description="A single target group (ECS task-definition swap, ASG swap).")


class ClassicElbTraffic(Model):
    classic_elb: Name = Field(description="A classic ELB (ASG swap).")


class DnsTraffic(Model):
    dns: Dns = Field(description="A Route53 weighted record (DNS cutover).")


Traffic = union((RoutesTraffic, "routes"), (TargetGroupTraffic, "target_group"),
                (ClassicElbTraffic, "classic_elb"), (DnsTraffic, "dns"),
                pick=one_of("routes", "target_group", "classic_elb", "dns",
                            none="give `routes`, `target_group`, `classic_elb` or `dns`"))


