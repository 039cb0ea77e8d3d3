"""AWS's rejections for the calls bluegreen makes, where moto accepts them.

Each check runs before moto's handler and raises the error AWS answers, with AWS's error code
(checked against botocore's service models: ecs InvalidParameterException; elbv2
DuplicateListener, TargetGroupNotFound, TargetGroupAssociationLimit, InvalidConfigurationRequest,
ValidationError, ResourceInUse; autoscaling ResourceInUse; route53 InvalidChangeBatch, InvalidInput). Active while a world with `reject=True` is active; see
`DIVERGENCES.md` for the documentation each follows.
"""

from __future__ import annotations

from typing import Any, Callable

from bluegreen.local import world as worlds

MAX_WEIGHT = 999


def _rejecting() -> bool:
    world = worlds.active()
    return world is not None and world.reject


def _before(cls: Any, name: str, check: Callable[[Any], None]) -> None:
    original = getattr(cls, name)

    def handler(self: Any) -> Any:
        if _rejecting():
            check(self)
        return original(self)

    handler.__name__ = name
    setattr(cls, name, handler)


# --- ECS -----------------------------------------------------------------------------------------


def _ecs_error(message: str) -> Exception:
    from moto.ecs.exceptions import InvalidParameterException

    return InvalidParameterException(message)


def _update_service(self: Any) -> None:
    wanted = self._get_param("taskDefinition")
    if not wanted:
        return
    service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
    controller = (service.deployment_controller or {}).get("type", "ECS")
    if controller == "ECS":
        return
    current = service.task_definition or ""
    wanted_arn = self.ecs_backend.describe_task_definition(wanted).arn
    if wanted_arn == current:
        return
    if controller == "CODE_DEPLOY":
        raise _ecs_error("Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
                         "Use AWS CodeDeploy to trigger a new deployment.")
    raise _ecs_error("Unable to update task definition on services with a EXTERNAL deployment controller. "
                     "Use a task set to change the task definition.")


def _task_set_call(self: Any) -> None:
    service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
    if (service.deployment_controller or {}).get("type", "ECS") != "EXTERNAL":
        raise _ecs_error("Amazon ECS only supports task set management on services configured to use "
                         "external deployment controllers.")


def _install_ecs() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    _before(R, "update_service", _update_service)
    for name in ("create_task_set", "update_task_set", "delete_task_set", "update_service_primary_task_set"):
        _before(R, name, _task_set_call)


# --- Elastic Load Balancing (v2) ---------------------------------------------------------------


def _elb_error(code: str, message: str) -> Exception:
    from moto.elbv2.exceptions import ELBClientError

    return ELBClientError(code, message)


def _forward_groups(action: dict[str, Any]) -> list[tuple[str, Any]]:
    """(target group ARN, weight or None) of a forward action: its ForwardConfig, else TargetGroupArn."""
    config = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
    if config:
        return [(tg["TargetGroupArn"], tg.get("Weight")) for tg in config if tg.get("TargetGroupArn")]
    return [(action["TargetGroupArn"], None)] if action.get("TargetGroupArn") else []


def _check_actions(backend: Any, lb: Any, actions: list[dict[str, Any]], member: str) -> None:
    for i, action in enumerate(actions or [], start=1):
        if action.get("Type") != "forward":
            continue
        groups = _forward_groups(action)
        weights = []
        for j, (arn, weight) in enumerate(groups, start=1):
            if weight is not None:
                value = int(weight)
                if value < 0 or value > MAX_WEIGHT:
                    bound = "greater than or equal to 0" if value < 0 else f"less than or equal to {MAX_WEIGHT}"
                    raise _elb_error("ValidationError", (
                        f"1 validation error detected: Value '{value}' at '{member}.{i}.member.forwardConfig."
                        f"targetGroups.{j}.member.weight' failed to satisfy constraint: Member must have value {bound}"))
                weights.append(value)
            _check_target_group(backend, lb, arn)
        if len(weights) == len(groups) and groups and sum(weights) == 0:
            raise _elb_error("ValidationError", "At least one target group in a forward action must have a weight "
                                                "greater than 0")


