"""The Docker engine (through the docker SDK) and a registry's manifest endpoint, thinly wrapped.

Only this module talks to the engine. Every failure becomes an `EngineError` whose message is the
engine's (or registry's) own text, so callers can show the user exactly what went wrong. Progress is
handed to a callback one readable line at a time; nothing here prints or logs, and registry passwords
are only ever passed to the engine, never put in a message.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

Progress = Callable[[str], None]

# The manifest types a single-platform push produces (classic builder: Docker v2; BuildKit: OCI).
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
_DIGEST_STATUS = re.compile(r"digest: (sha256:[0-9a-f]{64})")
_BUILT_LINE = re.compile(r"^Successfully built ([0-9a-f]{12,64})$")
# Push statuses that mean the registry already had the layer: no bytes were uploaded.
_REUSED = ("Layer already exists", "Mounted from", "Already exists")
# Per-chunk byte counters; passing them on would flood CI logs with one line per 512 bytes.
_CHATTY = {"Pushing", "Preparing", "Waiting"}
_LOOPBACK = ("127.", "localhost", "[::1]")


class EngineError(Exception):
    """The engine or registry refused; `str()` is its own message."""


class BuildFailed(EngineError):
    pass


class LoginFailed(EngineError):
    pass


class PushFailed(EngineError):
    pass


@dataclass(frozen=True)
class LocalImage:
    id: str
    repo_digests: tuple[str, ...]


@dataclass(frozen=True)
class PushResult:
    digest: str
    layers_uploaded: int
    layers_reused: int


@dataclass(frozen=True)
class Manifest:
    body: bytes
    media_type: str
    digest: str  # the registry's Docker-Content-Digest, checked against sha256(body)


class DockerEngine:
    """One engine connection; `from_env` honours DOCKER_HOST like the docker CLI."""

    def __init__(self, client: Any) -> None:
        self.client = client  # a docker.DockerClient
        self._owned = False
        self._auth: dict[str, dict[str, str]] = {}  # registry host -> credentials, for push

    @classmethod
    def from_env(cls, timeout: int = 900) -> "DockerEngine":
        import docker

        # A long read timeout: a build step may print nothing for minutes.
        with _engine_errors(EngineError):
            engine = cls(docker.DockerClient.from_env(timeout=timeout))
        engine._owned = True
        return engine

    def close(self) -> None:
        if self._owned:
            self.client.close()

    @classmethod
    def unreachable_reason(cls) -> str | None:
        """Why no engine can be used here (None when one answers), without raising."""
        try:
            engine = cls.from_env(timeout=5)
        except Exception as error:  # no SDK, no socket, refused: any reason counts
            return f"no Docker engine reachable ({type(error).__name__})"
        try:
            engine.client.ping()
        except Exception as error:
            return f"no Docker engine reachable ({type(error).__name__})"
        finally:
            engine.close()
        return None

    def build(self, context: str, *, dockerfile: str, buildargs: dict[str, str], labels: dict[str, str],
              target: str | None = None, platform: str | None = None, tag: str | None = None,
              progress: Progress = lambda _: None) -> str:
        """Build and return the image ID; raise BuildFailed with the engine's message."""
        kwargs = dict(path=context, dockerfile=dockerfile, buildargs=buildargs or None, labels=labels or None,
                      target=target, platform=platform, tag=tag, decode=True,
                      rm=True, forcerm=True, pull=False)  # pull=False: never reach out for a newer base
        with _engine_errors(BuildFailed):
            return _read_build(self.client.api.build(**kwargs), progress)

    def tag(self, image_id: str, repository: str, tag: str) -> None:
        with _engine_errors(PushFailed):
            self.client.api.tag(image_id, repository, tag, force=True)

    def login(self, registry: str, username: str, password: str) -> None:
        """Have the engine check the credentials, and keep them (in memory only) for pushes."""
        with _engine_errors(LoginFailed):
            # reauth: ECR passwords change every 12 h, so never trust a cached entry.
            self.client.api.login(username=username, password=password, registry=registry, reauth=True)
        self._auth[registry] = {"username": username, "password": password}

    def push(self, repository: str, tag: str, progress: Progress = lambda _: None) -> PushResult:
        # Explicit credentials: otherwise the SDK prefers a credential helper named in
        # ~/.docker/config.json (credsStore) over the login above.
        auth = self._auth.get(repository.split("/", 1)[0])
        with _engine_errors(PushFailed):
            chunks = self.client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth)
            return _read_push(chunks, progress)

    def inspect(self, reference: str) -> LocalImage | None:
        import docker.errors

        with _engine_errors(EngineError):
            try:
                attrs = self.client.api.inspect_image(reference)
            except docker.errors.ImageNotFound:
                return None
        return LocalImage(attrs["Id"], tuple(attrs.get("RepoDigests") or ()))


