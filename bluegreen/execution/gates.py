"""Health gates. Waiting gates retry with tenacity (exponential backoff with jitter, a deadline, and
a message naming what was still unhealthy); alarms in ALARM and ECS-side rollbacks fail at once.

The clock and sleep are injected so gates are tested without sleeping.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential, wait_random

from bluegreen.domain.analysis import BakeMetrics, Result
from bluegreen.domain.durations import format_duration
from bluegreen.errors import StepFailed
from bluegreen.domain.steps import Probe
from bluegreen.execution.metric_gate import MetricReader, MetricWatch, hold_for_data


class GateFailed(StepFailed):
    """A gate failed for good: roll back now."""


class NotYet(Exception):
    """Not healthy yet; the message says what is still missing."""


class Observer(Protocol):
    def service(self, cluster: str, service: str): ...  # noqa: ANN201,E704
    def stopped_reasons(self, cluster: str, service: str, limit: int = 5) -> list[str]: ...  # noqa: E704
    def target_health(self, target_group_arn: str) -> list[tuple[str, str, str | None]]: ...  # noqa: E704
    def alarms(self, names: list[str], *, at_start: bool = False) -> dict[str, str]: ...  # noqa: E704
    def group(self, name: str) -> dict: ...  # noqa: E704
    def elb_instance_states(self, elb: str) -> dict[str, str]: ...  # noqa: E704
    def listener_weights(self, listener_arn: str, rule_arn: str | None) -> dict[str, int]: ...  # noqa: E704
    def record_weights(self, zone_id: str, record: str, type_: str) -> dict[str, int]: ...  # noqa: E704
    def health_check(self, target_group_arn: str) -> dict[str, Any]: ...  # noqa: E704


# The longest wait between two polls, as a multiple of the interval (jitter included): a rollout that
# finished just after a poll is noticed within this, where an uncapped backoff noticed it up to 4x late.
MAX_WAIT_FACTOR = 1.5
DEADLINE_SLACK = 1e-6  # seconds: see `wait_until`


def poll_backoff(interval: float) -> Callable[[RetryCallState], float]:
    """Waits between polls: growing from half the interval, jittered, never over MAX_WAIT_FACTOR x interval."""
    jitter = interval * (MAX_WAIT_FACTOR - 1.0)
    return wait_exponential(multiplier=interval / 2, max=interval) + wait_random(0, jitter)


@dataclass
class Gates:
    observer: Observer
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    on_wait: Callable[[str], None] = field(default=lambda message: None)
    metrics: MetricReader | None = None  # CloudWatch GetMetricData, for bakes with metric gates
    wall_clock: Callable[[], float] = time.time  # metric windows are wall-clock minutes

    # --- the retry mechanics, in one place ---------------------------------------------------

    def wait_until(self, check: Callable[[], None], *, what: str, deadline: float, interval: float,
                   report: bool = True) -> None:
        """Retry `check` until it passes or `deadline` seconds pass. `report`: say what is still missing at
        each wait (off where the check reports progress itself, as following AWS's deployments does)."""
        start = self.clock()
        backoff = poll_backoff(interval)

        def wait(state: RetryCallState) -> float:
            remaining = deadline - (self.clock() - start)
            return max(0.0, min(backoff(state), remaining))

        def tell(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            if error is not None and report:
                self.on_wait(f"{what}: {error} ({format_duration(self.clock() - start)} of {format_duration(deadline)})")

        def over(state: RetryCallState) -> bool:
            # Within a microsecond of the deadline is past it: with a clock of floats (an injected one), sleeping
            # the last sliver left can leave `now` where it was, and the wait would never end.
            return self.clock() - start >= deadline - DEADLINE_SLACK

        retrying = Retrying(retry=retry_if_exception_type(NotYet), wait=wait, sleep=self.sleep, reraise=True,
                            stop=over, before_sleep=tell)
        try:
            retrying(check)
        except NotYet as still:
            raise GateFailed(f"{what}: not healthy after {format_duration(deadline)}: {still}") from None

    # --- individual checks: raise NotYet (wait) or GateFailed (give up) -------------------------

    def check_service(self, cluster: str, service: str, task_definition: str, desired: int) -> None:
        status = self.observer.service(cluster, service)
        ours = status.primary_task_definition == task_definition
        if status.task_definition != task_definition or (ours and status.rollout_state == "FAILED"):
            # The circuit breaker (or someone) put another revision back: a failure, never a success.
            reasons = self.observer.stopped_reasons(cluster, service)
            # After ECS's own rollback the PRIMARY deployment is the rollback; the failed one says why.
            why = getattr(status, "failed_reason", None) or status.rollout_reason or "the service no longer runs the new revision"
            raise GateFailed(
                f"ECS rolled {service} back ({why}); now running {status.task_definition.rsplit('/', 1)[-1]}"
                + _details(status.events, reasons))
        missing = []
        if status.running < desired:
            missing.append(f"running {status.running}/{desired}")
        # The PRIMARY deployment is the newest UpdateService; its rollout state tells when ECS is done.
        # (moto keeps the first deployment as PRIMARY, so its state says nothing about ours.)
        if ours and status.rollout_state not in (None, "COMPLETED"):
            missing.append(f"rollout {status.rollout_state}")
        if status.deployments > 1:
            missing.append(f"{status.deployments} deployments still active")
        if missing:
            raise NotYet(f"{service}: {', '.join(missing)}")

    def failure_details(self, cluster: str, service: str) -> str:
        status = self.observer.service(cluster, service)
        return _details(status.events, self.observer.stopped_reasons(cluster, service))

    def health_check_details(self, target_group_arn: str) -> str:
        """The target group's health-check settings, for a message about targets that never became healthy:
        the first thing to compare with what the application really answers."""
        try:
            hc = self.observer.health_check(target_group_arn)
        except Exception as error:  # the failure is already known; a failed read must not hide it
            return f"; its health-check settings could not be read ({type(error).__name__})"
        return "; health check: " + describe_health_check(hc)

    def check_targets(self, target_group_arn: str, name: str, min_healthy: int,
                      instance_ids: set[str] | None = None) -> None:
        targets = [t for t in self.observer.target_health(target_group_arn)
                   if instance_ids is None or t[0] in instance_ids]
        healthy = [t for t in targets if t[1] == "healthy"]
        if len(healthy) < min_healthy:
            sick = ", ".join(f"{tid} {state}" + (f" ({reason})" if reason else "")
                             for tid, state, reason in targets if state != "healthy")
            raise NotYet(f"{name}: {len(healthy)}/{min_healthy} healthy" + (f"; {sick}" if sick else "; no targets registered"))

    def check_alarms(self, names: list[str], *, at_start: bool = False) -> None:
        """Fail when one of `names` is in ALARM. `at_start`: the pre-flight check before any change, which
        may use the states the plan was made from a moment ago (every gate after a change reads anew)."""
        if not names:
            return
        states = self.observer.alarms(names, at_start=True) if at_start else self.observer.alarms(names)
        firing = [n for n in names if states.get(n) == "ALARM"]
        if firing:
            raise GateFailed(f"alarm in ALARM: {', '.join(firing)}")

    def check_probe(self, probe: Probe) -> None:
        status, body = http_get(probe.url, probe.timeout)
        if status not in probe.expected_status:
            raise NotYet(f"{probe.url} answered {status or 'nothing'}" + (f": {body[:120]}" if status is None else ""))
        if probe.body_contains and probe.body_contains not in body:
            raise NotYet(f"{probe.url} answered {status} without {probe.body_contains!r}")

    def check_group(self, group: str, desired: int, elb: str | None = None) -> set[str]:
        g = self.observer.group(group)
        in_service = {i["InstanceId"] for i in g.get("Instances", []) if i.get("LifecycleState") == "InService"
                      and i.get("HealthStatus", "Healthy") == "Healthy"}
        if len(in_service) < desired:
            states = ", ".join(f"{i['InstanceId']} {i.get('LifecycleState')}" for i in g.get("Instances", [])
                               if i["InstanceId"] not in in_service)
            raise NotYet(f"{group}: {len(in_service)}/{desired} InService" + (f"; {states}" if states else ""))
        if elb:
            states = self.observer.elb_instance_states(elb)
            out = [i for i in in_service if states.get(i) != "InService"]
            if out:
                listed = ", ".join(f"{i} {states.get(i, 'not registered')}" for i in out)
                raise NotYet(f"{elb}: {listed}")
        return in_service

    # --- bake: hold for a duration while every watched signal stays good ----------------------

    def bake(self, duration: float, interval: float, alarms: list[str], target_groups: list[str],
             probe: Probe | None, tolerated_probe_failures: int = 1, metrics: BakeMetrics | None = None) -> None:
        end = self.clock() + duration
        probe_failures = 0
        watch = self.metric_watch(metrics)
        if duration > 0:
            # The first look at alarms, target health and the probe is one interval in, not at once: the gate
            # before a bake has just read the same target health, and an alarm's state at this instant
            # describes the time before the bake (CloudWatch evaluates it once per period). One look per
            # interval per signal. Metric gates keep their own schedule (from now); a bake of 0 is one look now.
            if watch is not None:
                watch.tick(self.clock())
            self.sleep(min(interval, duration))
        while True:
            if watch is not None:
                watch.tick(self.clock())
            self.check_alarms(alarms)
            for arn in target_groups:
                targets = self.observer.target_health(arn)
                sick = [f"{tid} {state}" for tid, state, _ in targets if state == "unhealthy"]
                if sick or not any(state == "healthy" for _, state, _ in targets):
                    raise GateFailed(f"{arn.split('/')[-2] if '/' in arn else arn}: "
                                     + (", ".join(sick) if sick else "no healthy target"))
            if probe is not None:
                try:
                    self.check_probe(probe)
                    probe_failures = 0
                except NotYet as failed:
                    probe_failures += 1
                    if probe_failures > tolerated_probe_failures:
                        raise GateFailed(f"probe failed {probe_failures} times in a row: {failed}") from None
            remaining = end - self.clock()
            if remaining <= 0:
                if watch is not None:
                    hold_for_data(watch, self.clock, self.sleep, self.on_wait)
                return
            self.sleep(min(interval, remaining))

    def metric_watch(self, metrics: BakeMetrics | None) -> MetricWatch | None:
        if metrics is None or not metrics.gates:
            return None
        if self.metrics is None:
            raise StepFailed("this bake has metric gates but no CloudWatch metrics reader was given")
        return MetricWatch(self.metrics, metrics.gates, self.wall_clock, metrics.interval,
                           no_data_deadline=metrics.no_data_deadline, on_verdict=lambda v: (
            self.on_wait(v.message) if v.result is Result.WAIT else None))


def http_get(url: str, timeout: float) -> tuple[int | None, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "bluegreen-probe"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - spec-given URL
            return response.status, response.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(65536).decode("utf-8", "replace") if error.fp else ""
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        return None, str(getattr(error, "reason", error))


def describe_health_check(hc: dict[str, Any]) -> str:
    """`HTTP GET /health on traffic-port every 10s (timeout 5s), healthy after 3, unhealthy after 2, expecting 200`
    from a DescribeTargetGroups entry."""
    protocol = hc.get("HealthCheckProtocol") or "?"
    path = f" {hc['HealthCheckPath']}" if hc.get("HealthCheckPath") else ""
    matcher = (hc.get("Matcher") or {}).get("HttpCode") or (hc.get("Matcher") or {}).get("GrpcCode")
    return (f"{protocol}{path} on port {hc.get('HealthCheckPort', 'traffic-port')} every "
            f"{hc.get('HealthCheckIntervalSeconds', '?')}s (timeout {hc.get('HealthCheckTimeoutSeconds', '?')}s), "
            f"healthy after {hc.get('HealthyThresholdCount', '?')}, unhealthy after {hc.get('UnhealthyThresholdCount', '?')}"
            + (f", expecting {matcher}" if matcher else ""))


def _details(events: tuple[str, ...] | list[str], stopped: list[str]) -> str:
    out = ""
    if events:
        out += "; recent service events: " + " | ".join(events[:5])
    if stopped:
        out += "; stopped tasks: " + " | ".join(stopped)
    return out