def _check_target_group(backend: Any, lb: Any, arn: str) -> None:
    tg = backend.target_groups.get(arn)
    if tg is None:
        raise _elb_error("TargetGroupNotFound", f"Target groups '{arn}' not found")
    if lb is None:
        return
    if tg.vpc_id and lb.vpc_id and tg.vpc_id != lb.vpc_id:
        raise _elb_error("InvalidConfigurationRequest",
                         f"Target group '{arn}' is in a different VPC than load balancer '{lb.arn}'")
    others = [other.arn for other in backend.load_balancers.values() if other.arn != lb.arn and _forwards_to(backend, other, arn)]
    if others:
        raise _elb_error("TargetGroupAssociationLimit",
                         f"The following target groups cannot be associated with more than one load balancer: {arn}")


def _forwards_to(backend: Any, lb: Any, tg_arn: str) -> bool:
    for listener in lb.listeners.values():
        for rule in listener.rules.values():
            for action in rule.actions:
                if tg_arn in backend._get_target_group_arns_from(action_data=action.data):
                    return True
    return False


def _check_authentication(actions: list[dict[str, Any]], member: str, *, creating: bool) -> None:
    """An authenticate-oidc action needs its client secret, unless a modification reuses the existing one."""
    for i, action in enumerate(actions or [], start=1):
        if action.get("Type") != "authenticate-oidc":
            continue
        config = action.get("AuthenticateOidcConfig") or {}
        reuse = str(config.get("UseExistingClientSecret", "false")).lower() == "true"
        if config.get("ClientSecret") or (reuse and not creating):
            continue
        raise _elb_error("ValidationError", (
            f"A client secret must be specified in '{member}.{i}.member.authenticateOidcConfig.clientSecret'"
            + ("" if creating else ", or 'useExistingClientSecret' set to true to keep the existing one")))


def _listener(backend: Any, arn: str) -> tuple[Any, Any] | tuple[None, None]:
    for lb in backend.load_balancers.values():
        if arn in lb.listeners:
            return lb, lb.listeners[arn]
    return None, None


def _duplicate_port(lb: Any, port: Any, except_arn: str | None = None) -> None:
    if port is None:
        return
    for arn, listener in lb.listeners.items():
        if arn != except_arn and int(listener.port) == int(port):
            raise _elb_error("DuplicateListener", "A listener with the specified port already exists.")


def _create_listener(self: Any) -> None:
    lb = self.elbv2_backend.load_balancers.get(self._get_param("LoadBalancerArn"))
    if lb is None:
        return  # moto answers LoadBalancerNotFound
    _duplicate_port(lb, self._get_param("Port"))
    actions = self._get_params().get("DefaultActions", [])
    _check_actions(self.elbv2_backend, lb, actions, "defaultActions")
    _check_authentication(actions, "defaultActions", creating=True)


def _modify_listener(self: Any) -> None:
    arn = self._get_param("ListenerArn")
    lb, _ = _listener(self.elbv2_backend, arn)
    if lb is None:
        return  # moto answers ListenerNotFound
    _duplicate_port(lb, self._get_param("Port"), except_arn=arn)
    actions = self._get_param("DefaultActions", [])
    _check_actions(self.elbv2_backend, lb, actions, "defaultActions")
    _check_authentication(actions, "defaultActions", creating=False)


def _create_rule(self: Any) -> None:
    params = self._get_params()
    lb, _ = _listener(self.elbv2_backend, params.get("ListenerArn", ""))
    _check_actions(self.elbv2_backend, lb, params.get("Actions", []), "actions")
    _check_authentication(params.get("Actions", []), "actions", creating=True)


