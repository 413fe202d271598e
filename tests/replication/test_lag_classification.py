"""The pure part of the replication map as tables: how a mirror's lag is counted (from the source
whenever it can be read), what an edge's status is, how the catch-up rate and the stall are told
from the previous measurement, and whether a DR pair's RPO holds."""

from __future__ import annotations

import pytest

from core.replication.lag import (
    ACTIVE_STALE_S,
    STALL_AFTER_S,
    ConsumerState,
    EdgeMemory,
    Observation,
    PairStreamLag,
    SourceState,
    active_seconds,
    age_seconds,
    classify,
    consumer_lag,
    copied_lag,
    mirror_lag,
    pair_health,
    remember,
)

NOW = 1_800_000_000.0
SRC = SourceState(last_seq=100, first_seq=1)


def obs(**kw) -> Observation:
    return Observation(
        **{
            "target_reachable": True,
            "source_readable": True,
            "lag_messages": 0,
            "active_s": 0.5,
            "position": 100,
            **kw,
        }
    )


def mem(progress_ago: float, position: int = 90) -> EdgeMemory:
    return EdgeMemory(measured_at=NOW, position=position, progress_at=NOW - progress_ago)


# (case, observation, memory, status, words in the reason)
STATUS = [
    ("in sync", obs(), None, "in_sync", ""),
    ("behind, first look", obs(lag_messages=10), None, "behind", ""),
    ("behind, progressing", obs(lag_messages=10), mem(1), "behind", ""),
    ("stalled", obs(lag_messages=10), mem(STALL_AFTER_S + 1), "stalled", "no progress"),
    ("paused wins over lag", obs(lag_messages=10, paused=True), mem(60), "paused", "paused"),
    (
        "target unreachable",
        obs(target_reachable=False, lag_messages=4, active_s=None),
        None,
        "broken_link",
        "target cluster cannot be reached; the lag is counted on the source",
    ),
    (
        "target unreachable even if paused",
        obs(target_reachable=False, paused=True),
        None,
        "broken_link",
        "target",
    ),
    (
        "source unreachable",
        obs(source_readable=False, source_unreachable=True, lag_messages=None),
        None,
        "broken_link",
        "source cluster cannot be reached",
    ),
    (
        "silent source, messages missing",
        obs(lag_messages=3, active_s=ACTIVE_STALE_S + 2),
        None,
        "broken_link",
        "not heard from its source for 12 s and lacks 3 messages",
    ),
    (
        "silent source, nothing missing",
        obs(lag_messages=0, active_s=ACTIVE_STALE_S + 50),
        None,
        "in_sync",
        "",
    ),
    (
        "silent unregistered source: cannot tell, so broken",
        obs(source_readable=False, lag_messages=0, active_s=ACTIVE_STALE_S + 1),
        None,
        "broken_link",
        "not heard",
    ),
    (
        "never heard from its source",
        obs(lag_messages=5, active_s=None),
        None,
        "broken_link",
        "never heard",
    ),
    ("server error", obs(server_error="stream not found"), None, "error", "stream not found"),
    (
        "server error beats stall",
        obs(lag_messages=5, server_error="boom"),
        mem(60),
        "error",
        "boom",
    ),
    (
        "lag unknown",
        obs(source_readable=False, lag_messages=None, unknown_reason="why not"),
        None,
        "unknown",
        "why not",
    ),
]


@pytest.mark.parametrize(
    "case,observation,memory,status,reason", STATUS, ids=[s[0] for s in STATUS]
)
def test_status(case, observation, memory, status, reason):
    got, why = classify(observation, memory, NOW)
    assert got == status
    assert reason in why
    assert bool(why) == bool(reason)


# (case, arguments, (copied_upto, lag))
LAGS = [
    ("mirror up to date", dict(target_last_seq=100), (100, 0)),
    (
        "mirror behind, counted on the source (its own lag reads 0)",
        dict(target_last_seq=93, server_lag=0),
        (93, 7),
    ),
    (
        "purged source: nothing below its first sequence counts",
        dict(target_last_seq=10, source=SourceState(100, 95)),
        (10, 6),
    ),
    ("target down: from the last seen last_seq", dict(known_target_last_seq=96), (96, 4)),
    (
        "target down: the consumer's ack floor when further",
        dict(known_target_last_seq=90, consumer=ConsumerState(4, 3, 99, 92)),
        (92, 8),
    ),
    (
        "target down, never seen: the consumer's ack floor",
        dict(consumer=ConsumerState(4, 3, 99, 96)),
        (96, 4),
    ),
    (
        "started later: nothing before its start counts",
        dict(target_last_seq=0, start_seq=98),
        (97, 3),
    ),
    (
        "filtered console mirror: its consumer counts",
        dict(target_last_seq=90, countable=False, consumer=ConsumerState(2, 3, 95, 90)),
        (90, 5),
    ),
    (
        "filtered console mirror holding all it was sent",
        dict(target_last_seq=95, countable=False, consumer=ConsumerState(2, 3, 95, 90)),
        (95, 2),
    ),
    (
        "filtered foreign mirror: the server's lag",
        dict(target_last_seq=50, countable=False, server_lag=4),
        (50, 4),
    ),
    (
        "source unreadable: the server's lag",
        dict(target_last_seq=50, source=None, server_lag=0),
        (50, 0),
    ),
    (
        "source unreadable and target down: unknown",
        dict(source=None, server_lag=None),
        (None, None),
    ),
]


