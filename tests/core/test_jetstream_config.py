"""Durations and the stream/consumer config models, as tables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.jetstream.config import ConsumerConfig, PurgeRequest, StreamConfig
from core.jetstream.durations import parse_duration_ns

S = 1_000_000_000


@pytest.mark.parametrize(
    "value, ns",
    [
        (0, 0),
        (5, 5),
        ("72h", 72 * 3600 * S),
        ("1m30s", 90 * S),
        ("500ms", S // 2),
        ("1.5s", 3 * S // 2),
        ("2d", 2 * 86400 * S),
        ("250us", 250_000),
        ("120", 120),
        (3.0, 3),
    ],
)
def test_durations(value, ns):
    assert parse_duration_ns(value) == ns


@pytest.mark.parametrize("value", ["forever", "", "1x", "-5s", -1, True, [], "1h foo"])
def test_bad_durations_say_how_to_write_one(value):
    with pytest.raises(ValueError):
        parse_duration_ns(value)


def test_stream_config_keeps_only_what_was_given_and_converts_durations():
    config = StreamConfig.model_validate(
        {"name": "orders", "subjects": ["orders.>"], "max_age": "1h", "duplicate_window": 5 * S}
    )
    assert config.to_api() == {
        "name": "orders",
        "subjects": ["orders.>"],
        "max_age": 3600 * S,
        "duplicate_window": 5 * S,
    }


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "a.b"}, "name"),
        ({"name": "a b"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "a", "retention": "forever"}, "retention"),
        ({"name": "a", "num_replicas": 7}, "num_replicas"),
        ({"name": "a", "subjects": ["has space"]}, "subjects"),
        ({"name": "a", "storage": "disk"}, "storage"),
        ({"name": "a", "unknown_field": 1}, "unknown_field"),
        ({"name": "a", "max_msgs": -2}, "max_msgs"),
    ],
)
def test_invalid_stream_configs_name_the_field(body, field):
    with pytest.raises(ValidationError) as err:
        StreamConfig.model_validate(body)
    assert field in {str(e["loc"][0]) for e in err.value.errors()}


def test_a_server_config_validates_unchanged():
    server = {
        "name": "orders",
        "subjects": ["orders.>"],
        "retention": "limits",
        "max_consumers": -1,
        "max_msgs": -1,
        "max_bytes": -1,
        "max_age": 0,
        "max_msgs_per_subject": -1,
        "max_msg_size": -1,
        "discard": "old",
        "storage": "file",
        "num_replicas": 1,
        "duplicate_window": 120 * S,
        "compression": "none",
        "allow_direct": False,
        "mirror_direct": False,
        "sealed": False,
        "deny_delete": False,
        "deny_purge": False,
        "allow_rollup_hdrs": False,
        "consumer_limits": {},
        "allow_msg_ttl": False,
        "metadata": {"_nats.level": "1"},
    }
    assert StreamConfig.model_validate(server).to_api() == server


def test_consumer_config_and_purge_request():
    consumer = ConsumerConfig.model_validate(
        {"durable_name": "c", "ack_wait": "30s", "backoff": ["1s", "2s"]}
    )
    assert consumer.to_api() == {"durable_name": "c", "ack_wait": 30 * S, "backoff": [S, 2 * S]}
    assert consumer.consumer_name == "c"
    assert PurgeRequest.model_validate({"subject": "a.b", "keep": 2}).to_api() == {
        "filter": "a.b",
        "keep": 2,
    }
    assert PurgeRequest.model_validate({"sequence": 9}).to_api() == {"seq": 9}
    with pytest.raises(ValidationError):
        PurgeRequest.model_validate({"sequence": 9, "keep": 1})
