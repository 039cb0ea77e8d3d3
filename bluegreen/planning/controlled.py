"""The strategies of services whose traffic AWS moves itself: `ecs-native` (ECS's built-in blue/green,
linear or canary) and `ecs-codedeploy` (the CODE_DEPLOY controller).

bluegreen's compute side is the same as everywhere (a revision copied from the live one, scaling
frozen for the deployment); the traffic side is AWS's engine, followed as steps:

    ecs-native      start (UpdateService) -> ECS scale-up -> test traffic -> [PAUSE hook: our gates,
                    CONTINUE] -> production shift (ECS's own linear/canary) -> bake time -> clean-up
    ecs-codedeploy  start (CreateDeployment + AppSpec) -> replacement task set -> test traffic ->
                    [reroute wait: our gates, ContinueDeployment] -> production reroute -> termination wait

Colors name the pair of target groups: blue is the first (ECS's primary, the group's first), green
the other; the live color is the one the production rule or listener sends everything to.
"""

from __future__ import annotations

from bluegreen.domain.codedeploy import DeploymentGroup
from bluegreen.domain.colors import Color
from bluegreen.domain.controlled_steps import (
    AnswerLifecycleHook, ContinueCodeDeployDeployment, FollowCodeDeployDeployment, FollowServiceDeployment,
    StartCodeDeployDeployment, StartServiceDeployment, Watch,
)
from bluegreen.domain.durations import format_duration
from bluegreen.domain.native import HOOK_STAGE_AT, STAGES, NativeSetup, stage_index
from bluegreen.domain.snapshot import EcsService as LiveService, TargetGroup
from bluegreen.domain.spec import AllAtOnce, Check, EcsService, HookStage
from bluegreen.domain.steps import Step
from bluegreen.planning.compute.ecs import current, desired_count, find_service, frozen_scaling, register, runs
from bluegreen.planning.context import Context, Refused, decide
from bluegreen.planning.controllers import restore_scaling
from bluegreen.planning.gates import preflight
from bluegreen.planning.shift import _metric_watch

# The spec's Lambda hooks that CodeDeploy runs itself, by the AppSpec lifecycle event of their stage.
APPSPEC_EVENTS = {HookStage.AFTER_HEALTHY: "AfterInstall", HookStage.AFTER_TEST_TRAFFIC: "AfterAllowTestTraffic",
                  HookStage.BEFORE_PRODUCTION_STEP: "BeforeAllowTraffic", HookStage.AFTER_SHIFT: "AfterAllowTraffic"}
# Stages bluegreen itself runs hooks at around AWS's deployment: before it starts, after a rollback.
OWN_STAGES = (HookStage.BEFORE_SCALE_UP, HookStage.AFTER_ROLLBACK)
DEPLOYMENT = "start-service-deployment"
CODEDEPLOY = "start-codedeploy-deployment"


def _one_service(ctx: Context, what: str) -> tuple[EcsService, LiveService]:
    ecs = ctx.spec.ecs
    if not isinstance(ecs, EcsService):
        raise Refused(f"needs the one ECS service (`service:`) that {what} deploys")
    return ecs, find_service(ctx, ecs.cluster, ecs.service)


def _watch(ctx: Context, target_groups: list[TargetGroup], *, probe: bool = False, metrics: bool = False,
           hold: float = 0.0) -> Watch:
    """bluegreen's gates over a stretch: the spec's alarms, then what has traffic by then."""
    tgs = [tg.arn for tg in target_groups] if ctx.checks_enabled(Check.TARGET_HEALTH) else []
    return Watch(alarms=ctx.alarms(), target_group_arns=tgs, probe=ctx.probe() if probe else None,
                 metrics=_metric_watch(ctx) if metrics else None, hold=hold)


def _shift_unused(ctx: Context, engine: str) -> None:
    if not isinstance(ctx.spec.shift, AllAtOnce):
        ctx.warnings.append(f"shift ({ctx.spec.shift.mode}) is not used: {engine} moves production traffic as its "
                            "own configuration says")


