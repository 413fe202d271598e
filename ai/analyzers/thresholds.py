"""The limits the analyzers apply, with why each is where it is. One frozen value, so a caller
(or a test) can pass other limits without touching the analyzers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # -- consumers ---------------------------------------------------------------------------
    # Lag growing: over the history's window, at least ``lag_min_points`` points, a rise of at
    # least ``lag_min_rise`` messages (below that a burst is noise), and most steps (share
    # ``lag_rising_share``) not going down: a trend, not one spike. Critical from
    # ``lag_critical_rise`` more messages waiting than at the start of the window.
    lag_window: str = "30m"  # the range asked of /analytics/consumers/{name}/lag (5 s buckets)
    lag_min_points: int = 3
    lag_min_rise: int = 100
    lag_rising_share: float = 0.7
    lag_critical_rise: int = 10_000
    # Stalled: work outstanding and no acknowledgement (or, with ack policy none, no delivery)
    # for 5 minutes: longer than any sane ack_wait (30 s by default), short enough to matter.
    # Critical after half an hour.
    stalled_after_s: float = 300.0
    stalled_critical_after_s: float = 1800.0
    # Redelivery storm: at least ``redelivery_min`` messages redelivered and pending, and they are
    # a fifth (critical: half) of every delivery the consumer made.
    redelivery_min: int = 10
    redelivery_warning: float = 0.2
    redelivery_critical: float = 0.5
    # Ack pending near max_ack_pending: at 90 % delivery is about to stop; at 100 % it has.
    ack_pending_warning: float = 0.9
    # Filter: asking the stream for its subject counts is skipped above this many distinct
    # subjects (the answer lists each subject).
    max_subjects_counted: int = 10_000
    # -- streams -----------------------------------------------------------------------------
    # Storage: bytes / max_bytes or messages / max_msgs. 85 % leaves time to act; 95 % is
    # critical when the stream refuses new messages at its limit (discard new).
    storage_warning: float = 0.85
    storage_critical: float = 0.95
    # Idle: a stream with subjects and nothing stored for a day (info: it may be by design).
    idle_after_s: float = 24 * 3600.0
    # -- mirrors and sources -----------------------------------------------------------------
    # Behind: 1,000 messages or 5 minutes (critical: 100,000 or an hour). Broken: a server error,
    # or no word from the source for a minute (a healthy link hears an idle heartbeat each
    # second; the replication map calls a link stale after 10 s).
    mirror_lag_messages: int = 1_000
    mirror_lag_messages_critical: int = 100_000
    mirror_lag_seconds: float = 300.0
    mirror_lag_seconds_critical: float = 3600.0
    mirror_silent_after_s: float = 60.0
    # -- quotas ------------------------------------------------------------------------------
    # A team's usage at 85 % of a quota (critical at 100 %): the next change may be refused.
    quota_warning: float = 0.85
    quota_critical: float = 1.0
