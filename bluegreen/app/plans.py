"""Planning many specs at once: discover (one batched, read-only pass per effective region), then plan."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import re

from bluegreen.app.context import RunContext
from bluegreen.domain.plan import Plan
from bluegreen.errors import AwsDenied, AwsError, AwsUnavailable
from bluegreen.specfiles.loader import LoadedSpec, load_specs


def plan_specs(ctx: RunContext, loaded: Sequence[LoadedSpec], *, image_tag: str | None = None,
               offline: bool = False, count_health: bool = False) -> list[Plan]:
    """Every spec's plan, in the order given. A `--region` override applies to reads as to writes.
    `count_health`: the live-health pre-flight counts healthy targets with CloudWatch (`plan`, a
    preview); a deploy reads each target, as its gates do."""
    from bluegreen.app.discover import discover
    from bluegreen.discovery.assemble import offline_snapshot
    from bluegreen.planning.planner import make_plan

    by_region: dict[str, list[LoadedSpec]] = {}
    for item in loaded:
        by_region.setdefault(ctx.region_of(item.spec), []).append(item)
    snapshots = {}
    for region, items in by_region.items():
        if offline:
            snapshots.update({i.spec.service: offline_snapshot(i.spec, region) for i in items})
        else:
            snapshots.update(discover(ctx.aws(region), [i.spec for i in items], image_tag=image_tag,
                                      count_health=count_health, wall_clock=ctx.wall_clock))
    return [make_plan(item.spec, snapshots[item.spec.service], spec_path=str(item.path),
                      spec_text=_read(item.path), image_tag=image_tag) for item in loaded]


def plan_paths(ctx: RunContext, paths: Sequence[str], **kwargs: object) -> list[Plan]:
    return plan_specs(ctx, load_specs(paths), **kwargs)  # type: ignore[arg-type]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# Discovery's one-line failures (`adapters.aws.errors.describe`): "DescribeTargetHealth failed: AccessDenied: ...".
_FAILED_CALL = re.compile(r"\b([A-Z][A-Za-z0-9]+) failed: ([A-Za-z0-9.]+):")


def aws_failure(service: str, errors: Sequence[str]) -> AwsError | None:
    """A plan's errors that are AWS refusing or failing our reads, not the spec: exit 6, not "invalid input".

    A read denied by IAM (not the credentials, which stop discovery at once) becomes a finding; the plan
    is then unusable, but nothing about the spec is wrong and nothing was changed.
    """
    from bluegreen.adapters.aws.errors import Kind, kind_of_code

    causes: dict[str, Kind] = {}
    for line in errors:
        for operation, code in _FAILED_CALL.findall(line):
            kind = kind_of_code(code)
            if kind in (Kind.DENIED, Kind.UNREACHABLE, Kind.THROTTLED):
                causes.setdefault(f"{operation} failed: {code}", kind)
    if not causes:
        return None
    first = next(line for line in errors if any(cause in line for cause in causes))
    said = "; ".join(causes)
    if all(kind is Kind.DENIED for kind in causes.values()):
        return AwsDenied(f"{service}: cannot plan: AWS denied a read ({said}; e.g. {first}); check the IAM policy "
                         "(`bluegreen iam-policy` prints the one needed); nothing was changed",
                         operation=said.split(" ", 1)[0])
    return AwsUnavailable(f"{service}: cannot plan: AWS failed a read ({said}; e.g. {first}); nothing was changed",
                          operation=said.split(" ", 1)[0])
