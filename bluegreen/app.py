"""How the stages connect, on one screen:

    load specs -> discover live state (read-only) -> plan (pure) -> render / save
                                                      -> execute (journal, lock, gates, rollback)

Every collaborator that touches the world (AWS clients, the clock, sleep, the state store, the
output) is made in `Runtime`, so tests and the demo can pass their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .loader import LoadedSpec, load_specs
from .plan import Plan

if TYPE_CHECKING:
    from .adapters.aws import Aws


@dataclass
class Runtime:
    """The imperative shell's collaborators; built once per CLI invocation."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    _aws: dict[str, "Aws"] = field(default_factory=dict)

    def aws(self, region: str) -> "Aws":
        from .adapters.aws import Aws

        region = self.region or region
        if region not in self._aws:
            shared = next(iter(self._aws.values()), None)
            self._aws[region] = (shared.for_region(region) if shared else
                                 Aws(region, endpoint_url=self.endpoint_url, profile=self.profile, role_arn=self.role_arn))
        return self._aws[region]


def plan_specs(runtime: Runtime, loaded: Sequence[LoadedSpec], *, image_tag: str | None = None,
               offline: bool = False) -> list[Plan]:
    """Discover (one batched pass per region) and plan every spec."""
    from .discovery import discover, offline_snapshot
    from .planner import make_plan

    by_region: dict[str, list[LoadedSpec]] = {}
    for item in loaded:
        by_region.setdefault(runtime.region or item.spec.region, []).append(item)
    snapshots = {}
    for region, items in by_region.items():
        if offline:
            snapshots.update({i.spec.service: offline_snapshot(i.spec) for i in items})
        else:
            snapshots.update(discover(runtime.aws(region), [i.spec for i in items], image_tag=image_tag))
    return [make_plan(item.spec, snapshots[item.spec.service], spec_path=str(item.path),
                      spec_text=_read(item.path), image_tag=image_tag) for item in loaded]


def plan_paths(runtime: Runtime, paths: Sequence[str], **kwargs: object) -> list[Plan]:
    return plan_specs(runtime, load_specs(paths), **kwargs)  # type: ignore[arg-type]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
