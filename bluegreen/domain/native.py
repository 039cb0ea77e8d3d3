"""What discovery knows of an ECS service under ECS's built-in blue/green (deploymentConfiguration
strategy BLUE_GREEN, LINEAR or CANARY): frozen data the `ecs-native` planner decides from.

ECS's lifecycle, in order (a stage named in a lifecycle hook waits for that hook):

    RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP (the new revision's tasks start in whichever of the
    primary and alternate target groups serves no production traffic), POST_SCALE_UP,
    TEST_TRAFFIC_SHIFT (the test listener rule moves), POST_TEST_TRAFFIC_SHIFT,
    PRODUCTION_TRAFFIC_SHIFT (the production listener rule moves: at once, in linear steps, or a
    canary then the rest), POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME (the old revision stays up:
    a rollback is one rule change), CLEAN_UP (the old tasks stop).

PRE_PRODUCTION_TRAFFIC_SHIFT is accepted in a hook's stages and runs just before the shift.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
          "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
          "BAKE_TIME", "CLEAN_UP")
HOOK_STAGE_AT = {"PRE_PRODUCTION_TRAFFIC_SHIFT": "PRODUCTION_TRAFFIC_SHIFT"}
STRATEGIES = frozenset({"BLUE_GREEN", "LINEAR", "CANARY"})
# ECS's documented defaults when a configuration leaves them out
DEFAULT_LINEAR = (10.0, 6.0)   # stepPercent, stepBakeTimeInMinutes
DEFAULT_CANARY = (10.0, 0.0)   # canaryPercent, canaryBakeTimeInMinutes
DEFAULT_HOOK_TIMEOUT_MINUTES = 60


def stage_index(stage: str | None) -> int:
    """Where `stage` is in ECS's lifecycle (-1 when unknown or not started)."""
    stage = HOOK_STAGE_AT.get(stage or "", stage)
    return STAGES.index(stage) if stage in STAGES else -1


@dataclass(frozen=True)
class NativeHook:
    stages: tuple[str, ...]
    target_type: str  # PAUSE | AWS_LAMBDA
    timeout_minutes: float
    timeout_action: str  # ROLLBACK | CONTINUE
    target_arn: str | None = None

    @property
    def pauses(self) -> bool:
        return self.target_type == "PAUSE"


@dataclass(frozen=True)
class NativeLoadBalancer:
    """One of the service's load balancers with its advancedConfiguration."""

    target_group_arn: str  # the primary
    alternate_target_group_arn: str
    production_rule: str | None
    test_rule: str | None
    role_arn: str | None
    container: str | None
    port: int | None
    production_weights: tuple[tuple[str, int], ...] = ()  # the production rule's forward, as read
    test_weights: tuple[tuple[str, int], ...] = ()

    def serving(self) -> str | None:
        """The target group production traffic goes to now (all of it), or None when it is split."""
        weights = dict(self.production_weights)
        if not self.production_rule:
            return self.target_group_arn
        total = sum(weights.values())
        full = [arn for arn, w in weights.items() if total and w == total]
        return full[0] if full else None

    def idle(self) -> str | None:
        """Where ECS starts the new revision: the one of the pair with no production traffic."""
        live = self.serving()
        if live is None:
            return None
        return self.alternate_target_group_arn if live == self.target_group_arn else self.target_group_arn


@dataclass(frozen=True)
class NativeSetup:
    strategy: str  # BLUE_GREEN / LINEAR / CANARY
    bake_minutes: float
    hooks: tuple[NativeHook, ...] = ()
    load_balancers: tuple[NativeLoadBalancer, ...] = ()
    alarms: tuple[str, ...] = ()  # deploymentConfiguration.alarms (enabled)
    alarm_rollback: bool = False
    linear: tuple[float, float] | None = None  # (step percent, minutes per step)
    canary: tuple[float, float] | None = None  # (canary percent, minutes before the rest)

    def pause_stages(self) -> list[str]:
        """The stages a PAUSE hook waits at, in lifecycle order."""
        stages = {HOOK_STAGE_AT.get(s, s) for h in self.hooks if h.pauses for s in h.stages}
        return [s for s in STAGES if s in stages]

    def shift_seconds(self) -> float:
        """How long ECS takes to move production traffic (the waits between its steps)."""
        if self.strategy == "LINEAR":
            step, minutes = self.linear or DEFAULT_LINEAR
            return 60.0 * minutes * max(0, int(-(-100 // max(step, 1.0))) - 1)
        if self.strategy == "CANARY":
            return 60.0 * (self.canary or DEFAULT_CANARY)[1]
        return 0.0

    def shift_words(self) -> str:
        if self.strategy == "LINEAR":
            step, minutes = self.linear or DEFAULT_LINEAR
            return f"linear: {step:g}% every {minutes:g} min"
        if self.strategy == "CANARY":
            percent, minutes = self.canary or DEFAULT_CANARY
            return f"canary: {percent:g}%, the rest after {minutes:g} min"
        return "all at once"
