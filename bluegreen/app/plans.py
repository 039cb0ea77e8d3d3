"""Planning many specs at once: discover (one batched, read-only pass per effective region), then plan."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from bluegreen.app.context import RunContext
from bluegreen.domain.plan import Plan
from bluegreen.specfiles.loader import LoadedSpec, load_specs


def plan_specs(ctx: RunContext, loaded: Sequence[LoadedSpec], *, image_tag: str | None = None,
               offline: bool = False) -> list[Plan]:
    """Every spec's plan, in the order given. A `--region` override applies to reads as to writes."""
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
            snapshots.update(discover(ctx.aws(region), [i.spec for i in items], image_tag=image_tag))
    return [make_plan(item.spec, snapshots[item.spec.service], spec_path=str(item.path),
                      spec_text=_read(item.path), image_tag=image_tag) for item in loaded]


def plan_paths(ctx: RunContext, paths: Sequence[str], **kwargs: object) -> list[Plan]:
    return plan_specs(ctx, load_specs(paths), **kwargs)  # type: ignore[arg-type]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
