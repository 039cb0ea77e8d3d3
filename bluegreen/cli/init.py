"""`bluegreen init`: write the spec of a service that already runs, read from AWS (read-only)."""

from __future__ import annotations

import os
import shlex
from typing import Any

import click

from bluegreen.cli import options


@options.command("init")
@click.option("--cluster", metavar="CLUSTER", help="The ECS cluster of --service.")
@click.option("--service", "services", multiple=True, metavar="NAME",
              help="An ECS service; give it twice for the blue and green services (else the other color is found).")
@click.option("--asg", "asgs", multiple=True, metavar="NAME",
              help="An Auto Scaling group; give it twice for blue and green (else the other color is found).")
@click.option("--zone", metavar="ZONE", help="A Route53 hosted zone (name or id), with --record: a DNS cutover.")
@click.option("--record", metavar="NAME", help="The weighted record whose two sets are the colors' endpoints.")
@click.option("--name", metavar="SERVICE", help="The spec's service name.", show_default="from the live names")
@click.option("--container", metavar="NAME", help="The ECS container that gets the new image.",
              show_default="the load-balanced one")
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE", help="Where to write the spec; - prints it.",
              show_default="deployments/SERVICE.yaml")
@options.flag("force", help="Overwrite an existing spec file.")
@click.pass_obj
def init(runtime: Any, cluster: str | None, services: tuple[str, ...], asgs: tuple[str, ...], zone: str | None,
         record: str | None, name: str | None, container: str | None, out: str | None, force: bool) -> int:
    """Write a commented spec for what already runs: an ECS service, an Auto Scaling group or a Route53 record.

    Reads the services, load balancers, listeners and rules, target groups, the alarms that name them,
    and the deployment controller (read-only calls only), then writes a spec that validates and plans
    with no changes.
    """
    from bluegreen.adapters.aws.reads_init import InitReads
    from bluegreen.app.init import InitRequest, init as run

    region = runtime.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    request = InitRequest(region=region, cluster=cluster, services=services, asgs=asgs, zone=zone, record=record,
                          name=name, container=container)
    written = run(InitReads(runtime.aws(region)), request, out=out, force=force, command=_command(request))
    for warning in written.found.warnings:
        click.echo(f"warning: {warning}", err=True)
    if written.path is None:
        click.echo(written.text, nl=False)
        return 0
    found = written.found
    click.echo(f"wrote {written.path} ({found.service}, strategy {found.strategy.value}, "
               f"{len(found.alarms)} alarm(s)); check it: bluegreen plan {written.path} --detailed-exitcode")
    return 0


def _command(request: Any) -> str:
    """The command that reads the same things again (for the spec's header), without --out/--force."""
    words = ["bluegreen", "init"]
    pairs = [("--cluster", request.cluster), *(("--service", s) for s in request.services),
             *(("--asg", a) for a in request.asgs), ("--zone", request.zone), ("--record", request.record),
             ("--name", request.name), ("--container", request.container)]
    for flag, value in pairs:
        if value:
            words += [flag, shlex.quote(value)]
    return " ".join(words)
