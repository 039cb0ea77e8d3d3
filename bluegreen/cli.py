"""The command line. Thin: parse flags, call one function, map the error family to exit codes.

boto3 and docker are imported only inside the commands that talk to AWS or the engine, so
`--version`, `--help`, `validate` and `schema` start fast.
"""

from __future__ import annotations

import json
import sys
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
def cli() -> None:
    """Blue/green deployments of containerised services to AWS.

    Exit codes: 0 success, 1 failed and rolled back to blue, 2 invalid input (nothing changed),
    3 rollback incomplete (a person must look), 4 locked by another deployment, 5 changes pending.
    """


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
    return int(result) if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())


