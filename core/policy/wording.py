"""How limits and ratios read in the policy layer's sentences (pure).

A limit is a size ("500 GB"), a count ("1,200") or ``unlimited`` (None: no limit is set). A ratio
("2.5×") and a percentage ("+150%") exist only between two finite numbers over a base above zero:
the functions answer None otherwise, so no reason, note or title ever reads ``inf`` or ``nan``.
"""

from __future__ import annotations

import math

from core.policy.measures import STORAGE_QUOTA, fmt_bytes

UNLIMITED = "unlimited"


def finite(value: object) -> bool:
    """A real, finite number (not a bool, not inf or nan)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def limit_text(resource: str, value: float | None) -> str:
    """A quota's limit or usage in its unit; None (or an infinite value) is "unlimited"."""
    if value is None or value == math.inf:
        return UNLIMITED
    if not finite(value):
        return "unknown"
    if resource == STORAGE_QUOTA:
        return fmt_bytes(value)
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.15g}"


def ratio(new: float | None, old: float | None) -> float | None:
    """``new / old`` when both are finite and ``old`` is above zero, else None."""
    if new is None or old is None or not finite(new) or not finite(old) or old <= 0:
        return None
    return new / old


def times_text(new: float | None, old: float | None) -> str | None:
    """ "2.5×", or None when there is no finite ratio (from zero or from unlimited)."""
    factor = ratio(new, old)
    return None if factor is None else f"{factor:.1f}×"


def change_text(new: float | None, old: float | None) -> str | None:
    """ "+150%", or None when there is no finite ratio."""
    factor = ratio(new, old)
    return None if factor is None else f"{(factor - 1) * 100:+.0f}%"


def multiplier_reason(resource: str, new: float, old: float | None, threshold: float) -> str:
    """The sentence of a "requested limit more than N× the current one" trigger that matched."""
    factor = times_text(new, old)
    if factor is not None:
        return f"The requested limit is {factor} the current one, more than {threshold:g}×."
    return (
        f"The requested limit of {limit_text(resource, new)} is more than {threshold:g}× "
        f"the current limit of {limit_text(resource, old)}."
    )
