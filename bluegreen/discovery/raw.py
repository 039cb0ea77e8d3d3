"""`RawState`: every AWS answer discovery read for the specs of one region, as plain data.

The AWS adapter (`bluegreen.adapters.aws.reads`) fills it; the pure assembly
(`bluegreen.discovery.assemble`) turns it into one `Snapshot` per spec. Nothing here knows boto3:
the values are the answers' dicts as botocore parsed them, keyed for lookup, and every key is a
string so the whole state round-trips through JSON (`to_json` / `from_json`), which is how the
assembly tests replay recorded answers without an emulator.

What a missing entry means is told apart by two more maps, both `kind -> key -> text`:
`errors` (the call that should have read it failed: "DescribeTargetHealth failed: AccessDenied: ...")
and `gone` (it exists but cannot be used: a deleted ECS service, a secret scheduled for deletion).
Absent from every map: AWS said it does not exist.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

FORMAT = 1  # of `to_json`; bump it when a field changes meaning

Answer = dict[str, Any]  # one AWS answer item, as botocore parsed it


def service_key(cluster: str, name: str) -> str:
    return f"{cluster}/{name}"


def scaling_key(cluster: str, name: str) -> str:
    """Application Auto Scaling's ResourceId of an ECS service: `service/<cluster name>/<service name>`."""
    return f"service/{cluster.rsplit('/', 1)[-1]}/{name}"


def image_key(repository: str, kind: str, value: str) -> str:
    """`repo:imageTag:v1` or `repo:imageDigest:sha256:...` (repository names never hold a colon)."""
    return f"{repository}:{kind}:{value}"


@dataclass
class RawState:
    """What was read, keyed for lookup (see each field), plus `errors` and `gone` per resource."""

    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> key -> the failed call
    gone: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> key -> why it is not usable
    services: dict[str, Answer] = field(default_factory=dict)  # "cluster/name" -> DescribeServices item
    scalable_targets: dict[str, Answer] = field(default_factory=dict)  # `scaling_key` -> ScalableTargets item
    load_balancers: dict[str, Answer] = field(default_factory=dict)  # by name
    target_groups: dict[str, Answer] = field(default_factory=dict)  # by ARN
    tg_attributes: dict[str, dict[str, str]] = field(default_factory=dict)  # TG ARN -> attribute -> value
    tg_health: dict[str, list[Answer]] = field(default_factory=dict)  # TG ARN -> TargetHealthDescriptions
    tg_host_counts: dict[str, list[int]] = field(default_factory=dict)  # TG ARN -> [healthy, unhealthy] (CloudWatch)
    listeners: dict[str, list[Answer]] = field(default_factory=dict)  # by LB ARN
    rules: dict[str, list[Answer]] = field(default_factory=dict)  # by listener ARN
    rules_by_arn: dict[str, Answer] = field(default_factory=dict)  # ECS native blue/green's listener rules
    listeners_by_arn: dict[str, Answer] = field(default_factory=dict)  # CodeDeploy deployment groups' listeners
    codedeploy_groups: dict[str, Answer] = field(default_factory=dict)  # "cluster/name" -> deploymentGroupInfo
    task_definitions: dict[str, Answer] = field(default_factory=dict)  # ARN -> {"taskDefinition", "tags"}
    asgs: dict[str, Answer] = field(default_factory=dict)  # by name
    launch_templates: dict[str, Answer] = field(default_factory=dict)  # by name
    lt_versions: dict[str, dict[str, Answer]] = field(default_factory=dict)  # LT id -> "version number" -> version
    classic_elbs: dict[str, Answer] = field(default_factory=dict)  # by name
    classic_health: dict[str, list[Answer]] = field(default_factory=dict)  # by name -> InstanceStates
    zones: dict[str, str] = field(default_factory=dict)  # the spec's hosted_zone (name or id) -> zone id
    zone_notes: dict[str, str] = field(default_factory=dict)  # the spec's hosted_zone -> why that zone
    records: dict[str, list[Answer]] = field(default_factory=dict)  # zone id -> the wanted record sets
    alarms: dict[str, str] = field(default_factory=dict)  # name -> StateValue
    repositories: dict[str, Answer] = field(default_factory=dict)  # by name
    images: dict[str, Answer] = field(default_factory=dict)  # `image_key` -> imageDetails item
    roles: dict[str, bool] = field(default_factory=dict)  # role ARN or name -> exists
    secrets: dict[str, bool] = field(default_factory=dict)  # secret target (ARN / parameter name) -> exists
    image_parameters: dict[str, str] = field(default_factory=dict)  # SSM image parameter -> image reference
    image_parameter_notes: dict[str, str] = field(default_factory=dict)  # parameter -> why it was not read

    # what went wrong

    def error(self, kind: str, key: str) -> str | None:
        return self.errors.get(kind, {}).get(key)

    def why_gone(self, kind: str, key: str) -> str | None:
        return self.gone.get(kind, {}).get(key)

    # lookups

    def service(self, cluster: str, name: str) -> Answer | None:
        return self.services.get(service_key(cluster, name))

    def load_balancer(self, name: str) -> Answer | None:
        return self.load_balancers.get(name)

    def target_group(self, name: str) -> Answer | None:
        """The target group named `name` (the map is by ARN: ECS services and groups name them so)."""
        return next((tg for tg in self.target_groups.values() if tg["TargetGroupName"] == name), None)

    def listener(self, lb_name: str, port: int) -> Answer | None:
        lb = self.load_balancers.get(lb_name)
        if lb is None:
            return None
        return next((l for l in self.listeners.get(lb["LoadBalancerArn"], []) if l.get("Port") == port), None)

    def task_definition(self, arn: str) -> Answer | None:
        """The DescribeTaskDefinition `taskDefinition` of `arn` (tags: `task_definitions[arn]["tags"]`)."""
        found = self.task_definitions.get(arn)
        return found["taskDefinition"] if found else None

    def lt_version(self, lt: Mapping[str, Any], version: str | None) -> Answer | None:
        """The launch-template version a reference means: a number, `$Latest`, or `$Default` (also None)."""
        if version in (None, "$Default"):
            number = int(lt["DefaultVersionNumber"])
        elif version == "$Latest":
            number = int(lt["LatestVersionNumber"])
        else:
            try:
                number = int(version)  # type: ignore[arg-type]
            except ValueError:
                return None
        return self.lt_versions.get(lt["LaunchTemplateId"], {}).get(str(number))

    # JSON

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy; the timestamps botocore parses become ISO 8601 strings."""
        return {"format": FORMAT, **{f.name: _plain(getattr(self, f.name)) for f in fields(self)}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RawState":
        if data.get("format") != FORMAT:
            raise ValueError(f"raw state format {data.get('format')!r}, expected {FORMAT}")
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names - {"format"}
        if unknown:
            raise ValueError(f"raw state has unknown fields: {', '.join(sorted(unknown))}")
        return cls(**{name: data[name] for name in names if name in data})


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return value
