"""Traffic weights as people read them: each target's share of the total, in whole percent.

ALB forward actions and Route53 weighted records both split traffic in proportion to the weights,
so a raw weight means nothing alone: a plain forward to one target group reads back as weight 1,
and that is 100% of the traffic, not 1%.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Mapping, TypeVar

K = TypeVar("K")


def percentages(weights: Mapping[K, int]) -> dict[K, int]:
    """Each key's share of the total in whole percent, summing to 100 (largest remainders round up).

    All weights 0 gives 0 each: the caller says what that means (an ALB refuses it; Route53 then
    answers every record with equal probability).
    """
    total = sum(max(w, 0) for w in weights.values())
    if total == 0:
        return {k: 0 for k in weights}
    exact = {k: Fraction(100 * max(w, 0), total) for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}
    short = 100 - sum(out.values())
    for k in sorted(exact, key=lambda k: exact[k] - out[k], reverse=True)[:short]:
        out[k] += 1
    return out


def same_split(a: Mapping[K, int], b: Mapping[K, int]) -> bool:
    """True when both send every key the same share of the traffic (absent counts as 0)."""
    keys = set(a) | set(b)
    total_a, total_b = sum(a.values()), sum(b.values())
    if total_a == 0 or total_b == 0:
        return total_a == total_b == 0
    return all(Fraction(a.get(k, 0), total_a) == Fraction(b.get(k, 0), total_b) for k in keys)
