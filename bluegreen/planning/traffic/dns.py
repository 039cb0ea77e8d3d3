"""DNS: one Route53 weighted record per color (same name) in front of two complete stacks.

The weights move per the shift policy; each step holds at least the record's TTL, because resolvers
keep answering the old weights that long (and some clients ignore TTLs altogether).
"""

from __future__ import annotations

from bluegreen.domain.colors import COLORS, Color
from bluegreen.domain.durations import format_duration
from bluegreen.domain.snapshot import DnsRecord, TargetGroup
from bluegreen.domain.spec import Dns
from bluegreen.domain.steps import Bake, SetRecordWeights, Step
from bluegreen.planning.context import Context, Refused
from bluegreen.planning.shift import live_color_from_weights, shift_steps


# Route53 answers an alias to a load balancer with the load balancer's own record, whose TTL is 60s.
ELB_ALIAS_TTL = 60


def _name(value: str) -> str:
    return value.rstrip(".").lower()


def _target(value: str) -> str:
    """An alias target as a host name: ELB's `dualstack.` prefix names the same load balancer."""
    name = _name(value)
    return name[len("dualstack."):] if name.startswith("dualstack.") else name


def _is_elb(record: DnsRecord) -> bool:
    return record.alias and any(_name(v).endswith(".elb.amazonaws.com") for v in record.values)


class WeightedRecord:
    def __init__(self, ctx: Context, dns: Dns):
        self.ctx, self.dns = ctx, dns
        self.zone_id = self._zone_id()
        self.records = self._records()

    def _zone_id(self) -> str:
        if self.ctx.snapshot.dns_zone_id is None:
            raise Refused(f"hosted zone {self.dns.hosted_zone} not found")
        return self.ctx.snapshot.dns_zone_id

    def _records(self) -> dict[Color, DnsRecord]:
        """Each color's weighted record: the one pointing at its endpoint (a CNAME's value or an alias
        record's target, such as the color's load balancer), or named after it."""
        found: dict[Color, DnsRecord] = {}
        for record in self.ctx.snapshot.dns_records:
            if _name(record.name) != _name(self.dns.record) or record.weight is None:
                continue
            for color in COLORS:
                endpoint = _target(self.dns.endpoints.of(color))
                if any(_target(v) == endpoint for v in record.values) or record.set_identifier == color:
                    found[color] = record
        missing = [str(c) for c in COLORS if c not in found]
        if missing:
            raise Refused(f"no weighted record {self.dns.record} for {' and '.join(missing)} "
                          f"in zone {self.dns.hosted_zone}")
        return found

    @property
    def weights(self) -> dict[Color, int]:
        return {c: r.weight or 0 for c, r in self.records.items()}

    @property
    def ttl(self) -> int:
        """The longest of the spec's TTL and the live records' (an alias to a load balancer answers with
        the load balancer's 60s): what resolvers may really hold."""
        live = [r.ttl or (ELB_ALIAS_TTL if _is_elb(r) else 0) for r in self.records.values()]
        return int(max(self.dns.ttl, *live))

    def live_color(self) -> Color:
        """The color with the weight; the records go into the plan's state, the TTL caveat into its warnings."""
        for record in self.records.values():
            self.ctx.state.append(f"record {self.dns.record} ({record.set_identifier}) -> {_points_at(record)}: "
                                  f"weight {record.weight}, {_ttl(record)}"
                                  + (f", health check {record.health_check_id}" if record.health_check_id else ""))
        live = live_color_from_weights(self.weights, f"record {self.dns.record}")
        self.ctx.warnings.append(
            f"resolvers may keep answering the old weights for up to the TTL ({self.ttl}s) after each step, "
            f"and some clients ignore TTLs altogether: {live} stays warm for "
            f"{format_duration(self.ctx.spec.keep_blue_warm(self.ctx.strategy))}")
        return live

    def target_groups(self, color: Color) -> list[TargetGroup]:
        """The color's stack's own target group, when the spec names one (for gates)."""
        pair = self.dns.target_groups
        return [self.ctx.target_group(pair.of(color))] if pair is not None else []

    def shift(self, live: Color, watched: list[TargetGroup]) -> list[Step]:
        """The weights move per the shift policy, each step held at least the TTL, the caveat said where it applies."""
        idle, ttl, weights, by_color = live.other, self.ttl, self.weights, self.records
        ids = {c: by_color[c].set_identifier or str(c) for c in COLORS}
        values = {ids[c]: ", ".join(by_color[c].values) or self.dns.endpoints.of(c) for c in COLORS}

        def move(previous: int | None, percent: int) -> list[Step]:
            before = ({ids[live]: weights[live], ids[idle]: weights[idle]} if previous is None
                      else {ids[live]: 100 - previous, ids[idle]: previous})
            return [SetRecordWeights(id=f"shift-{percent}", phase="shift", zone_id=self.zone_id, record=self.dns.record,
                                     type=by_color[live].type, ttl=ttl, values=values,
                                     weights={ids[live]: 100 - percent, ids[idle]: percent}, previous=before)]

        steps = shift_steps(self.ctx, move, target_group_arns=[tg.arn for tg in watched], minimum_hold=float(ttl),
                            hold_reason=f"at least the record TTL of {ttl}s")
        # The deploy's output shows each step, not the plan's warnings: say it where traffic moves.
        caveat = f"resolvers may keep answering the old weights for up to {ttl}s, and some clients ignore TTLs"
        return [s.model_copy(update={"reason": "; ".join(filter(None, [s.reason, caveat]))})
                if isinstance(s, Bake) else s for s in steps]


def _points_at(record: DnsRecord) -> str:
    target = ", ".join(record.values)
    if not record.alias:
        return target
    return f"alias {target}" + (" (evaluates target health)" if record.evaluate_target_health else "")


def _ttl(record: DnsRecord) -> str:
    if record.ttl is not None:
        return f"TTL {record.ttl}s"
    return f"TTL of its target ({ELB_ALIAS_TTL}s)" if _is_elb(record) else "TTL of its target"
