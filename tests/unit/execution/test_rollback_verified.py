"""Exit 1 says "traffic restored": a claim about AWS, read back after the rollback, never about our calls.

The runner on the in-memory target-group swap (`World`), on a clock that moves only when it sleeps.
"""

from __future__ import annotations

import pytest

from bluegreen.app.outcomes import conclude
from bluegreen.errors import DeploymentFailed, ExitCode, RollbackIncomplete
from bluegreen.execution.runner import Ending

from support.runs import Rig, running_record, web_plan
from support.world import BLUE_ONLY, TG_BLUE, TG_GREEN, Call



def fail_the_canary(rig: Rig, *, also=lambda: None) -> None:
    """The alarm fires as the first 10% reaches green, so its bake fails and the run rolls back."""
    def fire(_call: Call) -> None:
        rig.world.set_alarm("web-5xx", "ALARM")
        also()

    rig.world.before("set_weights", fire, when=lambda call: call.args["weights"][TG_GREEN] == 10)


def run(rig: Rig, spec):
    plan = web_plan()
    return rig.runner(plan).run(running_record(spec, plan, rig.clock))


def test_exit_1_only_after_the_old_color_is_verified_serving(rig, spec):
    fail_the_canary(rig)

    outcome = run(rig, spec)

    assert outcome.ending is Ending.ROLLED_BACK and not outcome.failures
    with pytest.raises(DeploymentFailed) as failed:
        conclude(outcome)
    assert failed.value.exit_code is ExitCode.DEPLOY_FAILED_ROLLED_BACK
    verified = [e for e in rig.journal.entries if e["event"] == "rollback.verified"]
    assert verified == [{"seq": verified[0]["seq"], "event": "rollback.verified", "problems": []}]
    finished = next(e["seq"] for e in rig.journal.entries if e["event"] == "rollback.finished")
    assert verified[0]["seq"] > finished  # read back after the last inverse ran
    lines = [e["message"] for e in rig.events.history if e["event"] == "rollback.verified"]
    assert lines == ["verified: listener web-alb:80 forwards web-blue=100, web-green=0; web-blue healthy"]


def test_a_listener_that_reads_back_elsewhere_after_the_rollback_is_exit_3_not_traffic_restored(rig, spec, monkeypatch):
    fail_the_canary(rig)
    # Someone (another pipeline, a console click) moved the listener again right after our change.
    monkeypatch.setattr(rig.world, "listener_weights", lambda listener, rule: {TG_BLUE: 50, TG_GREEN: 50})

    outcome = run(rig, spec)

    assert outcome.ending is Ending.ROLLBACK_FAILED
    assert rig.world.weights[next(iter(rig.world.weights))] == BLUE_ONLY  # our call did succeed
    assert outcome.failures == ("not verified: listener web-alb:80 forwards web-blue=50, web-green=50, "
                                "not web-blue=100, web-green=0",)
    with pytest.raises(RollbackIncomplete) as incomplete:
        conclude(outcome)
    assert incomplete.value.exit_code is ExitCode.ROLLBACK_INCOMPLETE


def test_blue_without_a_healthy_target_after_the_rollback_is_exit_3_naming_it(rig, spec):
    fail_the_canary(rig, also=lambda: rig.world.unhealthy.update({TG_BLUE: 2}))

    outcome = run(rig, spec)

    assert outcome.ending is Ending.ROLLBACK_FAILED
    assert len(outcome.failures) == 1
    assert outcome.failures[0].startswith("not verified: target group web-blue: not healthy after 10m: "
                                          "web-blue: 0/1 healthy; 10.0.2.0 unhealthy (Target.ResponseCodeMismatch)")


def test_a_read_that_fails_after_the_rollback_claims_nothing(rig, spec, monkeypatch):
    fail_the_canary(rig)

    def unreachable(listener, rule):
        raise ConnectionError("AWS did not answer")

    monkeypatch.setattr(rig.world, "listener_weights", unreachable)

    outcome = run(rig, spec)

    assert outcome.ending is Ending.ROLLBACK_FAILED
    assert "could not read it back (ConnectionError: AWS did not answer)" in outcome.failures[0]


def test_targets_that_never_become_healthy_fail_naming_them_and_the_health_check_settings(rig, spec):
    rig.world.unhealthy[TG_GREEN] = 2

    outcome = run(rig, spec)

    assert outcome.ending is Ending.ROLLED_BACK
    assert outcome.reason == (
        "target group web-green: not healthy after 10m: web-green: 0/2 healthy; "
        "10.0.2.0 unhealthy (Target.ResponseCodeMismatch), 10.0.2.1 unhealthy (Target.ResponseCodeMismatch); "
        "health check: HTTP /health on port traffic-port every 10s (timeout 5s), healthy after 3, "
        "unhealthy after 2, expecting 200")


def test_a_read_that_fails_once_after_the_rollback_is_tried_again(rig, spec, monkeypatch):
    fail_the_canary(rig)
    read = rig.world.listener_weights
    failures = iter([ConnectionError("AWS did not answer")])

    def flaky(listener, rule):
        error = next(failures, None)
        if error is not None:
            raise error
        return read(listener, rule)

    monkeypatch.setattr(rig.world, "listener_weights", flaky)

    outcome = run(rig, spec)

    assert outcome.ending is Ending.ROLLED_BACK and not outcome.failures
