"""From what was read to one spec's frozen `Snapshot`: pure, no AWS.

`assemble(spec, raw, image_tag, region)` walks the spec in a fixed order (traffic, target groups,
compute, classic ELB, DNS, alarms, image, roles and secrets, image parameters), taking each part
from the `RawState` the AWS reads filled, and explains every gap as a `Finding`: a resource that
is not there, one that exists but is unusable, and a read that failed (naming the operation).
Nothing here raises for a missing resource. `offline_snapshot` is the snapshot of a plan made
without AWS at all.
"""

from __future__ import annotations

from bluegreen.discovery import compute, references, traffic
from bluegreen.discovery.compute import TASK_DEFINITION_READ_ONLY
from bluegreen.discovery.gaps import Gaps
from bluegreen.discovery.names import named_target_groups, roles_in_use
from bluegreen.discovery.raw import RawState
from bluegreen.domain.snapshot import Finding, Snapshot
from bluegreen.domain.spec import Spec

__all__ = ["TASK_DEFINITION_READ_ONLY", "assemble", "offline_snapshot"]


def assemble(spec: Spec, raw: RawState, image_tag: str | None, region: str) -> Snapshot:
    """The live state of `spec` in `region`, as `raw` holds it. `image_tag`: the tag to deploy (None:
    resolve the tag the serving workload runs)."""
    gaps = Gaps(raw)
    tgs = traffic.TargetGroups(raw, gaps)
    load_balancers, listeners = traffic.routes(spec, raw, gaps)
    for name in named_target_groups(spec):
        tgs.add_by_name(name)
    ecs_services, task_definitions = compute.ecs(spec, raw, gaps, tgs)
    asgs, launch_templates = compute.asgs(spec, raw, gaps, tgs)
    classic_elbs = traffic.classic_elbs(spec, raw, gaps)
    zone_id, records = traffic.dns(spec, raw, gaps)
    alarms = references.alarms(spec, raw, gaps)
    image = references.image(spec, raw, gaps, image_tag)
    in_use = roles_in_use(spec, raw)
    roles = references.roles(raw, gaps, task_definitions, in_use)
    secrets = references.secrets(spec, raw, gaps, task_definitions)
    image_parameters = references.image_parameters(spec, raw, gaps)
    return Snapshot(
        service=spec.service, region=region, load_balancers=load_balancers, listeners=listeners,
        target_groups=dict(tgs.by_name), ecs_services=ecs_services, task_definitions=task_definitions,
        asgs=asgs, launch_templates=launch_templates, classic_elbs=classic_elbs, dns_zone_id=zone_id,
        dns_records=records, alarms=alarms, image=image, roles=roles,
        roles_in_use=frozenset(r for r in roles if r in in_use and r not in raw.roles), secrets=secrets,
        image_parameters=image_parameters, findings=tuple(gaps.findings),
    )


def offline_snapshot(spec: Spec, region: str | None = None) -> Snapshot:
    """A snapshot that read nothing: for plans made without AWS access."""
    return Snapshot(
        service=spec.service,
        region=region or spec.region,
        offline=True,
        findings=(Finding("warning", "discovery",
                          "offline: nothing live was read from AWS; the plan shows what the spec asks for, "
                          "not what is deployed (live color, weights, revisions and image digests are unknown)"),),
    )
