"""The spec `bluegreen init` writes, as a commented document (pure): every field says what it is and where
it was read from, so the file can be reviewed like any hand-written spec.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bluegreen.app.init_stacks import Stack
from bluegreen.domain.spec import Strategy
from bluegreen.specfiles.writer import Document, Field, Item

if TYPE_CHECKING:
    from bluegreen.app.init import Found, InitRequest


def canary() -> Field:
    return Field("shift", (Field("mode", "canary"), Field("percentages", [10, 50, 100])), comment=(
        "Green's share of production traffic after each step, each held for health.bake with the gates "
        "watching (a choice, not read from AWS)."))


def spec_document(found: "Found", request: "InitRequest", command: str) -> Document:
    header = (
        f"Written by `{command}`",
        f"from what runs in {request.region}: " + "; ".join(found.sources) + ".",
        "Check it: `bluegreen validate FILE`, then `bluegreen plan FILE --detailed-exitcode` (exit 0: the spec",
        "describes what runs, with nothing to change). Schema for editors: `bluegreen schema`.",
        "",
    )
    fields = (
        Field("service", found.service, comment=(
            "The service's name (from the live names): locks, journals and history are kept per service.")),
        Field("region", request.region, comment="Where every resource below was read."),
        Field("strategy", found.strategy.value, comment=f"Chosen from what runs: {found.why}"),
        _image(found.stacks),
        _platform(found.stacks),
        found.traffic,
        found.shift,
        _health(found),
        _rollback(found.strategy),
        Field("state", (Field("backend", "local"), Field("directory", ".bluegreen")), comment=(
            "Locks, journals and history in a directory on this machine. In CI, where every build has its own "
            "workspace, use `backend: dynamodb` with a `table:` (README, \"In CI\").")),
    )
    return Document(header=header, fields=fields)


def _serving(stacks: list[Stack]) -> Stack:
    """The stack whose image was read: the one with the most desired capacity (the planner's choice too)."""
    read = [s for s in stacks if s.image_source]
    return max(read or stacks, key=lambda s: (s.image is not None, s.desired))


def _image(stacks: list[Stack]) -> Field:
    serving = _serving(stacks)
    if serving.image is not None:
        return Field("image", (Field("repository", serving.image.repository, comment=(
            f"The ECR repository of the image running now: {serving.image_source} runs "
            f"{serving.image.reference}.")),))
    guess = re.sub(r"[^a-z0-9._/-]+", "-", serving.name.lower()).strip("-._/") or "app"
    return Field("image", (
        Field("repository", guess, comment=(
            f"NOT READ: {serving.image_source or serving.name} runs {serving.image_seen}. bluegreen deploys "
            "images from ECR: this repository is created and the first deploy pushes the image there.")),
        Field("create_repository", True)))


def _platform(stacks: list[Stack]) -> Field:
    first = stacks[0]
    if first.kind == "ecs":
        if len(stacks) == 1:
            which = Field("service", first.name, comment="The one service, updated in place.")
        else:
            which = Field("services", (Field("blue", stacks[0].name), Field("green", stacks[1].name)),
                          comment="One ECS service per color.")
        ecs = (Field("cluster", first.cluster or ""), which,
               Field("container", first.container or "", comment=f"The container that gets the new image: "
                                                                   f"{first.container_why}."))
        return Field("platform", (Field("ecs", ecs, comment=(
            "Read with ecs DescribeServices and DescribeTaskDefinition. Every other field of the live task "
            "definition (environment, secrets, CPU, memory...) is copied as it is into each new revision; "
            "add `environment:` or `secrets:` here only for what a deploy should change.")),))
    return Field("platform", (Field("asg", _asg(stacks), comment=(
        "Read with autoscaling DescribeAutoScalingGroups and ec2 DescribeLaunchTemplateVersions.")),))


def _asg(stacks: list[Stack]) -> tuple[Field, ...]:
    live = next((s for s in stacks if s.delivery is not None), stacks[0])
    delivery = live.delivery
    assert delivery is not None
    ports_read = delivery.host_port is not None
    method = [Field("method", delivery.method, comment=(
        "Instances read the image from this SSM parameter ({color}: each group's own)" if delivery.parameter
        else "The image reference is written into each new launch-template version's user data"))]
    if delivery.parameter:
        method.append(Field("parameter", delivery.parameter))
    method += [Field("container_port", delivery.container_port or 80),
               Field("host_port", delivery.host_port or 80)]
    return (
        Field("launch_template", live.launch_template or "", comment=(
            "The launch template both groups use; a deploy adds a version carrying the new image.")),
        Field("groups", (Field("blue", stacks[0].name), Field("green", stacks[1].name)),
              comment="One Auto Scaling group per color."),
        Field("image_delivery", tuple(method), comment=(
            f"How the instances get the image, read from {live.name}'s user data"
            + ("" if ports_read else " (no `docker run -p HOST:CONTAINER` found there: the default ports)") + ".")),
    )


def _health(found: "Found") -> Field:
    if found.alarms:
        alarms = Field("alarms", [Item(name, comment=why) for name, why in found.alarms], comment=(
            "CloudWatch alarms (cloudwatch DescribeAlarms) whose dimensions name this service's resources; any "
            "in ALARM fails a gate at once, and no deployment starts while one fires."))
    else:
        alarms = Field("alarms", [], comment=(
            "No CloudWatch alarm names this service's target groups, load balancers, services or groups in its "
            "dimensions; list the alarms that should stop a deployment here."))
    return Field("health", (
        alarms,
        Field("deadline", "10m", comment="How long green may take to become healthy."),
        Field("bake", "1m", comment="How long each traffic step holds with the gates watching."),
    ))


def _rollback(strategy: Strategy) -> Field:
    dns = strategy is Strategy.DNS_CUTOVER
    return Field("rollback", (
        Field("automatic", True, comment="Back to blue by itself on any failed gate, error or interrupt."),
        Field("keep_blue_warm", "24h" if dns else "15m", comment=(
            "Resolvers and clients may keep the old answer well past the TTL, so blue stays up a day."
            if dns else "A rollback within this time is one traffic change back to blue, still running.")),
    ))
