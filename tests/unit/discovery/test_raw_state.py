"""RawState is plain data: it round-trips through JSON, and refuses a file it does not understand."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bluegreen.discovery.raw import FORMAT, RawState, image_key, service_key


def test_a_raw_state_round_trips_through_json_with_timestamps_as_iso_text():
    raw = RawState(
        services={service_key("prod", "web-blue"): {"serviceName": "web-blue",
                                                    "createdAt": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)}},
        lt_versions={"lt-1": {"3": {"VersionNumber": 3}}},
        images={image_key("web", "imageTag", "v1"): {"imageDigest": "sha256:" + "a" * 64}},
        errors={"tg health": {"arn:tg": "DescribeTargetHealth failed: AccessDenied"}},
    )

    again = RawState.from_json(json.loads(json.dumps(raw.to_json())))

    assert again.service("prod", "web-blue") == {"serviceName": "web-blue", "createdAt": "2026-01-02T03:04:05+00:00"}
    assert again.lt_version({"LaunchTemplateId": "lt-1", "DefaultVersionNumber": 1, "LatestVersionNumber": 3},
                            "$Latest") == {"VersionNumber": 3}
    assert again.images == raw.images and again.error("tg health", "arn:tg") == "DescribeTargetHealth failed: AccessDenied"
    assert again.error("tg health", "arn:other") is None and again.why_gone("secret", "x") is None


def test_a_recording_of_another_format_or_with_unknown_fields_is_refused():
    with pytest.raises(ValueError, match="format"):
        RawState.from_json({"format": FORMAT + 1})
    with pytest.raises(ValueError, match="unknown fields: surprise"):
        RawState.from_json({"format": FORMAT, "surprise": {}})


def test_launch_template_version_references_resolve_like_auto_scaling_does():
    raw = RawState(lt_versions={"lt-1": {"1": {"VersionNumber": 1}, "4": {"VersionNumber": 4}}})
    lt = {"LaunchTemplateId": "lt-1", "DefaultVersionNumber": 1, "LatestVersionNumber": 4}

    assert raw.lt_version(lt, None) == raw.lt_version(lt, "$Default") == {"VersionNumber": 1}
    assert raw.lt_version(lt, "$Latest") == raw.lt_version(lt, "4") == {"VersionNumber": 4}
    assert raw.lt_version(lt, "2") is None and raw.lt_version(lt, "latest") is None
