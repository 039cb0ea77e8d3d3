"""Task definitions are read once per revision ARN: in the process, and across runs from the disk cache."""

from __future__ import annotations

from pathlib import Path

from bluegreen.adapters.aws.td_cache import TaskDefinitions, cache_dir

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"


class Ecs:
    """DescribeTaskDefinition, counted."""

    def __init__(self, image: str = "web:v1") -> None:
        self.image = image
        self.asked: list[str] = []

    def __call__(self, arn: str) -> dict:
        self.asked.append(arn)
        return {"taskDefinition": {"taskDefinitionArn": arn, "containerDefinitions": [{"image": self.image}]},
                "tags": [{"key": "team", "value": "web"}]}


def test_a_revision_read_once_in_a_run_is_not_read_again(tmp_path: Path):
    ecs = Ecs()
    cache = TaskDefinitions(None)

    first = cache.describe(ARN, ecs)
    second = cache.describe(ARN, ecs)

    assert ecs.asked == [ARN]
    assert second == first


def test_a_later_run_finds_the_revision_on_disk_and_makes_no_call(tmp_path: Path):
    TaskDefinitions(tmp_path).describe(ARN, Ecs())
    ecs = Ecs()

    found = TaskDefinitions(tmp_path).describe(ARN, ecs)

    assert ecs.asked == []
    assert found["taskDefinition"]["containerDefinitions"] == [{"image": "web:v1"}]
    assert found["tags"] == [{"key": "team", "value": "web"}]


def test_another_revision_is_a_miss(tmp_path: Path):
    TaskDefinitions(tmp_path).describe(ARN, Ecs())
    ecs = Ecs()

    TaskDefinitions(tmp_path).describe(ARN.replace(":7", ":8"), ecs)

    assert ecs.asked == [ARN.replace(":7", ":8")]


def test_a_family_or_latest_is_never_cached_because_it_moves(tmp_path: Path):
    ecs = Ecs()
    cache = TaskDefinitions(tmp_path)

    cache.describe("web", ecs)
    cache.describe("web", ecs)
    cache.describe("arn:aws:ecs:us-east-1:123456789012:task-definition/web", ecs)

    assert len(ecs.asked) == 3
    assert list(tmp_path.iterdir()) == []


def test_deleting_the_cache_only_costs_a_call(tmp_path: Path):
    TaskDefinitions(tmp_path).describe(ARN, Ecs())
    for path in tmp_path.iterdir():
        path.unlink()
    ecs = Ecs(image="web:v1")

    TaskDefinitions(tmp_path).describe(ARN, ecs)

    assert ecs.asked == [ARN]


def test_a_damaged_cache_file_is_read_again_from_aws(tmp_path: Path):
    TaskDefinitions(tmp_path).describe(ARN, Ecs())
    for path in tmp_path.iterdir():
        path.write_text("{not json", encoding="utf-8")
    ecs = Ecs()

    TaskDefinitions(tmp_path).describe(ARN, ecs)

    assert ecs.asked == [ARN]


def test_the_cache_lives_under_xdg_cache_home_against_real_aws():
    assert cache_dir({"XDG_CACHE_HOME": "/c"}, None) == Path("/c/bluegreen/task-definitions")


def test_against_an_emulator_endpoint_the_disk_cache_is_off_unless_named():
    # the emulator reuses ARNs after a reset; AWS never does
    assert cache_dir({"XDG_CACHE_HOME": "/c"}, "http://127.0.0.1:5000") is None
    assert cache_dir({"BLUEGREEN_CACHE_DIR": "/b"}, "http://127.0.0.1:5000") == Path("/b")


def test_an_empty_cache_dir_turns_the_disk_cache_off():
    assert cache_dir({"BLUEGREEN_CACHE_DIR": "", "XDG_CACHE_HOME": "/c"}, None) is None


def test_a_revision_registered_here_is_described_from_the_registration_answer_next_run(tmp_path: Path):
    registered = {"taskDefinition": {"taskDefinitionArn": ARN, "containerDefinitions": [{"image": "web:v2"}]},
                  "tags": [{"key": "team", "value": "web"}]}
    TaskDefinitions(tmp_path).remember(ARN, registered)
    ecs = Ecs()

    found = TaskDefinitions(tmp_path).describe(ARN, ecs)

    assert ecs.asked == []
    assert found == registered


def test_a_family_name_is_never_remembered(tmp_path: Path):
    TaskDefinitions(tmp_path).remember("web", {"taskDefinition": {}, "tags": []})

    assert list(tmp_path.iterdir()) == []
