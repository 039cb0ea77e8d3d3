"""Every option and argument the commands share, each defined once, and the conventions they follow.

- A boolean is always a pair, `--x/--no-x`, with its default shown in `--help` (`flag()`).
- Every option and every argument has help text; arguments get theirs from `argument()`, shown
  under "Arguments:" (click's own arguments have none).
- SERVICE means the same everywhere: a service name defined in deployments/, or one spec file.

This module imports click and nothing else at module level, so `bluegreen --help` starts fast.
"""

from __future__ import annotations

from typing import Any, Callable

import click

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

SPEC_DIRECTORY = "deployments"


# --- the conventions ---------------------------------------------------------------------------------


class Argument(click.Argument):
    """A positional argument that carries help text, so `--help` can say what it is."""

    def __init__(self, param_decls: list[str], *, help: str, **attrs: Any) -> None:  # noqa: A002 - click's word
        super().__init__(param_decls, **attrs)
        self.help = help

    @property
    def shown_as(self) -> str:
        name = self.metavar or (self.name or "").upper()
        return f"{name}..." if self.nargs == -1 else name


class Command(click.Command):
    """A command whose help lists its arguments (with their help) before its options."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(p.shown_as, p.help) for p in self.get_params(ctx) if isinstance(p, Argument)]
        if rows:
            with formatter.section("Arguments"):
                formatter.write_dl(rows)
        super().format_options(ctx, formatter)


def command(name: str | None = None, **attrs: Any) -> Decorator:
    """`@click.command`, with arguments shown in its help."""
    return click.command(name, cls=Command, **attrs)


def argument(name: str, *, help: str, **attrs: Any) -> Decorator:  # noqa: A002 - click's word
    return click.argument(name, cls=Argument, help=help, **attrs)


def flag(name: str, *, help: str, default: bool = False) -> Decorator:  # noqa: A002
    """A boolean option: always `--name/--no-name`, its default shown."""
    return click.option(f"--{name}/--no-{name}", default=default, show_default=True, help=help)


def format_option(*choices: str, help: str) -> Decorator:  # noqa: A002
    """`--format`, whose choices depend on the command; the first choice is the default."""
    return click.option("--format", "fmt", type=click.Choice(choices), default=choices[0], show_default=True,
                        help=help)


# --- arguments ---------------------------------------------------------------------------------------

service_argument = argument(
    "service", help=f"A service name defined in {SPEC_DIRECTORY}/, or the path of its spec file.")

paths_argument = argument(
    "paths", nargs=-1, type=click.Path(),
    help=f"Spec files or directories of them (default: {SPEC_DIRECTORY}/*.yaml).")


# --- the run: global options, read once into the RunContext by the group ----------------------------

endpoint_url_option = click.option(
    "--endpoint-url", envvar="AWS_ENDPOINT_URL", show_envvar=True, metavar="URL",
    help="AWS endpoint for every service, e.g. a local emulator.")
region_option = click.option(
    "--region", envvar="BLUEGREEN_REGION", show_envvar=True,
    help="Use this region for every spec, for reads and changes alike, instead of the spec's own.")
profile_option = click.option(
    "--profile", envvar="AWS_PROFILE", show_envvar=True, help="AWS named profile, as in the AWS CLI.")
role_arn_option = click.option(
    "--role-arn", metavar="ARN", help="Assume this role first (cross-account deployments).")

_REGISTRY_HELP = ("Send image bytes to this registry instead of ECR's own (local use with an AWS emulator); "
                  "ECR's API still records the digest.")
registry_option = click.option(
    "--registry", envvar="BLUEGREEN_REGISTRY", show_envvar=True, metavar="HOST:PORT",
    show_default="ECR's registry", help=_REGISTRY_HELP)


def _override_registry(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # The run context is built before a command's own options are read; a command's --registry
    # (the spelling `build` and `deploy` have always had) replaces the run's registry.
    if value is not None and ctx.obj is not None:
        ctx.obj.registry = value


command_registry_option = click.option(
    "--registry", metavar="HOST:PORT", expose_value=False, callback=_override_registry,
    show_default="the global --registry, $BLUEGREEN_REGISTRY, else ECR's registry", help=_REGISTRY_HELP)


# --- shared command options --------------------------------------------------------------------------


def image_tag_option(*, required: bool = False, help: str | None = None) -> Decorator:  # noqa: A002
    return click.option("--image-tag", required=required, metavar="TAG",
                        help=help or "The image tag to deploy (resolved to a digest and pinned).")


events_option = click.option(
    "--events", "events_mode", type=click.Choice(["plain", "json"]), default="plain", show_default=True,
    help="Progress as plain lines, or one JSON object per line (for CI log parsers).")

_PROGRESS = "bluegreen.progress"  # ctx.meta key: how progress is shown (see bluegreen.cli.progress.mode)


def _progress(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
    if value:
        ctx.meta[_PROGRESS] = "plain" if value is True else ctx.meta.get(_PROGRESS, value)


def progress_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--progress auto|panel|plain` and `--plain`: a live panel on a terminal, or the plain lines."""
    f = click.option("--plain", is_flag=True, expose_value=False, callback=_progress, is_eager=True,
                     help="Plain progress lines even on a terminal (same as --progress plain).")(f)
    return click.option(
        "--progress", type=click.Choice(["auto", "panel", "plain"]), default="auto", show_default=True,
        expose_value=False, callback=_progress,
        help="A live panel redrawn in place (auto: when stdout is a terminal), or plain lines. "
             "--events json is never affected.")(f)


wait_finalize_option = flag(
    "wait-finalize", help="Stay until the keep-warm time is over and scale the old color down.")
build_option = flag("build", help="Build and push the image first (the spec's image.build section); "
                                  "needs --image-tag.")
pause_before_shift_option = flag(
    "pause-before-shift", help="Stop once green is up and healthy; continue with `promote` or `abort`.")
detailed_exitcode_option = flag(
    "detailed-exitcode", help="Exit 0 when nothing would change, 5 when changes are pending.")
offline_option = flag("offline", help="Plan from the specs alone, with no AWS access.")
indent_option = click.option("--indent", default=2, show_default=True, metavar="N", help="JSON indentation.")


# --- what SERVICE means ------------------------------------------------------------------------------


def resolve(service: str) -> Any:
    """The spec SERVICE names (a `LoadedSpec`): a name defined in deployments/, or one spec file."""
    from bluegreen.app.session import resolve_service

    # A directory holds many specs: the loader refuses it (never picks one of them silently).
    return resolve_service(service, SPEC_DIRECTORY)


def session_for(runtime: Any, service: str, events_mode: str = "plain") -> Any:
    """The use cases' Session for SERVICE: its spec, its state store, this run, the output."""
    from bluegreen.app.session import Session
    from bluegreen.events import Events

    return Session(ctx=runtime, loaded=resolve(service), events=_events(events_mode))


def _events(events_mode: str) -> Any:
    """The run's output; in panel mode a live panel, closed (its last frame left) when the command ends."""
    import sys

    from bluegreen.cli.progress import Panel, mode
    from bluegreen.events import Events

    ctx = click.get_current_context(silent=True)
    progress = ctx.meta.get(_PROGRESS, "auto") if ctx is not None else "plain"
    chosen = mode(events_mode, progress, sys.stdout)
    if chosen != "panel":
        return Events(mode=chosen)
    events = Events(mode="panel")
    events.watcher = Panel(stream=sys.stdout, clock=events.clock, start=events.clock())
    if ctx is not None:
        ctx.call_on_close(events.close)
    return events
