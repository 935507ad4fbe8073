"""Retry timing shared by the notification dispatcher and the CRM delivery worker:
exponential backoff with full jitter, and the server's Retry-After when it sent one."""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date), or None."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff(
    attempt: int,
    retry_after: float | None,
    base: float = 2.0,
    cap: float = 300.0,
    rng=random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry).

    A server's Retry-After wins (clamped to [0, cap]); otherwise "full jitter":
    uniform in [0, min(cap, base * 2**attempt)).
    """
    if attempt < 0:
        raise ValueError("attempt must not be negative")
    if retry_after is not None and math.isfinite(retry_after):
        return min(max(retry_after, 0.0), cap)
    ceiling = cap if attempt >= 64 else min(cap, base * 2.0**attempt)
    return rng() * ceiling
