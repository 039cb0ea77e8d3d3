"""After a rollback: is the old color really serving? Only then may a run say "traffic restored" (exit 1).

Running the inverses proves that AWS accepted each call, not that production is back: a lost
answer, a concurrent change or a color that was scaled down can each leave traffic elsewhere. So
where production traffic goes is read back from AWS, as the plan found it before its first change:

    listener weights     the forward action's split is the restored one, and every target group
                         with a weight has a healthy target (waited for: blue may be starting again)
    record weights       the weighted records' weights are the restored ones
    attachments          the old group is attached again (and has InService instances healthy in
                         each target group or classic ELB), the new one detached
    ECS service          a revision put back on a serving service (desired > 0) is steady on it:
                         that revision's tasks running, its deployment COMPLETED (the rollback of a
                         task-definition swap is a rolling update, not one call)
    AWS's own engines    after ECS's or CodeDeploy's rollback: the service is on its previous
                         revision, and each production rule or listener sends everything to one
                         target group with a healthy target

What cannot be read back, or is still not so at the deadline, is a problem: the caller reports
the rollback as incomplete (exit 3), never as done.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from bluegreen.domain.steps import (
    Attach, RollBackServiceDeployment, SetRecordWeights, SetWeights, Step, StopCodeDeployDeployment, UpdateService,
    rollback_steps,
)
from bluegreen.domain.weights import same_split
from bluegreen.execution.gates import Gates, NotYet
from bluegreen.errors import StepFailed

# How long a serving color may take to be healthy again when the plan names no deadline.
DEFAULT_DEADLINE = 600.0
DEFAULT_INTERVAL = 10.0
# Reads that fail (past botocore's own retries) are tried this many times before nothing is known.
READ_ATTEMPTS = 3


def verify_restored(steps: Sequence[Step], attempted: Sequence[Step], gates: Gates, *,
                    deadline: float = DEFAULT_DEADLINE, interval: float = DEFAULT_INTERVAL,
                    on_verified: Callable[[str], None] = lambda line: None) -> list[str]:
    """Problems that stand in the way of "traffic restored" after the inverses of `attempted` ran
    (empty: verified); `on_verified` hears one line per check that passed.

    Where traffic must be comes from the plan's `steps`, whether or not they ran: what the first
    change to each listener, record or attachment found (a failure before the shift leaves blue
    serving, and that too is read back). A revision put back comes from the inverses.
    """
    if not any(step.mutates for step in attempted):
        return []  # nothing was changed: nothing to restore
    problems: list[str] = []
    for check in expected_state(steps) + _revisions(rollback_steps(list(attempted))):
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                line = check(gates, deadline, interval)
            except StepFailed as failed:
                problems.append(f"not verified: {failed}")
            except Exception as error:  # an AWS read that failed past botocore's retries
                if attempt < READ_ATTEMPTS:
                    gates.sleep(interval)  # AWS having a bad moment is no reason to claim less than we can
                    continue
                problems.append(f"not verified: could not read it back ({type(error).__name__}: {error})")
            else:
                on_verified(line)
            break
    return problems


Check = Callable[[Gates, float, float], str]


def expected_state(steps: Sequence[Step]) -> list[Check]:
    """One check per listener, record and attachment the plan changes: back as the first change found it."""
    checks: list[Check] = []
    seen: set[str] = set()
    for step in steps:
        key = step.target_key()
        if key is None or key in seen:
            continue
        match step:
            case SetWeights(production=True):
                restored = step.model_copy(update={"weights": step.previous})
                checks.append(lambda g, d, i, s=restored: _listener(s, g, d, i))
            case SetRecordWeights():
                restored_records = step.model_copy(update={"weights": step.previous})
                checks.append(lambda g, d, i, s=restored_records: _records(s, g))
            case Attach():
                back = step.model_copy(update={"detach": not step.detach})
                checks.append(lambda g, d, i, s=back: _attachment(s, g, d, i))
            case _:
                continue
        seen.add(key)
    return checks


def old_color_target_groups(steps: Sequence[Step]) -> list[str]:
    """The target groups the old color served production from: what drains once it is scaled down."""
    found: list[str] = []
    seen: set[str] = set()
    for step in steps:
        if isinstance(step, SetWeights) and step.production and step.target_key() not in seen:
            seen.add(step.target_key())  # the first change of each listener found the old color serving
            found += [arn for arn, weight in step.previous.items() if weight > 0 and arn not in found]
        elif isinstance(step, Attach) and step.detach:
            found += [arn for arn in step.target_group_arns if arn not in found]
    return found


def _revisions(inverses: Iterable[Step]) -> list[Check]:
    """A revision put back on a service that serves (desired > 0) must be steady on it; a service AWS
    deploys itself must be back on its previous revision, all of production on one healthy target group."""
    checks: list[Check] = []
    for step in inverses:
        if isinstance(step, UpdateService) and step.task_definition and step.desired_count > 0:
            checks.append(lambda g, d, i, s=step: _service(s, g, d, i))
        elif isinstance(step, (RollBackServiceDeployment, StopCodeDeployDeployment)):
            checks.append(lambda g, d, i, s=step: _engine(s, g, d, i))
    return checks


def _engine(step: RollBackServiceDeployment | StopCodeDeployDeployment, gates: Gates, deadline: float,
            interval: float) -> str:
    """After ECS's or CodeDeploy's rollback: the service's revision, and where each production rule or listener sends traffic."""
    status = gates.observer.service(step.cluster, step.service)
    previous = step.previous_task_definition
    if status.task_definition != previous:
        raise StepFailed(f"{step.service} is on {status.task_definition.rsplit('/', 1)[-1]}, not "
                         f"{previous.rsplit('/', 1)[-1]}")
    where = ([(None, rule) for rule in step.production_rules] if isinstance(step, RollBackServiceDeployment)
             else [(listener, None) for listener in step.production_listeners])
    lines = []
    for listener, rule in where:
        live = gates.observer.listener_weights(listener or "", rule)
        total = sum(live.values())
        serving = [arn for arn, weight in live.items() if total and weight == total]
        label = _tg_label(rule or listener or "")
        if not serving:
            raise StepFailed(f"production {'rule' if rule else 'listener'} {label} forwards {_shares(live, {})}, "
                             "not all of it to one target group")
        name = _tg_label(serving[0])
        gates.wait_until(lambda a=serving[0], n=name: gates.check_targets(a, n, 1), what=f"target group {name}",
                         deadline=deadline, interval=interval)
        lines.append(f"{name} takes all of production and is healthy")
    return f"{step.service} back on {previous.rsplit('/', 1)[-1]}" + (f"; {'; '.join(lines)}" if lines else "")


