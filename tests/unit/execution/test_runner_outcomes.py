"""The runner on an in-memory ECS target-group swap, with a clock that moves only when it sleeps.

No AWS, no emulator and no real waiting: `World` fakes our adapter boundary and records every change.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

import pytest

from bluegreen.app.outcomes import conclude
from bluegreen.domain.deployment import Status
from bluegreen.errors import DeploymentFailed, ExitCode, RollbackIncomplete
from bluegreen.execution.runner import Ending

from support.runs import Rig, running_record, step_index, web_plan
from support.world import BLUE_ONLY, TG_BLUE, TG_GREEN, Call



def start(rig: Rig, spec, plan=None, *, lease=None, automatic: bool = True, **run):
    """Run a new deployment of `plan` (the web plan by default); returns the plan and the outcome."""
    plan = plan or web_plan()
    runner = rig.runner(plan, lease=lease, automatic=automatic)
    return plan, runner.run(running_record(spec, plan, rig.clock), **run)


def sigterm(_call: Call) -> None:
    os.kill(os.getpid(), signal.SIGTERM)


# --- forward -------------------------------------------------------------------------------------------


def test_a_plan_whose_gates_pass_moves_all_traffic_to_green_and_keeps_blue_warm_until_a_deadline(rig, spec):
    plan, outcome = start(rig, spec)

    assert outcome.ending is Ending.KEEPING_WARM and conclude(outcome) == 0
    assert rig.world.listener_changes() == [{TG_BLUE: 90, TG_GREEN: 10}, {TG_BLUE: 0, TG_GREEN: 100}]
    assert rig.world.services["web-green"].desired == 2 and rig.world.services["web-blue"].desired == 2
    record = rig.records.latest
    assert record.status is Status.KEEPING_WARM and record.next_step == step_index(plan, "keep-blue-warm") + 1
    assert record.keep_warm_until == rig.clock.wall() + 900
    assert [h["result"] for h in rig.records.history] == ["succeeded"] and record.history_written
    assert sum(rig.clock.slept) >= 2 * 60  # both bakes held their full minute, on the fake clock
    assert "traffic.switched" in rig.emitted() and "drain.done" not in rig.emitted()


def test_every_step_is_journaled_before_and_after_it_runs(rig, spec):
    plan, _ = start(rig, spec)

    ran = plan.steps[: step_index(plan, "keep-blue-warm") + 1]
    assert rig.journal.events("step.started", "step.succeeded") == [
        pair for step in ran for pair in (("step.started", step.id), ("step.succeeded", step.id))]
    started = next(e for e in rig.journal.entries if e["event"] == "step.started" and e["step"] == "shift-10")
    assert started["inputs"]["weights"] == {TG_BLUE: 90, TG_GREEN: 10}  # what resume and rollback read back


def test_with_wait_finalize_the_run_waits_out_keep_warm_scales_blue_down_and_counts_the_drain_down(rig, spec):
    _, outcome = start(rig, spec, wait_finalize=True)

    assert outcome.ending is Ending.SUCCEEDED and outcome.record.status is Status.SUCCEEDED
    assert rig.world.services["web-blue"].desired == 0
    assert rig.clock.slept[-4:] == [900, 10, 10, 5]  # keep-warm, then the 25s deregistration delay
    events = rig.emitted()
    assert events.index("traffic.switched") < events.index("drain.countdown") < events.index("drain.done")
    assert [h["result"] for h in rig.records.history] == ["succeeded"]


def test_the_new_revision_registered_by_one_step_is_what_later_steps_deploy(rig, spec):
    start(rig, spec)

    deployed = next(c for c in rig.world.changes if c.action == "update_service" and c.args["service"] == "web-green")
    assert deployed.args["task_definition"].endswith("task-definition/web:2")


# --- failures roll back ---------------------------------------------------------------------------------


def test_an_alarm_firing_during_a_bake_restores_blue_in_one_listener_change(rig, spec):
    rig.world.before("set_weights", lambda call: rig.clock.at(25, lambda: rig.world.set_alarm("web-5xx", "ALARM")),
                     when=lambda call: call.args["weights"][TG_GREEN] == 10)

    plan, outcome = start(rig, spec)

    assert outcome.ending is Ending.ROLLED_BACK and "alarm in ALARM: web-5xx" in outcome.reason
    assert rig.world.listener_changes() == [{TG_BLUE: 90, TG_GREEN: 10}, BLUE_ONLY]
    assert rig.world.services["web-green"].desired == 0 and rig.world.services["web-blue"].desired == 2
    assert [r.status for r in rig.records.saved][-3:] == [Status.ROLLING_BACK, Status.ROLLED_BACK, Status.ROLLED_BACK]
    assert rig.records.history[-1]["result"] == "rolled-back" and rig.records.history[-1]["operation"] == "deploy"
    with pytest.raises(DeploymentFailed, match="Traffic is back on blue") as failed:
        conclude(outcome)
    assert failed.value.exit_code is ExitCode.DEPLOY_FAILED_ROLLED_BACK


def test_an_unhealthy_green_target_during_a_bake_fails_the_gate_and_rolls_back(rig, spec):
    rig.world.before("set_weights", lambda call: rig.world.unhealthy.update({TG_GREEN: 1}),
                     when=lambda call: call.args["weights"][TG_GREEN] == 100)

    _, outcome = start(rig, spec)

    assert outcome.ending is Ending.ROLLED_BACK and "web-green: 10.0.2.0 unhealthy" in outcome.reason
    assert rig.world.listener_changes()[-1] == BLUE_ONLY


def test_sigterm_in_the_middle_of_a_step_rolls_back_like_a_jenkins_abort(rig, spec):
    before = signal.getsignal(signal.SIGTERM)
    rig.world.before("update_service", sigterm, when=lambda call: call.args["service"] == "web-green")

    _, outcome = start(rig, spec)

    assert outcome.ending is Ending.ROLLED_BACK and outcome.reason == "interrupted (received SIGTERM)"
    assert rig.world.services["web-green"].desired == 0 and rig.world.listener_changes() == []
    assert ("step.failed", "deploy-web-green") in rig.journal.events("step.failed")
    assert signal.getsignal(signal.SIGTERM) is before  # the handlers are put back


def test_ctrl_c_during_a_bake_rolls_back(rig, spec):
    def interrupt() -> None:
        raise KeyboardInterrupt

    rig.world.before("set_weights", lambda call: rig.clock.at(5, interrupt),
                     when=lambda call: call.args["weights"][TG_GREEN] == 10)

    _, outcome = start(rig, spec)

    assert outcome.ending is Ending.ROLLED_BACK and outcome.reason.startswith("interrupted")
    assert rig.world.listener_changes()[-1] == BLUE_ONLY


def test_a_second_sigterm_or_ctrl_c_during_the_rollback_is_ignored_and_the_rollback_finishes(rig, spec):
    def both_signals(_call: Call) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)

    rig.world.before("set_weights", sigterm, when=lambda call: call.args["weights"][TG_GREEN] == 100)
    rig.world.before("set_weights", both_signals, when=lambda call: call.args["weights"] == BLUE_ONLY)

    _, outcome = start(rig, spec)

    assert outcome.ending is Ending.ROLLED_BACK and not outcome.failures
    assert rig.world.listener_changes()[-1] == BLUE_ONLY and rig.world.services["web-green"].desired == 0
    ignored = [e["message"] for e in rig.events.history if e["event"] == "rollback.interrupt-ignored"]
    assert ignored == ["SIGTERM ignored: the rollback continues", "SIGINT ignored: the rollback continues"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_rollback_that_cannot_restore_the_listener_leaves_rollback_failed_and_exits_3(rig, spec):
    def throttled(_call: Call) -> None:
        raise RuntimeError("Throttling: Rate exceeded")

    rig.world.before("set_weights", lambda call: rig.world.set_alarm("web-5xx", "ALARM"),
                     when=lambda call: call.args["weights"][TG_GREEN] == 10)
    rig.world.before("set_weights", throttled, when=lambda call: call.args["weights"] == BLUE_ONLY)

    _, outcome = start(rig, spec)

    assert outcome.ending is Ending.ROLLBACK_FAILED
    assert outcome.record.status is Status.ROLLBACK_FAILED
    assert len(outcome.record.rollback_failures) == 1 and "Rate exceeded" in outcome.record.rollback_failures[0]
    assert rig.world.services["web-green"].desired == 0  # the other inverses still ran
    assert rig.records.history[-1]["result"] == "rollback-failed"
    with pytest.raises(RollbackIncomplete, match="The rollback did not complete") as failed:
        conclude(outcome)
    assert failed.value.exit_code is ExitCode.ROLLBACK_INCOMPLETE


def test_with_automatic_rollback_off_a_failure_leaves_traffic_where_it_is_and_exits_3(rig, spec):
    rig.world.before("set_weights", lambda call: rig.world.set_alarm("web-5xx", "ALARM"),
                     when=lambda call: call.args["weights"][TG_GREEN] == 10)

    _, outcome = start(rig, spec, automatic=False)

    assert outcome.ending is Ending.FAILED and outcome.record.status is Status.FAILED
    assert rig.world.green_share() == 10 and rig.records.history[-1]["result"] == "failed"
    with pytest.raises(RollbackIncomplete, match="Automatic rollback is off"):
        conclude(outcome)


# --- stopping ----------------------------------------------------------------------------------------------


@dataclass
class Lease:
    lost: bool = False


def test_a_lost_lease_stops_before_the_next_step_and_undoes_nothing(rig, spec):
    lease = Lease()
    rig.world.before("update_service", lambda call: setattr(lease, "lost", True))

    plan, outcome = start(rig, spec, lease=lease)

    assert outcome.ending is Ending.LOCK_LOST and "before step 4" in outcome.reason
    assert [c.action for c in rig.world.changes] == ["register_task_definition", "update_service"]
    assert rig.journal.events("rollback.begun") == [] and rig.records.saved == []
    with pytest.raises(RollbackIncomplete, match="This run undid nothing") as stopped:
        conclude(outcome)
    assert stopped.value.exit_code is ExitCode.ROLLBACK_INCOMPLETE


def test_pausing_before_the_shift_stops_with_green_up_and_no_production_traffic_on_it(rig, spec):
    plan, outcome = start(rig, spec, pause_before_shift=True)

    assert outcome.ending is Ending.PAUSED and conclude(outcome) == 0
    assert outcome.record.status is Status.PAUSED and outcome.record.next_step == step_index(plan, "shift-10")
    assert rig.world.services["web-green"].desired == 2 and rig.world.listener_changes() == []
