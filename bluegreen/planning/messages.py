"""The plan's error lines: one line per distinct cause, never the same cause twice.

Three sources can say the same thing: discovery's findings ("target group web-other not found"),
the strategy's refusal ("... cannot be used: target group web-other not found") and the pre-flight
checks. The rules, in order:

- a finding the refusal restates is dropped (the refusal says it with the strategy's name);
- a refusal about a resource a finding already explains (one that could not be read) is dropped:
  it is a consequence, and its guess ("not found") may be wrong;
- a failed check whose cause a finding already states (a missing role, secret or repository) adds
  no second line;
- when nothing the spec names exists in its region, the many "not found" lines become one, with
  the hint that the region may be wrong.
"""

from __future__ import annotations

from typing import Sequence

from bluegreen.domain.plan import PreflightCheck
from bluegreen.domain.snapshot import Finding, Snapshot
from bluegreen.domain.spec import Spec

WARN_ONLY = {"live color healthy"}
# Checks whose failures discovery reports as error findings already, with more detail.
SAID_BY_FINDINGS = {"roles exist", "secret references exist"}
ABSENT = {"missing", "gone"}


def nothing_found(snapshot: Snapshot) -> bool:
    """Not one resource the spec names was found, and no read failed: a wrong region, or not created yet."""
    if snapshot.offline or any(f.kind == "unreadable" for f in snapshot.findings):
        return False
    found = (snapshot.load_balancers, snapshot.target_groups, snapshot.ecs_services, snapshot.asgs,
             snapshot.launch_templates, snapshot.classic_elbs, snapshot.dns_zone_id, snapshot.alarms,
             snapshot.image is not None and snapshot.image.repository_exists)
    return not any(found) and any(f.kind in ABSENT for f in snapshot.findings)


def region_hint(spec: Spec, snapshot: Snapshot) -> str:
    subjects = list(dict.fromkeys(f.subject for f in snapshot.findings if f.kind in ABSENT))
    return (f"nothing {spec.service} names exists in region {snapshot.region} ({', '.join(subjects)}): "
            "check the spec's `region` (or --region), or create them first")


def findings(spec: Spec, snapshot: Snapshot, severity: str) -> list[Finding]:
    """The snapshot's findings of one severity, the absent ones folded into the region hint when nothing exists."""
    if snapshot.offline:
        return []
    chosen = [f for f in snapshot.findings if f.severity == severity]
    if not nothing_found(snapshot):
        return chosen
    kept = [f for f in chosen if f.kind not in ABSENT]
    if severity == "error":
        return [Finding("error", f"region {snapshot.region}", region_hint(spec, snapshot))] + kept
    return kept


def with_refusal(errors: list[Finding], refusal: str) -> tuple[list[Finding], bool]:
    """The finding errors left once the refusal is said, and whether the refusal is worth its own line."""
    low = refusal.lower()
    restated = [f for f in errors if f.message.lower() in low]
    kept = [f for f in errors if f not in restated]
    explained = any(f.subject.lower() in low for f in kept)
    return kept, not explained


def check_errors(checks: Sequence[PreflightCheck], errors: Sequence[Finding]) -> list[str]:
    """One line per failed check that stops a deployment and is not a finding already."""
    out = []
    for check in checks:
        if check.ok is not False or check.name in WARN_ONLY or check.name in SAID_BY_FINDINGS:
            continue
        if check.name == "image tag resolves to a digest" and any(f.subject.startswith("ecr repository ")
                                                                 for f in errors):
            continue  # the repository is missing or unreadable: that finding is the cause
        out.append(f"pre-flight check failed: {check.detail}")
    return out