def _tg_label(arn: str) -> str:
    return arn.split("/")[-2] if arn.count("/") >= 2 else arn


def _listener(step: SetWeights, gates: Gates, deadline: float, interval: float) -> str:
    live = gates.observer.listener_weights(step.listener_arn, step.rule_arn)
    if not same_split(live, step.weights):
        raise StepFailed(f"listener {step.label} forwards {_shares(live, step.names)}, "
                         f"not {_shares(step.weights, step.names)}")
    serving = [arn for arn, weight in step.weights.items() if weight > 0]
    for arn in serving:
        name = step.names.get(arn, arn)
        gates.wait_until(lambda: gates.check_targets(arn, name, 1), what=f"target group {name}",
                         deadline=deadline, interval=interval)
    return (f"listener {step.label} forwards {_shares(live, step.names)}; "
            + ", ".join(step.names.get(arn, arn) for arn in serving) + " healthy")


def _records(step: SetRecordWeights, gates: Gates) -> str:
    live = gates.observer.record_weights(step.zone_id, step.record, step.type)
    wanted = dict(step.weights)
    if {k: live.get(k) for k in wanted} != wanted:
        raise StepFailed(f"Route53 {step.record} weights are {_shares(live, {})}, not {_shares(wanted, {})}")
    return f"Route53 {step.record} weights {_shares(live, {})}"


def _attachment(step: Attach, gates: Gates, deadline: float, interval: float) -> str:
    try:
        group = gates.observer.group(step.group)
    except LookupError:
        if step.detach:  # deleted (a group this deployment created): attached to nothing
            return f"{step.group} is gone"
        raise StepFailed(f"Auto Scaling group {step.group} not found") from None
    attached = set(group.get("TargetGroupARNs", [])) | set(group.get("LoadBalancerNames", []))
    wanted = step.target_group_arns + step.classic_elbs
    names = ", ".join(step.names.get(w, w) for w in wanted)
    wrong = [w for w in wanted if (w in attached) == step.detach]
    if wrong:
        where = ", ".join(step.names.get(w, w) for w in wrong)
        raise StepFailed(f"{step.group} is {'still attached to' if step.detach else 'not attached to'} {where}")
    if step.detach:
        return f"{step.group} detached from {names}"

    def in_service() -> set[str]:
        ids = gates.check_group(step.group, 1)
        for elb in step.classic_elbs:
            gates.check_group(step.group, 1, elb)
        return ids

    gates.wait_until(in_service, what=f"Auto Scaling group {step.group}", deadline=deadline, interval=interval)
    for arn in step.target_group_arns:
        name = step.names.get(arn, arn)

        def healthy(arn: str = arn, name: str = name) -> None:
            ids = {i["InstanceId"] for i in gates.observer.group(step.group).get("Instances", [])}
            gates.check_targets(arn, name, 1, ids)

        gates.wait_until(healthy, what=f"target group {name}", deadline=deadline, interval=interval)
    return f"{step.group} attached to {names}, InService and healthy"


def _service(step: UpdateService, gates: Gates, deadline: float, interval: float) -> str:
    revision = step.task_definition or ""
    if revision.startswith("@"):
        raise StepFailed(f"{step.service}: the revision to verify is not known ({revision})")

    def steady() -> None:
        status = gates.observer.service(step.cluster, step.service)
        if status.task_definition != revision:
            raise NotYet(f"{step.service} runs {status.task_definition.rsplit('/', 1)[-1]}")
        gates.check_service(step.cluster, step.service, revision, step.desired_count)

    gates.wait_until(steady, what=f"ECS service {step.service} back on {revision.rsplit('/', 1)[-1]}",
                     deadline=deadline, interval=interval)
    return f"{step.service} steady on {revision.rsplit('/', 1)[-1]} x{step.desired_count}"


def _shares(weights: dict[str, int], names: dict[str, str]) -> str:
    return ", ".join(f"{names.get(k, k.split('/')[1] if k.count('/') >= 2 else k)}={v}" for k, v in weights.items())
