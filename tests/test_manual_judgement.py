"""Manual judgement at any step, through the CLI on the realistic emulator and its virtual clock:
pause before a named step, promote to the next pause (or --full to the end), abort from a pause,
and promotion by itself after the spec's timer (Argo Rollouts' autoPromotionSeconds)."""

from __future__ import annotations

import json

from bluegreen.app.stores import open_store
from bluegreen.app.views import paused
from bluegreen.cli.main import main
from bluegreen.events import Events
from bluegreen.specfiles.loader import load_spec
from bluegreen.state.deployments import DeploymentRecords

from deploy_helpers import REALISTIC, listener_weights, seeded, write_spec

BLUE = {"web-blue": 100, "web-green": 0}


def web(workdir, aws, **judgement):
    path = write_spec(workdir, "web", timings=REALISTIC, judgement=judgement)
    seeded(aws.endpoint_url, path)
    return path


def weights(aws) -> dict[str, int]:
    return listener_weights(aws.client("elbv2"), "web-alb", 80)


def status(capsys) -> dict:
    capsys.readouterr()
    assert main(["status", "web", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_canary_paused_at_its_second_step_waits_for_promote_then_finishes(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = web(workdir, realistic_aws, pause_before=["shift-50"])

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert weights(realistic_aws) == {"web-blue": 90, "web-green": 10}
    shown = status(capsys)
    assert shown["deployment"]["status"] == "paused"
    assert shown["paused"]["before_step"] == "shift-50" and shown["commands"] == ["bluegreen promote web",
                                                                                  "bluegreen abort web"]

    assert main(["promote", "web"]) == 0

    assert weights(realistic_aws) == {"web-blue": 0, "web-green": 100}
    assert status(capsys)["deployment"]["status"] == "keeping-warm"


def test_promote_continues_to_the_next_pause_and_full_past_every_later_one(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = web(workdir, realistic_aws)

    assert main(["deploy", str(path), "--image-tag", "v2", "--pause-before", "shift-10",
                 "--pause-before", "shift-50", "--pause-before", "shift-100"]) == 0
    assert weights(realistic_aws) == BLUE
    assert main(["promote", "web"]) == 0
    assert weights(realistic_aws) == {"web-blue": 90, "web-green": 10}
    assert "continuing to the next pause (before shift-50)" in capsys.readouterr().out
    assert status(capsys)["paused"]["later_pauses"] == ["shift-100"]

    assert main(["promote", "web", "--full"]) == 0

    assert weights(realistic_aws) == {"web-blue": 0, "web-green": 100}


def test_abort_from_a_pause_puts_traffic_back_on_blue(realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = web(workdir, realistic_aws, pause_before=["shift-50"])
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert main(["abort", "web"]) == 0

    assert weights(realistic_aws) == BLUE
    assert status(capsys)["deployment"]["status"] == "rolled-back"


def test_a_pause_naming_no_step_is_refused_before_anything_changes(realistic_aws, workdir, product_on_virtual_clock,
                                                                   capsys):
    path = web(workdir, realistic_aws)

    assert main(["deploy", str(path), "--image-tag", "v2", "--pause-before", "shift-7"]) == 2

    assert "no step named 'shift-7' to pause before" in capsys.readouterr().err
    assert weights(realistic_aws) == BLUE
    assert status(capsys)["deployment"] is None


def test_a_pause_with_a_timer_counts_down_in_status_and_promotes_itself(
        realistic_aws, workdir, product_on_virtual_clock, monkeypatch, capsys):
    path = web(workdir, realistic_aws, pause_before=["shift-50"], auto_promote_after="10m")
    seen: list[dict] = []
    emit = Events.emit

    def look_at_status(self, event, message, **data):  # what a person running `status` meanwhile sees
        emit(self, event, message, **data)
        if event == "deploy.countdown" and not seen:
            spec = load_spec(path).spec
            record = DeploymentRecords(open_store(spec.state, lambda: None), "web").current()
            seen.append(paused(record, product_on_virtual_clock.time()))

    monkeypatch.setattr(Events, "emit", look_at_status)
    started = product_on_virtual_clock.time()

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert weights(realistic_aws) == {"web-blue": 0, "web-green": 100}
    assert seen == [{"before_step": "shift-50", "step": seen[0]["step"], "later_pauses": [],
                     "auto_promote_seconds_left": 540}]
    out = capsys.readouterr().out
    assert "promoting by itself in 600s" in out and "auto-promotion in 540s" in out
    assert "auto-promoted after 600s" in out
    assert product_on_virtual_clock.time() - started >= 600 + 3 * 60
