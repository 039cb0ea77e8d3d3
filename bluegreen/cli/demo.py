"""`bluegreen demo`: a real blue/green deployment on the embedded local AWS (the `[local]` extra)."""

from __future__ import annotations

import importlib.util

from bluegreen.cli import options
from bluegreen.errors import InvalidInput

# What the [local] extra (moto and the server it runs in) brings that the demo cannot start without.
LOCAL_EXTRA_MODULES = ("moto", "flask", "flask_cors")
LOCAL_EXTRA_HINT = "bluegreen demo needs the embedded local AWS: pip install 'bluegreen[local]'"


def missing_local_extra() -> str | None:
    """The first module of the [local] extra that cannot be imported, if any (none is imported here)."""
    for name in LOCAL_EXTRA_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):  # a finder refusing it, or a half-imported module
            return name
    return None


@options.command()
@options.flag("fail", help="Make an alarm fire during a bake, to show the automatic rollback (exit 1).")
@options.flag("keep", help="Keep the demo's working directory (specs, journal, history).")
@options.events_option
def demo(fail: bool, keep: bool, events_mode: str) -> int:
    """Run a real blue/green deployment on an embedded local AWS (no account needed)."""
    if missing_local_extra():  # say so before the demo creates anything
        raise InvalidInput(LOCAL_EXTRA_HINT)
    from bluegreen.events import Events
    from bluegreen.local.demo import run

    try:
        return run(fail=fail, keep=keep, out=Events(mode=events_mode, service="demo"))
    except ModuleNotFoundError as error:  # an extra's module that imports but is itself incomplete
        if (error.name or "").split(".")[0] in LOCAL_EXTRA_MODULES:
            raise InvalidInput(LOCAL_EXTRA_HINT) from error
        raise
