"""The test environment itself: moto's server, Docker engine and registry on loopback."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


def test_aws_fixture_is_an_emptied_moto_http_server_on_loopback_that_sdks_find_via_env(aws):
    endpoint = urllib.parse.urlsplit(aws.endpoint_url)
    assert endpoint.scheme == "http" and endpoint.hostname == "127.0.0.1"

    ecs = aws.client("ecs")
    assert ecs.list_clusters()["clusterArns"] == []  # reset before the test
    arn = ecs.create_cluster(clusterName="plumbing")["cluster"]["clusterArn"]
    assert ecs.list_clusters()["clusterArns"] == [arn]

    # A client built only from the environment (as the CLI builds them) talks to the same server.
    import boto3

    assert boto3.client("ecs").list_clusters()["clusterArns"] == [arn]

    # And it is a real HTTP server: plain urllib sees the cluster in moto's state dump.
    with urllib.request.urlopen(f"{aws.endpoint_url}/moto-api/data.json", timeout=10) as response:
        assert response.status == 200
        state = json.load(response)
    assert "plumbing" in json.dumps(state["ecs"])


def test_set_ecs_running_controls_the_running_count_of_new_services(aws):
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="plumbing")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "busybox", "memory": 64}]
    )
    aws.set_ecs_running(2)
    ecs.create_service(cluster="plumbing", serviceName="web", taskDefinition="web", desiredCount=2)
    [service] = ecs.describe_services(cluster="plumbing", services=["web"])["services"]
    assert service["runningCount"] == 2


def test_busybox_image_builds_and_pushes_to_loopback_registry(docker_engine, registry, busybox_context):
    tag = uuid.uuid4().hex[:12]
    ref = f"{registry}/smoke/busybox:{tag}"

    image, _ = docker_engine.images.build(path=str(busybox_context), tag=ref, rm=True)
    try:
        stream = list(
            docker_engine.images.push(f"{registry}/smoke/busybox", tag=tag, stream=True, decode=True)
        )
        errors = [chunk for chunk in stream if "error" in chunk or "errorDetail" in chunk]
        assert not errors, errors
        [pushed_digest] = [chunk["aux"]["Digest"] for chunk in stream if "Digest" in chunk.get("aux", {})]

        image.reload()
        assert f"{registry}/smoke/busybox@{pushed_digest}" in image.attrs["RepoDigests"]

        request = urllib.request.Request(
            f"http://{registry}/v2/smoke/busybox/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert response.headers["Docker-Content-Digest"] == pushed_digest
            manifest = json.load(response)
        # The registry holds this very image: its config blob is the image ID.
        assert manifest["config"]["digest"] == image.id
    finally:
        docker_engine.images.remove(ref)  # untags; deletes layers no other image uses


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_busybox_image_serves_its_index_page_on_host_network(docker_engine, busybox_context):
    ref = f"bluegreen-smoke/busybox-run:{uuid.uuid4().hex[:12]}"
    docker_engine.images.build(path=str(busybox_context), tag=ref, rm=True)
    port = _free_loopback_port()
    container = docker_engine.containers.run(
        ref, ["-p", f"127.0.0.1:{port}"], network_mode="host", detach=True
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                break
            except OSError:
                container.reload()
                if container.status == "exited" or time.monotonic() > deadline:
                    pytest.fail(f"busybox httpd never answered: {container.logs().decode()!r}")
                time.sleep(0.1)
        assert body == (busybox_context / "index.html").read_text()
    finally:
        container.remove(force=True)
        docker_engine.images.remove(ref)


def test_every_test_that_tests_slowest_txt_puts_first_still_exists():
    """conftest.py runs the tests of tests/slowest.txt first; a renamed test would silently lose its place."""
    tests = Path(__file__).resolve().parent
    for line in (tests / "slowest.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            file, _, name = line.strip().partition("::")
            assert f"def {name}(" in (tests / file).read_text(), line
