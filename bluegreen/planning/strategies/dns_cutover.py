"""DNS cutover: two complete stacks behind one Route53 weighted record.

The idle stack gets the new version with the ECS or Auto Scaling mechanics the other strategies
use; then the record weights move, each step holding at least the record's TTL.
"""

from __future__ import annotations

from bluegreen.domain.durations import format_duration
from bluegreen.domain.snapshot import DnsRecord
from bluegreen.domain.spec import EcsServices
from bluegreen.domain.steps import Bake, SetRecordWeights, Step, UpdateService
from bluegreen.planning.common import (
    OTHER, Color, Context, Current, Refused, asg_current, asg_rollout, ecs_current, ecs_rollout, ecs_service, keep_warm, live_color_from_weights,
    preflight, probe_steps, resume_processes, retire_group, shift_steps,
)


def _name(value: str) -> str:
    return value.rstrip(".").lower()


def records(ctx: Context) -> dict[Color, DnsRecord]:
    dns = ctx.spec.dns
    if dns is None:
        raise Refused("needs a Route53 record (`traffic.dns`)")
    if ctx.snapshot.dns_zone_id is None:
        raise Refused(f"hosted zone {dns.hosted_zone} not found")
    found: dict[Color, DnsRecord] = {}
    for record in ctx.snapshot.dns_records:
        if _name(record.name) != _name(dns.record) or record.weight is None:
            continue
        for color in ("blue", "green"):
            endpoint = _name(dns.endpoints.of(color))
            if any(_name(v) == endpoint for v in record.values) or record.set_identifier == color:
                found[color] = record  # type: ignore[index]
    missing = [c for c in ("blue", "green") if c not in found]
    if missing:
        raise Refused(f"no weighted record {dns.record} for {' and '.join(missing)} in zone {dns.hosted_zone}")
    return found


def plan(ctx: Context) -> list[Step]:
    dns = ctx.spec.dns
    if dns is None:
        raise Refused("needs a Route53 record with endpoints and a TTL (`traffic.dns`)")
    by_color = records(ctx)
    weights = {c: r.weight or 0 for c, r in by_color.items()}
    for color, record in by_color.items():
        ctx.state.append(f"record {dns.record} ({record.set_identifier}) -> {', '.join(record.values)}: "
                         f"weight {record.weight}, TTL {record.ttl}s")
    live = ctx.live_color = live_color_from_weights(weights, f"record {dns.record}")  # type: ignore[arg-type]
    idle = OTHER[live]
    live_ttl = max((r.ttl or 0) for r in by_color.values())
    ttl = int(max(dns.ttl, live_ttl))
    ctx.warnings.append(f"resolvers may keep answering the old weights for up to the TTL ({ttl}s) after each step, "
                        f"and some clients ignore TTLs altogether: {live} stays warm for "
                        f"{format_duration(ctx.spec.keep_blue_warm(ctx.strategy))}")
    ecs, asg = ctx.spec.ecs, ctx.spec.asg
    if ecs is not None and not isinstance(ecs, EcsServices):
        raise Refused("on ECS needs one service per color (`services: {blue, green}`)")
    current = (ecs_current(ctx, ecs_service(ctx, ecs.services.of(live))) if ecs is not None
               else asg_current(ctx, asg.group_name(live)) if asg is not None else Current(image=None))
    if not ctx.decide(current):
        return []
    steps = preflight(ctx)
    scale_down: Step
    if ecs is not None:
        live_svc = ecs_service(ctx, ecs.services.of(live))
        idle_svc = ecs_service(ctx, ecs.services.of(idle))
        tgs = [ctx.target_group(dns.target_groups.of(idle))] if dns.target_groups else []
        desired = ecs.desired_count if ecs.desired_count is not None else max(live_svc.desired, 1)
        steps += ecs_rollout(ctx, idle_svc, live_svc, tgs, desired)
        scale_down = UpdateService(id=f"scale-down-{live_svc.name}", phase="finalize", cluster=ecs.cluster,
                                   service=live_svc.name, desired_count=0, previous_desired_count=live_svc.desired)
        resume: list[Step] = []
    elif asg is not None:
        own = [ctx.target_group(dns.target_groups.of(idle)).arn] if dns.target_groups else []
        rollout = asg_rollout(ctx, asg.group_name(live), asg.group_name(idle), attach_on_create=own)
        steps += rollout
        tgs = [ctx.target_group(dns.target_groups.of(idle))] if dns.target_groups else []
        scale_down = retire_group(ctx, asg.group_name(live))
        resume = resume_processes(rollout)
    steps += probe_steps(ctx)
    zone = ctx.snapshot.dns_zone_id
    assert zone is not None
    ids = {c: by_color[c].set_identifier or c for c in ("blue", "green")}
    values = {ids[c]: dns.endpoints.of(c) for c in ("blue", "green")}

    def move(previous: int | None, percent: int) -> list[Step]:
        before = ({ids[live]: weights[live], ids[idle]: weights[idle]} if previous is None
                  else {ids[live]: 100 - previous, ids[idle]: previous})
        return [SetRecordWeights(id=f"shift-{percent}", phase="shift", zone_id=zone, record=dns.record,
                                 type=by_color[live].type, ttl=ttl, values=values,
                                 weights={ids[live]: 100 - percent, ids[idle]: percent}, previous=before)]

    shift = shift_steps(ctx, move, target_group_arns=[tg.arn for tg in tgs], minimum_hold=float(ttl),
                        hold_reason=f"at least the record TTL of {ttl}s")
    # The deploy's output shows each step, not the plan's warnings: say it where traffic moves.
    caveat = f"resolvers may keep answering the old weights for up to {ttl}s, and some clients ignore TTLs"
    steps += [s.model_copy(update={"reason": "; ".join(filter(None, [s.reason, caveat]))})
              if isinstance(s, Bake) else s for s in shift]
    steps += resume
    steps += keep_warm(ctx, live, scale_down)
    ctx.rollback.insert(0, f"record weights back to {live} 100% in one change; clients may keep the new "
                           f"answer for up to {ttl}s")
    return steps
