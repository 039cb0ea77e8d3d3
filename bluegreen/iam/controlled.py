"""The statements of the two strategies whose traffic AWS moves itself, read from their code:

    ecs-native      discovery/controlled.py (the rules named by advancedConfiguration), adapters/aws/native.py
                    (UpdateService, the service deployment followed, answered at PAUSE hooks, stopped)
    ecs-codedeploy  adapters/aws/codedeploy.py (the deployment group found by listing applications, then
                    CreateDeployment with an AppSpec, followed per target, continued, stopped), and the
                    listeners of the group, read by discovery

Both register the new revision as the other ECS strategies do (`policy.ecs_rollout`); only `ecs-native`
calls UpdateService (ECS refuses it from anyone but CodeDeploy for a CODE_DEPLOY service).

Offline, the spec names the cluster and service but not the CodeDeploy application or group (discovery
finds the group by listing applications), so CodeDeploy's resources are scoped to the region and account
(`deploymentgroup:*`); ECS's service deployments are scoped to the service
(`service-deployment/CLUSTER/SERVICE/*`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen.domain.spec import Spec, Strategy

if TYPE_CHECKING:  # policy.py imports this module; the types only
    from bluegreen.iam.policy import Arns, Group

# Sids of `policy.ecs_rollout` each strategy keeps: registering the revision (with its tags and roles),
# Application Auto Scaling suspended for the deployment, and (native only) UpdateService.
_REGISTER = ("EcsRegisterRevision", "EcsTagRevisionOnCreate", "PassTaskRoles", "EcsSuspendScaling")
NATIVE_KEEPS = _REGISTER + ("EcsUpdateServices", "EcsGate")
CODEDEPLOY_KEEPS = _REGISTER + ("EcsGate",)


def controlled_reads(spec: Spec, strategy: Strategy | None, arns: "Arns") -> list["Group"]:
    """What discovery reads, beyond the ECS service, for a service AWS deploys itself (read-only)."""
    from bluegreen.iam.policy import Group

    if strategy is Strategy.ECS_NATIVE:
        return [Group("PlanReadNativeRules", ("elbv2:DescribeRules",),
                      "discovery: the production and test listener rules the service's advancedConfiguration "
                      "names, with their live weights (DescribeRules has no resource-level permissions)")]
    if strategy is Strategy.ECS_CODEDEPLOY:
        return [
            Group("PlanListCodeDeployApplications", ("codedeploy:ListApplications",),
                  "discovery: the applications, to find the ECS deployment group that deploys the service "
                  "(ListApplications has no resource-level permissions)"),
            Group("PlanReadCodeDeployApplications", ("codedeploy:GetApplication", "codedeploy:ListDeploymentGroups"),
                  "discovery: each application's compute platform and deployment groups (the spec does not name "
                  "the application)", (codedeploy_applications(arns),)),
            Group("PlanReadCodeDeployGroups", ("codedeploy:GetDeploymentGroup",),
                  "discovery: the deployment groups, to find the one whose ecsServices is this service",
                  (codedeploy_groups(arns),)),
            Group("PlanReadCodeDeployListeners", ("elbv2:DescribeListeners",),
                  "discovery: the deployment group's production and test listeners, by ARN, with their live "
                  "weights (DescribeListeners has no resource-level permissions)"),
        ]
    return []


def native_rollout(spec: Spec, arns: "Arns", ecs: list["Group"]) -> list["Group"]:
    """UpdateService starts ECS's deployment; bluegreen follows, answers and stops it."""
    from bluegreen.iam.policy import Group

    assert spec.ecs is not None
    service = arns.ecs_service(spec.ecs.cluster, spec.ecs.service)
    deployments = service_deployments(arns, spec.ecs.cluster, spec.ecs.service)
    return [g for g in ecs if g.sid in NATIVE_KEEPS] + [
        Group("NativeListServiceDeployments", ("ecs:ListServiceDeployments",),
              "follow: the service's newest service deployment (a resumed start, a rollback)", (service,)),
        Group("NativeServiceDeployments", ("ecs:DescribeServiceDeployments", "ecs:ContinueServiceDeployment",
                                           "ecs:StopServiceDeployment"),
              "follow ECS's deployment stage by stage, answer its PAUSE hooks CONTINUE or ROLLBACK, and "
              "StopServiceDeployment ROLLBACK (the inverse); only this service's deployments", (deployments,)),
        Group("PassInfrastructureRole", ("iam:PassRole",),
              "authorization-only: the service's load balancers name ECS's infrastructure role "
              "(advancedConfiguration.roleArn), which ECS uses to move the listener rules; updating such a "
              "service may pass it to ECS", (arns.roles(),),
              {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}),
        Group("NativeReadRules", ("elbv2:DescribeRules",),
              "verify: where the production rule sends traffic after a rollback (no resource-level permissions)"),
    ]


