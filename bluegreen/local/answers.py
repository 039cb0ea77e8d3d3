"""AWS's answers where moto answers otherwise, for what a traffic shift reads and writes back.

A write that starts from a read (see `adapters/aws/rewrites.py`) is only tested if the read looks
like AWS's: moto echoes an OIDC client secret AWS never returns, lists alias records with a TTL
they do not have, and forgets a group's mixed-instances policy on any update that does not repeat
it. Active while a world with `reject=True` is active (like `rejections.py`); each is listed in
`DIVERGENCES.md` with the documentation it follows.
"""

from __future__ import annotations

from typing import Any, Callable

from bluegreen.local import world as worlds


def _contract() -> bool:
    world = worlds.active()
    return world is not None and world.reject


def _after(cls: Any, name: str, then: Callable[[Any], None]) -> None:
    original = getattr(cls, name)

    def handler(self: Any) -> Any:
        result = original(self)
        if _contract():
            then(self)
        return result

    handler.__name__ = name
    setattr(cls, name, handler)


# --- ELB: the OIDC client secret is write-only ------------------------------------------------------


def _forget_client_secrets(self: Any) -> None:
    """Describe* never returns an OIDC action's client secret: keep none in what moto answers from."""
    for lb in self.elbv2_backend.load_balancers.values():
        for listener in lb.listeners.values():
            actions = list(getattr(listener, "default_actions", []) or [])
            for rule in listener.rules.values():
                actions += list(rule.actions or [])
            for action in actions:
                config = (getattr(action, "data", None) or {}).get("AuthenticateOidcConfig")
                if isinstance(config, dict):
                    config.pop("ClientSecret", None)
                    config.pop("UseExistingClientSecret", None)


def _install_elbv2() -> None:
    from moto.elbv2.responses import ELBV2Response as R

    for name in ("create_listener", "modify_listener", "create_rule", "modify_rule"):
        _after(R, name, _forget_client_secrets)


# --- Route53: an alias record has no TTL of its own ---------------------------------------------------


def _install_route53() -> None:
    from moto.route53.models import RecordSet

    original = RecordSet.__init__

    def __init__(self: Any, kwargs: dict[str, Any]) -> None:
        original(self, kwargs)
        if _contract() and self.alias_target and "TTL" not in kwargs:
            self.ttl = None  # moto answers TTL 0; Route53 lists an alias record without TTL

    RecordSet.__init__ = __init__  # type: ignore[method-assign]


# --- Auto Scaling: properties an update does not name stay as they are ------------------------------


def _install_autoscaling() -> None:
    from moto.autoscaling.models import FakeAutoScalingGroup

    original = FakeAutoScalingGroup.update

    def update(self: Any, **kwargs: Any) -> None:
        names_a_source = (kwargs.get("launch_template") or kwargs.get("launch_config_name")
                          or kwargs.get("mixed_instances_policy"))
        if _contract() and self.mixed_instances_policy is not None and not names_a_source:
            # moto sets the policy to None on every update that omits it; AWS keeps it (and
            # moto's own copy names the template twice, which moto refuses as input).
            kwargs["mixed_instances_policy"] = _named_once(self.mixed_instances_policy)
        original(self, **kwargs)

    FakeAutoScalingGroup.update = update  # type: ignore[method-assign]


def _named_once(policy: dict[str, Any]) -> dict[str, Any]:
    import copy

    kept = copy.deepcopy(policy)
    spec = kept.get("LaunchTemplate", {}).get("LaunchTemplateSpecification") or {}
    if spec.get("LaunchTemplateId"):
        spec.pop("LaunchTemplateName", None)
    return kept


def install() -> None:
    _install_elbv2()
    _install_route53()
    _install_autoscaling()
