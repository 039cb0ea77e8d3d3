"""Metric gates from the spec's `analysis` section: the queries with their dimensions filled in.

`of: green` / `of: blue` become the TargetGroup and LoadBalancer dimensions of that color's target
group on the first route (CloudWatch names them by the ARNs' last parts: `targetgroup/NAME/ID`,
`app/NAME/ID`). With `defaults`, an ALB-fronted service (listener routes) gets two queries from
its target groups' own metrics (AWS/ApplicationELB), shown in the plan like any other:

    green-5xx-rate               100 * FILL(errors, 0) / requests  at most 1 (percent)
                                 (HTTPCode_Target_5XX_Count is only published when there are errors)
    green-p99-latency-vs-blue    TargetResponseTime p99, green at most 1.2 x blue; no data: pass
                                 (at 100% blue serves nothing, so there is nothing to compare with)
"""

from __future__ import annotations

from bluegreen.domain.analysis import MetricGate, MetricRef
from bluegreen.domain.colors import Color
from bluegreen.domain.spec import Analysis, Metric, MetricQuery, NoData, RoutesTraffic, Spec
from bluegreen.planning.context import Context, Refused

ALB = "AWS/ApplicationELB"

DEFAULT_QUERIES = (
    MetricQuery(name="green-5xx-rate", expression="100 * FILL(errors, 0) / requests", at_most=1.0, metrics={
        "errors": Metric(namespace=ALB, name="HTTPCode_Target_5XX_Count", stat="Sum", of="green"),
        "requests": Metric(namespace=ALB, name="RequestCount", stat="Sum", of="green")}),
    MetricQuery(name="green-p99-latency-vs-blue", compare_to_blue={"at_most": 1.2}, on_no_data=NoData.PASS,
                metrics={"latency": Metric(namespace=ALB, name="TargetResponseTime", stat="p99", of="green")}),
)


def queries(spec: Spec) -> list[MetricQuery]:
    """The spec's queries, after the defaults when they apply (a query of the same name replaces one)."""
    analysis = spec.analysis
    if analysis is None:
        return []
    own = {q.name for q in analysis.queries}
    defaults = [q for q in DEFAULT_QUERIES if q.name not in own] if analysis.defaults and spec.routes else []
    return defaults + list(analysis.queries)


def metric_gates(ctx: Context) -> list[MetricGate]:
    """Every query as a gate the executor can run; a query naming a color with no target group is refused."""
    spec = ctx.spec
    if spec.analysis is None:
        return []
    return [_gate(ctx, spec.analysis, query) for query in queries(spec)]


def _gate(ctx: Context, analysis: Analysis, query: MetricQuery) -> MetricGate:
    compare = query.compare_to_blue
    return MetricGate(
        name=query.name, metrics={key: _ref(ctx, m, None) for key, m in query.metrics.items()},
        expression=query.expression,
        baseline={key: _ref(ctx, m, Color.BLUE) for key, m in query.metrics.items()} if compare else None,
        at_most=query.at_most, at_least=query.at_least,
        ratio_at_most=compare.at_most if compare else None, ratio_at_least=compare.at_least if compare else None,
        on_no_data=(query.on_no_data or analysis.on_no_data).value, window=analysis.window)


def _ref(ctx: Context, metric: Metric, swap_to: Color | None) -> MetricRef:
    dimensions = dict(metric.dimensions)
    if metric.of is not None:
        color = Color(metric.of) if swap_to is None or metric.of != "green" else swap_to
        dimensions = {**target_group_dimensions(ctx, color), **dimensions}
    return MetricRef(namespace=metric.namespace, name=metric.name, stat=metric.stat, dimensions=dimensions,
                     unit=metric.unit)


def target_group_dimensions(ctx: Context, color: Color) -> dict[str, str]:
    """{TargetGroup: targetgroup/NAME/ID, LoadBalancer: app/NAME/ID} of the color's first-route target group."""
    traffic = ctx.spec.traffic
    if not isinstance(traffic, RoutesTraffic):
        raise Refused("analysis: `of: green|blue` needs listener routes (a target group per color); give the "
                      "metric's dimensions instead")
    route = traffic.routes[0]
    tg = ctx.target_group(route.target_group(color))
    lb = ctx.snapshot.load_balancers.get(route.load_balancer)
    if lb is None:
        raise Refused(f"load balancer {route.load_balancer} not found")
    return {"TargetGroup": tg.arn.rsplit(":", 1)[-1], "LoadBalancer": lb.arn.split(":loadbalancer/", 1)[-1]}
