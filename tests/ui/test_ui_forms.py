"""What the forms refuse before sending, and how numbers are written: pure functions, no stack."""

from __future__ import annotations

import pytest

from ui import fmt, forms


@pytest.mark.parametrize("text, ns", [
    ("", 0), ("0", 0), ("72h", 72 * 3600 * 10**9), ("1h30m", 5400 * 10**9), ("7d", 7 * 86400 * 10**9),
    ("500ms", 500 * 10**6), ("1.5s", 1_500_000_000), (" 2h ", 7200 * 10**9),
])
def test_parse_duration(text, ns):
    assert forms.parse_duration(text) == ns


@pytest.mark.parametrize("text", ["72", "3 days", "h", "1x", "-1h"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError) as err:
        forms.parse_duration(text)
    assert str(err.value).endswith(".")


@pytest.mark.parametrize("text, size", [
    ("", -1), ("-1", -1), ("1048576", 1048576), ("1MiB", 1048576), ("1 GB", 10**9), ("2k", 2048),
    ("512mb", 512 * 10**6),
])
def test_parse_size(text, size):
    assert forms.parse_size(text) == size


@pytest.mark.parametrize("subject, ok", [
    ("orders.>", True), ("orders.*.created", True), ("a", True), (">", True),
    ("orders..x", False), ("orders.>.x", False), ("orders.a*", False), ("orders x", False),
    (".orders", False),
])
def test_subject_problem(subject, ok):
    assert (forms.subject_problem(subject) is None) is ok


@pytest.mark.parametrize("url, ok", [
    ("nats://127.0.0.1:4222", True), ("tls://nats.example.com:4222", True), ("NATS://h", True),
    ("http://127.0.0.1:4222", False), ("127.0.0.1:4222", False), ("nats://", False),
    ("nats://host:99999", False),
])
def test_server_url_problem(url, ok):
    assert (forms.server_url_problem(url) is None) is ok


def test_stream_form_builds_a_jetstream_config():
    config, problems = forms.check_stream_form(
        name="ORDERS", subjects="orders.>, audit.orders\n", storage="memory", retention="workqueue",
        max_msgs=1000, max_bytes="1GiB", max_age="72h", num_replicas=1, discard="new")
    assert problems == []
    assert config == {"name": "ORDERS", "subjects": ["orders.>", "audit.orders"],
                      "storage": "memory", "retention": "workqueue", "max_msgs": 1000,
                      "max_bytes": 1024**3, "max_age": 72 * 3600 * 10**9, "num_replicas": 1,
                      "discard": "new"}


def test_stream_form_lists_every_problem():
    config, problems = forms.check_stream_form(name="a b", subjects="", max_age="forever",
                                               num_replicas=7, max_bytes="lots")
    assert config is None
    assert len(problems) == 5
    assert all(p.endswith(".") for p in problems)


def test_cluster_form_needs_a_nats_url_and_matching_credentials():
    spec, problems = forms.check_cluster_form(name="east", server_urls="nats://a:4222\ntls://b:4222",
                                              environment="production",
                                              credentials_type="user_password", username="ops",
                                              password="pw")
    assert problems == []
    assert spec["server_urls"] == ["nats://a:4222", "tls://b:4222"]
    assert spec["credentials"] == {"type": "user_password", "username": "ops", "password": "pw"}
    assert spec["jetstream_domain"] is None

    spec, problems = forms.check_cluster_form(name="-bad", server_urls="",
                                              credentials_type="token", monitoring_url="ftp://x")
    assert spec is None
    assert problems == [
        "A cluster name starts with a letter or digit and may then contain letters, digits, -, _ "
        "and . (up to 63 characters).",
        "Give at least one server URL, for example nats://127.0.0.1:4222.",
        "The monitoring URL must start with http:// or https://.",
        "Token credentials need the token.",
    ]


def test_numbers_for_people():
    assert fmt.count(1234) == "1,234"
    assert fmt.count(15_234_567) == "15.2M"
    assert fmt.size(0) == "0 B"
    assert fmt.size(2048) == "2.0 KiB"
    assert fmt.size(-1) == "unlimited"
    assert fmt.duration_ns(0) == "unlimited"
    assert fmt.duration_ns(72 * 3600 * 10**9) == "3d"
    assert fmt.duration_ns(5400 * 10**9) == "1h30m"
    assert fmt.duration_ns(1_500_000_000) == "1.5s"
