"""`validate`, `schema` and `plan`: everything that looks at specs and changes nothing.

`validate` and `schema` never contact AWS and load no planning code; `plan` reads AWS (read-only)
unless `--offline`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from bluegreen.cli import options
from bluegreen.errors import ExitCode


@options.command()
@options.paths_argument
def validate(paths: tuple[str, ...]) -> None:
    """Check spec files and report every problem as path:line:col. Never contacts AWS."""
    from bluegreen.specfiles.loader import load_specs

    for item in load_specs(paths):
        click.echo(f"{item.path}: ok ({item.spec.service}, strategy {item.spec.strategy.value})")


@options.command()
@options.indent_option
@options.format_option("json", "markdown",
                       help="json: the JSON Schema; markdown: the field reference the README includes.")
def schema(indent: int, fmt: str) -> None:
    """Print the JSON Schema of a spec file, for editors and CI linters."""
    if fmt == "markdown":
        from bluegreen.specfiles.reference import spec_reference

        click.echo(spec_reference(), nl=False)
        return
    from bluegreen.specfiles.schema import spec_schema

    click.echo(json.dumps(spec_schema(), indent=indent, sort_keys=False))


@options.command()
@options.paths_argument
@options.image_tag_option()
@options.format_option("text", "markdown", "json",
                       help="text for a terminal, markdown for a pull-request comment, json (versioned) for tools.")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also save the plan (JSON) for `deploy --plan-file`.")
@options.detailed_exitcode_option
@options.offline_option
@click.pass_obj
def plan(runtime: Any, paths: tuple[str, ...], image_tag: str | None, fmt: str, out: str | None,
         detailed_exitcode: bool, offline: bool) -> int:
    """Preview deployments: strategy and why, changes, steps, gates, rollback path. Changes nothing."""
    from bluegreen.app.plans import plan_paths
    from bluegreen.cli.render.plan import RENDERERS
    from bluegreen.domain.plan import dump

    plans = plan_paths(runtime, paths, image_tag=image_tag, offline=offline, count_health=True)
    click.echo(RENDERERS[fmt](plans), nl=False)
    if out:
        Path(out).write_text(dump(plans) + "\n", encoding="utf-8")
    if any(p.errors for p in plans) and not offline:
        from bluegreen.app.plans import aws_failure

        failed = next((f for p in plans if (f := aws_failure(p.service, p.errors)) is not None), None)
        return int(ExitCode.NOTHING_CHANGED if failed else ExitCode.INVALID_INPUT)
    if detailed_exitcode:
        # Offline, a new image tag is a change we cannot rule out: say "pending", never "no changes".
        pending = any(p.has_changes or (p.offline and image_tag) for p in plans)
        return int(ExitCode.CHANGES_PENDING if pending else ExitCode.OK)
    return int(ExitCode.OK)
