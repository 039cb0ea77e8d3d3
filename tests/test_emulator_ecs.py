"""The realistic emulator's ECS: deployments that take time, tasks that fail, and the circuit breaker
rolling a service back by itself (bluegreen.local.ecs; every divergence from moto is in
bluegreen/local/DIVERGENCES.md)."""

from __future__ import annotations

from bluegreen.local.world import EXITS, PULL_FAILS, UNHEALTHY

from emulator_helpers import web

# The world's default timings: a Fargate task is PROVISIONING 5 s, PENDING 10 s, then RUNNING.
RUNNING_AFTER = 15


def deployment_states(svc: dict) -> list[tuple[str, str, str]]:
    return [(d["status"], d["taskDefinition"].rsplit("/", 1)[-1], d["rolloutState"]) for d in svc["deployments"]]


def test_a_new_service_starts_its_tasks_through_provisioning_and_pending_to_running(realistic_aws):
    w = web(realistic_aws)
    w.service(desired=2)

    assert {t["lastStatus"] for t in w.tasks()} == {"PROVISIONING"}
    assert w.describe()["pendingCount"] == 2 and w.describe()["runningCount"] == 0
    realistic_aws.advance(5)
    assert {t["lastStatus"] for t in w.tasks()} == {"PENDING"}
    realistic_aws.advance(10)
    tasks = w.tasks()
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"} and all(t.get("startedAt") for t in tasks)
    assert w.describe()["runningCount"] == 2


def test_running_tasks_are_registered_as_targets_that_are_initial_until_interval_times_healthy_threshold(realistic_aws):
    w = web(realistic_aws, interval=10, healthy=3)
    w.service(desired=2)
    realistic_aws.advance(RUNNING_AFTER)

    ips = {a["value"] for t in w.tasks() for att in t["attachments"] for a in att["details"]
           if a["name"] == "privateIPv4Address"}
    assert set(w.targets()) == ips and set(w.targets().values()) == {"initial"}
    realistic_aws.advance(29)
    assert set(w.targets().values()) == {"initial"}
    realistic_aws.advance(1)
    assert set(w.targets().values()) == {"healthy"}
    assert any("registered 2 targets in (target-group" in e for e in w.events())


def test_the_rollout_is_in_progress_until_the_service_is_steady_then_completed(realistic_aws):
    w = web(realistic_aws)
    w.service(desired=2)
    assert deployment_states(w.describe()) == [("PRIMARY", "web:1", "IN_PROGRESS")]

    realistic_aws.advance(RUNNING_AFTER + 30)

    svc = w.describe()
    assert deployment_states(svc) == [("PRIMARY", "web:1", "COMPLETED")]
    assert svc["deployments"][0]["rolloutStateReason"].endswith("completed.")
    assert w.events()[-1].endswith("has reached a steady state.")


def test_an_update_drains_the_old_deployment_once_the_new_tasks_are_healthy(realistic_aws):
    w = web(realistic_aws, delay=60)
    w.service(desired=2)
    realistic_aws.advance(60)
    old_targets = set(w.targets())

    w.ecs.update_service(cluster="c", service="web", taskDefinition=w.revision("repo:v2"))
    assert deployment_states(w.describe()) == [("PRIMARY", "web:2", "IN_PROGRESS"), ("ACTIVE", "web:1", "COMPLETED")]
    realistic_aws.advance(RUNNING_AFTER + 30)  # the new tasks are running and healthy

    states = w.targets()
    assert {states[t] for t in old_targets} == {"draining"}
    assert {s for t, s in states.items() if t not in old_targets} == {"healthy"}
    leaving = w.tasks(status="STOPPED")  # ECS has set them to stop; they drain first
    assert len(leaving) == 2 and {t["lastStatus"] for t in leaving} == {"DEACTIVATING"}
    assert len(w.describe()["deployments"]) == 2  # the old one is still draining

    realistic_aws.advance(60 + 2)  # deregistration delay, then STOPPING and DEPROVISIONING

    assert set(w.targets()) == set(states) - old_targets
    assert deployment_states(w.describe()) == [("PRIMARY", "web:2", "COMPLETED")]
    stopped = w.tasks(status="STOPPED")
    assert len(stopped) == 2 and {t["stopCode"] for t in stopped} == {"ServiceSchedulerInitiated"}
    assert all(t["stoppedReason"].startswith("Scaling activity initiated by (deployment ecs-svc/") for t in stopped)
    assert any("has begun draining connections on 2 tasks." in e for e in w.events())
    assert any("has stopped 2 running tasks:" in e for e in w.events())


