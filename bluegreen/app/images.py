"""Build the service's image with the Docker engine, push it to ECR, and pin it by digest.

Order of work, chosen so that a bad build never changes anything in AWS:

1. Local checks (tag syntax, build context, Dockerfile): `InvalidInput`, nothing contacted.
2. Read-only ECR look-ups: the repository (missing and `create_repository: false` -> `InvalidInput`)
   and what the tag holds now (its digest, and the image ID inside it from the manifest's config).
3. Build (progress as `build.progress` events). An engine error -> `DeploymentFailed` carrying the
   engine's own message; at this point ECR has only been read.
4. Ensure the repository (created with the spec's tag mutability and scan-on-push; an existing one is
   left alone), GetAuthorizationToken (password registered with `events.add_secret`), log the engine
   in, tag, push (`push.progress`), and confirm with DescribeImages that the tag resolves to the
   pushed digest. The result is `repository_uri@sha256:...`.

When the tag already exists in ECR (the contract: same digest -> skip and say so; different digest
and immutable tags -> refuse with exit 2):

* The image ID of a build equals the config digest inside the pushed manifest, so a fresh build is
  compared with ECR's image *without pushing*. Equal -> the push is skipped (`image.unchanged`).
  Different and immutable -> `InvalidInput` "tag X already holds sha256:A in ECR (immutable); the
  build produced sha256:B" (B is the built image ID, A the manifest digest ECR holds).
  Different and mutable -> the push goes ahead and the tag moves (`image.moving`).
* Immutable tag, and this engine has no image under that tag (a fresh CI agent re-running the deploy
  of a commit): the tag is final, so the build is skipped and ECR's digest is reported
  (`image.final`). Rebuilding there would cost minutes and, for builds that are not bit-for-bit
  reproducible, refuse a legitimate re-run. Where the engine does have the tag (it built it before),
  the build is redone - its cache makes that take well under a second - because only a fresh build
  shows whether the source still produces the same image; trusting the old local image would
  silently report "same" after the source changed.
* The local tag `<push host>/<repository>:<tag>` is only set on an image that is in ECR under that
  tag (pushed or found equal), so it always mirrors ECR; a refused build stays untagged.

Registry override (local use and tests): moto's ECR API is not a real registry. With
`registry="127.0.0.1:5000"` (or env `BLUEGREEN_REGISTRY`) the image bytes go to that registry while
the ECR API is still used for the repository, the auth token and the digest record: after the push,
the exact manifest bytes are fetched from the registry by digest and recorded with ECR's PutImage
(giving the digest explicitly), so ECR's digest equals the registry's. Against real ECR (no
override) the push itself creates the ECR record and PutImage is never called; everything else is
the same code path. `repository_uri`/`pinned` always name ECR; `registry_pinned` names where the
bytes are (the same string without the override).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bluegreen.errors import DeploymentFailed, InvalidInput
from bluegreen.events import Events
from bluegreen.domain.spec import Spec

if TYPE_CHECKING:
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.adapters.docker_engine import DockerEngine, PushResult
    from bluegreen.adapters.ecr import Ecr, EcrImage, Repository

REGISTRY_ENV = "BLUEGREEN_REGISTRY"
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # Docker's (and ECR's) tag grammar


@dataclass(frozen=True)
class ImageResult:
    repository: str
    repository_uri: str
    tag: str
    digest: str
    pinned: str  # repository_uri@sha256:...
    built: bool
    pushed: bool
    layers_uploaded: int
    seconds: float
    image_id: str | None = None  # the local build's ID (None when the build was skipped)
    registry_pinned: str = ""  # where the bytes are: the override registry, else == pinned


def build_and_push(aws: "Aws", spec: Spec, spec_path: str | Path, tag: str, *, events: Events,
                   registry: str | None = None, docker_client: Any = None,
                   git_commit: str | None = None) -> ImageResult:
    """Make ECR hold `tag` for the spec's image and return it pinned by digest (see module doc)."""
    job = _Job(spec, Path(spec_path), tag, events, registry or os.environ.get(REGISTRY_ENV) or None, git_commit)
    job.check_inputs()
    job.connect(aws)
    repo, existing = job.look_up()
    if spec.image.build is None:
        return job.prebuilt(repo, existing)
    from bluegreen.adapters.docker_engine import EngineError

    try:
        engine = _engine(docker_client)
        try:
            return job.run(engine, repo, existing)
        finally:
            engine.close()
    except EngineError as exc:  # the steps report their own failures; this is the engine itself
        job.fail("image.failed", f"Docker engine: {exc}")


def _engine(docker_client: Any) -> "DockerEngine":
    from bluegreen.adapters.docker_engine import DockerEngine

    if isinstance(docker_client, DockerEngine):
        return docker_client
    return DockerEngine(docker_client) if docker_client is not None else DockerEngine.from_env()


