"""The spec's `image` and `platform` sections: an ECS service (one, or one per color) or Auto Scaling groups."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator

from bluegreen.domain.colors import Color
from bluegreen.domain.spec.base import SECRET_LOOKING, ColorPair, Model, Name, Port, SecretRef, one_of, union


# --- image -----------------------------------------------------------------------------------


class Build(Model):
    context: str = Field(".", description="Build context, relative to the spec file's directory.")
    dockerfile: str = "Dockerfile"
    args: dict[str, str] = Field(default_factory=dict, description="Build args (not for secrets).")
    target: str | None = None
    platform: str | None = Field(None, pattern=r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
    labels: dict[str, str] = Field(default_factory=dict)


class Image(Model):
    repository: str = Field(
        pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$",
        max_length=256,
        description="ECR repository name (not the registry host).",
    )

    @field_validator("repository")
    @classmethod
    def _name_not_address(cls, value: str) -> str:
        if re.search(r"\d{12}\.dkr\.ecr\.|amazonaws\.com", value):
            raise ValueError("give the repository name only (e.g. web), not the registry address")
        return value
    create_repository: bool = Field(False, description="Create the ECR repository when it is missing.")
    tag_immutable: bool = Field(True, description="ECR tag immutability (for a created repository); an immutable tag is never overwritten.")
    scan_on_push: bool = False
    build: Build | None = None


# --- platform: ECS -----------------------------------------------------------------------------


class _EcsCommon(Model):
    cluster: Name = Field(description="ECS cluster name.")
    task_definition_family: Name | None = Field(
        None, description="Defaults to the family of the live service's task definition."
    )
    container: Name = Field(description="The container that receives the new image.")
    desired_count: int | None = Field(None, ge=0, description="Defaults to blue's live count.")
    cpu: int | None = Field(None, ge=128)
    memory: int | None = Field(None, ge=128)
    environment: dict[str, str] = Field(default_factory=dict, description="Variables set on the container; others are kept.")
    secrets: dict[str, SecretRef] = Field(default_factory=dict, description="Name -> SSM parameter or Secrets Manager ARN (never a value).")

    @field_validator("environment")
    @classmethod
    def _no_literal_secrets(cls, env: dict[str, str]) -> dict[str, str]:
        leaked = sorted(k for k, v in env.items() if SECRET_LOOKING.search(k) and v)
        if leaked:
            raise ValueError(
                f"{', '.join(leaked)} looks like a secret; move it to `secrets:` as an SSM or "
                "Secrets Manager ARN (the value is not shown)"
            )
        return env


class EcsService(_EcsCommon):
    """One ECS service, updated in place (task-definition swap)."""

    service: Name = Field(description="The one service of an ECS task-definition swap.")

    @property
    def service_names(self) -> list[str]:
        return [self.service]


class EcsServices(_EcsCommon):
    """One ECS service per color (target-group swap, DNS cutover)."""

    services: ColorPair = Field(description="One ECS service per color.")

    @property
    def service_names(self) -> list[str]:
        return [self.services.blue, self.services.green]


Ecs = union((EcsService, "service"), (EcsServices, "services"),
            pick=one_of("service", "services", none="needs `service` (one service) or `services` (one per color)"))


# --- platform: Auto Scaling ----------------------------------------------------------------------


class Capacity(Model):
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    desired: int = Field(ge=0)


class _Delivery(Model):
    container_port: Port = 80
    host_port: Port = 80


class UserDataDelivery(_Delivery):
    """The image reference is written into the launch template's user data."""

    method: Literal["user-data"] = "user-data"


class SsmParameterDelivery(_Delivery):
    """Instances read the image reference from an SSM parameter (`{color}` allowed in its name)."""

    method: Literal["ssm-parameter"]
    parameter: str = Field(description="SSM parameter the instances read ({color} allowed).")

    def name_for(self, color: Color | str) -> str:
        return self.parameter.replace("{color}", str(color))


def _delivery_method(value: Any) -> str | None:
    method = value.get("method", "user-data") if isinstance(value, dict) else getattr(value, "method", "user-data")
    return f"{method}?" if method in ("user-data", "ssm-parameter") else None


ImageDelivery = Annotated[
    Union[Annotated[UserDataDelivery, Tag("user-data?")], Annotated[SsmParameterDelivery, Tag("ssm-parameter?")]],
    Discriminator(_delivery_method, custom_error_type="delivery_method",
                  custom_error_message="image_delivery.method must be user-data or ssm-parameter"),
]

ScalingProcess = Literal[
    "Launch", "Terminate", "AlarmNotification", "AZRebalance", "ScheduledActions",
    "HealthCheck", "ReplaceUnhealthy", "AddToLoadBalancer", "InstanceRefresh",
]


class _AsgCommon(Model):
    launch_template: Name = Field(description="Launch template whose new version carries the image.")
    capacity: Capacity | None = Field(None, description="Defaults to blue's live capacity.")
    image_delivery: ImageDelivery = Field(default_factory=UserDataDelivery)
    max_remaining_groups: int = Field(
        2, ge=1, description="Groups left after a deploy: 2 keeps the old one at 0; 1 deletes it at finalize "
                             "(the next deploy recreates it as a copy of the live group).")
    suspend_processes: list[ScalingProcess] = Field(
        default_factory=lambda: ["AlarmNotification", "AZRebalance", "ScheduledActions"])

    def group_name(self, color: Color | str) -> str:  # pragma: no cover - each variant overrides
        raise NotImplementedError


class AsgGroups(_AsgCommon):
    groups: ColorPair

    def group_name(self, color: Color | str) -> str:
        return self.groups.of(color)


class AsgNamePattern(_AsgCommon):
    name_pattern: str = Field(description="e.g. web-{color}")

    @field_validator("name_pattern")
    @classmethod
    def _has_color(cls, value: str) -> str:
        if "{color}" not in value:
            raise ValueError("must contain {color}, e.g. web-{color}")
        return value

    def group_name(self, color: Color | str) -> str:
        return self.name_pattern.replace("{color}", str(color))


Asg = union((AsgGroups, "groups"), (AsgNamePattern, "name_pattern"),
            pick=one_of("groups", "name_pattern", none="needs `groups` (blue, green) or a `name_pattern` with {color}"))


class EcsPlatform(Model):
    ecs: Ecs


class AsgPlatform(Model):
    asg: Asg


Platform = union((EcsPlatform, "ecs"), (AsgPlatform, "asg"),
                 pick=one_of("ecs", "asg", none="give `ecs` (ECS services) or `asg` (Auto Scaling groups)"))


