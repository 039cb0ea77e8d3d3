"""Images: built by the real Docker engine, pushed to the real loopback registry, recorded in ECR (moto).

The registry at 127.0.0.1:5000 outlives the tests and is shared, so every test uses its own
repository name and its own page content (so its first push has a layer of its own to upload).
moto is reset per test. Local tags are removed afterwards by name, never by image ID alone, except
for the untagged image of a refused build, whose content is unique to the test.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from bluegreen.adapters.aws.session import Aws, is_read_only
from bluegreen.adapters.docker_engine import DockerEngine, PushFailed
from bluegreen.errors import DeploymentFailed, ExitCode, InvalidInput
from bluegreen.events import Events
from bluegreen.app.images import ImageResult, build_and_push
from bluegreen.specfiles.loader import load_spec

MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"

SPEC = """\
service: web
image:
  repository: {repository}
  create_repository: true
  tag_immutable: {immutable}
  scan_on_push: true
  build:
    context: busybox-context
    args: {{GREETING: hello}}
    labels: {{team: platform}}
platform:
  ecs:
    cluster: prod
    service: web
    container: web
traffic:
  target_group: web-tg
"""


class Project:
    """A spec in tmp_path whose build context is the busybox_context fixture, plus ways to run it."""

    def __init__(self, tmp_path: Path, context: Path, aws, engine, registry: str) -> None:
        self.aws, self.engine, self.registry = aws, engine, registry
        self.repository = f"bgtest/web-{uuid.uuid4().hex[:10]}"
        self.context = context
        self.spec_path = tmp_path / "web.yaml"
        # Uses a build arg, so the test can see build args reach the engine.
        with (context / "Dockerfile").open("a") as f:
            f.write("ARG GREETING\nLABEL dev.test.greeting=$GREETING\n")
        self.write_spec()
        self.set_page("first")
        self.log: list[str] = []
        self.tags: set[str] = set()

    def write_spec(self, *, immutable: bool = True) -> None:
        self.spec_path.write_text(SPEC.format(repository=self.repository, immutable=str(immutable).lower()))

    def set_page(self, text: str) -> None:
        (self.context / "index.html").write_text(f"<h1>{text} {self.repository}</h1>\n")

    def build(self, tag: str, *, events: Events | None = None, **kwargs) -> ImageResult:
        """One build_and_push with a fresh Aws, so `self.log` holds exactly this run's AWS calls."""
        aws = Aws("us-east-1", endpoint_url=self.aws.endpoint_url)
        self.tags.add(tag)
        kwargs.setdefault("registry", self.registry)
        kwargs.setdefault("docker_client", self.engine)
        try:
            return build_and_push(aws, load_spec(self.spec_path).spec, self.spec_path, tag,
                                  events=events or Events(stream=io.StringIO()), **kwargs)
        finally:
            self.log = list(aws.log.calls)

    def local_ref(self, tag: str) -> str:
        return f"{self.registry}/{self.repository}:{tag}"

    def registry_digest(self, tag: str) -> tuple[str, dict]:
        request = urllib.request.Request(f"http://{self.registry}/v2/{self.repository}/manifests/{tag}",
                                         headers={"Accept": MANIFEST_TYPES})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["Docker-Content-Digest"], json.load(response)

    def ecr_digest(self, tag: str) -> str:
        [image] = self.aws.client("ecr").describe_images(
            repositoryName=self.repository, imageIds=[{"imageTag": tag}])["imageDetails"]
        return image["imageDigest"]

    def remove_local(self, *references: str) -> None:
        import docker.errors

        for reference in references:
            try:
                self.engine.images.remove(reference)
            except docker.errors.ImageNotFound:
                pass


@pytest.fixture
def project(tmp_path, busybox_context, aws, docker_engine, registry):
    project = Project(tmp_path, busybox_context, aws, docker_engine, registry)
    yield project
    project.remove_local(*(project.local_ref(tag) for tag in project.tags | {"cli", "json"}))


def mutating(calls: list[str]) -> list[str]:
    return [call for call in calls if not is_read_only(call)]


def registry_password(aws) -> str:
    token = aws.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(token).decode().partition(":")[2]


# --- the digest is one and the same everywhere ------------------------------------------------


def test_built_image_digest_matches_ecr_and_registry(project, aws, docker_engine):
    result = project.build("v1", git_commit=GIT_COMMIT)

    registry_digest, manifest = project.registry_digest("v1")
    assert project.ecr_digest("v1") == registry_digest == result.digest
    assert result.pinned.endswith(f"@{registry_digest}")
    [repo] = aws.client("ecr").describe_repositories(repositoryNames=[project.repository])["repositories"]
    assert result.repository_uri == repo["repositoryUri"]
    assert result.pinned == f"{repo['repositoryUri']}@{registry_digest}"
    assert result.registry_pinned == f"{project.registry}/{project.repository}@{registry_digest}"
    assert (result.built, result.pushed, result.tag) == (True, True, "v1") and result.layers_uploaded >= 1

    # The repository was created as the spec says; the pushed image is the build, with its labels.
    assert repo["imageTagMutability"] == "IMMUTABLE" and repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert manifest["config"]["digest"] == result.image_id
    labels = docker_engine.images.get(project.local_ref("v1")).labels
    assert labels["org.opencontainers.image.revision"] == GIT_COMMIT
    assert labels["dev.bluegreen.spec"] == "web" and labels["team"] == "platform"
    assert labels["dev.test.greeting"] == "hello"  # build args reach the engine

    # Against real ECR the push creates the record; with the loopback override PutImage does, once.
    assert mutating(project.log) == ["ecr:CreateRepository", "ecr:GetAuthorizationToken", "ecr:PutImage"]


