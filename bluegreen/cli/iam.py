"""`bluegreen iam-policy`: print the least-privilege IAM policy the spec(s) need. Offline: no AWS calls.

Imports nothing heavy at module level (the policy is worked out from the spec alone; boto3 and
docker are never loaded).
"""

from __future__ import annotations

import json
from typing import Any

import click

from bluegreen.cli import options


@options.command("iam-policy")
@options.paths_argument
@options.flag("plan-only", help="Only what `plan` needs (read-only calls): for pull-request jobs.")
@click.option("--account-id", default="*", show_default=True, metavar="ID",
              help="Account id in resource ARNs (unknown offline, hence * by default).")
@options.flag("explain", help="Also say, on stderr, why each statement is there.")
@options.indent_option
@click.pass_obj
def iam_policy(runtime: Any, paths: tuple[str, ...], plan_only: bool, account_id: str, explain: bool,
               indent: int) -> None:
    """Print the least-privilege IAM policy for the spec(s). Never contacts AWS.

    Only the actions the chosen strategy's code can call, for this spec's shape: discovery reads,
    the executor's changes and their inverses, the gates, the state store and the image push. With
    several specs, the union (statements named per service).
    """
    from bluegreen.errors import InvalidInput
    from bluegreen.iam.policy import groups, policy
    from bluegreen.specfiles.loader import load_specs

    if account_id != "*" and not (account_id.isdigit() and len(account_id) == 12):
        raise InvalidInput(f"--account-id {account_id!r}: an AWS account id is 12 digits")
    specs = [item.spec for item in load_specs(paths)]
    region = getattr(runtime, "region", None)
    if explain:
        for spec in specs:
            for group in groups(spec, plan_only=plan_only, account=account_id, region=region):
                click.echo(f"{spec.service}: {group.sid}: {', '.join(group.actions)}: {group.why}", err=True)
    for spec in specs:
        note = auto_note(spec)
        if note:
            click.echo(f"note: {note}", err=True)
    click.echo(json.dumps(policy(specs, plan_only=plan_only, account=account_id, region=region), indent=indent))


def auto_note(spec: Any) -> str | None:
    """Offline, `auto` cannot see that AWS deploys a one-service ECS spec itself (discovery would pick
    ecs-native or ecs-codedeploy): say how to get those engines' permissions."""
    from bluegreen.domain.spec import Strategy
    from bluegreen.iam.policy import strategy_of

    if spec.strategy is not Strategy.AUTO or strategy_of(spec) is not Strategy.ECS_TASK_DEFINITION:
        return None
    return (f"{spec.service}: strategy auto is taken as ecs-task-definition-swap offline; if the service is on ECS's "
            "built-in blue/green or the CODE_DEPLOY controller, set `strategy: ecs-native` or `ecs-codedeploy` "
            "for the permissions of AWS's engine")