def test_a_task_whose_image_cannot_be_pulled_stops_with_the_pull_error(realistic_aws):
    w = web(realistic_aws)
    realistic_aws.mark_image("repo:missing", PULL_FAILS)
    w.service(image="repo:missing", desired=1, breaker=False)

    realistic_aws.advance(RUNNING_AFTER)

    stopped = w.tasks(status="STOPPED")
    assert len(stopped) == 1 and stopped[0]["lastStatus"] == "STOPPED"
    assert stopped[0]["stopCode"] == "TaskFailedToStart"
    assert stopped[0]["stoppedReason"].startswith("CannotPullContainerError:")
    assert w.targets() == {}


def test_without_the_circuit_breaker_ecs_keeps_replacing_the_failing_tasks(realistic_aws):
    w = web(realistic_aws)
    realistic_aws.mark_image("repo:crash", EXITS)
    w.service(image="repo:crash", desired=2, breaker=False)

    realistic_aws.advance(600)

    svc = w.describe()
    assert deployment_states(svc) == [("PRIMARY", "web:1", "IN_PROGRESS")]
    stopped = w.tasks(status="STOPPED")
    assert len(stopped) > 6
    assert {t["stoppedReason"] for t in stopped} == {"Essential container in task exited"}
    assert {t["containers"][0].get("exitCode") for t in stopped} == {1}


def test_the_circuit_breaker_rolls_a_bad_image_back_to_the_last_completed_deployment_by_itself(realistic_aws):
    w = web(realistic_aws)
    w.service(image="repo:v1", desired=2)
    realistic_aws.advance(60)
    good = w.describe()["deployments"][0]["id"]
    realistic_aws.mark_image("repo:v2", EXITS)

    w.ecs.update_service(cluster="c", service="web", taskDefinition=w.revision("repo:v2"))
    realistic_aws.advance(600)

    svc = w.describe()
    assert svc["taskDefinition"].endswith("web:1")  # ECS put the old revision back
    assert deployment_states(svc) == [("PRIMARY", "web:1", "COMPLETED")]
    events = w.events()
    failed = next(e for e in events if "deployment failed: tasks failed to start." in e)
    assert events.index(failed) < events.index(next(e for e in events if f"rolling back to deployment {good}." in e))
    assert all(w.targets()[t] == "healthy" for t in w.targets())
    crashed = [t for t in w.tasks(status="STOPPED") if t["taskDefinitionArn"].endswith("web:2")]
    assert len(crashed) >= 3 and {t["stopCode"] for t in crashed} == {"EssentialContainerExited"}


def test_the_failed_deployment_is_reported_failed_while_ecs_rolls_back(realistic_aws):
    w = web(realistic_aws, delay=300)
    w.service(image="repo:v1", desired=2)
    realistic_aws.advance(60)
    realistic_aws.mark_image("repo:v2", EXITS)

    w.ecs.update_service(cluster="c", service="web", taskDefinition=w.revision("repo:v2"))
    # two tasks run at 15 s and exit at 20 s; their replacements (10 s later) exit at 50 s:
    # 4 failures >= max(3, 50% of 2); the exited tasks drain for 300 s
    realistic_aws.advance(55)

    states = deployment_states(w.describe())
    assert ("ACTIVE", "web:2", "FAILED") in states
    failed = next(d for d in w.describe()["deployments"] if d["rolloutState"] == "FAILED")
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert failed["failedTasks"] >= 3
    assert states[0][:2] == ("PRIMARY", "web:1")


