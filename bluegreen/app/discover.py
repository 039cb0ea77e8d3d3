"""Discovery, wired: the AWS reads (adapter) then the pure assembly, one snapshot per spec.

    read (bluegreen.adapters.aws.reads)  ->  RawState  ->  assemble (bluegreen.discovery.assemble)

It lives in app/ because it is the one place both sides meet: `bluegreen.discovery` stays pure
(it never imports an adapter), and the adapter knows nothing of snapshots or findings.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Sequence

from bluegreen.discovery.assemble import assemble
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.spec import Spec

if TYPE_CHECKING:
    from bluegreen.adapters.aws.session import Aws


def discover(aws: "Aws", specs: Sequence[Spec], *, image_tag: str | None = None,
             count_health: bool = False, wall_clock: Callable[[], float] = time.time) -> dict[str, Snapshot]:
    """The live state of every spec, keyed by `spec.service`, read with read-only calls only.

    Every spec is read in `aws.region` (the effective region: a `--region` override, else the
    specs' own region; the caller groups specs by it). `image_tag`: the tag whose digest to resolve
    in each spec's repository; when None, the tag of the image the serving container runs (the
    service/group with the most desired capacity). Missing resources and failed reads are Findings;
    AWS unreachable, throttling past the retries, or refused credentials raise `AwsUnavailable` /
    `AwsDenied` (exit 6: nothing was changed). `count_health`, `wall_clock`: see `adapters.aws.reads.read`.
    """
    from bluegreen.adapters.aws.reads import read  # boto3 loads only when AWS is really read

    raw = read(aws, specs, image_tag, count_health=count_health, wall_clock=wall_clock)
    return {spec.service: assemble(spec, raw, image_tag, aws.region) for spec in specs}
