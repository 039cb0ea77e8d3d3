"""Elastic Load Balancing's target-group health metrics in CloudWatch, which moto never publishes.

AWS ("CloudWatch metrics for your Application Load Balancer", and the Network Load Balancer page)
publishes `HealthyHostCount` and `UnHealthyHostCount` in `AWS/ApplicationELB` (`AWS/NetworkELB`)
with the dimensions `TargetGroup` and `LoadBalancer`, once a minute, while the load balancer health-
checks the group, that is while a listener or rule of that load balancer forwards to it.

Here nothing publishes on a schedule: when GetMetricData asks for one of these metrics, the count
the group's target health gives at that moment (moto's, or the world's simulation) is stored as the
datum of the minute just past, and the query is then answered from what is stored like any other.
The emulator's history is therefore what queries sampled, not one datum per minute (DIVERGENCES.md).
Installed with `emulator.patch_moto`, in both modes; never on the product's path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bluegreen.adapters.aws.reads_calls import ELB_NAMESPACES, elb_dimension
from bluegreen.local import world as worlds

COUNTED = {"HealthyHostCount": "healthy", "UnHealthyHostCount": "unhealthy"}


def publish_for(params: dict[str, Any], cloudwatch: Any) -> None:
    """Store the datum of the minute just past of every ELB host count the GetMetricData request asks for."""
    from moto.cloudwatch.models import MetricDatum
    from moto.elbv2.models import elbv2_backends

    from bluegreen.local.elb import in_use

    elbv2 = elbv2_backends[cloudwatch.account_id][cloudwatch.region_name]
    for query in params.get("MetricDataQueries", []):
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        counted = COUNTED.get(metric.get("MetricName", ""))
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        if counted is None or set(dims) != {"TargetGroup", "LoadBalancer"}:
            continue
        tg = _attached(elbv2, dims["TargetGroup"], dims["LoadBalancer"])
        if tg is None or ELB_NAMESPACES.get(dims["LoadBalancer"].split("/", 1)[0]) != metric.get("Namespace"):
            continue
        if not in_use(elbv2, tg.arn):  # no health checks, no metric
            continue
        states = [h.status for h in elbv2.describe_target_health(tg.arn, [])]
        cloudwatch.metric_data.append(MetricDatum(
            metric["Namespace"], metric["MetricName"], float(states.count(counted)),
            # in the query's order: moto matches dimension lists by sorting them, and its Dimension's `<` is
            # broken (it compares a value with a name), so the order two lists were given in decides
            metric["Dimensions"], _last_minute(), "Count"))


def _last_minute() -> datetime:
    """The start of the minute before now (the world's now, else the machine's): ELB's newest datapoint
    is the minute just past."""
    from moto.core.utils import utcnow

    world = worlds.active()
    now = world.stamp() if world is not None else utcnow()
    return now.replace(second=0, microsecond=0) - timedelta(minutes=1)


def _attached(elbv2: Any, tg_dimension: str, lb_dimension: str) -> Any:
    """The target group the dimensions name, when it is attached to the load balancer they name (else None)."""
    tg = next((t for t in elbv2.target_groups.values() if elb_dimension(t.arn) == tg_dimension), None)
    if tg is None or not any(elb_dimension(arn) == lb_dimension for arn in tg.load_balancer_arns):
        return None
    return tg


def install() -> None:
    """Publish before moto's CloudWatch answers a GetMetricData (idempotent)."""
    from moto.cloudwatch.responses import CloudWatchResponse

    original = CloudWatchResponse.get_metric_data
    if getattr(original, "_bluegreen_elb_metrics", False):
        return

    def get_metric_data(self: Any) -> Any:
        publish_for(self._get_params(), self.cloudwatch_backend)
        return original(self)

    get_metric_data._bluegreen_elb_metrics = True  # type: ignore[attr-defined]
    CloudWatchResponse.get_metric_data = get_metric_data  # type: ignore[method-assign]