@pytest.mark.parametrize("case,kwargs,expected", LAGS, ids=[c[0] for c in LAGS])
def test_mirror_lag(case, kwargs, expected):
    arguments = dict(
        target_last_seq=None,
        known_target_last_seq=None,
        source=SRC,
        consumer=None,
        countable=True,
        start_seq=None,
        server_lag=None,
    )
    assert mirror_lag(**{**arguments, **kwargs}) == expected


def test_small_counts():
    assert copied_lag(10, 1, 12) == 0  # a target ahead (source recreated) is not negative lag
    assert consumer_lag(3, 4, delivered_seq=10, target_last_seq=None) == 7
    assert consumer_lag(3, 4, delivered_seq=10, target_last_seq=10) == 3
    assert active_seconds(-1) is None and active_seconds(None) is None
    assert active_seconds(2_500_000_000) == 2.5
    assert age_seconds("2027-01-15T08:00:00.123456789Z", 1_800_000_000.0 + 0) is not None
    assert age_seconds("2027-01-15T08:00:00.5Z", 1_799_999_990.0) == 0.0  # never negative
    assert age_seconds("1970-01-01T00:00:10.000000001Z", 20.0) == pytest.approx(10.0)
    assert age_seconds("not a time", NOW) is None and age_seconds(None, NOW) is None
    paused = ConsumerState.of(
        {
            "num_pending": 3,
            "num_ack_pending": 1,
            "paused": True,
            "delivered": {"stream_seq": 8},
            "ack_floor": {"stream_seq": 7},
        }
    )
    assert paused == ConsumerState(3, 1, 8, 7, True)


def test_rate_and_progress_from_the_previous_measurement():
    first = remember(None, NOW, 100, lag_messages=50)
    assert first.rate is None and first.progress_at == NOW and first.baseline_position == 100
    quick = remember(first, NOW + 0.2, 110, lag_messages=40)
    assert quick.rate is None and quick.baseline_position == 100  # too short an interval
    later = remember(quick, NOW + 2, 140, lag_messages=10)
    assert later.rate == pytest.approx(20.0) and later.baseline_position == 140
    still = remember(later, NOW + 30, 140, lag_messages=10)
    assert still.progress_at == NOW + 2 and still.rate == pytest.approx(0.0)
    assert classify(obs(lag_messages=10, position=140), still, NOW + 30)[0] == "stalled"
    restarted = remember(still, NOW + 31, 5, lag_messages=0)
    assert restarted.baseline_position == 5 and restarted.progress_at == NOW + 31
    # Target unreachable: the position is not known now; the rest is kept, the lag updated.
    blind = remember(still, NOW + 40, None, lag_messages=25, target_last_seq=None)
    assert blind.position == 140 and blind.lag_messages == 25 and blind.measured_at == NOW + 40
    assert blind.seen_at == NOW + 30  # when the position was last read
    assert EdgeMemory.from_json(blind.to_json()) == blind


# (case, rpo, streams, sides readable, (rpo_ok, worst, at risk))
PAIRS = [
    ("all within", 5, [PairStreamLag(0, 0.0), PairStreamLag(3, 1.5)], True, (True, 1.5, 3)),
    ("one over", 5, [PairStreamLag(0, 0.0), PairStreamLag(300, 12.0)], True, (False, 12.0, 300)),
    (
        "one unknown",
        5,
        [PairStreamLag(0, 0.0), PairStreamLag(None, None, known_lag_messages=7)],
        True,
        (None, 0.0, 7),
    ),
    (
        "unknown but one known over",
        5,
        [PairStreamLag(9, 6.0), PairStreamLag(None, None)],
        True,
        (False, 6.0, 9),
    ),
    ("a side unreadable", 5, [PairStreamLag(2, 1.0)], False, (None, 1.0, 2)),
    ("a side unreadable, over", 5, [PairStreamLag(20, 8.0)], False, (False, 8.0, 20)),
    (
        "a stream without mirror",
        5,
        [PairStreamLag(0, 0.0), PairStreamLag(None, None, missing=True)],
        True,
        (False, 0.0, 0),
    ),
    ("nothing known", 5, [PairStreamLag(None, None)], False, (None, None, None)),
]


@pytest.mark.parametrize("case,rpo,streams,readable,expected", PAIRS, ids=[p[0] for p in PAIRS])
def test_pair_health(case, rpo, streams, readable, expected):
    health = pair_health(rpo, streams, readable)
    assert (health.rpo_ok, health.worst_lag_seconds, health.data_at_risk_messages) == expected


# (external.api, the target's own domain, (domain, understood))
DOMAINS = [
    (None, "dr", ("dr", True)),
    ("$JS.API", None, (None, True)),
    ("$JS.hub.API", "dr", ("hub", True)),
    ("$JS.dr.API", "dr", ("dr", True)),
    ("$JS.hub.API.extra", "dr", (None, False)),
    ("ACME.API", "dr", (None, False)),
]


@pytest.mark.parametrize("api,local,expected", DOMAINS)
def test_the_domain_a_source_is_read_through(api, local, expected):
    from core.replication.topology import api_domain

    assert api_domain(api, local) == expected
