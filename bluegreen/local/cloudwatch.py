"""CloudWatch GetMetricData as AWS answers it, where moto does not: percentile statistics, metric
math, and datapoints stamped on the world's clock.

moto 5 answers a `p99` MetricStat with a 500 (its statistics know no percentiles), evaluates an
`Expression` only when it is exactly another query's id (`100 * m1 / m2` and `FILL(m, 0)` return
no values), and stamps a datum published without a Timestamp with the machine's time, not the
world's. While a world is active this module answers GetMetricData itself from moto's stored
datapoints, following the GetMetricData API reference and "Using metric math"; each difference is
listed in DIVERGENCES.md.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any, Callable

from bluegreen.local import world as worlds

Series = dict[float, float]  # period start (epoch seconds) -> value
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,2})?)$")


class MathError(ValueError):
    """An expression CloudWatch would refuse (a ValidationError)."""


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def statistic(stat: str, data: list[Any]) -> float | None:
    """Sum / Average / Minimum / Maximum / SampleCount over raw and statistic-set data; pNN over raw values
    (nearest rank), none when only statistic sets were published (as CloudWatch)."""
    raw = [d.value for d in data if hasattr(d, "value")]
    sets = [d for d in data if hasattr(d, "sample_count")]
    count = len(raw) + sum(float(s.sample_count) for s in sets)
    if not count:
        return None
    total = sum(raw) + sum(float(s.sum) for s in sets)
    found = _PERCENTILE.match(stat)
    if found:
        if sets or not raw:
            return None
        ordered = sorted(raw)
        rank = max(1, math.ceil(float(found.group(1)) / 100.0 * len(ordered)))
        return ordered[rank - 1]
    lows = raw + [float(s.min) for s in sets]
    highs = raw + [float(s.max) for s in sets]
    answers: dict[str, Callable[[], float]] = {
        "Sum": lambda: total, "Average": lambda: total / count, "SampleCount": lambda: count,
        "Minimum": lambda: min(lows), "Maximum": lambda: max(highs)}
    if stat not in answers:
        raise MathError(f"The value {stat} for parameter MetricDataQueries.member.MetricStat.Stat is not valid.")
    return answers[stat]()


def metric_series(stat_query: dict[str, Any], data: list[Any], grid: list[float]) -> Series:
    metric = stat_query["Metric"]
    wanted = sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
    period = float(stat_query["Period"])
    mine = [d for d in data if d.namespace == metric["Namespace"] and d.name == metric["MetricName"]
            and sorted((x.name, x.value) for x in d.dimensions) == wanted
            and (not stat_query.get("Unit") or d.unit == stat_query["Unit"])]
    out: Series = {}
    for start in grid:
        value = statistic(stat_query["Stat"], [d for d in mine if start <= _epoch(d.timestamp) < start + period])
        if value is not None:
            out[start] = value
    return out


class _Parser:
    """Metric math: + - * / with parentheses and unary minus over numbers, query ids, FILL(x, v) and ABS(x)."""

    def __init__(self, text: str, lookup: Callable[[str], Series], grid: list[float]) -> None:
        self.tokens = [t for t in _TOKEN.findall(text) if any(t)]
        self.position, self.lookup, self.grid, self.text = 0, lookup, grid, text

    def parse(self) -> Series | float:
        value = self._sum()
        if self.position != len(self.tokens):
            raise MathError(f"Error in expression: unexpected {''.join(self.tokens[self.position])!r} in {self.text!r}")
        return value

    def _peek(self) -> str | None:
        return "".join(self.tokens[self.position]) if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str, str]:
        if self.position >= len(self.tokens):
            raise MathError(f"Error in expression: {self.text!r} ends too soon")
        self.position += 1
        return self.tokens[self.position - 1]

    def _sum(self) -> Series | float:
        value = self._product()
        while self._peek() in ("+", "-"):
            op = self._take()[2]
            value = _combine(value, self._product(), op)
        return value

    def _product(self) -> Series | float:
        value = self._unary()
        while self._peek() in ("*", "/"):
            op = self._take()[2]
            value = _combine(value, self._unary(), op)
        return value

    def _unary(self) -> Series | float:
        if self._peek() == "-":
            self._take()
            return _combine(0.0, self._unary(), "-")
        return self._atom()

    def _atom(self) -> Series | float:
        number, name, symbol = self._take()
        if number:
            return float(number)
        if symbol == "(":
            value = self._sum()
            self._expect(")")
            return value
        if name and self._peek() == "(":
            return self._call(name.upper())
        if name:
            return self.lookup(name)
        raise MathError(f"Error in expression: unexpected {symbol!r} in {self.text!r}")

    def _call(self, function: str) -> Series | float:
        self._expect("(")
        series = self._sum()
        if function == "FILL":
            self._expect(",")
            fill = self._sum()
            self._expect(")")
            if not isinstance(series, dict) or isinstance(fill, dict):
                raise MathError("Error in expression: FILL takes a time series and a number")
            return {t: series.get(t, fill) for t in self.grid}
        self._expect(")")
        if function == "ABS":
            return {t: abs(v) for t, v in series.items()} if isinstance(series, dict) else abs(series)
        raise MathError(f"Error in expression: function {function} is not supported here")

    def _expect(self, symbol: str) -> None:
        if self._take()[2] != symbol:
            raise MathError(f"Error in expression: expected {symbol!r} in {self.text!r}")


def _combine(left: Series | float, right: Series | float, op: str) -> Series | float:
    """Arithmetic on matching timestamps; a division by zero leaves no datapoint at that timestamp."""
    def apply(a: float, b: float) -> float | None:
        if op == "/":
            return None if b == 0 else a / b
        return a + b if op == "+" else a - b if op == "-" else a * b
    if not isinstance(left, dict) and not isinstance(right, dict):
        result = apply(left, right)
        return math.nan if result is None else result
    times = sorted(set(left) & set(right) if isinstance(left, dict) and isinstance(right, dict)
                   else (left if isinstance(left, dict) else right))  # type: ignore[arg-type]
    out: Series = {}
    for t in times:
        a = left[t] if isinstance(left, dict) else left
        b = right[t] if isinstance(right, dict) else right
        value = apply(a, b)
        if value is not None:
            out[t] = value
    return out


def get_metric_data(queries: list[dict[str, Any]], start: datetime, end: datetime, data: list[Any],
                    scan_by: str = "TimestampDescending") -> list[dict[str, Any]]:
    """GetMetricData's MetricDataResults over moto's stored datapoints."""
    first = math.floor(_epoch(start) / 60.0) * 60.0  # "Start time less than 15 days ago: round down to the minute"
    last = _epoch(end)
    if last <= first:
        raise MathError("The parameter EndTime must be greater than StartTime.")
    by_id = {q["Id"]: q for q in queries}
    periods = [int(q["MetricStat"]["Period"]) for q in queries if "MetricStat" in q] or [
        int(q.get("Period", 60)) for q in queries]
    grid = _grid(first, last, min(periods))
    done: dict[str, Series] = {}

    def lookup(key: str, seen: tuple[str, ...] = ()) -> Series:
        if key in done:
            return done[key]
        query = by_id.get(key)
        if query is None or key in seen:
            raise MathError(f"Error in expression: unknown or circular id {key!r}")
        if "MetricStat" in query:
            done[key] = metric_series(query["MetricStat"], data, _grid(first, last, int(query["MetricStat"]["Period"])))
        else:
            value = _Parser(query["Expression"], lambda k: lookup(k, seen + (key,)), grid).parse()
            done[key] = value if isinstance(value, dict) else {t: value for t in grid}
        return done[key]

    results = []
    for query in queries:
        series = lookup(query["Id"])
        if not query.get("ReturnData", True):
            continue
        times = sorted(series, reverse=scan_by != "TimestampAscending")
        label = query.get("Label") or query.get("MetricStat", {}).get("Metric", {}).get("MetricName") or query["Id"]
        results.append({"id": query["Id"], "label": label, "status_code": "Complete",
                        "timestamps": [datetime.fromtimestamp(t, timezone.utc) for t in times],
                        "values": [series[t] for t in times]})
    return results


def _grid(first: float, last: float, period: int) -> list[float]:
    count = max(1, math.ceil((last - first) / period))
    return [first + i * period for i in range(count)]


def install() -> None:
    """Answer GetMetricData (and stamp new datapoints) this way while a world is active."""
    from moto.cloudwatch import models
    from moto.cloudwatch.exceptions import ValidationError

    original = models.CloudWatchBackend.get_metric_data

    def answer(self: Any, queries: list[dict[str, Any]], start_time: datetime, end_time: datetime,
               scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        if worlds.active() is None:
            return original(self, queries, start_time, end_time, scan_by)
        try:
            return get_metric_data(queries, start_time, end_time, self.get_all_metrics(), scan_by)
        except MathError as refused:
            raise ValidationError(str(refused)) from None

    models.CloudWatchBackend.get_metric_data = answer  # type: ignore[method-assign]
    base_init = models.MetricDatumBase.__init__

    def stamped(self: Any, namespace: str, name: str, dimensions: list[dict[str, str]], timestamp: Any,
                unit: Any = None) -> None:
        world = worlds.active()
        if timestamp is None and world is not None:
            timestamp = world.stamp()
        base_init(self, namespace, name, dimensions, timestamp, unit)

    models.MetricDatumBase.__init__ = stamped  # type: ignore[method-assign]
