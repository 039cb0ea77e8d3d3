"""`bluegreen build`: build the service's image, push it to ECR, print it pinned by digest.

Imports nothing heavy at module level (boto3 and docker load inside the command), so
`bluegreen --help` stays fast.
"""

from __future__ import annotations

from typing import Any

import click

from bluegreen.cli import options


@options.command()
@options.service_argument
@options.image_tag_option(required=True, help="Tag to build and push (e.g. the git commit).")
@options.command_registry_option
@click.option("--git-commit", metavar="SHA", show_default="the run's commit: $GIT_COMMIT, else $GITHUB_SHA",
              help="Recorded as the org.opencontainers.image.revision label.")
@options.events_option
@click.pass_obj
def build(runtime: Any, service: str, image_tag: str, git_commit: str | None, events_mode: str) -> None:
    """Build the service's image, push it to ECR and print it pinned by digest.

    Plain mode prints the pinned reference (REPOSITORY_URI@sha256:...) as the last line, so
    `IMAGE=$(bluegreen build ... | tail -n 1)` works; JSON mode keeps every line JSON and ends with
    an `image.pinned` event whose `pinned` field holds it.
    """
    from bluegreen.app.images import build_and_push
    from bluegreen.events import Events

    loaded = options.resolve(service)
    events = Events(mode=events_mode, service=loaded.spec.service)
    result = build_and_push(runtime.aws_for(loaded.spec), loaded.spec, loaded.path, image_tag, events=events,
                            registry=runtime.registry, git_commit=git_commit or runtime.identity.git_commit)
    if events_mode == "plain":
        click.echo(result.pinned)