def test_second_build_of_same_tag_uploads_nothing(project):
    first = project.build("v1")
    second = project.build("v1")
    assert mutating(project.log) == []  # nothing to create, log in to, push or record
    other_tag = project.build("v2")  # same content, new tag: the push runs, but every layer is there

    print(f"\nfirst build+push {first.seconds:.2f}s ({first.layers_uploaded} layers uploaded); "
          f"second run {second.seconds:.2f}s ({second.layers_uploaded} uploaded, pushed={second.pushed}); "
          f"same image as new tag {other_tag.seconds:.2f}s ({other_tag.layers_uploaded} uploaded)")
    assert first.layers_uploaded >= 1 and first.pushed
    assert (second.built, second.pushed, second.layers_uploaded) == (True, False, 0)
    assert second.digest == first.digest and second.image_id == first.image_id
    assert (other_tag.pushed, other_tag.layers_uploaded) == (True, 0)
    assert other_tag.digest == first.digest == project.ecr_digest("v2") == project.registry_digest("v2")[0]


# --- failures ---------------------------------------------------------------------------------


def test_broken_dockerfile_fails_before_any_aws_mutation(project, aws):
    (project.context / "Dockerfile").write_text("FROM scratch\nCOPY no-such-file /x\n")
    out = io.StringIO()

    with pytest.raises(DeploymentFailed) as failure:
        project.build("v1", events=Events(stream=out))

    engine_message = "COPY failed: file not found in build context"
    assert engine_message in failure.value.message and failure.value.exit_code == ExitCode.DEPLOY_FAILED_ROLLED_BACK
    assert engine_message in out.getvalue()
    assert project.log and mutating(project.log) == []  # it looked, but changed nothing
    assert aws.client("ecr").describe_repositories()["repositories"] == []


def test_unparseable_dockerfile_reports_the_engines_parse_error(project):
    (project.context / "Dockerfile").write_text("FROM scratch\nBOGUS instruction\n")
    with pytest.raises(DeploymentFailed, match="unknown instruction: BOGUS"):
        project.build("v1")
    assert mutating(project.log) == []


