"""Pure rewrites of what AWS answered into what the matching write call takes, changing one thing.

A traffic step changes weights and nothing else, and an image step changes a launch template
version and nothing else; but ModifyListener/ModifyRule replace the whole action list,
ChangeResourceRecordSets replaces the whole record set, and UpdateAutoScalingGroup with a
`LaunchTemplate` replaces a mixed-instances policy. So each write starts from the live answer:

- `reweighted_actions`: the live action list with only the forward action's weights changed;
  authenticate-oidc/cognito (and any other) actions, their order and the target group stickiness
  are kept. An OIDC action comes back without its client secret (AWS never returns it), so it is
  written with `UseExistingClientSecret`.
- `writable_record_set`: a listed record set as an UPSERT takes it, with only the weight changed:
  alias target, health check, TTL and values are kept.
- `with_launch_template`: a mixed-instances policy with only its launch template version changed.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping


class NoForwardAction(LookupError):
    """The live action list has no forward action whose weights could change."""


# --- load balancer actions ---------------------------------------------------------------------


def reweighted_actions(actions: list[Mapping[str, Any]], weights: Mapping[str, int]) -> list[dict[str, Any]]:
    """The live actions, in their order, with the (first) forward action's weights set to `weights`.

    Target groups of the forward that `weights` does not name keep their weight; ones it adds are
    appended. A plain `TargetGroupArn` forward becomes a `ForwardConfig` (the only form that can
    weigh more than one target group).
    """
    out: list[dict[str, Any]] = []
    done = False
    for action in actions:
        written = copy.deepcopy(dict(action))
        if written.get("Type") == "forward" and not done:
            written, done = _reweighted_forward(written, weights), True
        elif written.get("Type") == "authenticate-oidc":
            config = written.setdefault("AuthenticateOidcConfig", {})
            # Describe* never returns the secret; without this flag AWS would ask for it again.
            config.pop("ClientSecret", None)
            config["UseExistingClientSecret"] = True
        out.append(written)
    if not done:
        kinds = ", ".join(str(a.get("Type")) for a in actions) or "no action"
        raise NoForwardAction(f"no forward action to reweigh (the live actions are: {kinds})")
    return out


def _reweighted_forward(action: dict[str, Any], weights: Mapping[str, int]) -> dict[str, Any]:
    config = dict(action.get("ForwardConfig") or {})
    groups = [dict(g) for g in config.get("TargetGroups") or []]
    if not groups and action.get("TargetGroupArn"):
        groups = [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
    named = {g["TargetGroupArn"] for g in groups}
    for group in groups:
        if group["TargetGroupArn"] in weights:
            group["Weight"] = int(weights[group["TargetGroupArn"]])
    groups += [{"TargetGroupArn": arn, "Weight": int(w)} for arn, w in weights.items() if arn not in named]
    action.pop("TargetGroupArn", None)  # with ForwardConfig it may only repeat a single target group
    config["TargetGroups"] = groups
    action["ForwardConfig"] = config
    return action


def forward_weights(actions: list[Mapping[str, Any]]) -> dict[str, int]:
    """Target group ARN -> weight of the first forward action (a plain TargetGroupArn weighs 1, as AWS reports it)."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if action.get("TargetGroupArn"):
            return {action["TargetGroupArn"]: 1}
    return {}


def kept_around_forward(actions: list[Mapping[str, Any]]) -> list[str]:
    """What a reweighing keeps, for the `old -> new` line: the other actions and the stickiness."""
    kept = [f"{a.get('Type')} action" for a in actions if a.get("Type") != "forward"]
    for action in actions:
        stickiness = (action.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig") or {}
        if action.get("Type") == "forward" and stickiness.get("Enabled"):
            kept.append(f"stickiness {stickiness.get('DurationSeconds', '?')}s")
    return kept


# --- Route53 record sets -----------------------------------------------------------------------


def writable_record_set(listed: Mapping[str, Any], weight: int) -> dict[str, Any]:
    """The record set as ListResourceRecordSets gave it, with `weight`, in the form UPSERT accepts.

    An alias record set takes neither TTL nor ResourceRecords (Route53 uses the target's TTL); some
    endpoints list them anyway (moto answers TTL 0), so they are dropped.
    """
    record = copy.deepcopy(dict(listed))
    record["Weight"] = int(weight)
    if record.get("AliasTarget"):
        record.pop("TTL", None)
        record.pop("ResourceRecords", None)
    return record


def kept_in_record_sets(records: list[Mapping[str, Any]]) -> list[str]:
    kept = []
    if any(r.get("AliasTarget") for r in records):
        kept.append("alias targets")
    if any(r.get("HealthCheckId") for r in records):
        kept.append("health checks")
    ttls = sorted({int(r["TTL"]) for r in records if "TTL" in r and not r.get("AliasTarget")})
    if ttls:
        kept.append("TTL " + "/".join(f"{t}s" for t in ttls))
    return kept


# --- Auto Scaling -----------------------------------------------------------------------------------


def group_launch_template(group: Mapping[str, Any]) -> Mapping[str, Any]:
    """The launch template a group uses, directly or through its mixed-instances policy."""
    return group.get("LaunchTemplate") or (
        (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification") or {})


def with_launch_template(policy: Mapping[str, Any], template: str, version: str) -> dict[str, Any]:
    """The live mixed-instances policy with its launch template (by name) at `version`; the
    overrides (instance types, weights, their own templates) and the instances distribution are kept.

    A described template specification names the template twice (id and name); a write may name it
    only once, so each one keeps its id (or its name when it has no id).
    """
    written = copy.deepcopy(dict(policy))
    launch = written.setdefault("LaunchTemplate", {})
    launch["LaunchTemplateSpecification"] = {"LaunchTemplateName": template, "Version": version}
    for override in launch.get("Overrides") or []:
        own = override.get("LaunchTemplateSpecification")
        if own:
            key = "LaunchTemplateId" if own.get("LaunchTemplateId") else "LaunchTemplateName"
            override["LaunchTemplateSpecification"] = {key: own[key], **({"Version": own["Version"]}
                                                                       if own.get("Version") else {})}
    return written