def test_tasks_that_fail_their_elb_health_checks_are_stopped_after_the_grace_period(realistic_aws):
    w = web(realistic_aws, interval=10, unhealthy=2)
    realistic_aws.mark_image("repo:sick", UNHEALTHY)
    w.service(image="repo:sick", desired=1, breaker=False, grace=60)

    realistic_aws.advance(RUNNING_AFTER + 20)  # unhealthy after 2 x 10 s, but still within the grace period
    assert set(w.targets().values()) == {"unhealthy"} and w.tasks(status="STOPPED") == []
    realistic_aws.advance(40)  # the grace period (60 s from the task's start) is over

    (stopped,) = w.tasks(status="STOPPED")
    assert stopped["stoppedReason"] == f"Task failed ELB health checks in (target-group {w.target_group})"
    assert any("is unhealthy in (target-group" in e and "Health checks failed with these codes: [500]" in e
               for e in w.events())


def test_list_tasks_filters_by_service_and_lists_running_tasks_unless_asked_for_stopped_ones(realistic_aws):
    w = web(realistic_aws)
    w.service("a", desired=1)
    w.service("b", desired=2)
    realistic_aws.advance(RUNNING_AFTER)
    w.ecs.update_service(cluster="c", service="b", desiredCount=1)
    realistic_aws.advance(60)

    assert len(w.ecs.list_tasks(cluster="c", serviceName="a")["taskArns"]) == 1
    assert len(w.ecs.list_tasks(cluster="c", serviceName="b")["taskArns"]) == 1
    assert len(w.ecs.list_tasks(cluster="c", serviceName="b", desiredStatus="STOPPED")["taskArns"]) == 1
    assert len(w.ecs.list_tasks(cluster="c")["taskArns"]) == 2


def test_describe_services_returns_the_deployment_configuration_given_at_create(realistic_aws):
    w = web(realistic_aws)
    w.service(desired=0, breaker=True, rollback=True)

    config = w.describe()["deploymentConfiguration"]

    assert config["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert config["maximumPercent"] == 200 and config["minimumHealthyPercent"] == 100


def test_scaling_in_drains_the_stopped_tasks_targets(realistic_aws):
    w = web(realistic_aws, delay=120)
    w.service(desired=2)
    realistic_aws.advance(60)

    w.ecs.update_service(cluster="c", service="web", desiredCount=0)

    assert set(w.targets().values()) == {"draining"}
    assert w.describe()["runningCount"] == 0
    realistic_aws.advance(120)
    assert w.targets() == {}
    realistic_aws.advance(2)
    assert len(w.tasks(status="STOPPED")) == 2


def test_force_new_deployment_replaces_every_task_of_the_same_revision(realistic_aws):
    w = web(realistic_aws, delay=10)
    w.service(desired=2)
    realistic_aws.advance(60)
    before = {t["taskArn"] for t in w.tasks()}

    w.ecs.update_service(cluster="c", service="web", forceNewDeployment=True)
    realistic_aws.advance(60 + 10 + 2)

    after = {t["taskArn"] for t in w.tasks()}
    assert after and not after & before
    assert deployment_states(w.describe()) == [("PRIMARY", "web:1", "COMPLETED")]


def test_a_task_whose_health_endpoint_starts_failing_is_replaced_by_ecs(realistic_aws):
    w = web(realistic_aws, interval=10, unhealthy=2, delay=10)
    w.service(desired=1, grace=0)
    realistic_aws.advance(60)
    (target,) = w.targets()

    realistic_aws.set_target_health(target, ok=False)
    realistic_aws.advance(20)  # 2 failed checks, 10 s apart

    (stopped,) = w.tasks(status="STOPPED")
    assert stopped["stoppedReason"] == f"Task failed ELB health checks in (target-group {w.target_group})"
    realistic_aws.advance(10)  # ECS waits a moment before it replaces a failed task
    assert len(w.tasks()) == 1
