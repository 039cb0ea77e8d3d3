"""The emulator's shortcuts for speed (bluegreen/local/emulator.py) keep what the tests and the demo rely on."""

from __future__ import annotations

import threading
import time

from bluegreen.local.emulator import TaskPlacer, changes


def test_the_emulator_holds_motos_base_images_with_the_amazon_linux_2_image_seeding_picks(aws):
    images = aws.client("ec2").describe_images(Owners=["amazon"])["Images"]

    assert any(i["Name"].startswith("amzn2-ami-hvm-") and i["Name"].endswith("-x86_64-gp2") for i in images)
    assert len(images) < 100  # not the ~1,100 ECS-optimized images of the region, rebuilt at every reset


def test_a_change_to_ecs_or_elbv2_is_counted_and_a_read_is_not(aws):
    ecs = aws.client("ecs")
    before = changes()
    ecs.list_clusters()
    ecs.describe_clusters(clusters=["default"])
    assert changes() == before

    ecs.create_cluster(clusterName="counted")
    assert changes() == before + 1


class CountingPlacer(TaskPlacer):
    def __init__(self, count: list[int]) -> None:
        super().__init__(aws=None, interval=0.01, changes=lambda: count[0])  # type: ignore[arg-type]
        self.looks = 0
        self.looked = threading.Event()

    def start(self) -> "CountingPlacer":  # no Aws: `sync` below makes no call
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def sync(self) -> None:
        self.looks += 1
        self.looked.set()


def wait_for_look(placer: CountingPlacer) -> None:
    assert placer.looked.wait(5), "the placer never looked"
    placer.looked.clear()


def test_a_placer_on_the_in_process_emulator_looks_once_per_change():
    count = [0]
    with CountingPlacer(count) as placer:
        wait_for_look(placer)  # the first look, whatever the count
        time.sleep(0.1)  # ten intervals without a change
        assert placer.looks == 1

        count[0] += 1
        wait_for_look(placer)
        time.sleep(0.1)
        assert placer.looks == 2
