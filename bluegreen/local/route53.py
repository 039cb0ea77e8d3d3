"""Route53 changes that take time to reach every name server, as Route53's do.

moto answers ChangeResourceRecordSets and GetChange with `INSYNC` at once (and one fixed change
id for every change). Route53 answers `PENDING` until the change has propagated to all its
authoritative name servers, usually within 60 seconds, then `INSYNC`. While a world is active each
change gets its own id and stays `PENDING` for `Timings.route53_propagation` (30 s) of the
world's clock. Listed in DIVERGENCES.md.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from bluegreen.local import world as worlds

_lock = threading.Lock()
_numbers = itertools.count(1)
_due: dict[str, tuple[int, float]] = {}  # change id -> (id of the world it was made in, INSYNC from)


def _change_info(result: Any) -> dict[str, Any] | None:
    payload = getattr(result, "result", result)
    return payload.get("ChangeInfo") if isinstance(payload, dict) else None


def install() -> None:
    """Patch moto's Route53 answers (once); nothing changes while no world is active."""
    from moto.route53.responses import Route53

    original_change = Route53.change_resource_record_sets
    original_get = Route53.get_change
    if getattr(original_change, "_bluegreen_patched", False):
        return

    def change_resource_record_sets(self: Any) -> Any:
        result = original_change(self)
        world, info = worlds.active(), _change_info(result)
        if world is None or info is None:
            return result
        with _lock:
            change_id = f"/change/C{next(_numbers):012d}BG"
            _due[change_id] = (id(world), world.clock.time() + world.timings.route53_propagation)
        info.update(Id=change_id, Status="PENDING")
        return result

    def get_change(self: Any) -> Any:
        result = original_get(self)
        world, info = worlds.active(), _change_info(result)
        if world is None or info is None:
            return result
        asked = str(info.get("Id", ""))
        change_id = asked if asked.startswith("/change/") else f"/change/{asked}"
        with _lock:
            made_in, insync_from = _due.get(change_id, (None, 0.0))
        info["Id"] = change_id
        if made_in == id(world) and world.clock.time() < insync_from:
            info["Status"] = "PENDING"
        return result

    change_resource_record_sets._bluegreen_patched = True  # type: ignore[attr-defined]
    Route53.change_resource_record_sets = change_resource_record_sets  # type: ignore[method-assign]
    Route53.get_change = get_change  # type: ignore[method-assign]
