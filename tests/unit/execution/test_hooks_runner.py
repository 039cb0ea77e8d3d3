"""The hook runner with a fake AWS: what decides each kind of hook, timeouts, and masking."""

from __future__ import annotations

import io
import sys

import pytest

from bluegreen.adapters.aws.hooks import LambdaAnswer, TaskState
from bluegreen.domain.hook_steps import RunHook
from bluegreen.events import Events
from bluegreen.execution.hooks import HookFailed, HookRunner, mask


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeAws:
    """A Lambda that answers `answer`, and a one-off task that stops after `polls` looks."""

    def __init__(self, answer: LambdaAnswer | None = None, exit_codes: dict | None = None, polls: int = 3,
                 reason: str = "Essential container in task exited") -> None:
        self.answer, self.exit_codes, self.polls, self.reason = answer, exit_codes or {"app": 0}, polls, reason
        self.invoked: list[dict] = []
        self.ran: list[tuple] = []

    def invoke(self, function, payload, timeout):
        self.invoked.append(payload)
        return self.answer

    def run_task(self, *args):
        self.ran.append(args)
        return "arn:aws:ecs:us-east-1:1:task/prod/abc123"

    def essential_containers(self, task_definition):
        return ["app"]

    def task(self, cluster, arn):
        self.polls -= 1
        status = "STOPPED" if self.polls <= 0 else "RUNNING"
        return TaskState(arn=arn, last_status=status, stopped_reason=self.reason if status == "STOPPED" else None,
                         stop_code=None, exit_codes=self.exit_codes if status == "STOPPED" else {"app": None},
                         container_reasons={})


def hook(kind: str, **fields) -> RunHook:
    base = dict(id="hook-h", phase="rollout", hook="h", hook_kind=kind, stage="after-healthy", timeout=60.0,
                facts={"service": "web", "stage": "after-healthy"})
    if kind == "ecs-task":
        base |= dict(cluster="prod", service="web-green", container="app", command=["./migrate"],
                     task_definition="@register-task-definition")
    return RunHook(**(base | fields))


def runner(aws=None, clock=None) -> tuple[HookRunner, Events, FakeClock]:
    clock = clock or FakeClock()
    events = Events(stream=io.StringIO(), clock=clock.time)
    return HookRunner(aws or FakeAws(), events, clock=clock.time, sleep=clock.sleep,
                      facts={"deployment_id": "web-1"}, env={"PATH": "/usr/bin:/bin"}), events, clock


def test_a_lambda_gets_the_facts_and_its_failed_status_fails_the_hook():
    aws = FakeAws(LambdaAnswer(None, '{"status": "FAILED", "reason": "p99 too high"}'))
    hooks, _, _ = runner(aws)

    with pytest.raises(HookFailed, match="answered failed: p99 too high"):
        hooks.run(hook("lambda", function="check"))
    assert aws.invoked == [{"service": "web", "stage": "after-healthy", "deployment_id": "web-1"}]


def test_a_lambda_function_error_fails_and_any_other_answer_passes():
    hooks, _, _ = runner(FakeAws(LambdaAnswer("Unhandled", '{"errorMessage": "boom"}')))
    with pytest.raises(HookFailed, match=r"failed \(Unhandled\): boom"):
        hooks.run(hook("lambda", function="check"))

    hooks, _, _ = runner(FakeAws(LambdaAnswer(None, '"fine"')))
    assert hooks.run(hook("lambda", function="check")) == "Lambda check answered ok"


def test_a_lambda_without_an_answer_in_time_follows_on_timeout():
    hooks, events, _ = runner(FakeAws(None))
    with pytest.raises(HookFailed, match="timed out after 1m"):
        hooks.run(hook("lambda", function="check"))

    assert "continued" in hooks.run(hook("lambda", function="check", on_timeout="continue"))
    assert events.history[-1]["event"] == "hook.timeout"


def test_a_one_off_task_is_waited_for_and_its_essential_exit_code_decides():
    aws = FakeAws(exit_codes={"app": 0, "sidecar": 1})
    hooks, events, clock = runner(aws)

    assert hooks.run(hook("ecs-task"), "arn:td/web:7") == "task abc123 stopped: app exited 0"
    assert aws.ran == [("prod", "web-green", "arn:td/web:7", "app", ["./migrate"], "bluegreen/h")]
    assert clock.now == 12.0  # two polls 6 s apart on the injected clock
    assert [e["message"] for e in events.history if e["event"] == "hook.task"][-1].endswith("task abc123 STOPPED")


def test_a_one_off_task_exiting_non_zero_fails_with_its_code_and_reason():
    hooks, _, _ = runner(FakeAws(exit_codes={"app": 2}, reason="Essential container in task exited"))

    with pytest.raises(HookFailed, match="essential container app exited 2; stopped reason: Essential container"):
        hooks.run(hook("ecs-task"), "arn:td/web:7")


def test_a_one_off_task_still_running_at_its_timeout_follows_on_timeout():
    hooks, _, clock = runner(FakeAws(polls=1000))

    with pytest.raises(HookFailed, match="timed out after 1m .task abc123 was RUNNING, left running"):
        hooks.run(hook("ecs-task"), "arn:td/web:7")
    assert clock.now == 60.0


def test_a_command_gets_bluegreen_variables_and_its_exit_status_decides():
    hooks, events, _ = runner()
    script = "import os,sys; print(os.environ['BLUEGREEN_SERVICE'], os.environ['BLUEGREEN_DEPLOYMENT_ID']); sys.exit(4)"

    with pytest.raises(HookFailed, match="exited 4: web web-1"):
        hooks.run(hook("command", command=[sys.executable, "-c", script]))
    assert [e["message"] for e in events.history if e["event"] == "hook.output"] == ["  h | web web-1"]


def test_a_missing_command_fails_the_hook_in_one_line():
    hooks, _, _ = runner()
    with pytest.raises(HookFailed, match="cannot run ./no-such-thing"):
        hooks.run(hook("command", command=["./no-such-thing"]))


def test_secret_values_and_secret_looking_assignments_are_masked():
    assert mask("connecting with s3cr3t-value", {"s3cr3t-value"}) == "connecting with ****"
    assert mask("DB_PASSWORD=abc GITHUB_TOKEN: xyz NAME=web", set()) == "DB_PASSWORD=**** GITHUB_TOKEN: **** NAME=web"