def _hooks_run_by_aws(ctx: Context, codedeploy: bool) -> list[tuple[str, str]]:
    """The spec's hooks at stages AWS's engine passes through by itself: Lambda hooks go into a
    CodeDeploy AppSpec; anything else cannot be run in step with AWS and is an error."""
    appspec: list[tuple[str, str]] = []
    for i, hook in enumerate(ctx.spec.hooks):
        if hook.stage in OWN_STAGES:
            continue
        ctx.hooks_by_aws.add(hook.name)
        if codedeploy and hook.kind == "lambda":
            appspec.append((APPSPEC_EVENTS[hook.stage], hook.function))
            continue
        engine = "CodeDeploy" if codedeploy else "ECS"
        instead = ("give it as a Lambda hook (CodeDeploy runs it from the AppSpec)" if codedeploy else
                   "make it a lifecycle hook of the service (deploymentConfiguration.lifecycleHooks)")
        ctx.errors.append(f"hooks[{i}] ({hook.name}, {hook.stage.value}): {engine} moves traffic by itself, so "
                          f"bluegreen cannot run a {hook.kind} hook in step with it; {instead}, or use "
                          f"{' or '.join(s.value for s in OWN_STAGES)}")
    return appspec


# --- ECS's built-in blue/green ------------------------------------------------------------------------


def ecs_native(ctx: Context) -> list[Step]:
    ecs, service = _one_service(ctx, "ECS's built-in blue/green")
    setup = service.native
    if setup is None:
        raise Refused(f"ECS service {service.name} uses {service.deployment_controller} / "
                      f"{service.deployment_strategy}, not ECS's built-in blue/green (deploymentConfiguration.strategy "
                      "BLUE_GREEN, LINEAR or CANARY with a load balancer's advancedConfiguration)")
    if not setup.load_balancers:
        raise Refused(f"ECS service {service.name} has no load balancer with an advancedConfiguration "
                      "(alternateTargetGroupArn, productionListenerRule): ECS's blue/green has nowhere to start green")
    live_tgs, idle_tgs = _native_pair(ctx, setup)
    live = ctx.live_color = Color.BLUE if live_tgs[0].arn == setup.load_balancers[0].target_group_arn else Color.GREEN
    ctx.state.append(f"{runs(service)}; ECS's built-in {setup.strategy}: the production rule sends 100% to "
                     f"{_names(live_tgs)} ({live}); the new revision starts in {_names(idle_tgs)} ({live.other})")
    _hooks_run_by_aws(ctx, codedeploy=False)  # ECS has no AppSpec: every in-flight hook is an error
    _shift_unused(ctx, f"ECS's {setup.strategy}")
    if not decide(ctx, current(ctx, ecs.container, service)):
        return []
    desired, h = desired_count(ecs, service), ctx.health
    steps: list[Step] = preflight(ctx) + frozen_scaling(ctx, [service]) + [register(ctx, ecs, service)]
    steps.append(StartServiceDeployment(
        id=DEPLOYMENT, phase="rollout", cluster=ecs.cluster, service=service.name,
        task_definition="@register-task-definition", previous_task_definition=service.task_definition,
        desired_count=desired, previous_desired_count=service.desired, strategy=setup.strategy,
        production_rules=[lb.production_rule for lb in setup.load_balancers if lb.production_rule],
        deadline=h.deadline, interval=h.interval))
    steps += _native_stretches(ctx, service, setup, live_tgs, idle_tgs, desired)
    steps += restore_scaling(steps)
    ctx.rollback.append(f"while ECS's deployment is in flight or baking: StopServiceDeployment ROLLBACK (ECS puts the "
                        f"production rule back on {_names(live_tgs)}); after it finished: a new deployment of "
                        f"{service.task_definition.rsplit('/', 1)[-1]}")
    return steps


def _native_pair(ctx: Context, setup: NativeSetup) -> tuple[list[TargetGroup], list[TargetGroup]]:
    """(serving, idle) target groups of each load balancer; a split production rule means a deployment is under way."""
    live, idle = [], []
    for lb in setup.load_balancers:
        serving, other = lb.serving(), lb.idle()
        if serving is None or other is None:
            split = ", ".join(f"{_name(ctx, arn)}={w}" for arn, w in lb.production_weights) or "nothing"
            raise Refused(f"the production rule {lb.production_rule} forwards {split}: a service deployment is "
                          "under way (let it finish, or roll it back) before the next one")
        live.append(_tg(ctx, serving))
        idle.append(_tg(ctx, other))
    return live, idle