class _Job:
    """One build_and_push: the inputs plus the steps, each short, in the order of the module doc."""

    ecr: "Ecr"

    def __init__(self, spec: Spec, spec_path: Path, tag: str, events: Events, registry: str | None,
                 git_commit: str | None) -> None:
        self.spec, self.spec_path, self.tag, self.events = spec, spec_path, tag, events
        self.registry, self.git_commit = registry, git_commit
        self.name = spec.image.repository
        self.started = time.monotonic()

    def connect(self, aws: "Aws") -> None:
        from bluegreen.adapters.ecr import Ecr

        self.ecr = Ecr(aws)  # after the local checks: a bad tag is reported without loading boto3

    # --- 1. local checks and read-only look-ups --------------------------------------------

    def check_inputs(self) -> None:
        if not _TAG.match(self.tag):
            raise InvalidInput(f"image tag {self.tag!r} is not a valid tag (letters, digits, _ . -; "
                               "at most 128; not starting with . or -)")
        build = self.spec.image.build
        if build is None:
            return
        if not self.context.is_dir():
            raise InvalidInput(f"{self.spec_path}: image.build.context: {self.context} is not a directory")
        if not (self.context / build.dockerfile).is_file():
            raise InvalidInput(f"{self.spec_path}: image.build.dockerfile: "
                               f"{self.context / build.dockerfile} does not exist")

    @property
    def context(self) -> Path:
        assert self.spec.image.build is not None
        return (self.spec_path.parent / self.spec.image.build.context).resolve()

    def look_up(self) -> tuple["Repository | None", "EcrImage | None"]:
        repo = self.ecr.repository(self.name)
        if repo is None and not self.spec.image.create_repository:
            raise InvalidInput(f"ECR repository {self.name} does not exist; create it or set "
                               "image.create_repository: true")
        existing = self.ecr.image(self.name, self.tag) if repo else None
        if existing:
            mode = "immutable" if repo and repo.immutable else "mutable"
            self.events.emit("image.exists", f"ECR tag {self.name}:{self.tag} already holds {existing.digest} "
                             f"({mode})", repository=self.name, tag=self.tag, digest=existing.digest)
        return repo, existing

    def prebuilt(self, repo: "Repository | None", existing: "EcrImage | None") -> ImageResult:
        """No build section: the tag must already be in ECR; pin what it holds."""
        if repo is None or existing is None:
            raise InvalidInput(f"tag {self.tag} is not in ECR repository {self.name}, and the spec has "
                               "no image.build section to build it from")
        return self.result(repo, existing.digest, built=False, pushed=False)

    # --- 2. build and compare ---------------------------------------------------------------

    def run(self, engine: "DockerEngine", repo: "Repository | None", existing: "EcrImage | None") -> ImageResult:
        # An engine that never built this tag (a CI re-run on a fresh agent): the immutable tag is
        # final. One that did rebuilds from cache, which is cheap and shows whether the source changed.
        if repo and existing and repo.immutable and engine.inspect(self.local_ref(repo)) is None:
            self.events.emit("image.final", f"tag {self.tag} is immutable and already in ECR: using "
                             f"{existing.digest}; build and push skipped", digest=existing.digest)
            return self.result(repo, existing.digest, built=False, pushed=False)
        image_id = self.build(engine)
        if repo and existing:
            if existing.config_digest == image_id:  # the image ID is the config digest in the manifest
                engine.tag(image_id, self.push_repository(repo), self.tag)  # local tag mirrors ECR
                self.events.emit("image.unchanged", f"tag {self.tag} already holds this image in ECR "
                                 f"({existing.digest}): push skipped", digest=existing.digest)
                return self.result(repo, existing.digest, built=True, pushed=False, image_id=image_id)
            self.refuse_or_move(repo, existing, image_id)
        return self.push(engine, image_id)

    def build(self, engine: "DockerEngine") -> str:
        from bluegreen.adapters.docker_engine import BuildFailed

        build = self.spec.image.build
        assert build is not None
        self.events.emit("build.started", f"building {self.name}:{self.tag} from {self.context} "
                         f"({build.dockerfile})", context=str(self.context))
        started = time.monotonic()
        try:
            image_id = engine.build(str(self.context), dockerfile=build.dockerfile, buildargs=dict(build.args),
                                    labels=self.labels(), target=build.target, platform=build.platform,
                                    progress=lambda line: self.events.emit("build.progress", line))
        except BuildFailed as exc:
            self.fail("build.failed", f"image build failed: {exc}")
        seconds = round(time.monotonic() - started, 3)
        self.events.emit("build.done", f"built {image_id} in {seconds}s", image_id=image_id, seconds=seconds)
        return image_id

    def labels(self) -> dict[str, str]:
        assert self.spec.image.build is not None
        # The spec's labels may override the revision; the spec label always names the service.
        revision = {"org.opencontainers.image.revision": self.git_commit} if self.git_commit else {}
        return {**revision, **self.spec.image.build.labels, "dev.bluegreen.spec": self.spec.service}

    def refuse_or_move(self, repo: "Repository", existing: "EcrImage", image_id: str) -> None:
        if repo.immutable:
            self.events.emit("image.refused", f"tag {self.tag} is immutable and holds another image",
                             digest=existing.digest, image_id=image_id)
            raise InvalidInput(f"tag {self.tag} already holds {existing.digest} in ECR (immutable); the build "
                               f"produced {image_id} (ECR's image is {existing.config_digest or 'unknown'}): "
                               "use a new tag")
        self.events.emit("image.moving", f"mutable tag {self.tag} moves from {existing.digest} to this build",
                         digest=existing.digest, image_id=image_id)

    # --- 3. the only mutations: repository, login, push, record ---------------------------

    def push(self, engine: "DockerEngine", image_id: str) -> ImageResult:
        repo = self.ensure_repository()
        self.login(engine, repo)
        target = self.push_repository(repo)
        engine.tag(image_id, target, self.tag)
        pushed = self.push_bytes(engine, target)
        if self.registry:
            self.record(pushed.digest)
        self.confirm(pushed.digest)
        return self.result(repo, pushed.digest, built=True, pushed=True, image_id=image_id,
                           layers_uploaded=pushed.layers_uploaded)

    def ensure_repository(self) -> "Repository":
        image = self.spec.image
        repo = self.ecr.ensure_repository(self.name, immutable=image.tag_immutable, scan_on_push=image.scan_on_push)
        if repo.created:
            self.events.emit("repository.created", f"created ECR repository {self.name} "
                             f"({'immutable' if repo.immutable else 'mutable'} tags, scan on push "
                             f"{'on' if image.scan_on_push else 'off'})", repository_uri=repo.uri)
        return repo

    def login(self, engine: "DockerEngine", repo: "Repository") -> None:
        from bluegreen.adapters.docker_engine import LoginFailed

        auth = self.ecr.authorization()
        self.events.add_secret(auth.password)
        self.events.add_secret(auth.token)
        host = self.registry or auth.endpoint or repo.registry
        try:
            engine.login(host, auth.username, auth.password)
        except LoginFailed as exc:
            self.fail("registry.failed", f"registry login to {host} failed: {exc}")
        self.events.emit("registry.login", f"logged in to {host} as {auth.username}", registry=host)

    def push_bytes(self, engine: "DockerEngine", target: str) -> "PushResult":
        from bluegreen.adapters.docker_engine import PushFailed

        self.events.emit("push.started", f"pushing {target}:{self.tag}")
        started = time.monotonic()
        try:
            pushed = engine.push(target, self.tag, progress=lambda line: self.events.emit("push.progress", line))
        except PushFailed as exc:
            self.fail("push.failed", f"push of {target}:{self.tag} failed: {exc}")
        seconds = round(time.monotonic() - started, 3)
        self.events.emit("push.done", f"pushed {pushed.digest} in {seconds}s: {pushed.layers_uploaded} layer(s) "
                         f"uploaded, {pushed.layers_reused} already there", digest=pushed.digest, seconds=seconds,
                         layers_uploaded=pushed.layers_uploaded, layers_reused=pushed.layers_reused)
        return pushed

    def record(self, digest: str) -> None:
        """Registry override only: give ECR the very manifest the registry holds (see module doc)."""
        from bluegreen.adapters.docker_engine import EngineError, fetch_manifest
        from bluegreen.adapters.ecr import TagTaken

        assert self.registry is not None
        try:
            manifest = fetch_manifest(self.registry, self.name, digest)
            self.ecr.put_image(self.name, self.tag, manifest.body, manifest.media_type, manifest.digest)
        except (EngineError, TagTaken) as exc:
            self.fail("image.record_failed", f"recording {digest} in ECR failed: {exc}")
        self.events.emit("image.recorded", f"recorded {digest} under {self.name}:{self.tag} in ECR "
                         f"(bytes in {self.registry})", digest=digest)

    def confirm(self, digest: str) -> None:
        found = self.ecr.describe_image(self.name, self.tag)
        if found != digest:
            self.fail("image.mismatch", f"ECR tag {self.name}:{self.tag} resolves to {found}, "
                      f"not the pushed {digest}")

    # --- helpers ----------------------------------------------------------------------------

    def push_repository(self, repo: "Repository") -> str:
        return f"{self.registry or repo.registry}/{self.name}"

    def local_ref(self, repo: "Repository") -> str:
        return f"{self.push_repository(repo)}:{self.tag}"

    def fail(self, event: str, message: str) -> NoReturn:
        message = self.events.redact(message)  # engine/registry text may echo anything back
        self.events.emit(event, message)
        raise DeploymentFailed(message)

    def result(self, repo: "Repository", digest: str, *, built: bool, pushed: bool, image_id: str | None = None,
               layers_uploaded: int = 0) -> ImageResult:
        pinned = f"{repo.uri}@{digest}"
        self.events.emit("image.pinned", f"image pinned: {pinned}", pinned=pinned, digest=digest,
                         built=built, pushed=pushed, layers_uploaded=layers_uploaded)
        return ImageResult(self.name, repo.uri, self.tag, digest, pinned, built, pushed, layers_uploaded,
                           round(time.monotonic() - self.started, 3), image_id,
                           f"{self.push_repository(repo)}@{digest}")
