"""The commands that change things: `deploy`, `promote`, `abort`, `rollback`, `resume`, `finalize`.

Each resolves SERVICE, calls one use case and returns its exit code; errors go up to the group's
one error -> exit code map (`bluegreen.cli.main`).
"""

from __future__ import annotations

from typing import Any

import click

from bluegreen.cli import options
from bluegreen.errors import InvalidInput


def _session(runtime: Any, service: str, events_mode: str) -> Any:
    """The session of a command that changes things; in CI with local state, a loud warning first."""
    from bluegreen.app.ci import local_state_warning

    session = options.session_for(runtime, service, events_mode)
    warning = local_state_warning(getattr(runtime, "ci", None), session.spec, str(session.loaded.path))
    if warning:
        click.echo(warning, err=True)  # stderr: seen in the CI log even when stdout is parsed JSON
        if events_mode == "json":
            session.events.emit("state.warning", warning, state="local", ci=runtime.ci)
    return session


@options.command()
@options.service_argument
@options.image_tag_option()
@click.option("--plan-file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Apply a plan saved by `plan --out` (refused if the spec or live state changed since).")
@options.build_option
@options.command_registry_option
@options.pause_before_shift_option
@click.option("--pause-before", "pause_before", multiple=True, metavar="STEP",
              help="Pause before this plan step (its id, e.g. shift-50; `shift`: the first traffic step), "
                   "besides the spec's judgement.pause_before; repeatable.")
@options.wait_finalize_option
@options.events_option
@options.progress_options
@click.pass_obj
def deploy(runtime: Any, service: str, image_tag: str | None, plan_file: str | None, build: bool,
           pause_before_shift: bool, pause_before: tuple[str, ...], wait_finalize: bool, events_mode: str) -> int:
    """Deploy a service blue/green: bring up green, gate it, shift traffic, roll back on failure."""
    from bluegreen.app.deploy import deploy as run

    if build and not image_tag:
        raise InvalidInput("--build needs --image-tag (the tag to build and push)")
    return run(_session(runtime, service, events_mode), image_tag=image_tag, plan_file=plan_file,
               build=build, registry=runtime.registry, pause_before_shift=pause_before_shift,
               wait_finalize=wait_finalize, pause_before=tuple(pause_before))


@options.command()
@options.service_argument
@options.wait_finalize_option
@options.flag("full", help="Continue to the end, past every later pause.")
@options.events_option
@options.progress_options
@click.pass_obj
def promote(runtime: Any, service: str, wait_finalize: bool, full: bool, events_mode: str) -> int:
    """Continue a paused deployment to its next pause (or, with --full, to the end)."""
    from bluegreen.app.recovery import promote as run

    return run(_session(runtime, service, events_mode), wait_finalize=wait_finalize, full=full)


@options.command()
@options.service_argument
@options.events_option
@options.progress_options
@click.pass_obj
def abort(runtime: Any, service: str, events_mode: str) -> int:
    """Abandon the in-flight (or paused) deployment and put traffic back on blue."""
    from bluegreen.app.recovery import abort as run

    return run(_session(runtime, service, events_mode))


@options.command()
@options.service_argument
@click.option("--to", metavar="TAG|DIGEST",
              help="Redeploy this image (a tag or sha256 digest) instead of switching back to the warm color.")
@options.events_option
@options.progress_options
@click.pass_obj
def rollback(runtime: Any, service: str, to: str | None, events_mode: str) -> int:
    """Put production traffic back on the last good color, whatever state the deployment is in."""
    from bluegreen.app.recovery import rollback as run

    return run(_session(runtime, service, events_mode), to=to)


@options.command()
@options.service_argument
@options.wait_finalize_option
@options.events_option
@options.progress_options
@click.pass_obj
def resume(runtime: Any, service: str, wait_finalize: bool, events_mode: str) -> int:
    """Finish a deployment whose process was killed, from the journal."""
    from bluegreen.app.recovery import resume as run

    return run(_session(runtime, service, events_mode), wait_finalize=wait_finalize)


@options.command()
@options.service_argument
@options.flag("now", help="Scale the old color down even if its keep-warm time is not over.")
@options.events_option
@options.progress_options
@click.pass_obj
def finalize(runtime: Any, service: str, now: bool, events_mode: str) -> int:
    """Scale the old color down once its keep-warm time has passed."""
    from bluegreen.app.recovery import finalize as run

    return run(_session(runtime, service, events_mode), now=now)


COMMANDS = (deploy, promote, abort, rollback, resume, finalize)
