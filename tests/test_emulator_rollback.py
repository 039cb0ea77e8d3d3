"""Rollbacks on the realistic emulator, on its virtual clock: what the deploy says when ECS or the
health checks fail, and that exit 1 comes only once the old color is serving again."""

from __future__ import annotations

from bluegreen.cli.main import main
from bluegreen.local.world import EXITS, UNHEALTHY

from test_emulator_deploy import healthy_targets, seeded_world, service


def test_ecs_rolling_back_by_itself_fails_the_deploy_naming_the_stopped_tasks_reasons_and_exits_1_once_steady(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path, seeded, digest = seeded_world(realistic_aws, workdir, "worker")
    old = service(realistic_aws, "worker")["taskDefinition"]
    realistic_aws.mark_image(digest, EXITS)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    # Read at the moment the deploy exited (nothing has moved the virtual clock since).
    worker = service(realistic_aws, "worker")
    assert worker["taskDefinition"] == old
    assert [(d["taskDefinition"], d["rolloutState"], d["runningCount"]) for d in worker["deployments"]] == [
        (old, "COMPLETED", 2)]
    assert list(healthy_targets(realistic_aws, seeded.target_groups["worker"]).values()).count("healthy") >= 2
    out = capsys.readouterr().out
    failed = next(line for line in out.splitlines() if "rolling back" in line)
    assert "ECS rolled worker back (ECS deployment circuit breaker: tasks failed to start.)" in failed
    assert "stopped tasks: " in failed and "Essential container in task exited" in failed
    assert "verified: worker steady on worker:1 x2" in out


def test_targets_that_never_become_healthy_roll_back_naming_them_and_the_health_check_settings(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path, seeded, digest = seeded_world(realistic_aws, workdir, "legacy")
    realistic_aws.mark_image(digest, UNHEALTHY)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    out = capsys.readouterr().out
    failed = next(line for line in out.splitlines() if "rolling back" in line)
    assert "target group legacy: not healthy after 10m: legacy: 0/" in failed
    assert " unhealthy (Target." in failed and " i-" in failed  # the instances, by id
    assert "health check: HTTP / on port traffic-port every 10s (timeout 5s), healthy after 3, unhealthy after 2" in failed
    assert "verified: legacy-blue attached to legacy, InService and healthy" in out


def test_blue_is_reported_drained_only_after_the_deregistration_delay(
        realistic_aws, workdir, product_on_virtual_clock, capsys, monkeypatch):
    from bluegreen.events import Events

    path, seeded, _ = seeded_world(realistic_aws, workdir, "web")
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0
    blue = seeded.target_groups["web-blue"]
    seen: dict[str, object] = {}
    emit = Events.emit

    def watch(self, event, message, **data):
        if event in ("drain.countdown", "drain.done") and event not in seen:
            seen[event] = (product_on_virtual_clock.time(), healthy_targets(realistic_aws, blue))
        return emit(self, event, message, **data)

    monkeypatch.setattr(Events, "emit", watch)

    assert main(["finalize", "web", "--now"]) == 0

    began, at_start = seen["drain.countdown"]
    done, at_done = seen["drain.done"]
    assert set(at_start.values()) == {"draining"}
    assert done - began >= 300  # the group's deregistration delay
    assert at_done == {}  # reported drained once the load balancer holds none of blue's targets
