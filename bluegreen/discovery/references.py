"""Assembly of what a deploy depends on besides traffic and compute: the image (repository, tag,
digest), the gate alarms, the IAM roles task definitions name, secret references (existence only)
and the SSM parameters that carry an Auto Scaling group's image."""

from __future__ import annotations

from typing import AbstractSet as Set, Mapping

from bluegreen.discovery.gaps import Gaps
from bluegreen.discovery.names import image_parameter_names, role_name, secret_target, serving_image
from bluegreen.discovery.raw import RawState, image_key
from bluegreen.domain.snapshot import ImageInfo, TaskDefinition
from bluegreen.domain.spec import Spec


def image_parameters(spec: Spec, raw: RawState, gaps: Gaps) -> dict[str, str]:
    out = {}
    for name in dict.fromkeys(image_parameter_names(spec).values()):
        if name in raw.image_parameters:
            out[name] = raw.image_parameters[name]
        elif name in raw.image_parameter_notes:
            gaps.add("warning", f"ssm parameter {name}", raw.image_parameter_notes[name])
        else:
            gaps.missing("image parameter", name, f"ssm parameter {name}",
                         f"SSM parameter {name} (image delivery) not found", severity="warning")
    return out


def alarms(spec: Spec, raw: RawState, gaps: Gaps) -> dict[str, str]:
    out = {}
    for name in spec.health.alarms:
        if name in raw.alarms:
            out[name] = raw.alarms[name]
        else:
            gaps.missing("alarm", name, f"alarm {name}", f"alarm {name} not found")
    return out


def image(spec: Spec, raw: RawState, gaps: Gaps, image_tag: str | None) -> ImageInfo:
    """The repository, and the tag and digest of `image_tag` (else of the image the serving workload runs)."""
    repo = spec.image.repository
    found = raw.repositories.get(repo)
    if found is None:
        _missing_repository(spec, raw, gaps)
        return ImageInfo(repo, False, None, image_tag, None)
    mutability = found.get("imageTagMutability")  # absent when only an image of it was read
    immutable = mutability == "IMMUTABLE" if mutability else None
    if image_tag is not None:
        tag, digest = image_tag, None
    else:
        tag, digest, note = serving_image(spec, raw)
        if note:
            gaps.add("warning", f"image {repo}", note)
    key = ("imageDigest", digest) if digest else ("imageTag", tag) if tag else None
    if key is not None:
        shown = f"{repo}:{tag or digest}"
        detail = raw.images.get(image_key(repo, *key))
        error = raw.error("image", image_key(repo, *key))
        if detail is not None:
            digest = detail["imageDigest"]
            if tag is None and detail.get("imageTags"):  # pinned by digest: name a tag it carries
                tag = detail["imageTags"][0]
        elif error:
            gaps.add("error", f"image {shown}", f"could not read image {shown}: {error}", "unreadable")
        else:
            gaps.add("warning", f"image {shown}", f"image {shown} is not in ECR"
                     + (" (it must be pushed before it can be deployed)" if image_tag else ""))
    return ImageInfo(repo, True, found["repositoryUri"], tag, digest, immutable)


def _missing_repository(spec: Spec, raw: RawState, gaps: Gaps) -> None:
    repo = spec.image.repository
    error = raw.error("ecr repository", repo)
    if error:
        gaps.add("error", f"ecr repository {repo}", f"could not read ecr repository {repo}: {error}", "unreadable")
    elif spec.image.create_repository:
        gaps.add("warning", f"ecr repository {repo}",
                 f"ecr repository {repo} does not exist yet (create_repository: it will be created)", "missing")
    else:
        gaps.add("error", f"ecr repository {repo}",
                 f"ecr repository {repo} not found (set image.create_repository to create it)", "missing")


def roles(raw: RawState, gaps: Gaps, tds: Mapping[str, TaskDefinition], in_use: Set[str]) -> dict[str, bool]:
    """Role ARN -> exists, for the execution and task roles of the task definitions. A role in `in_use`
    (a running task uses it, `names.roles_in_use`) was not read: it exists as far as a deploy can tell."""
    out: dict[str, bool] = {}
    for td in tds.values():
        for field_name in ("executionRoleArn", "taskRoleArn"):
            role = td.body.get(field_name)
            if not role or role in out:
                continue
            if role in raw.roles:
                out[role] = raw.roles[role]
                if not out[role]:
                    gaps.add("error", f"role {role_name(role)}", f"role {role} ({field_name} of task definition "
                             f"{td.family}:{td.revision}) does not exist")
            elif role in in_use:
                out[role] = True
            else:
                gaps.note_error("role", role, f"role {role_name(role)}")
    return out


def secrets(spec: Spec, raw: RawState, gaps: Gaps, tds: Mapping[str, TaskDefinition]) -> dict[str, bool]:
    """Reference -> exists, for the spec's secrets and those the task definitions already name."""
    references: dict[str, str] = {}  # reference -> who names it
    for env_name, ref in (spec.ecs.secrets.items() if spec.ecs else ()):
        references.setdefault(ref, f"secret {env_name}")
    for td in tds.values():
        for container in td.body.get("containerDefinitions", []):
            for s in container.get("secrets", []):
                if s.get("valueFrom"):
                    references.setdefault(s["valueFrom"], f"secret {s.get('name')}")
    out: dict[str, bool] = {}
    for ref, subject in references.items():
        _, target = secret_target(ref)
        if target in raw.secrets:
            out[ref] = raw.secrets[target]
            if not out[ref]:
                why = raw.why_gone("secret", target)
                gaps.add("error", subject, f"{subject}: reference {ref} "
                         + (f"is unusable: {why}" if why else "does not exist"), "gone" if why else "missing")
        else:
            error = raw.error("secret", target)
            gaps.add("error", subject, f"could not check {subject} ({ref}): {error}"
                     if error else f"{subject}: reference {ref} was not checked", "unreadable")
    return out
