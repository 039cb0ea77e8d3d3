"""The command line. Thin: parse flags, call one function, map the error family to exit codes.

boto3 and docker are imported only inside the commands that talk to AWS or the engine, so
`--version`, `--help`, `validate` and `schema` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from bluegreen import __version__
from bluegreen.errors import BluegreenError, ExitCode, InvalidInput


def _fail(error: BluegreenError) -> int:
    problems = getattr(error, "problems", None)
    if isinstance(error, InvalidInput) and problems:
        for line in problems:
            click.echo(line, err=True)
        if len(problems) > 1:
            click.echo(f"error: {error.message}", err=True)
    else:
        click.echo(f"error: {error.message}", err=True)
    return int(error.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="bluegreen")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", help="AWS endpoint (e.g. a local emulator).")
@click.option("--region", envvar="BLUEGREEN_REGION", help="Override every spec's region.")
@click.option("--profile", envvar="AWS_PROFILE", help="AWS named profile.")
@click.option("--role-arn", help="Assume this role first (cross-account deployments).")
@click.pass_context
def cli(ctx: click.Context, endpoint_url: str | None, region: str | None, profile: str | None,
        role_arn: str | None) -> None:
    """Blue/green deployments of containerised services to AWS.

    Exit codes: 0 success, 1 failed and rolled back to blue, 2 invalid input (nothing changed),
    3 rollback incomplete (a person must look), 4 locked by another deployment, 5 changes pending.
    """
    from bluegreen.app.context import RunContext

    ctx.obj = RunContext.from_environment(endpoint_url=endpoint_url, region=region, profile=profile,
                                          role_arn=role_arn)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check spec files (default: deployments/*.yaml). Never contacts AWS."""
    from bluegreen.specfiles.loader import load_specs

    loaded = load_specs(paths)
    for item in loaded:
        click.echo(f"{item.path}: ok ({item.spec.service}, strategy {item.spec.strategy.value})")


@cli.command()
@click.option("--indent", default=2, show_default=True, help="JSON indentation.")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="json", show_default=True,
              help="json: the JSON Schema; markdown: the field reference the README includes.")
def schema(indent: int, fmt: str) -> None:
    """Print the JSON Schema of a spec file, for editors and CI linters."""
    if fmt == "markdown":
        from bluegreen.specfiles.reference import spec_reference

        click.echo(spec_reference(), nl=False)
        return
    from bluegreen.specfiles.schema import spec_schema

    click.echo(json.dumps(spec_schema(), indent=indent, sort_keys=False))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--image-tag", help="The image tag to deploy (resolved to a digest and pinned).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Also save the plan (JSON) for deploy --plan-file.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing changes, 5 when changes are pending.")
@click.option("--offline", is_flag=True, help="Plan from the specs alone, with no AWS access.")
@click.pass_obj
def plan(runtime: Any, paths: tuple[str, ...], image_tag: str | None, fmt: str, out: str | None,
         detailed_exitcode: bool, offline: bool) -> int:
    """Preview deployments (default: deployments/*.yaml). Read-only: changes nothing in AWS."""
    from bluegreen.app.plans import plan_paths
    from bluegreen.domain.plan import dump
    from bluegreen.cli.render.plan import RENDERERS

    plans = plan_paths(runtime, paths, image_tag=image_tag, offline=offline)
    click.echo(RENDERERS[fmt](plans), nl=False)
    if out:
        Path(out).write_text(dump(plans) + "\n", encoding="utf-8")
    if any(p.errors for p in plans) and not offline:
        return int(ExitCode.INVALID_INPUT)
    if detailed_exitcode:
        # Offline, a new image tag is a change we cannot rule out: say "pending", never "no changes".
        pending = any(p.has_changes or (p.offline and image_tag) for p in plans)
        return int(ExitCode.CHANGES_PENDING if pending else ExitCode.OK)
    return 0


def _session(runtime: Any, target: str, events_mode: str = "plain") -> Any:
    from bluegreen.events import Events
    from bluegreen.app.session import Session, resolve_service

    return Session(ctx=runtime, loaded=resolve_service(target), events=Events(mode=events_mode))


_events_option = click.option("--events", "events_mode", type=click.Choice(["plain", "json"]), default="plain",
                              show_default=True, help="Progress as plain lines or one JSON object per event.")
_wait_finalize = click.option("--wait-finalize/--no-wait-finalize", default=False, show_default=True,
                              help="Stay until the keep-warm time is over and scale the old color down.")


@cli.command()
@click.argument("path", type=click.Path())
@click.option("--image-tag", help="The image tag to deploy (resolved to a digest and pinned).")
@click.option("--plan-file", type=click.Path(dir_okay=False), help="Apply a plan saved by `plan --out` (refused if stale).")
@click.option("--build/--no-build", default=False, help="Build and push the image first (spec's build section).")
@click.option("--registry", envvar="BLUEGREEN_REGISTRY", help="Push image bytes here instead of ECR (local use).")
@click.option("--pause-before-shift", is_flag=True, help="Stop once green is healthy; continue with promote/abort.")
@_wait_finalize
@_events_option
@click.pass_obj
def deploy(runtime: Any, path: str, image_tag: str | None, plan_file: str | None, build: bool, registry: str | None,
           pause_before_shift: bool, wait_finalize: bool, events_mode: str) -> int:
    """Deploy a service blue/green: bring up green, gate it, shift traffic, roll back on failure."""
    from bluegreen.app.deploy import deploy as run

    if build and not image_tag:
        raise InvalidInput("--build needs --image-tag (the tag to build and push)")
    return run(_session(runtime, path, events_mode), image_tag=image_tag, plan_file=plan_file, build=build,
               registry=registry, pause_before_shift=pause_before_shift, wait_finalize=wait_finalize)


