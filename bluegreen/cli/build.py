"""`bluegreen build`: build the service's image, push it to ECR, print it pinned by digest.

Registered on the main group with `cli.add_command(build)`. Imports nothing heavy at module level
(boto3 and docker load inside the command), so `bluegreen --help` stays fast.
"""

from __future__ import annotations

from typing import Any

import click


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--image-tag", required=True, help="Tag to build and push (e.g. the git commit).")
@click.option("--registry", metavar="HOST:PORT",
              help="Send image bytes to this registry instead of ECR's (local use with an AWS emulator); "
                   "ECR's API still records the digest. Default: $BLUEGREEN_REGISTRY.")
@click.option("--git-commit", envvar="GIT_COMMIT",
              help="Recorded as the org.opencontainers.image.revision label. Default: $GIT_COMMIT.")
@click.option("--events", "events_mode", type=click.Choice(["plain", "json"]), default="plain",
              show_default=True, help="Progress as plain lines or one JSON object per line.")
@click.pass_obj
def build(runtime: Any, path: str, image_tag: str, registry: str | None, git_commit: str | None,
          events_mode: str) -> None:
    """Build the image of the spec at PATH, push it to ECR and print it pinned by digest.

    Plain mode prints the pinned reference (REPOSITORY_URI@sha256:...) as the last line, so
    `IMAGE=$(bluegreen build ... | tail -n 1)` works; JSON mode keeps every line JSON and ends with
    an `image.pinned` event whose `pinned` field holds it.
    """
    from bluegreen.events import Events
    from bluegreen.app.images import build_and_push
    from bluegreen.specfiles.loader import load_spec

    loaded = load_spec(path)
    events = Events(mode=events_mode, service=loaded.spec.service)
    result = build_and_push(runtime.aws_for(loaded.spec), loaded.spec, loaded.path, image_tag,
                            events=events, registry=registry, git_commit=git_commit or None)
    if events_mode == "plain":
        click.echo(result.pinned)
