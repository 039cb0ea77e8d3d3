"""Running hooks: a local command, a Lambda invocation, or a one-off ECS task, each with a timeout.

    command    argv with the deployment's facts as BLUEGREEN_* variables; its output is streamed
               into events line by line, with secret values masked; the exit status decides
    lambda     RequestResponse with the facts as JSON; a FunctionError, or an answer
               {"status": "failed"}, fails (its `reason` or `message` is shown)
    ecs-task   RunTask of the new revision with the service's network configuration and a command
               override, waited for until STOPPED; the essential containers' exit codes decide, and
               the stopped reason is shown

A hook that times out follows its `on_timeout`: `fail` fails the step (the deployment rolls back),
`continue` says so and carries on. AWS is reached through the adapter passed in (`AwsHooks`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from bluegreen.domain.durations import format_duration
from bluegreen.domain.hook_steps import RunHook
from bluegreen.domain.spec import SECRET_LOOKING
from bluegreen.errors import StepFailed
from bluegreen.events import Events

_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>\s*[=:]\s*)(?P<value>\S+)")


class HookFailed(StepFailed):
    """The hook answered "no": roll back."""


class TimedOut(Exception):
    """The hook did not finish within its timeout."""


def secret_values(env: Mapping[str, str]) -> set[str]:
    """Values of the environment's secret-looking variables (DB_PASSWORD, API_TOKEN, ...)."""
    return {value for name, value in env.items() if SECRET_LOOKING.search(name) and len(value) >= 4}


def mask(line: str, secrets: set[str]) -> str:
    """The line with every known secret value, and the value of any `SECRET_NAME=value`, as ****."""
    for secret in sorted(secrets, key=len, reverse=True):
        line = line.replace(secret, "****")
    return _ASSIGNMENT.sub(lambda m: f"{m['name']}{m['sep']}****" if SECRET_LOOKING.search(m["name"])
                           else m.group(0), line)


def environment(step: RunHook, extra: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    facts = {**step.facts, **extra}
    return {**base, **{f"BLUEGREEN_{key.upper()}": value for key, value in facts.items()}}


@dataclass
class HookRunner:
    aws: Any  # adapters.aws.hooks.AwsHooks, or a test double with the same methods
    events: Events
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    facts: dict[str, str] = field(default_factory=dict)  # known at run time: the deployment id
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    poll: float = 6.0  # seconds between DescribeTasks of a one-off task

    def run(self, step: RunHook, task_definition: str | None = None) -> str:
        extra = dict(self.facts)
        if task_definition:
            extra["task_definition"] = task_definition
        try:
            if step.hook_kind == "command":
                return self._command(step, extra)
            if step.hook_kind == "lambda":
                return self._lambda(step, extra)
            return self._ecs_task(step, extra, task_definition)
        except TimedOut as late:
            message = f"hook {step.hook} timed out after {format_duration(step.timeout)}{late}"
            if step.on_timeout == "fail":
                raise HookFailed(message) from None
            self.events.emit("hook.timeout", f"warning: {message}; on_timeout is continue, so the deployment "
                             "carries on", step=step.id)
            return f"{message}; continued (on_timeout: continue)"

    # --- command --------------------------------------------------------------------------------

    def _command(self, step: RunHook, extra: Mapping[str, str]) -> str:
        env = environment(step, extra, self.env)
        secrets = secret_values(self.env)
        try:
            process = subprocess.Popen(step.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                       text=True, errors="replace", start_new_session=True)
        except OSError as error:
            raise HookFailed(f"hook {step.hook}: cannot run {step.command[0]}: {error.strerror or error}") from None
        tail: list[str] = []

        def stream() -> None:
            for raw in process.stdout or ():
                line = mask(raw.rstrip("\n"), secrets)
                tail[:] = (tail + [line])[-3:]
                self.events.emit("hook.output", f"  {step.hook} | {line}", step=step.id)

        reader = threading.Thread(target=stream, name=f"hook-{step.hook}", daemon=True)
        reader.start()
        try:
            code = process.wait(timeout=step.timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            reader.join(timeout=2)
            raise TimedOut(f" (pid {process.pid} killed)") from None
        reader.join(timeout=5)
        if code != 0:
            said = f": {' / '.join(tail)}" if tail else ""
            raise HookFailed(f"hook {step.hook}: `{' '.join(step.command)}` exited {code}{said}")
        return f"`{' '.join(step.command)}` exited 0"

    # --- Lambda -----------------------------------------------------------------------------------

    def _lambda(self, step: RunHook, extra: Mapping[str, str]) -> str:
        if not step.function:
            raise HookFailed(f"hook {step.hook}: no function to invoke")
        payload = {**step.facts, **extra}
        answer = self.aws.invoke(step.function, payload, step.timeout)
        if answer is None:
            raise TimedOut("")
        body = _json(answer.payload)
        if answer.function_error:
            what = body.get("errorMessage") if isinstance(body, dict) else None
            raise HookFailed(f"hook {step.hook}: Lambda {step.function} failed ({answer.function_error})"
                             + (f": {mask(str(what), set())}" if what else ""))
        if isinstance(body, dict) and str(body.get("status", "")).lower() == "failed":
            why = body.get("reason") or body.get("message")
            raise HookFailed(f"hook {step.hook}: Lambda {step.function} answered failed"
                             + (f": {mask(str(why), set())}" if why else ""))
        said = body.get("message") if isinstance(body, dict) else None
        return f"Lambda {step.function} answered " + (f"ok: {said}" if said else "ok")

    # --- one-off ECS task -----------------------------------------------------------------------------

    def _ecs_task(self, step: RunHook, extra: Mapping[str, str], task_definition: str | None) -> str:
        if not (task_definition and step.cluster and step.service and step.container):
            raise HookFailed(f"hook {step.hook}: the new task definition is not known yet")
        started = self.clock()
        arn = self.aws.run_task(step.cluster, step.service, task_definition, step.container, step.command,
                                f"bluegreen/{step.hook}")
        short = arn.rsplit("/", 1)[-1]
        self.events.emit("hook.task", f"  {step.hook}: started task {short} of {task_definition.rsplit('/', 1)[-1]}",
                         step=step.id, task=arn)
        essential = set(self.aws.essential_containers(task_definition))
        last = ""
        while True:
            state = self.aws.task(step.cluster, arn)
            if state.last_status != last:
                last = state.last_status
                self.events.emit("hook.task", f"  {step.hook}: task {short} {last}", step=step.id)
            if state.last_status == "STOPPED":
                return _decide(step, short, state, essential)
            remaining = step.timeout - (self.clock() - started)
            if remaining <= 0:
                raise TimedOut(f" (task {short} was {last}, left running)")
            self.sleep(min(self.poll, remaining))


def _decide(step: RunHook, short: str, state: Any, essential: set[str]) -> str:
    reason = state.stopped_reason or "no reason given"
    codes = {name: code for name, code in state.exit_codes.items() if not essential or name in essential}
    bad = {name: code for name, code in codes.items() if code != 0}
    if not bad:
        listed = ", ".join(f"{name} exited 0" for name in codes)
        return f"task {short} stopped: {listed}"
    name, code = next(iter(bad.items()))
    extra = state.container_reasons.get(name)
    exit_text = f"exited {code}" if code is not None else "never ran (no exit code)"
    raise HookFailed(f"hook {step.hook}: task {short} stopped: essential container {name} {exit_text}; "
                     f"stopped reason: {reason}" + (f" ({extra})" if extra and extra != reason else ""))


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _kill(process: subprocess.Popen[str]) -> None:
    """The command and whatever it started (its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait(timeout=5)
