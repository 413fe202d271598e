"""What the forms refuse before sending, and how numbers are written: pure functions, no stack."""

from __future__ import annotations

import pytest

from ui import fmt, forms


@pytest.mark.parametrize(
    "text, ns",
    [
        ("", 0),
        ("0", 0),
        ("72h", 72 * 3600 * 10**9),
        ("1h30m", 5400 * 10**9),
        ("7d", 7 * 86400 * 10**9),
        ("500ms", 500 * 10**6),
        ("1.5s", 1_500_000_000),
        (" 2h ", 7200 * 10**9),
    ],
)
def test_parse_duration(text, ns):
    assert forms.parse_duration(text) == ns


@pytest.mark.parametrize("text", ["72", "3 days", "h", "1x", "-1h"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError) as err:
        forms.parse_duration(text)
    assert str(err.value).endswith(".")


@pytest.mark.parametrize(
    "text, size",
    [
        ("", -1),
        ("-1", -1),
        ("1048576", 1048576),
        ("1MiB", 1048576),
        ("1 GB", 10**9),
        ("2k", 2048),
        ("512mb", 512 * 10**6),
    ],
)
def test_parse_size(text, size):
    assert forms.parse_size(text) == size


@pytest.mark.parametrize(
    "subject, ok",
    [
        ("orders.>", True),
        ("orders.*.created", True),
        ("a", True),
        (">", True),
        ("orders..x", False),
        ("orders.>.x", False),
        ("orders.a*", False),
        ("orders x", False),
        (".orders", False),
    ],
)
def test_subject_problem(subject, ok):
    assert (forms.subject_problem(subject) is None) is ok


@pytest.mark.parametrize(
    "url, ok",
    [
        ("nats://127.0.0.1:4222", True),
        ("tls://nats.example.com:4222", True),
        ("NATS://h", True),
        ("http://127.0.0.1:4222", False),
        ("127.0.0.1:4222", False),
        ("nats://", False),
        ("nats://host:99999", False),
    ],
)
def test_server_url_problem(url, ok):
    assert (forms.server_url_problem(url) is None) is ok


def test_stream_form_builds_a_jetstream_config():
    config, problems = forms.check_stream_form(
        name="ORDERS",
        subjects="orders.>, audit.orders\n",
        storage="memory",
        retention="workqueue",
        max_msgs=1000,
        max_bytes="1GiB",
        max_age="72h",
        num_replicas=1,
        discard="new",
    )
    assert problems == []
    assert config == {
        "name": "ORDERS",
        "subjects": ["orders.>", "audit.orders"],
        "storage": "memory",
        "retention": "workqueue",
        "max_msgs": 1000,
        "max_bytes": 1024**3,
        "max_age": 72 * 3600 * 10**9,
        "num_replicas": 1,
        "discard": "new",
    }


def test_stream_form_lists_every_problem():
    config, problems = forms.check_stream_form(
        name="a b", subjects="", max_age="forever", num_replicas=7, max_bytes="lots"
    )
    assert config is None
    assert len(problems) == 5
    assert all(p.endswith(".") for p in problems)


def test_cluster_form_needs_a_nats_url_and_matching_credentials():
    spec, problems = forms.check_cluster_form(
        name="east",
        server_urls="nats://a:4222\ntls://b:4222",
        environment="production",
        credentials_type="user_password",
        username="ops",
        password="pw",
    )
    assert problems == []
    assert spec["server_urls"] == ["nats://a:4222", "tls://b:4222"]
    assert spec["credentials"] == {"type": "user_password", "username": "ops", "password": "pw"}
    assert spec["jetstream_domain"] is None

    spec, problems = forms.check_cluster_form(
        name="-bad", server_urls="", credentials_type="token", monitoring_url="ftp://x"
    )
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


# --------------------------------------------------------------------------- replay and the rest


def replay(**typed):
    defaults = {"cluster_id": "c1", "stream": "ORDERS", "destination_subject": "replay"}
    return forms.check_replay_form(**{**defaults, **typed})


def test_replay_form_builds_the_request():
    spec, problems = replay(
        subjects="orders.eu.>\norders.us.*",
        start_seq=100,
        end_seq=200,
        start_time="2024-01-15 09:00",
        end_time="2024-01-15T12:30:00+02:00",
        rate_limit=250.0,
        add_source_header=False,
        dry_run=True,
        destination_stream="ORDERS_COPY",
    )
    assert problems == []
    assert spec == {
        "cluster_id": "c1",
        "stream": "ORDERS",
        "subjects": ["orders.eu.>", "orders.us.*"],
        "start_seq": 100,
        "end_seq": 200,
        "start_time": "2024-01-15T09:00:00Z",
        "end_time": "2024-01-15T10:30:00Z",
        "destination": {"stream": "ORDERS_COPY", "subject_prefix": "replay"},
        "rate_limit": 250.0,
        "add_source_header": False,
        "keep_original_time": True,
        "dry_run": True,
    }


def test_replay_form_maps_subjects_each_way():
    spec, _ = replay(mapping="subject", destination_subject="orders.replayed")
    assert spec["destination"] == {"subject": "orders.replayed"}
    spec, _ = replay(mapping="original", destination_cluster_id="c2", destination_subject="")
    assert spec["destination"] == {"cluster_id": "c2"}
    spec, _ = replay(mapping="redrive", redrive_header="")
    assert spec["destination"] == {} and spec["redrive"] == {"header": "Nats-Original-Subject"}
    spec, _ = replay(destination_cluster_id="c1")  # the source cluster, named: not sent
    assert spec["destination"] == {"subject_prefix": "replay"}
    assert "start_seq" not in spec and "rate_limit" not in spec and spec["subjects"] == []


@pytest.mark.parametrize(
    "typed, problem",
    [
        ({"stream": ""}, "Choose the stream to replay from."),
        ({"start_seq": 9, "end_seq": 3}, "The last sequence (3) is before the first one (9)."),
        (
            {"start_time": "2024-02-01", "end_time": "2024-01-01"},
            "The end time must be after the start time (it is not included).",
        ),
        (
            {"destination_subject": ""},
            "Give the subject prefix the copies are published under, for example replay.",
        ),
        (
            {"destination_subject": "replay.>"},
            'The prefix "replay.>" must be a subject without '
            "wildcards and without a dot at either end, like "
            "replay.orders.",
        ),
        (
            {"mapping": "subject", "destination_subject": "a.*"},
            'The subject "a.*" has a wildcard: give a concrete subject.',
        ),
        (
            {"mapping": "original"},
            "On the same cluster the copies would land back in the source "
            "stream: publish them under a prefix or to another subject, or "
            "choose another destination cluster.",
        ),
        ({"subjects": "orders..x"}, 'The subject "orders..x" has an empty part between dots.'),
        (
            {"rate_limit": -1.0},
            "The rate limit must be between 0 (no limit) and 1,000,000 messages per second.",
        ),
    ],
)
def test_replay_form_refuses(typed, problem):
    spec, problems = replay(**typed)
    assert spec is None
    assert problems == [problem]


@pytest.mark.parametrize(
    "text, iso",
    [
        ("", None),
        ("2024-01-15T10:30:00Z", "2024-01-15T10:30:00Z"),
        ("2024-01-15 10:30", "2024-01-15T10:30:00Z"),
        ("2024-01-15", "2024-01-15T00:00:00Z"),
        ("2024-01-15T12:30:00.250+02:00", "2024-01-15T10:30:00.250000Z"),
    ],
)
def test_parse_time(text, iso):
    assert forms.parse_time(text) == iso


def test_parse_headers():
    assert forms.parse_headers("X-Trace: abc\n\nContent-Type: application/json") == (
        {"X-Trace": "abc", "Content-Type": "application/json"},
        [],
    )
    _, problems = forms.parse_headers("no colon here\nBad Name: x\nA: 1\nA: 2")
    assert problems == [
        'Write each header as Name: value ("no colon here" is not).',
        'The header name "Bad Name" may only contain letters, digits and '
        "!#$%&'*+-.^_`|~ (no blank).",
        "The header A is given twice; give it once.",
    ]


def test_publish_form():
    body, problems = forms.check_publish_form(
        subject="orders.new", payload='{"id": 1}', as_json=True, headers="X-A: 1", msg_id=" m-1 "
    )
    assert problems == []
    assert body == {
        "subject": "orders.new",
        "payload": {"id": 1},
        "headers": {"X-A": "1"},
        "msg_id": "m-1",
    }
    body, problems = forms.check_publish_form(subject="", payload="{", as_json=True)
    assert body is None
    assert problems == [
        "Give the subject to publish to.",
        "The payload is not valid JSON: Expecting property name enclosed in "
        "double quotes at line 1, column 2.",
    ]


def test_consumer_form():
    spec, problems = forms.check_consumer_form(
        name="reader",
        filter_subjects="orders.eu.>",
        deliver_policy="by_start_sequence",
        start_seq=42,
        ack_wait="1m",
        max_deliver=5,
    )
    assert problems == []
    assert spec == {
        "durable_name": "reader",
        "deliver_policy": "by_start_sequence",
        "ack_policy": "explicit",
        "opt_start_seq": 42,
        "ack_wait": 60 * 10**9,
        "max_deliver": 5,
        "max_ack_pending": 1000,
        "filter_subject": "orders.eu.>",
    }
    spec, problems = forms.check_consumer_form(
        name="a b", deliver_policy="by_start_time", max_deliver=0
    )
    assert spec is None
    assert problems == [
        "A consumer name may only contain letters, digits, - and _ (up to 255 characters).",
        "Give the time to start from, like 2024-01-15T10:30:00Z.",
        "Maximum deliveries must be -1 (no limit) or a positive number.",
    ]


def test_config_changes_sends_only_what_changed():
    current = {"name": "ORDERS", "max_msgs": -1, "subjects": ["orders.>"]}
    assert forms.config_changes(
        '{"name": "ORDERS", "max_msgs": 10, "subjects": ["orders.>"]}', current
    ) == ({"max_msgs": 10}, [])
    assert forms.config_changes('{"name": "OTHER", "max_msgs": -1}', current) == (
        None,
        [
            'A stream cannot be renamed: keep "name": "ORDERS".',
            "Fields cannot be removed, only changed: put back subjects (with its default value to "
            "reset it).",
        ],
    )
    assert forms.config_changes("[]", current) == (
        None,
        ["The configuration must be one JSON object, { ... }."],
    )


def test_kv_and_object_store_forms():
    spec, problems = forms.check_kv_bucket_form(
        bucket="config", history=3, ttl="1h", max_value_size="1KiB"
    )
    assert problems == []
    assert spec == {
        "bucket": "config",
        "history": 3,
        "ttl": 3600 * 10**9,
        "max_value_size": 1024,
        "replicas": 1,
        "storage": "file",
    }
    _, problems = forms.check_kv_bucket_form(bucket="no.dots", history=65)
    assert problems == [
        "A bucket name may only contain letters, digits, - and _ (up to 240 characters).",
        "History must keep between 1 and 64 values per key.",
    ]
    assert forms.kv_key_problem("a.b/c=d_e-f") is None
    assert forms.kv_key_problem(".a") == 'The key ".a" starts or ends with a dot.'
    assert forms.check_kv_value(key="k", value="[1, 2]", as_json=True) == (("k", [1, 2]), [])
    spec, problems = forms.check_object_store_form(bucket="files", max_bytes="1GiB")
    assert problems == [] and spec["max_bytes"] == 1024**3
    assert forms.object_name_problem(" x") == "An object name must not start or end with a blank."


def test_operation_and_consumer_figures_for_people():
    assert fmt.status("waiting_approval") == "◔ Waiting for approval"
    assert fmt.status("something_new") == "Something new"
    assert fmt.when("2024-01-15T10:45:23.456789Z", millis=True) == "2024-01-15 10:45:23.456 UTC"
    assert fmt.when("2024-01-15T12:45:23+02:00") == "2024-01-15 10:45:23 UTC"
    assert fmt.when(None) == "—"
    assert [fmt.seconds(s) for s in (0, 0.4, 42, 150, 3600, 7260, 200_000)] == [
        "0s",
        "0.4s",
        "42s",
        "2m 30s",
        "1h",
        "2h 1m",
        "2d 7h",
    ]
    assert (
        fmt.progress_text(1234, 3000, rate_per_s=200.2, eta_s=9)
        == "1,234 of 3,000 messages (41%) · 200 msgs/s · about 9s left"
    )
    assert fmt.progress_text(5, None) == "5 messages so far"
    assert fmt.consumer_health(0, 0, 0, 1000) == ("● Healthy", "Keeping up.")
    assert fmt.consumer_health(5000, 10, 0, 1000)[0] == "◐ Lagging"
    assert fmt.consumer_health(5000, 1000, 3, 1000)[0] == "⚠ Stalled"
    assert fmt.consumer_health(0, 0, 3, 1000)[0] == "◐ Redelivering"
    assert fmt.consumer_health(0, 0, 0, 1000, paused=True)[0] == "❚❚ Paused"


@pytest.mark.parametrize(
    "subject, pattern, captured",
    [
        ("orders.eu", "orders.*", True),
        ("orders.eu.x", "orders.*", False),
        ("orders.eu.x", "orders.>", True),
        ("orders", "orders.>", False),
        ("a.b", "a.b", True),
    ],
)
def test_subject_matches(subject, pattern, captured):
    assert forms.subject_matches(subject, pattern) is captured