def _native_stretches(ctx: Context, service: LiveService, setup: NativeSetup, live: list[TargetGroup],
                      idle: list[TargetGroup], desired: int) -> list[Step]:
    """ECS's lifecycle as steps: the stretches between milestones, each PAUSE hook answered after our gates."""
    h = ctx.health
    common = {"cluster": service.cluster, "service": service.name, "deployment": f"@{DEPLOYMENT}",
              "interval": h.interval}
    health = max((tg.health_budget for tg in idle), default=30.0)
    tests = bool([lb for lb in setup.load_balancers if lb.test_rule])
    milestones = [
        ("POST_SCALE_UP", "rollout", f"ECS starts {desired} task(s) of the new revision in {_names(idle)}",
         _watch(ctx, []), health + 15.0, h.deadline),
        ("POST_TEST_TRAFFIC_SHIFT", "rollout", f"ECS moves the test listener rule to {_names(idle)}" if tests else
         "no test listener rule", _watch(ctx, idle), 10.0, h.deadline),
        ("POST_PRODUCTION_TRAFFIC_SHIFT", "shift", f"ECS moves the production rule to {_names(idle)} "
         f"({setup.shift_words()})", _watch(ctx, idle, probe=True, metrics=True), setup.shift_seconds() + 10.0,
         setup.shift_seconds() + h.deadline),
        ("BAKE_TIME", "shift", f"ECS's bake time {format_duration(60 * setup.bake_minutes)}: {_names(live)} stays up "
         "(a rollback is one rule change)", _watch(ctx, idle, probe=True, metrics=True), 60 * setup.bake_minutes,
         60 * setup.bake_minutes + h.deadline),
        ("CLEAN_UP", "verify", f"ECS stops the old revision's tasks ({_names(live)} serves nothing now)",
         Watch(), 10.0, h.deadline),
    ]
    pauses = setup.pause_stages()
    steps: list[Step] = []
    for until, phase, what, watch, expected, deadline in milestones:
        for stage in [s for s in pauses if stage_index(s) <= stage_index(until)]:
            pauses.remove(stage)
            # following ECS to a hook at a milestone covers that milestone's stretch: its phase, watch and time
            stretch = (phase, watch, expected, deadline) if stage == until else None
            steps += _pause_at(ctx, setup, stage, live, idle, common, stretch)
            if stage == until:
                break
        else:
            steps.append(FollowServiceDeployment(id=f"ecs-{_slug(until)}", phase=phase, until=until, what=what,
                                                 watch=watch, expected=expected, deadline=deadline, **common))
    ctx.gates.append(f"ECS's own deployment is followed stage by stage; ECS rolling back by itself (its alarms"
                     f"{': ' + ', '.join(setup.alarms) if setup.alarms else ''}, its circuit breaker, a hook) fails "
                     "the deployment with ECS's reason")
    if not setup.pause_stages():
        ctx.warnings.append(f"ECS service {service.name} has no PAUSE lifecycle hook: ECS moves production traffic "
                            "without waiting for bluegreen's gates (they still watch, and a failure rolls back); a "
                            "PAUSE hook at POST_TEST_TRAFFIC_SHIFT lets them decide before production traffic moves")
    return steps