def test_unreachable_engine_is_a_clear_failure_before_any_aws_mutation(project, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(DeploymentFailed, match="Docker engine: cannot reach the Docker engine"):
        project.build("v1", docker_client=None)  # the engine from the environment, as the CLI makes it
    assert mutating(project.log) == []


def test_immutable_tag_with_different_digest_is_refused(project, docker_engine):
    first = project.build("v1")
    project.set_page("second")  # the source changed, the tag did not
    events = Events(stream=io.StringIO())

    with pytest.raises(InvalidInput) as refused:
        project.build("v1", events=events)

    [refused_id] = [e["image_id"] for e in events.history if e["event"] == "build.done"]
    try:
        assert refused.value.exit_code == ExitCode.INVALID_INPUT
        assert refused.value.message.startswith(f"tag v1 already holds {first.digest} in ECR (immutable); "
                                                f"the build produced {refused_id}")
        assert refused_id != first.image_id
        assert mutating(project.log) == []
        # Nothing moved: ECR, the registry and the local tag all still hold the first image.
        assert project.ecr_digest("v1") == project.registry_digest("v1")[0] == first.digest
        assert docker_engine.images.get(project.local_ref("v1")).id == first.image_id
    finally:
        project.remove_local(refused_id)


def test_immutable_tag_already_in_ecr_is_final_on_an_engine_that_never_built_it(project):
    """A re-run on a fresh CI agent: no rebuild (builds need not be reproducible), ECR's digest wins."""
    first = project.build("v1")
    project.remove_local(project.local_ref("v1"))
    project.set_page("changed where nobody can see it")
    events = Events(stream=io.StringIO())

    again = project.build("v1", events=events)

    assert (again.built, again.pushed, again.digest, again.pinned) == (False, False, first.digest, first.pinned)
    assert [e["event"] for e in events.history][:2] == ["image.exists", "image.final"]
    assert mutating(project.log) == []


def test_mutable_tag_moves_to_the_new_build_and_an_existing_repository_is_left_alone(project, aws):
    aws.client("ecr").create_repository(repositoryName=project.repository, imageTagMutability="MUTABLE")
    project.write_spec(immutable=True)  # the spec's wish only applies when we create the repository
    first = project.build("v1")
    project.set_page("second")

    second = project.build("v1")

    try:
        assert second.pushed and second.digest != first.digest
        assert project.ecr_digest("v1") == project.registry_digest("v1")[0] == second.digest
        [repo] = aws.client("ecr").describe_repositories(repositoryNames=[project.repository])["repositories"]
        assert repo["imageTagMutability"] == "MUTABLE"
        assert "ecr:CreateRepository" not in project.log
    finally:
        project.remove_local(first.image_id)  # untagged when the tag moved; its content is this test's own


def test_missing_repository_without_create_is_invalid_input_before_building(project, aws):
    project.spec_path.write_text(project.spec_path.read_text().replace("create_repository: true",
                                                                       "create_repository: false"))
    events = Events(stream=io.StringIO())
    with pytest.raises(InvalidInput, match="does not exist"):
        project.build("v1", events=events)
    assert not any(e["event"].startswith("build.") for e in events.history)
    assert mutating(project.log) == []


def test_spec_without_build_pins_what_ecr_holds(project):
    first = project.build("v1")
    text = project.spec_path.read_text()
    project.spec_path.write_text(text[: text.index("  build:")] + text[text.index("platform:"):])

    assert project.build("v1").pinned == first.pinned
    with pytest.raises(InvalidInput, match="no image.build section"):
        project.build("v2")


# --- secrets ----------------------------------------------------------------------------------


def test_registry_password_never_appears_in_output_events_or_errors(project, aws, docker_engine):
    password = registry_password(aws)
    assert len(password) >= 8
    outputs: list[str] = []
    errors: list[str] = []

    for mode in ("plain", "json"):  # each run pushes a new tag, so each one logs in
        out = io.StringIO()
        events = Events(mode=mode, stream=out)
        project.build(mode, events=events)
        outputs += [out.getvalue(), json.dumps(events.history)]
        assert any(e["event"] == "registry.login" for e in events.history)

    # A real login failure: the engine cannot reach the registry.
    out = io.StringIO()
    with pytest.raises(DeploymentFailed) as failure:
        project.build("fail", events=Events(mode="json", stream=out), registry="127.0.0.1:1")
    assert "registry login to 127.0.0.1:1 failed" in failure.value.message
    errors.append(failure.value.message)
    outputs.append(out.getvalue())

    # An engine error that echoes the password back is still redacted (fake at our adapter boundary).
    class EchoingEngine(DockerEngine):
        def push(self, repository, tag, progress=lambda _: None):
            progress(f"denied: bad credentials {password}")
            raise PushFailed(f"unauthorized: {password} rejected")

    out = io.StringIO()
    project.set_page("echo")
    with pytest.raises(DeploymentFailed) as failure:
        project.build("echo", events=Events(stream=out), docker_client=EchoingEngine(docker_engine))
    assert "unauthorized: **** rejected" in failure.value.message
    errors.append(failure.value.message)
    outputs.append(out.getvalue())

    for text in outputs + errors:
        assert password not in text
        assert base64.b64encode(f"AWS:{password}".encode()).decode() not in text
    assert "****" in outputs[-1]


# --- the command ------------------------------------------------------------------------------


def test_build_command_prints_the_pinned_reference_last(project, aws, capsys):
    from click.testing import CliRunner

    from bluegreen.app.context import RunContext
    from bluegreen.cli.main import cli, main
    from bluegreen.cli.build import build

    args = [str(project.spec_path), "--image-tag", "cli", "--registry", project.registry]
    if "build" in cli.commands:  # registered: go through the real entry point and exit-code mapping
        code = main(["--endpoint-url", aws.endpoint_url, "build", *args])
        assert code == 0
        pinned_digest = project.ecr_digest("cli")
        assert capsys.readouterr().out.strip().splitlines()[-1].endswith(f"@{pinned_digest}")
        assert main(["build", str(project.spec_path), "--image-tag", "-bad"]) == 2
    else:
        runner = CliRunner()
        result = runner.invoke(build, args, obj=RunContext(endpoint_url=aws.endpoint_url), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        last = result.output.strip().splitlines()[-1]
        pinned_digest = project.ecr_digest("cli")
        assert last.endswith(f"@{pinned_digest}") and ".dkr.ecr.us-east-1.amazonaws.com/" in last
        assert project.registry_digest("cli")[0] == pinned_digest

        # JSON mode: every line is an event, the last one carries the pinned reference.
        result = runner.invoke(build, [args[0], "--image-tag", "json", "--registry", project.registry,
                                       "--events", "json"], obj=RunContext(endpoint_url=aws.endpoint_url))
        lines = [json.loads(line) for line in result.output.strip().splitlines()]
        assert result.exit_code == 0 and lines[-1]["event"] == "image.pinned"
        assert lines[-1]["pinned"].endswith(f"@{pinned_digest}")

        # A bad tag is invalid input (exit 2 through the CLI), raised before anything is contacted.
        result = runner.invoke(build, [str(project.spec_path), "--image-tag", "-bad"],
                               obj=RunContext(endpoint_url=aws.endpoint_url))
        assert isinstance(result.exception, InvalidInput) and result.exception.exit_code == 2
    assert pinned_digest.startswith("sha256:")


def test_importing_the_build_command_loads_no_sdk():
    code = ("import sys, bluegreen.cli.build, bluegreen.app.images; "
            "print(sorted(m for m in ('boto3', 'botocore', 'docker') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
