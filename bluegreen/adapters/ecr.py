"""ECR through its API: repositories, registry credentials, and which digest a tag holds.

Every call goes through `Aws.client("ecr")`, so it is recorded in `aws.log` (the read-only proof
and the calls-per-deploy benchmark count these).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluegreen.adapters.aws.session import Aws

_MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
]


class TagTaken(Exception):
    """PutImage refused: the (immutable) tag already holds another image."""


@dataclass(frozen=True)
class Repository:
    name: str
    uri: str  # ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME
    immutable: bool
    created: bool = False

    @property
    def registry(self) -> str:
        return self.uri.split("/", 1)[0]


@dataclass(frozen=True)
class RegistryAuth:
    username: str
    # repr=False keeps the secrets out of tracebacks and debug prints.
    password: str = field(repr=False)
    endpoint: str  # host only, e.g. ACCOUNT.dkr.ecr.REGION.amazonaws.com
    token: str = field(repr=False)  # base64("AWS:password") as returned: just as secret


@dataclass(frozen=True)
class EcrImage:
    digest: str  # the manifest digest the tag resolves to
    config_digest: str | None  # the image ID; None for an image index (no single config)


class Ecr:
    def __init__(self, aws: "Aws") -> None:
        self.client = aws.client("ecr")

    def repository(self, name: str) -> Repository | None:
        try:
            [repo] = self.client.describe_repositories(repositoryNames=[name])["repositories"]
        except self.client.exceptions.RepositoryNotFoundException:
            return None
        return _repository(repo)

    def ensure_repository(self, name: str, *, immutable: bool, scan_on_push: bool) -> Repository:
        """Create the repository with the spec's settings; an existing one is left exactly as it is."""
        if (existing := self.repository(name)) is not None:
            return existing
        try:
            repo = self.client.create_repository(
                repositoryName=name,
                imageTagMutability="IMMUTABLE" if immutable else "MUTABLE",
                imageScanningConfiguration={"scanOnPush": scan_on_push},
            )["repository"]
        except self.client.exceptions.RepositoryAlreadyExistsException:
            # Another job created it between our describe and create: theirs stands.
            return self.repository(name)  # type: ignore[return-value]
        return _repository(repo, created=True)

    def repository_uri(self, name: str) -> str | None:
        repo = self.repository(name)
        return repo.uri if repo else None

    def authorization(self) -> RegistryAuth:
        data = self.client.get_authorization_token()["authorizationData"][0]
        token = data["authorizationToken"]
        username, _, password = base64.b64decode(token).decode().partition(":")
        endpoint = data["proxyEndpoint"].split("://", 1)[-1].rstrip("/")
        return RegistryAuth(username, password, endpoint, token)

    def describe_image(self, repository: str, tag: str) -> str | None:
        """The digest `tag` resolves to, or None when the tag (or the repository) does not exist."""
        try:
            [image] = self.client.describe_images(repositoryName=repository,
                                                  imageIds=[{"imageTag": tag}])["imageDetails"]
        except (self.client.exceptions.ImageNotFoundException,
                self.client.exceptions.RepositoryNotFoundException):
            return None
        return image["imageDigest"]

    def tags_of(self, repository: str, digest: str) -> list[str]:
        """The tags that point at `digest` (for rolling back to a digest recorded in history)."""
        try:
            [image] = self.client.describe_images(repositoryName=repository,
                                                  imageIds=[{"imageDigest": digest}])["imageDetails"]
        except (self.client.exceptions.ImageNotFoundException,
                self.client.exceptions.RepositoryNotFoundException):
            return []
        return list(image.get("imageTags", []))

    def image(self, repository: str, tag: str) -> EcrImage | None:
        """The tag's digest and the image ID inside it (to compare with a local build without pushing)."""
        if (digest := self.describe_image(repository, tag)) is None:
            return None
        found = self.client.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": digest}],
                                            acceptedMediaTypes=_MANIFEST_TYPES)["images"]
        return EcrImage(digest, _config_digest(found[0]["imageManifest"]) if found else None)

    def put_image(self, repository: str, tag: str, manifest: bytes, media_type: str, digest: str) -> str:
        """Record a manifest under `tag` (only for the loopback-registry override) and return its digest.

        The digest is passed explicitly: real ECR checks it against the manifest bytes, and moto would
        otherwise make one up from the layer list, so ECR and the registry would disagree.
        """
        errors = self.client.exceptions
        try:
            image = self.client.put_image(repositoryName=repository, imageTag=tag, imageDigest=digest,
                                          imageManifest=manifest.decode("utf-8"),
                                          imageManifestMediaType=media_type)["image"]
        except (errors.ImageAlreadyExistsException, errors.ImageTagAlreadyExistsException) as exc:
            # Same manifest under the same tag is a no-op; anything else is a taken tag.
            current = self.describe_image(repository, tag)
            if current == digest:
                return digest
            raise TagTaken(f"tag {tag} already holds {current} in ECR repository {repository}") from exc
        return image["imageId"]["imageDigest"]


def _repository(repo: dict[str, Any], *, created: bool = False) -> Repository:
    return Repository(repo["repositoryName"], repo["repositoryUri"],
                      repo.get("imageTagMutability", "MUTABLE").startswith("IMMUTABLE"), created)


def _config_digest(manifest_text: str) -> str | None:
    try:
        return json.loads(manifest_text).get("config", {}).get("digest")
    except (ValueError, AttributeError):
        return None
