"""`status`, `history` and `unlock`: looking at a service, and breaking a stale lock."""

from __future__ import annotations

import json
from typing import Any

import click

from bluegreen.cli import options
from bluegreen.errors import InvalidInput


@options.command()
@options.service_argument
@options.format_option("text", "json", help="text for a person, json for a pipeline to read.")
@click.pass_obj
def status(runtime: Any, service: str, fmt: str) -> None:
    """Live color, weights, health and the in-flight deployment. Read-only."""
    from bluegreen.app.views import status as read
    from bluegreen.cli.render.status import status_text

    data = read(options.session_for(runtime, service))
    click.echo(json.dumps(data, indent=2, default=str) if fmt == "json" else status_text(data), nl=fmt == "json")


@options.command()
@options.service_argument
@click.option("--limit", default=20, show_default=True, metavar="N", help="Show at most this many, newest first.")
@options.format_option("text", "json", help="text for a person, json for a pipeline to read.")
@click.pass_obj
def history(runtime: Any, service: str, limit: int, fmt: str) -> None:
    """Past deployments of a service: who, which image digest, strategy, result, timings."""
    from bluegreen.app.views import history as read
    from bluegreen.cli.render.history import history_text

    session = options.session_for(runtime, service)
    items = read(session, limit=limit)
    click.echo(json.dumps(items, indent=2, default=str) if fmt == "json" else history_text(items), nl=fmt == "json")


@options.command()
@options.service_argument
@options.flag("force", help="Required: breaking a lock is a deliberate act.")
@click.pass_obj
def unlock(runtime: Any, service: str, force: bool) -> None:
    """Break a stale deployment lock, such as one left by a killed agent on another machine."""
    if not force:
        raise InvalidInput(f"unlock needs --force: check `bluegreen status {service}` first, "
                           "then `bluegreen unlock SERVICE --force`")
    session = options.session_for(runtime, service)
    holder = session.store.break_lock(session.spec.service)
    click.echo(f"lock broken: {holder.describe()}" if holder else f"{session.spec.service} was not locked")


COMMANDS = (status, history, unlock)
