"""The command line: the group, the one run context, and the one map from errors to exit codes.

The group's options (plus the environment) are read once into a `RunContext`: AWS endpoint,
region override, profile, role, image registry, and who is running. Every command below gets it
and nothing below the CLI reads the environment for those again. Commands live one module per
group of commands (plan, deploy, inspect, build, iam, demo); each calls one use case and returns an
exit code or raises from the `BluegreenError` family, and `main` turns that into the exit-code
table below.

boto3 and docker are imported only inside the commands that talk to AWS or the engine, so
`--version`, `--help`, `validate` and `schema` start fast.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

import click

from bluegreen import __version__
from bluegreen.cli import build, deploy, demo, iam, init, inspect, options, plan
from bluegreen.errors import BluegreenError, ExitCode, InvalidInput

# The README's "Exit codes" table says the same; a test keeps them equal.
EXIT_CODES: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "Success. For `plan --detailed-exitcode`: no changes."),
    (ExitCode.DEPLOY_FAILED_ROLLED_BACK, "The deployment failed, the rollback ran, and production traffic was "
                                         "verified back on the old color."),
    (ExitCode.INVALID_INPUT, "Invalid input you can fix (spec, flags, a stale saved plan, a strategy the live "
                             "infrastructure cannot support). Nothing was changed."),
    (ExitCode.ROLLBACK_INCOMPLETE, "AWS may have been changed and the result could not be verified (a rollback "
                                   "that did not complete, a failing finalize, an error after a change). A person "
                                   "must look; the message says what state things are in."),
    (ExitCode.LOCKED, "Another deployment holds the lock, or one is paused or in flight."),
    (ExitCode.CHANGES_PENDING, "`plan --detailed-exitcode`: changes are pending."),
    (ExitCode.NOTHING_CHANGED, "An error before any change was made (AWS unreachable, denied or throttled past "
                               "the retries, an unexpected error). Nothing was changed."),
)

# The run contexts of the command in progress: whether it started changing AWS decides between
# "nothing was changed" (6) and "may have changed, not verified" (3) when it fails unexpectedly.
_RUNS: list[Any] = []


class Group(click.Group):
    """The top-level group: its help ends with the exit-code table."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Exit codes"):
            formatter.write_dl([(str(int(code)), meaning) for code, meaning in EXIT_CODES])


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="bluegreen", help="Print the version and exit.")
@options.endpoint_url_option
@options.region_option
@options.profile_option
@options.role_arn_option
@options.registry_option
@click.pass_context
def cli(ctx: click.Context, endpoint_url: str | None, region: str | None, profile: str | None,
        role_arn: str | None, registry: str | None) -> None:
    """Blue/green deployments of containerised services to AWS.

    SERVICE is a service name defined in deployments/, or the path of its spec file.
    """
    from bluegreen.app.context import RunContext

    ctx.obj = RunContext.from_environment(os.environ, endpoint_url=endpoint_url, region=region, profile=profile,
                                          role_arn=role_arn, registry=registry or None)
    _RUNS.append(ctx.obj)


for _command in (plan.validate, plan.schema, plan.plan, *deploy.COMMANDS, *inspect.COMMANDS, build.build,
                 iam.iam_policy, demo.demo, init.init):
    cli.add_command(_command)


def _changed() -> bool:
    return any(getattr(run, "aws_changed", False) for run in _RUNS)


_UNVERIFIED = ("AWS may have been changed by this run and the result was not verified: "
               "run `bluegreen status SERVICE` before anything else")


def _report(error: BluegreenError) -> int:
    if error.exit_code in (ExitCode.INVALID_INPUT, ExitCode.NOTHING_CHANGED) and _changed():
        # Raised after a change (e.g. by a step of `finalize`): "nothing was changed" would be a lie.
        message = error.message.removesuffix("; nothing was changed").removesuffix(". Nothing was changed")
        click.echo(f"error: {message}. {_UNVERIFIED}", err=True)
        return int(ExitCode.ROLLBACK_INCOMPLETE)
    problems = getattr(error, "problems", None)
    if isinstance(error, InvalidInput) and problems:
        for line in problems:
            click.echo(line, err=True)
        if len(problems) > 1:
            click.echo(f"error: {_summary(error.message, problems)}", err=True)
    else:
        click.echo(f"error: {error.message}", err=True)
    return int(error.exit_code)


def _summary(message: str, problems: list[str]) -> str:
    """The closing line after the problems: the message, unless it only repeats them (one line per cause)."""
    at = message.find(problems[0])
    if at <= 0:
        return message
    return f"{message[:at].rstrip(' :;')} ({len(problems)} problems above)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return its exit code. The one place errors become exit codes."""
    _RUNS.clear()
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
        return _report(exc)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # never a traceback for a user, unless asked for
        if os.environ.get("BLUEGREEN_DEBUG"):
            raise
        return _unexpected(exc)
    return int(result) if isinstance(result, int) else 0


def _unexpected(exc: Exception) -> int:
    """Outside the error family (a bug, a step failing outside a run): nothing was restored, so never 1."""
    origin = "AWS" if type(exc).__module__.startswith(("botocore", "boto3")) else "unexpected error"
    what = " ".join(f"{type(exc).__name__}: {exc}".split())
    if _changed():
        click.echo(f"error: {origin}: {what}. {_UNVERIFIED} (BLUEGREEN_DEBUG=1 shows a traceback)", err=True)
        return int(ExitCode.ROLLBACK_INCOMPLETE)
    click.echo(f"error: {origin}: {what}; nothing was changed (BLUEGREEN_DEBUG=1 shows a traceback)", err=True)
    return int(ExitCode.NOTHING_CHANGED)


def run() -> None:
    """The `bluegreen` script: `main`, then exit with its code."""
    code = main()
    # The process ends here. Its last act would be a full garbage collection over every object the run
    # made (boto3's service models, the pydantic schemas): a few hundred ms on exit that free nothing the
    # OS does not. Frozen objects are left out of it; atexit handlers and output flushing run as usual.
    gc.freeze()
    sys.exit(code)