def _read_build(chunks: Iterable[dict[str, Any]], progress: Progress) -> str:
    image_id: str | None = None
    pending = ""  # the engine splits a line across chunks ("Step 1/3 : FROM x" then "\n")
    for chunk in chunks:
        if "error" in chunk or "errorDetail" in chunk:
            raise BuildFailed(_chunk_error(chunk))
        if "ID" in (chunk.get("aux") or {}):
            image_id = chunk["aux"]["ID"]
        pending += chunk.get("stream", "")
        *lines, pending = pending.split("\n")
        for line in filter(None, (raw.strip() for raw in lines)):
            progress(line)
            if image_id is None and (match := _BUILT_LINE.match(line)):
                image_id = match.group(1)  # engines without the aux record
    if pending.strip():
        progress(pending.strip())
    if image_id is None:
        raise BuildFailed("the engine finished the build without reporting an image ID")
    return image_id


def _read_push(chunks: Iterable[dict[str, Any]], progress: Progress) -> PushResult:
    digest: str | None = None
    uploaded: set[str] = set()
    reused: set[str] = set()
    for chunk in chunks:
        if "error" in chunk or "errorDetail" in chunk:
            raise PushFailed(_chunk_error(chunk))
        digest = (chunk.get("aux") or {}).get("Digest") or digest
        status, layer = chunk.get("status", ""), chunk.get("id")
        if layer and status == "Pushed":
            uploaded.add(layer)
        elif layer and status.startswith(_REUSED):
            reused.add(layer)
        if digest is None and (match := _DIGEST_STATUS.search(status)):
            digest = match.group(1)
        if status and status not in _CHATTY:
            progress(f"{layer}: {status}" if layer else status)
    if digest is None:
        raise PushFailed("the engine finished the push without reporting a digest")
    return PushResult(digest, len(uploaded), len(reused - uploaded))


def _chunk_error(chunk: dict[str, Any]) -> str:
    detail = chunk.get("errorDetail") or {}
    return str(detail.get("message") or chunk.get("error") or chunk).strip()


@contextmanager
def _engine_errors(kind: type[EngineError]) -> Iterator[None]:
    """Turn the SDK's exceptions into `kind`, keeping only the engine's explanation."""
    import docker.errors
    import requests

    try:
        yield
    except EngineError:
        raise
    except docker.errors.APIError as exc:
        raise kind(str(exc.explanation or exc).strip()) from None
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise kind(f"cannot reach the Docker engine: {exc}") from None


def fetch_manifest(registry: str, repository: str, reference: str, *, timeout: float = 30) -> Manifest:
    """The manifest exactly as the registry stores it (its bytes define the digest).

    Only for registries that need no token (the loopback registry); ECR itself is reached through
    its API. Plain HTTP for loopback hosts, as the engine itself does for them.
    """
    scheme = "http" if registry.startswith(_LOOPBACK) else "https"
    request = urllib.request.Request(f"{scheme}://{registry}/v2/{repository}/manifests/{reference}",
                                     headers={"Accept": ", ".join(MANIFEST_TYPES)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            digest = response.headers.get("Docker-Content-Digest", "")
    except urllib.error.HTTPError as exc:
        raise EngineError(f"registry {registry} answered {exc.code} for {repository}:{reference}") from None
    except OSError as exc:
        raise EngineError(f"cannot reach registry {registry}: {exc}") from None
    actual = "sha256:" + hashlib.sha256(body).hexdigest()
    if digest and digest != actual:
        raise EngineError(f"registry {registry} sent a manifest whose sha256 ({actual}) is not its digest {digest}")
    return Manifest(body, media_type, digest or actual)
