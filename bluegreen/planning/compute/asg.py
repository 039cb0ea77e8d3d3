"""Auto Scaling compute: the image in a new launch template version (or an SSM parameter), the idle
color's group scaled to the live capacity with scaling processes frozen, the old group retired after
keep-warm.

The idle group may be gone (`max_remaining_groups: 1` deletes the old group): it is then created as
a copy of the live one, empty, and its inverse deletes it again.
"""

from __future__ import annotations

import re
from typing import Sequence

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import AutoScalingGroup, LaunchTemplate, TargetGroup
from bluegreen.domain.spec import AsgGroups, AsgNamePattern, Check, SsmParameterDelivery
from bluegreen.domain.steps import (
    Capacity, CreateGroup, CreateLaunchTemplateVersion, DeleteGroup, PutParameter, Step, SuspendProcesses, UpdateGroup,
    WaitGroupInService,
)
from bluegreen.planning.context import Context, Current, Refused

_RUN_IMAGE = re.compile(r"docker run [^\n]*?(\S+@sha256:[0-9a-f]{64}|\S+:\S+)\s*$", re.M)


def user_data(image: str, host_port: int, container_port: int) -> str:
    """Boot script that runs the pinned image; the image reference is the only thing that varies."""
    return ("#!/bin/bash\nset -euo pipefail\n"
            f"docker pull {image}\n"
            f"docker run -d --restart always --name app -p {host_port}:{container_port} {image}\n")


def pinned_version(version: str | None, lt: LaunchTemplate) -> str | None:
    """The numeric version a `$Latest` / `$Default` reference means now; None when already numeric."""
    if version == "$Latest":
        return str(lt.latest_version)
    if version == "$Default":
        return str(lt.default_version)
    return None


def capacity_of(group: AutoScalingGroup) -> Capacity:
    return Capacity(min=group.min_size, max=group.max_size, desired=group.desired)


