"""Pure helpers of `bluegreen init`: colors in names, image references, user data, listeners, alarm dimensions.

Nothing here calls AWS: each function reads AWS answers (plain dicts) already fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from bluegreen.discovery.traffic import forward_weights

COLOR_WORD = re.compile(r"(?<![A-Za-z0-9])(blue|green)(?![A-Za-z0-9])", re.I)
ECR_IMAGE = re.compile(r"(?P<registry>\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)/"
                       r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
                       r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?")
PORTS = re.compile(r"\s-p\s+(?:[0-9.]+:)?(?P<host>\d{1,5}):(?P<container>\d{1,5})\b")
SSM_NAME = re.compile(r"get-parameters?\s+--names?\s+[\"']?(?P<name>[^\"'\s]+)")
PRODUCTION_PORTS = (443, 80)


def color_of(name: str) -> str | None:
    """`blue` or `green` when the name has exactly one of them as a word (web-blue, green_stack)."""
    words = {m.lower() for m in COLOR_WORD.findall(name)}
    return words.pop() if len(words) == 1 else None


def other_color_name(name: str) -> str | None:
    """web-blue -> web-green (the same spelling, the other color); None without a color word."""
    if color_of(name) is None:
        return None
    swap = {"blue": "green", "green": "blue"}

    def repl(m: re.Match[str]) -> str:
        word = swap[m.group(1).lower()]
        return word.upper() if m.group(1).isupper() else word.capitalize() if m.group(1)[0].isupper() else word

    return COLOR_WORD.sub(repl, name)


def service_name(*names: str) -> str:
    """The spec's service name from live names: web-blue/web-green -> web (lowercase, `-` only)."""
    stems = []
    for name in names:
        stem = COLOR_WORD.sub("", name)
        stems.append(re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-"))
    common = stems[0]
    for stem in stems[1:]:
        while common and not stem.startswith(common):
            common = common[:-1]
    common = common.strip("-") or stems[0] or re.sub(r"[^a-z0-9]+", "-", names[0].lower()).strip("-")
    return (common or "service")[:63].strip("-")


def assign_colors(first: str, second: str, live: str | None = None) -> tuple[str, str, str]:
    """(blue, green, why) for two names: by their color words, else the live one is blue, else the order given."""
    a, b = color_of(first), color_of(second)
    if a and b and a != b:
        return (first, second, "by the color in their names") if a == "blue" else (
            second, first, "by the color in their names")
    if live in (first, second):
        other = second if live == first else first
        return live, other, f"{live} serves the traffic now, so it is called blue"  # type: ignore[return-value]
    return first, second, "in the order given (their names carry no color)"


@dataclass(frozen=True)
class Image:
    repository: str
    reference: str  # the whole reference, as the workload runs it


def ecr_image(text: str) -> Image | None:
    """The first ECR image reference in `text` (a container's image, user data, a parameter)."""
    match = ECR_IMAGE.search(text or "")
    return Image(match["repository"], match.group(0)) if match else None


def arn_name(arn: str) -> str:
    """targetgroup/web-blue/0123 -> web-blue; loadbalancer/app/web-alb/0123 -> web-alb."""
    parts = arn.split(":", 5)[-1].split("/")
    return parts[-2] if len(parts) >= 3 else parts[-1]


def dimension_value(arn: str) -> str:
    """CloudWatch's dimension value of an ELB ARN: targetgroup/NAME/ID, app/NAME/ID."""
    resource = arn.split(":", 5)[-1]
    return resource.split("/", 1)[1] if resource.startswith("loadbalancer/") else resource


# --- listeners ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forwarder:
    """A listener's default action, or one of its rules, that forwards to target groups."""

    load_balancer: str
    load_balancer_arn: str
    port: int
    priority: int | None  # None: the listener's default action
    weights: tuple[tuple[str, int], ...]  # (target group ARN, weight)

    @property
    def target_groups(self) -> frozenset[str]:
        return frozenset(arn for arn, _ in self.weights)

    def weight_of(self, arns: Iterable[str]) -> int:
        wanted = set(arns)
        return sum(w for arn, w in self.weights if arn in wanted)

    @property
    def label(self) -> str:
        return f"{self.load_balancer}:{self.port}" + (f" rule {self.priority}" if self.priority else "")


def forwarders(load_balancer: Mapping[str, Any], listeners: list[dict[str, Any]],
               rules: Mapping[str, list[dict[str, Any]]]) -> list[Forwarder]:
    """Every default action and rule of a load balancer's listeners that forwards somewhere."""
    name, arn = load_balancer["LoadBalancerName"], load_balancer["LoadBalancerArn"]
    found: list[Forwarder] = []
    for listener in sorted(listeners, key=lambda x: x["Port"]):
        weights = forward_weights(listener.get("DefaultActions", []))
        if weights:
            found.append(Forwarder(name, arn, listener["Port"], None, weights))
        for rule in rules.get(listener["ListenerArn"], []):
            if rule.get("IsDefault") or not str(rule.get("Priority", "")).isdigit():
                continue
            weights = forward_weights(rule.get("Actions", []))
            if weights:
                found.append(Forwarder(name, arn, listener["Port"], int(rule["Priority"]), weights))
    return found


def split_test_listener(pair: list[Forwarder]) -> tuple[list[Forwarder], Forwarder | None, str]:
    """The routes, and a test listener among forwarders to the same two target groups, and why.

    Rules are always production routes, and so are default actions on 443/80 (else the lowest port);
    another default action on the first route's load balancer is the test listener.
    """
    defaults = [f for f in pair if f.priority is None]
    rules = [f for f in pair if f.priority is not None]
    production = rules + [f for f in defaults if f.port in PRODUCTION_PORTS]
    if not production:
        production = defaults[:1]
    first_lb = production[0].load_balancer
    test = next((f for f in defaults if f not in production and f.load_balancer == first_lb), None)
    routes = [f for f in pair if f is not test]
    why = (f"port {test.port} of {test.load_balancer} forwards to the same target groups as the production "
           f"{production[0].label}: it is taken as the test listener, where green is probed first") if test else ""
    return routes, test, why


# --- alarms ---------------------------------------------------------------------------------------


def _metric_dimensions(alarm: Mapping[str, Any]) -> list[list[Mapping[str, str]]]:
    sets = [alarm.get("Dimensions", [])]
    for query in alarm.get("Metrics", []) or []:
        stat = query.get("MetricStat") or {}
        sets.append((stat.get("Metric") or {}).get("Dimensions", []))
    return sets


def alarms_naming(alarms: list[Mapping[str, Any]], wanted: Mapping[tuple[str, str], str],
                  cluster: str | None = None) -> list[tuple[str, str]]:
    """(alarm name, why) of every alarm with a dimension naming one of `wanted` ((name, value) -> what it is).

    An ECS `ServiceName` dimension counts only with the cluster's `ClusterName` beside it, or none.
    """
    found: list[tuple[str, str]] = []
    for alarm in sorted(alarms, key=lambda a: a["AlarmName"]):
        for dims in _metric_dimensions(alarm):
            pairs = {(d.get("Name", ""), d.get("Value", "")) for d in dims}
            clusters = {v for n, v in pairs if n == "ClusterName"}
            hits = [wanted[p] for p in sorted(pairs) if p in wanted
                    and not (p[0] == "ServiceName" and clusters and cluster not in clusters)]
            if hits:
                found.append((alarm["AlarmName"], f"its metric's dimensions name {', '.join(hits)}"))
                break
    return found


# --- user data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    method: str  # user-data or ssm-parameter
    host_port: int | None
    container_port: int | None
    parameter: str | None = None  # ssm-parameter: the name, with {color}


def delivery_from(user_data: str) -> Delivery:
    """How the instances get their image, read from their user data (docker run -p, aws ssm get-parameter)."""
    ports = PORTS.search(user_data)
    host, container = (int(ports["host"]), int(ports["container"])) if ports else (None, None)
    ssm = SSM_NAME.search(user_data)
    if ssm:
        name = re.sub(r"\$\{?COLOR\}?", "{color}", ssm["name"])
        return Delivery("ssm-parameter", host, container, name)
    return Delivery("user-data", host, container)
