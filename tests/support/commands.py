"""The use cases as a CI job or a person runs them, one fresh session per command, on a `World`.

`deploy` records and runs the hand-built web plan through the real `deploy_plan` (discovery and
planning are the only parts left out); the other commands are the real use cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bluegreen.app import recovery
from bluegreen.app.deploy import deploy_plan
from bluegreen.app.session import Session
from bluegreen.domain.deployment import Deployment
from bluegreen.domain.plan import Plan
from bluegreen.errors import BluegreenError

from support.runs import web_plan, web_session
from support.clock import FakeClock
from support.world import TG_BLUE, TG_GREEN, Call, World


@dataclass
class Commands:
    directory: Path
    world: World = field(default_factory=World)
    clock: FakeClock = field(default_factory=FakeClock)
    automatic: bool = True
    last: Session | None = None

    def session(self) -> Session:
        self.last = web_session(self.directory, self.world, self.clock, automatic=self.automatic)
        return self.last

    def current(self) -> Deployment:
        """The current record, read by a session of its own (`events` keeps the last command's)."""
        record = web_session(self.directory, self.world, self.clock).records.current()
        assert record is not None
        return record

    # --- the commands; each returns its exit code ------------------------------------------------

    def deploy(self, plan: Plan | None = None, **options: bool) -> int:
        session = self.session()
        deployment_id = session.new_id()
        with session.locked("deploy", deployment_id):
            return exit_code(lambda: deploy_plan(session, plan or web_plan(), deployment_id,
                                                 current=session.records.current(), **options))

    def promote(self, **options: bool) -> int:
        return exit_code(lambda: recovery.promote(self.session(), **options))

    def resume(self) -> int:
        return exit_code(lambda: recovery.resume(self.session()))

    def abort(self) -> int:
        return exit_code(lambda: recovery.abort(self.session()))

    def rollback(self) -> int:
        return exit_code(lambda: recovery.rollback(self.session()))

    def finalize(self, *, now: bool = False) -> int:
        return exit_code(lambda: recovery.finalize(self.session(), now=now))

    def events(self) -> list[str]:
        """The events the last command emitted."""
        assert self.last is not None
        return [e["event"] for e in self.last.events.history]

    # --- what goes wrong -------------------------------------------------------------------------

    def alarm_when_green_gets(self, percent: int) -> None:
        """web-5xx fires as soon as green's share reaches `percent`: the next bake fails."""
        self.world.before("set_weights", lambda call: self.world.set_alarm("web-5xx", "ALARM"),
                          when=lambda call: call.args["weights"][TG_GREEN] == percent)

    def listener_refuses_blue(self, times: int = 1) -> None:
        """The change putting blue back at 100% fails (`times` times), as when AWS throttles us."""
        def throttled(_call: Call) -> None:
            raise RuntimeError("Throttling: Rate exceeded")

        blue_only = {TG_BLUE: 100, TG_GREEN: 0}
        self.world.before("set_weights", throttled, when=lambda call: call.args["weights"] == blue_only, times=times)


def exit_code(command) -> int:  # noqa: ANN001 - a zero-argument use case
    """The exit code the CLI would give: the return value, or the error's code."""
    try:
        return int(command())
    except BluegreenError as error:
        return int(error.exit_code)
