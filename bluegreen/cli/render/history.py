"""`bluegreen history` as text: one line per past deployment."""

from __future__ import annotations

from typing import Any


def history_text(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no deployments recorded\n"
    rows = [f"{i.get('finished_at', '')}  {i.get('result', ''):<15} {i.get('operation', 'deploy'):<8} "
            f"{i.get('from_color') or '-'}->{i.get('to_color') or '-'}  {i.get('seconds', '')}s  "
            f"{i.get('image') or '-'}  by {i.get('who', '?')}" + (f"  [{i['strategy']}]" if i.get("strategy") else "") + (f"  ({i['reason']})" if i.get("reason") else "")
            for i in items]
    return "\n".join(rows) + "\n"
