"""The command line. Thin: parse flags, call one function, map the error family to exit codes.

boto3 and docker are imported only inside the commands that talk to AWS or the engine, so
`--version`, `--help`, `validate` and `schema` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .errors import BluegreenError, ExitCode, InvalidInput


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
    from .app import Runtime

    ctx.obj = Runtime(endpoint_url=endpoint_url, region=region, profile=profile, role_arn=role_arn)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check spec files (default: deployments/*.yaml). Never contacts AWS."""
    from .loader import load_specs

    loaded = load_specs(paths)
    for item in loaded:
        click.echo(f"{item.path}: ok ({item.spec.service}, strategy {item.spec.strategy.value})")


@cli.command()
@click.option("--indent", default=2, show_default=True, help="JSON indentation.")
def schema(indent: int) -> None:
    """Print the JSON Schema of a spec file, for editors and CI linters."""
    from .schema import spec_schema

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
    from .app import plan_paths
    from .plan import dump
    from .render import RENDERERS

    plans = plan_paths(runtime, paths, image_tag=image_tag, offline=offline)
    click.echo(RENDERERS[fmt](plans), nl=False)
    if out:
        Path(out).write_text(dump(plans) + "\n", encoding="utf-8")
    if any(p.errors for p in plans) and not offline:
        return int(ExitCode.INVALID_INPUT)
    if detailed_exitcode:
        return int(ExitCode.CHANGES_PENDING if any(p.has_changes for p in plans) else ExitCode.OK)
    return 0


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


