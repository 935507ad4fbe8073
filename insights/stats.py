"""Rates, medians and score intervals for proportions, in plain Python.

Contracts:
- Every function is pure and deterministic; none touches personal data.
- "No data" is `None`, never 0 or NaN: `rate` with `whole == 0`, the intervals with zero
  trials and `median` of an empty sequence all return `None`, so a dashboard can print a
  dash instead of a misleading number.
- Counts are checked: a negative count, or more successes than trials, raises
  `ValueError` (it means the caller counted wrongly, not that data is missing).
- `wilson_interval` is the Wilson score interval without continuity correction
  (Newcombe 1998, "Two-sided confidence intervals for the single proportion", method 3).
- `difference_interval` is Newcombe's hybrid score interval for p_a - p_b built from the
  two Wilson intervals (Newcombe 1998, "Interval estimation for the difference between
  independent proportions", method 10). It is the interval of the scoring feedback's
  rule findings (with the rule against without it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def rate(part: int, whole: int) -> float | None:
    """`part / whole`, or None when `whole` is 0."""
    if whole == 0:
        return None
    return part / whole


def _check_counts(successes: int, trials: int) -> None:
    if successes < 0 or trials < 0:
        raise ValueError(f"counts must not be negative: {successes}/{trials}")
    if successes > trials:
        raise ValueError(f"more successes than trials: {successes}/{trials}")


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval (low, high) for `successes / trials`, clamped to [0, 1].

    None when `trials` is 0. ValueError for negative counts or successes > trials.
    """
    _check_counts(successes, trials)
    if trials == 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    denominator = 1 + z2 / trials
    # At 0 and at `trials` successes the bound is exactly 0 or 1; say so, without float noise.
    low = 0.0 if successes == 0 else _clamp((centre - spread) / denominator)
    high = 1.0 if successes == trials else _clamp((centre + spread) / denominator)
    return low, high


def difference_interval(
    a_successes: int,
    a_trials: int,
    b_successes: int,
    b_trials: int,
    z: float = 1.96,
) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval (low, high) for p_a - p_b, within [-1, 1].

    None when either group has no trials. ValueError as for `wilson_interval`.
    """
    a = wilson_interval(a_successes, a_trials, z)
    b = wilson_interval(b_successes, b_trials, z)
    if a is None or b is None:
        return None
    p_a, p_b = a_successes / a_trials, b_successes / b_trials
    (low_a, high_a), (low_b, high_b) = a, b
    delta = p_a - p_b
    low = delta - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = delta + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return max(-1.0, low), min(1.0, high)


def median(values: Sequence[float]) -> float | None:
    """The median (mean of the two middle values for an even count), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2