@cli.command()
@click.argument("service")
@_wait_finalize
@_events_option
@click.pass_obj
def promote(runtime: Any, service: str, wait_finalize: bool, events_mode: str) -> int:
    """Continue a deployment paused before the traffic shift."""
    from bluegreen.app.recovery import promote as run

    return run(_session(runtime, service, events_mode), wait_finalize=wait_finalize)


@cli.command()
@click.argument("service")
@_events_option
@click.pass_obj
def abort(runtime: Any, service: str, events_mode: str) -> int:
    """Abandon the in-flight (or paused) deployment and put traffic back on blue."""
    from bluegreen.app.recovery import abort as run

    return run(_session(runtime, service, events_mode))


@cli.command()
@click.argument("service")
@click.option("--to", "to", help="Redeploy this image (tag or sha256 digest) instead of switching back to the warm color.")
@_events_option
@click.pass_obj
def rollback(runtime: Any, service: str, to: str | None, events_mode: str) -> int:
    """Put production traffic back on the last good color, whatever state the deployment is in."""
    from bluegreen.app.recovery import rollback as run

    return run(_session(runtime, service, events_mode), to=to)


@cli.command()
@click.argument("service")
@_wait_finalize
@_events_option
@click.pass_obj
def resume(runtime: Any, service: str, wait_finalize: bool, events_mode: str) -> int:
    """Finish a deployment whose process was killed, from the journal."""
    from bluegreen.app.recovery import resume as run

    return run(_session(runtime, service, events_mode), wait_finalize=wait_finalize)


@cli.command()
@click.argument("service")
@click.option("--now", is_flag=True, help="Scale the old color down even if its keep-warm time is not over.")
@_events_option
@click.pass_obj
def finalize(runtime: Any, service: str, now: bool, events_mode: str) -> int:
    """Scale the old color down once its keep-warm time has passed."""
    from bluegreen.app.recovery import finalize as run

    return run(_session(runtime, service, events_mode), now=now)


@cli.command()
@click.argument("service")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def status(runtime: Any, service: str, fmt: str) -> None:
    """Live color, weights, health and the in-flight deployment. Read-only."""
    from bluegreen.app.views import status as read
    from bluegreen.cli.render.status import status_text

    data = read(_session(runtime, service))
    click.echo(json.dumps(data, indent=2, default=str) if fmt == "json" else status_text(data), nl=fmt == "json")


@cli.command()
@click.argument("service")
@click.option("--limit", default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def history(runtime: Any, service: str, limit: int, fmt: str) -> None:
    """Past deployments of a service: who, which image digest, strategy, result, timings."""
    from bluegreen.cli.render.history import history_text

    session = _session(runtime, service)
    items = session.store.history(session.spec.service, limit=limit)
    click.echo(json.dumps(items, indent=2, default=str) if fmt == "json" else history_text(items), nl=fmt == "json")


@cli.command()
@click.argument("service")
@click.option("--force", is_flag=True, required=True, help="Required: breaking a lock is a deliberate act.")
@click.pass_obj
def unlock(runtime: Any, service: str, force: bool) -> None:
    """Break a stale deployment lock, such as one left by a killed agent on another machine."""
    session = _session(runtime, service)
    holder = session.store.break_lock(session.spec.service)
    click.echo(f"lock broken: {holder.describe()}" if holder else f"{session.spec.service} was not locked")


@cli.command()
@click.option("--fail", is_flag=True, help="Make an alarm fire during a bake, to show the automatic rollback.")
@click.option("--keep", is_flag=True, help="Keep the demo's working directory (specs, journal, history).")
@_events_option
def demo(fail: bool, keep: bool, events_mode: str) -> int:
    """Run a real blue/green deployment on an embedded local AWS (no account needed)."""
    from bluegreen.local.demo import run
    from bluegreen.events import Events

    return run(fail=fail, keep=keep, out=Events(mode=events_mode, service="demo"))


from bluegreen.cli.build import build as _build_command  # noqa: E402 - imports no SDK at module level

cli.add_command(_build_command)

from bluegreen.cli.iam import iam_policy as _iam_policy_command  # noqa: E402 - imports no SDK at module level

cli.add_command(_iam_policy_command)


def main(argv: list[str] | None = None) -> int:
    try:
        result: Any = cli.main(args=argv, prog_name="bluegreen", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.INVALID_INPUT) if exc.exit_code == 2 else int(exc.exit_code)
    except BluegreenError as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # never a traceback for a user, unless asked for
        if os.environ.get("BLUEGREEN_DEBUG"):
            raise
        origin = "AWS" if type(exc).__module__.startswith(("botocore", "boto3")) else "unexpected error"
        click.echo(f"error: {origin}: {type(exc).__name__}: {exc} (BLUEGREEN_DEBUG=1 shows a traceback)", err=True)
        return int(ExitCode.DEPLOY_FAILED_ROLLED_BACK)
    return int(result) if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())