def codedeploy_rollout(spec: Spec, arns: "Arns", ecs: list["Group"]) -> list["Group"]:
    """CreateDeployment with an AppSpec; bluegreen follows, continues and stops it."""
    from bluegreen.iam.policy import Group

    groups = codedeploy_groups(arns)
    return [g for g in ecs if g.sid in CODEDEPLOY_KEEPS] + [
        Group("CodeDeployFindGroup", ("codedeploy:ListApplications",),
              "start and rollback: find the service's deployment group again (no resource-level permissions)"),
        Group("CodeDeployReadApplications", ("codedeploy:GetApplication", "codedeploy:ListDeploymentGroups"),
              "start and rollback: the applications' deployment groups", (codedeploy_applications(arns),)),
        Group("CodeDeployDeployments", ("codedeploy:GetDeploymentGroup", "codedeploy:CreateDeployment",
                                        "codedeploy:GetDeployment", "codedeploy:GetDeploymentTarget",
                                        "codedeploy:ListDeployments", "codedeploy:ContinueDeployment",
                                        "codedeploy:StopDeployment"),
              "start the deployment (or find the one of this revision under way), follow it and its ECS target's "
              "lifecycle events, ContinueDeployment past the reroute wait, StopDeployment with rollback (the "
              "inverse); each is authorized on the deployment group", (groups,)),
        Group("CodeDeployRegisterRevision", ("codedeploy:RegisterApplicationRevision",
                                             "codedeploy:GetApplicationRevision"),
              "authorization-only: CreateDeployment with an AppSpecContent revision registers that revision with "
              "the application (AWS's deployer policies grant both on the application)",
              (codedeploy_applications(arns),)),
        Group("CodeDeployReadConfig", ("codedeploy:GetDeploymentConfig",),
              "authorization-only: CreateDeployment reads the group's deployment configuration (AWS's deployer "
              "policies grant it on the configurations)", (arns.regional("codedeploy", "deploymentconfig:*"),)),
        Group("CodeDeployReadListeners", ("elbv2:DescribeListeners",),
              "verify: where the production listener sends traffic after a rollback (no resource-level "
              "permissions)"),
    ]


def controlled_rollout(spec: Spec, strategy: Strategy | None, arns: "Arns", ecs: list["Group"]) -> list["Group"]:
    if strategy is Strategy.ECS_NATIVE:
        return native_rollout(spec, arns, ecs)
    if strategy is Strategy.ECS_CODEDEPLOY:
        return codedeploy_rollout(spec, arns, ecs)
    return []


def codedeploy_applications(arns: "Arns") -> str:
    return arns.regional("codedeploy", "application:*")


def codedeploy_groups(arns: "Arns") -> str:
    """arn:aws:codedeploy:REGION:ACCOUNT:deploymentgroup:APP/GROUP, any application and group."""
    return arns.regional("codedeploy", "deploymentgroup:*/*")


def service_deployments(arns: "Arns", cluster: str, service: str) -> str:
    return arns.regional("ecs", f"service-deployment/{cluster.rsplit('/', 1)[-1]}/{service}/*")
