"""The building blocks of the spec models: frozen models, names, and unions chosen by which key is present."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Callable, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

from bluegreen.domain.colors import Color

SCHEMA_URL = "https://bluegreen.dev/schema/spec-v1.json"


class Strategy(StrEnum):
    AUTO = "auto"
    ECS_TARGET_GROUPS = "ecs-target-group-swap"
    ECS_TASK_DEFINITION = "ecs-task-definition-swap"
    ASG_SWAP = "asg-swap"
    DNS_CUTOVER = "dns-cutover"
    ECS_NATIVE = "ecs-native"  # ECS's built-in blue/green moves the traffic; bluegreen follows and gates it
    ECS_CODEDEPLOY = "ecs-codedeploy"  # CodeDeploy moves the traffic of a CODE_DEPLOY service


_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(ssm:[a-z0-9-]+:\d{12}:parameter/.+|secretsmanager:[a-z0-9-]+:\d{12}:secret:.+)$"
)
SECRET_LOOKING = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)

ONE_OF_ERROR = "one_of"  # the error type of a union whose keys are missing or several (see `one_of`)


def _secret_reference(value: str) -> str:
    if not _SECRET_ARN.match(value):
        raise ValueError(
            "must be a reference (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or "
            "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), never a literal value"
        )
    return value


SecretRef = Annotated[str, AfterValidator(_secret_reference)]
Name = Annotated[str, Field(pattern=_NAME)]
Port = Annotated[int, Field(ge=1, le=65535)]
Percent = Annotated[int, Field(ge=1, le=100)]


def one_of(*keys: str, none: str, default: str | None = None) -> Callable[[Any], str | None]:
    """A discriminator picking the variant by which of `keys` is present (exactly one must be).

    With several keys (or none, and no `default`) it returns None, and pydantic raises the error
    type ONE_OF_ERROR; its context carries the keys and the message for "none", so the loader can
    say which were found and point at the line of the extra one.
    """
    def pick(value: Any) -> str | None:
        if isinstance(value, BaseModel):
            return next(k for k in keys if getattr(value, k, None) is not None)
        if not isinstance(value, dict):
            return keys[0]  # not a section: the first variant reports "expected a section of fields"
        present = [k for k in keys if k in value]
        if len(present) == 1:
            return present[0]
        return default if not present else None

    pick.keys = keys  # type: ignore[attr-defined]
    pick.none = none  # type: ignore[attr-defined]
    return pick


def union(*variants: tuple[type, str], pick: Callable[[Any], str | None]) -> Any:
    """`Annotated[A | B, Discriminator(...)]`: each variant chosen by the key `pick` finds.

    Tags are `<key>?` (not identifiers), so the loader can tell them from field names in a location.
    """
    keys: tuple[str, ...] = getattr(pick, "keys")
    listed = " or ".join(f"`{k}`" for k in keys)

    def tag(value: Any) -> str | None:
        key = pick(value)
        return None if key is None else f"{key}?"

    return Annotated[
        Union[tuple(Annotated[model, Tag(f"{key}?")] for model, key in variants)],  # type: ignore[misc]
        Discriminator(tag, custom_error_type=ONE_OF_ERROR,
                      custom_error_message=f"give exactly one of {listed}",
                      custom_error_context={"keys": ",".join(keys), "none": getattr(pick, "none")}),
    ]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColorPair(Model):
    """One name per color: the two environments traffic moves between."""

    blue: Name
    green: Name

    def of(self, color: Color | str) -> str:
        return self.blue if color == Color.BLUE else self.green


