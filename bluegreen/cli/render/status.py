"""`bluegreen status` as text: the live color, weights and health, the deployment, the lock."""

from __future__ import annotations

from typing import Any


def status_text(data: dict[str, Any]) -> str:
    lines = [f"service: {data['service']} ({data['strategy']})", f"live color: {data['live_color'] or 'unknown'}"]
    lines += [f"  {s}" for s in data["state"]]
    lines += [f"health: {'ok' if h['ok'] else 'FAIL' if h['ok'] is False else '?'} {h['name']}: {h['detail']}"
              for h in data["health"]]
    lines += [f"problem: {p}" for p in data["problems"]]
    d = data.get("deployment")
    if d:
        lines.append(f"deployment: {d['deployment_id']} {d['status']} ({d.get('from_color')} -> {d.get('to_color')}, "
                     f"image {d.get('image')})")
        engine = data.get("aws_deployment")
        if engine:
            lines.append(f"  {engine['engine']}: {engine['id'] or '-'}: {engine['state']}")
        if data.get("in_flight"):
            lines.append(f"  in flight: {data['in_flight']}")
        if d.get("reason"):
            lines.append(f"  reason: {d['reason']}")
    pause = data.get("paused")
    if pause:
        later = f"; later pauses: {', '.join(pause['later_pauses'])}" if pause["later_pauses"] else ""
        timer = (f"; auto-promotes in {pause['auto_promote_seconds_left']}s"
                 if "auto_promote_seconds_left" in pause else "")
        lines.append(f"  paused before step {pause['step']} ({pause['before_step']}){later}{timer}")
    if "keep_warm_seconds_left" in data:
        lines.append(f"old color kept warm for {data['keep_warm_seconds_left']}s more")
    if data.get("dns_note"):
        lines.append(f"dns: {data['dns_note']}")
    lines.append(f"lock: {data['lock'] or 'free'}")
    if data.get("commands"):
        lines.append(f"next: {' or '.join(data['commands'])}")
    elif data.get("lock") and not data.get("lock_holder_dead"):
        lines.append("next: the run holding the lock is at work; Ctrl-C or SIGTERM to it rolls back")
    return "\n".join(lines) + "\n"