def _pause_at(ctx: Context, setup: NativeSetup, stage: str, live: list[TargetGroup], idle: list[TargetGroup],
              common: dict, stretch: tuple[str, Watch, float, float] | None = None) -> list[Step]:
    """Follow ECS to a PAUSE hook, then answer it: our gates over what has traffic by then, then CONTINUE."""
    h = ctx.health
    index = stage_index(stage)
    tested = index >= STAGES.index("POST_TEST_TRAFFIC_SHIFT")
    production = index >= STAGES.index("POST_PRODUCTION_TRAFFIC_SHIFT")
    gate = _watch(ctx, idle if index >= STAGES.index("POST_SCALE_UP") else [], probe=tested, metrics=production,
                  hold=h.bake if tested else 0.0)
    hook = next(x for x in setup.hooks if x.pauses and stage in {HOOK_STAGE_AT.get(s, s) for s in x.stages})
    ctx.gates.append(f"at ECS's PAUSE hook {stage}: {gate.describe()} for {format_duration(gate.hold)}, then "
                     "CONTINUE (ROLLBACK on a failure)")
    phase, watch, expected, deadline = stretch or (
        "rollout", _watch(ctx, []), 15.0, h.deadline + (setup.shift_seconds() if production else 0))
    return [
        FollowServiceDeployment(id=f"ecs-to-{_slug(stage)}-hook", phase=phase, until=stage, at_hook=True,
                                what=f"ECS reaches its PAUSE hook at {stage} and waits", watch=watch,
                                expected=expected, deadline=deadline, **common),
        AnswerLifecycleHook(id=f"answer-{_slug(stage)}-hook", phase="shift" if tested else "rollout", stage=stage,
                            gate=gate, timeout=60 * hook.timeout_minutes, timeout_action=hook.timeout_action,
                            **common),
    ]


# --- CodeDeploy --------------------------------------------------------------------------------------------


def ecs_codedeploy(ctx: Context) -> list[Step]:
    ecs, service = _one_service(ctx, "CodeDeploy")
    group = service.codedeploy
    if group is None:
        if service.deployment_controller == "CODE_DEPLOY":
            raise Refused(f"ECS service {service.name} uses the CODE_DEPLOY controller, but no CodeDeploy ECS "
                          f"deployment group deploys it (cluster {service.cluster})")
        raise Refused(f"ECS service {service.name} uses the {service.deployment_controller} deployment controller, "
                      "not CODE_DEPLOY with a CodeDeploy ECS deployment group")
    if len(group.target_groups) != 2:
        raise Refused(f"CodeDeploy group {group.name} names {len(group.target_groups)} target group(s), not a pair")
    pair = [_tg_named(ctx, name) for name in group.target_groups]
    weights = dict(service.codedeploy_weights)
    total = sum(weights.values())
    serving = [tg for tg in pair if total and weights.get(tg.arn, 0) == total]
    if not serving:
        split = ", ".join(f"{_name(ctx, arn)}={w}" for arn, w in weights.items()) or "nothing of the pair"
        raise Refused(f"the production listener of CodeDeploy group {group.name} forwards {split}: a deployment is "
                      "under way (let it finish, or stop it) before the next one")
    live_tg = serving[0]
    idle_tg = pair[1] if live_tg is pair[0] else pair[0]
    live = ctx.live_color = Color.BLUE if live_tg is pair[0] else Color.GREEN
    ctx.state.append(f"{runs(service)}; CodeDeploy {group.application}/{group.name} ({group.config}): the production "
                     f"listener sends 100% to {live_tg.name} ({live}); the replacement task set starts in "
                     f"{idle_tg.name} ({live.other})")
    appspec = _hooks_run_by_aws(ctx, codedeploy=True)
    _shift_unused(ctx, f"CodeDeploy ({group.config})")
    if not decide(ctx, current(ctx, ecs.container, service)):
        return []
    if not service.containers:
        raise Refused(f"ECS service {service.name} has no load balancer container and port for the AppSpec")
    container, port = service.containers[0]
    if ecs.desired_count is not None and ecs.desired_count != service.desired:
        ctx.warnings.append(f"platform.ecs.desired_count {ecs.desired_count} is not used: CodeDeploy starts the "
                            f"replacement task set with the service's desired count ({service.desired})")
    h = ctx.health
    steps: list[Step] = preflight(ctx) + frozen_scaling(ctx, [service]) + [register(ctx, ecs, service)]
    steps.append(StartCodeDeployDeployment(
        id=CODEDEPLOY, phase="rollout", application=group.application, group=group.name, config=group.config,
        cluster=ecs.cluster, service=service.name, task_definition="@register-task-definition",
        previous_task_definition=service.task_definition, container=container, port=port, hooks=appspec,
        production_listeners=list(group.prod_listeners), deadline=h.deadline, interval=h.interval))
    steps += _codedeploy_stretches(ctx, service, group, live_tg, idle_tg)
    steps += restore_scaling(steps)
    ctx.rollback.append(f"while CodeDeploy's deployment is in flight or in its termination wait: StopDeployment with "
                        f"rollback (CodeDeploy reroutes production to {live_tg.name}); after it succeeded: a new "
                        f"deployment of {service.task_definition.rsplit('/', 1)[-1]}")
    return steps