class Groups:
    """One Auto Scaling group per color, sharing one launch template."""

    def __init__(self, ctx: Context, asg: AsgGroups | AsgNamePattern):
        self.ctx, self.asg = ctx, asg

    def name(self, color: Color) -> str:
        return self.asg.group_name(color)

    def group(self, color: Color) -> AutoScalingGroup:
        group = self.ctx.snapshot.asgs.get(self.name(color))
        if group is None:
            raise Refused(f"Auto Scaling group {self.name(color)} not found")
        return group

    def launch_template(self) -> LaunchTemplate:
        lt = self.ctx.snapshot.launch_templates.get(self.asg.launch_template)
        if lt is None:
            raise Refused(f"launch template {self.asg.launch_template} not found")
        return lt

    def current(self, live: Color) -> Current:
        """The image the live group's instances run: from its SSM parameter, or the user data it boots."""
        delivery = self.asg.image_delivery
        if isinstance(delivery, SsmParameterDelivery):
            return Current(image=self.ctx.snapshot.image_parameters.get(delivery.name_for(live)))
        group = self.ctx.snapshot.asgs.get(self.name(live))
        lt = self.ctx.snapshot.launch_templates.get(self.asg.launch_template)
        text = group.user_data if group is not None and group.user_data is not None else (lt.user_data if lt else None)
        match = _RUN_IMAGE.search(text or "")
        return Current(image=match.group(1) if match else None)

    def desired(self, live: Color) -> int:
        return self.asg.capacity.desired if self.asg.capacity else self.group(live).desired

    def bring_up(self, live: Color, own_target_groups: Sequence[TargetGroup]) -> list[Step]:
        """Blue pinned, processes frozen, the image delivered, green created if gone and scaled up, then InService.

        `own_target_groups` are attached to a group this creates (a DNS stack's own); an existing
        group keeps its attachments, and a swap attaches separately.
        """
        image = self.ctx.new_image()
        live_group, lt = self.group(live), self.launch_template()
        idle, idle_group = self.name(live.other), self.ctx.snapshot.asgs.get(self.name(live.other))
        pinned = pinned_version(live_group.launch_template_version, lt)
        steps = self._pin(live_group, lt, pinned) + self._suspend([idle_group, live_group])
        version, deliver = self._deliver(image, live.other, lt)
        steps += deliver
        if idle_group is None:
            created = version or pinned or live_group.launch_template_version or str(lt.default_version)
            steps += self._create(idle, live_group, lt, created, own_target_groups)
            previous, previous_version = Capacity(min=0, max=0, desired=0), created
        else:
            previous = capacity_of(idle_group)
            previous_version = (pinned_version(idle_group.launch_template_version, lt)
                                or idle_group.launch_template_version or str(lt.default_version))
        wanted = self.asg.capacity or capacity_of(live_group)
        capacity = Capacity(min=wanted.min, max=wanted.max, desired=wanted.desired)
        steps.append(UpdateGroup(
            id=f"scale-{idle}", phase="prepare", group=idle, capacity=capacity, previous_capacity=previous,
            launch_template=lt.name if version else None, launch_template_version=version,
            previous_launch_template_version=previous_version if version else None))
        return steps + self._wait_in_service(idle, capacity.desired, (idle_group or live_group).health_check_grace)

    def settle(self, steps: Sequence[Step]) -> list[Step]:
        """Resume exactly what this deployment suspended (recorded in the suspend steps)."""
        return [s.model_copy(update={"id": f"resume-{s.group}", "phase": "verify", "resume": True})
                for s in steps if isinstance(s, SuspendProcesses) and not s.resume]

    def retire(self, live: Color) -> Step:
        """After keep-warm: scale the old group to 0, or delete it when only one group is to remain."""
        name = self.name(live)
        if self.asg.max_remaining_groups < 2:
            return DeleteGroup(id=f"delete-{name}", phase="finalize", group=name,
                               reason=f"max_remaining_groups {self.asg.max_remaining_groups}; the next deploy recreates it")
        group = self.group(live)
        return UpdateGroup(id=f"scale-down-{name}", phase="finalize", group=name,
                           capacity=Capacity(min=0, max=group.max_size, desired=0), previous_capacity=capacity_of(group))

    # --- the parts of bringing up ---------------------------------------------------------------

    def _pin(self, live_group: AutoScalingGroup, lt: LaunchTemplate, pinned: str | None) -> list[Step]:
        """A group that follows $Latest would launch the new image on any scale-out or replacement as soon
        as the new version exists: pin the live group to what it runs now first (kept on rollback)."""
        if pinned is None:
            return []
        same = capacity_of(live_group)
        return [UpdateGroup(id=f"pin-{live_group.name}", phase="prepare", group=live_group.name, capacity=same,
                            previous_capacity=same, launch_template=lt.name, launch_template_version=pinned,
                            previous_launch_template_version=pinned)]

    def _suspend(self, groups: Sequence[AutoScalingGroup | None]) -> list[Step]:
        """Only what is not suspended already, so resuming restores exactly the state found."""
        steps: list[Step] = []
        for group in groups:
            if group is None:
                continue
            frozen = [p for p in self.asg.suspend_processes if p not in group.suspended]
            if frozen:
                steps.append(SuspendProcesses(id=f"suspend-{group.name}", phase="prepare", group=group.name,
                                              processes=frozen))
        return steps

    def _deliver(self, image: str, color: Color, lt: LaunchTemplate) -> tuple[str | None, list[Step]]:
        """Where the new color's instances find the image; returns the launch template version to run (or None)."""
        delivery = self.asg.image_delivery
        if isinstance(delivery, SsmParameterDelivery):
            name = delivery.name_for(color)
            return None, [PutParameter(id="put-image-parameter", phase="prepare", name=name, value=image,
                                       previous=self.ctx.snapshot.image_parameters.get(name))]
        return "@create-launch-template-version", [CreateLaunchTemplateVersion(
            id="create-launch-template-version", phase="prepare", template=lt.name, source_version=lt.latest_version,
            image=image, user_data=user_data(image, delivery.host_port, delivery.container_port))]

    def _create(self, name: str, live_group: AutoScalingGroup, lt: LaunchTemplate, version: str,
                own_target_groups: Sequence[TargetGroup]) -> list[Step]:
        steps: list[Step] = [CreateGroup(
            id=f"create-{name}", phase="prepare", group=name, copy_of=live_group.name, launch_template=lt.name,
            launch_template_version=version, subnets=list(live_group.subnets),
            health_check_type=live_group.health_check_type, health_check_grace=live_group.health_check_grace,
            tags={k: v for k, v in live_group.tags if not k.startswith("aws:")},
            target_group_arns=[tg.arn for tg in own_target_groups])]
        if self.asg.suspend_processes:
            steps.append(SuspendProcesses(id=f"suspend-{name}", phase="prepare", group=name,
                                          processes=list(self.asg.suspend_processes)))
        return steps

    def _wait_in_service(self, name: str, desired: int, grace: int) -> list[Step]:
        if not self.ctx.checks_enabled(Check.ASG_IN_SERVICE):
            return []
        h = self.ctx.health
        self.ctx.gates.append(f"{name}: {desired} instance(s) InService on the new launch template version")
        return [WaitGroupInService(id=f"wait-{name}-in-service", phase="rollout", group=name, desired=desired,
                                   deadline=h.deadline, interval=h.interval, expected=max(60.0, grace))]
