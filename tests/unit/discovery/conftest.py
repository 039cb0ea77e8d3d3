"""Replays of recorded AWS answers (tests/unit/discovery/recorded/, made by
tests/support/record_discovery.py) through the pure assembly: no emulator, no AWS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from bluegreen.discovery.assemble import assemble
from bluegreen.discovery.raw import RawState
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.spec import Spec
from bluegreen.specfiles.loader import load_spec

RECORDED = Path(__file__).resolve().parent / "recorded"
DEPLOYMENTS = Path(__file__).resolve().parents[3] / "deployments"


@dataclass(frozen=True)
class Replay:
    raw: RawState
    specs: dict[str, Spec]
    snapshots: dict[str, Snapshot]
    image_tag: str | None
    region: str

    def findings(self, service: str) -> list[str]:
        return [f"{f.severity}: {f.subject}: {f.message}" for f in self.snapshots[service].findings]

    def tg_arn(self, name: str) -> str:
        """The ARN the recorded DescribeTargetGroups answer gave the target group `name`."""
        found = self.raw.target_group(name)
        assert found is not None, f"{name} is not in the recording"
        return found["TargetGroupArn"]


def load(scenario: str) -> Replay:
    document = json.loads((RECORDED / f"{scenario}.json").read_text(encoding="utf-8"))
    raw = RawState.from_json(document["raw"])
    specs = {name: load_spec(DEPLOYMENTS / f"{name}.yaml").spec for name in document["specs"]}
    snapshots = {spec.service: assemble(spec, raw, document["image_tag"], document["region"])
                 for spec in specs.values()}
    return Replay(raw, specs, snapshots, document["image_tag"], document["region"])


@pytest.fixture
def replay() -> Callable[[str], Replay]:
    return load