def _codedeploy_stretches(ctx: Context, service: LiveService, group: DeploymentGroup, live: TargetGroup,
                          idle: TargetGroup) -> list[Step]:
    h = ctx.health
    common = {"cluster": service.cluster, "service": service.name, "deployment": f"@{CODEDEPLOY}",
              "interval": h.interval}
    wait = 60.0 * group.termination_wait_minutes
    steps: list[Step] = [
        FollowCodeDeployDeployment(id="codedeploy-install", phase="rollout", until="Install",
                                   what=f"CodeDeploy starts the replacement task set ({service.desired} task(s)) in "
                                        f"{idle.name}", watch=_watch(ctx, []), expected=idle.health_budget + 15.0,
                                   deadline=h.deadline, **common),
        FollowCodeDeployDeployment(id="codedeploy-test-traffic", phase="rollout", until="AfterAllowTestTraffic",
                                   what=f"CodeDeploy moves the test listener to {idle.name}" if group.test_listeners
                                   else "no test listener", watch=_watch(ctx, [idle]), expected=10.0,
                                   deadline=h.deadline, **common),
    ]
    if group.waits_for_reroute:
        gate = _watch(ctx, [idle], probe=True, hold=h.bake)
        steps += [
            FollowCodeDeployDeployment(id="codedeploy-ready", phase="rollout", until="Ready",
                                       what="CodeDeploy waits for the reroute (ContinueDeployment)",
                                       watch=_watch(ctx, [idle]), expected=5.0, deadline=h.deadline, **common),
            ContinueCodeDeployDeployment(id="continue-codedeploy-deployment", phase="shift", gate=gate,
                                         timeout=60.0 * group.ready_wait_minutes, **common),
        ]
        ctx.gates.append(f"at CodeDeploy's reroute wait: {gate.describe()} for {format_duration(gate.hold)}, then "
                         "ContinueDeployment (StopDeployment with rollback on a failure)")
    else:
        ctx.warnings.append(f"CodeDeploy group {group.name} does not wait for a reroute (deploymentReadyOption "
                            "CONTINUE_DEPLOYMENT): production traffic moves without waiting for bluegreen's gates "
                            "(they still watch, and a failure stops the deployment with rollback)")
    steps += [
        FollowCodeDeployDeployment(id="codedeploy-production-traffic", phase="shift", until="AfterAllowTraffic",
                                   what=f"CodeDeploy reroutes production to {idle.name} ({group.config})",
                                   watch=_watch(ctx, [idle], probe=True, metrics=True), expected=15.0,
                                   deadline=h.deadline, **common),
        FollowCodeDeployDeployment(id="codedeploy-termination-wait", phase="verify", until="Succeeded",
                                   what=f"the original task set in {live.name} is kept {format_duration(wait)}, then "
                                        "terminated", watch=_watch(ctx, [idle], probe=True, metrics=True),
                                   expected=wait + 5.0, deadline=wait + h.deadline, **common),
    ]
    ctx.gates.append("CodeDeploy's own deployment is followed event by event; CodeDeploy failing or rolling back "
                     "fails the deployment with its error")
    return steps


# --- small helpers -------------------------------------------------------------------------------------------


def _tg(ctx: Context, arn: str) -> TargetGroup:
    found = ctx.snapshot.target_group_by_arn(arn)
    if found is None:
        raise Refused(f"target group {arn} not found")
    return found


def _tg_named(ctx: Context, name: str) -> TargetGroup:
    return ctx.target_group(name)


def _name(ctx: Context, arn: str) -> str:
    found = ctx.snapshot.target_group_by_arn(arn)
    return found.name if found else arn.rsplit("/", 2)[-2] if arn.count("/") >= 2 else arn


def _names(tgs: list[TargetGroup]) -> str:
    return ", ".join(tg.name for tg in tgs)


def _slug(stage: str) -> str:
    return stage.lower().replace("_", "-")