def _modify_rule(self: Any) -> None:
    rule_arn = self._get_param("RuleArn")
    lb = None
    for candidate in self.elbv2_backend.load_balancers.values():
        if any(rule_arn in listener.rules for listener in candidate.listeners.values()):
            lb = candidate
    actions = self._get_params().get("Actions", [])
    _check_actions(self.elbv2_backend, lb, actions, "actions")
    _check_authentication(actions, "actions", creating=False)


def _delete_target_group(self: Any) -> None:
    arn = self._get_param("TargetGroupArn")
    backend = self.elbv2_backend
    if arn in backend.target_groups and any(_forwards_to(backend, lb, arn) for lb in backend.load_balancers.values()):
        raise _elb_error("ResourceInUse", f"Target group '{arn}' is currently in use by a listener or a rule")


def _install_elbv2() -> None:
    from moto.elbv2.responses import ELBV2Response as R

    _before(R, "create_listener", _create_listener)
    _before(R, "modify_listener", _modify_listener)
    _before(R, "create_rule", _create_rule)
    _before(R, "modify_rule", _modify_rule)
    _before(R, "delete_target_group", _delete_target_group)


# --- Auto Scaling --------------------------------------------------------------------------------


def _delete_auto_scaling_group(self: Any) -> None:
    group = self.autoscaling_backend.autoscaling_groups.get(self._get_param("AutoScalingGroupName"))
    force = str(self._get_param("ForceDelete", "false")).lower() == "true"
    if group is not None and group.instance_states and not force:
        from moto.autoscaling.exceptions import AutoscalingClientError

        raise AutoscalingClientError("ResourceInUse", "You cannot delete an AutoScalingGroup while there are "
                                     "instances or pending Spot instance request(s) still in the group.")


# --- Route53 --------------------------------------------------------------------------------------


def _route53_error(code: str, message: str) -> Exception:
    from moto.route53.exceptions import Route53ClientError

    return Route53ClientError(code, message)


def _is_address(value: str, version: int) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(value.strip()).version == version
    except ValueError:
        return False


_ADDRESS_TYPES = {"A": (4, "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"),
                  "AAAA": (6, "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)")}


def _check_record_set(action: str, record: dict[str, Any]) -> None:
    alias = bool(record.get("AliasTarget"))
    plain = "TTL" in record or bool(record.get("ResourceRecords"))
    if alias and plain or not (alias or record.get("TrafficPolicyInstanceId")
                               or ("TTL" in record and record.get("ResourceRecords"))):
        found = "more than one" if alias and plain else "none"
        raise _route53_error("InvalidInput", (
            "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or "
            f"TrafficPolicyInstanceId], but found {found} in Change with [Action={action}, Name={record.get('Name')}, "
            f"Type={record.get('Type')}, SetIdentifier={record.get('SetIdentifier', 'null')}]"))
    version, problem = _ADDRESS_TYPES.get(str(record.get("Type")), (None, ""))
    for value in [] if alias or version is None else record.get("ResourceRecords") or []:
        text = value.get("Value", "") if isinstance(value, dict) else str(value)
        if not _is_address(text, version):
            raise _route53_error("InvalidChangeBatch",
                                 f"[Invalid Resource Record: 'FATAL problem: {problem} encountered with '{text}'']")


def _change_resource_record_sets(self: Any) -> None:
    for change in self._get_param("ChangeBatch.Changes") or []:
        if change.get("Action") in ("CREATE", "UPSERT"):
            _check_record_set(change["Action"], change.get("ResourceRecordSet") or {})


def install() -> None:
    _install_ecs()
    _install_elbv2()
    from moto.route53.responses import Route53 as Route53Response

    _before(Route53Response, "change_resource_record_sets", _change_resource_record_sets)
    from moto.autoscaling.responses import AutoScalingResponse

    _before(AutoScalingResponse, "delete_auto_scaling_group", _delete_auto_scaling_group)
