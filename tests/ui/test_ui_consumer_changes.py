"""A consumer changed from its form, paused and resumed, and a stream purged after its dry run,
on the stream page against the real API: the server's own state is checked after each; a
production cluster's changes read "Sent for approval"; each role of an organization reads the
API's own answer (done, or refused with its sentence); another organization's consumer is a 404.
The forms' reading of what a person typed is checked as pure functions too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nats.js.api import ConsumerConfig

from tests.api.orgs import Account, invite, signup
from ui import forms
from ui.client import ApiClient, ApiError, PurgeResult
from ui.screens.stream import TAB_KEY
from ui.session import CLUSTER_KEY, STREAM_KEY
from ui.stream_tabs.purge import would_remove

from .conftest import make_stream, on_hub, open_page, texts, unique
from .test_ui_approvals import Org, app_as, org  # noqa: F401 - the fixture, with its class

CONSUMER = "worker"
SECOND = 1_000_000_000


def stream_with_consumer(stack, prefix: str, count: int = 30) -> str:
    """A stream of ``count`` messages (alternating ``.a`` and ``.b``) with a pull consumer
    ``worker`` on ``<stream>.a``."""
    name = unique(prefix).upper()
    make_stream(stack, name, count)
    on_hub(
        stack,
        lambda js: js.add_consumer(
            name,
            ConsumerConfig(
                durable_name=CONSUMER, ack_policy="explicit", filter_subject=f"{name}.a"
            ),
        ),
    )
    return name


def drop_stream(stack, name: str) -> None:
    on_hub(stack, lambda js: js.delete_stream(name))


def stream_page(at, cluster_id: str, name: str, tab: str):
    at.session_state[CLUSTER_KEY] = cluster_id
    at.session_state[STREAM_KEY] = name
    at.session_state[TAB_KEY] = tab
    return open_page(at, "stream.py", f"Stream {name}")


def consumer_on_server(stack, name: str):
    return on_hub(stack, lambda js: js.consumer_info(name, CONSUMER))


def messages_on_server(stack, name: str) -> int:
    return on_hub(stack, lambda js: js.stream_info(name)).state.messages


def save_edit(at, **fields):
    for field, value in fields.items():
        widget = (
            at.text_area(key="sd_cedit_filter_subjects")
            if field == "filter_subjects"
            else (
                at.number_input(key=f"sd_cedit_{field}")
                if field.startswith("max_")
                else at.text_input(key=f"sd_cedit_{field}")
            )
        )
        widget.set_value(value)
    at.button(key="sd_cedit_save").click().run()
    assert not at.exception, texts(at.exception)
    return at


def preview_purge(
    at, what: str = "all", subject: str = "", keep: int | None = None, sequence: int | None = None
):
    at.radio(key="sd_purge_what").set_value(what).run()
    at.text_input(key="sd_purge_subject").input(subject)
    if keep is not None:
        at.number_input(key="sd_purge_keep").set_value(keep)
    if sequence is not None:
        at.number_input(key="sd_purge_seq").set_value(sequence)
    at.button(key="sd_purge_dry_run").click().run()
    assert not at.exception, texts(at.exception)
    return at


# --------------------------------------------------------------------------- the forms, pure


def test_the_forms_read_what_a_person_typed():
    config = {
        "ack_policy": "explicit",
        "ack_wait": 30 * SECOND,
        "max_deliver": -1,
        "max_ack_pending": 1000,
        "filter_subject": "S.a",
    }
    values = forms.consumer_form_values(config)
    assert values == {
        "description": "",
        "filter_subjects": "S.a",
        "ack_wait": "30s",
        "max_deliver": -1,
        "max_ack_pending": 1000,
        "backoff": "",
    }
    assert forms.check_consumer_edit(config, **values) == ({}, [])
    changes, problems = forms.check_consumer_edit(
        config,
        **{
            **values,
            "filter_subjects": "S.a\nS.b",
            "ack_wait": "1m30s",
            "backoff": "10s, 1m",
            "max_deliver": 5,
            "description": " nightly ",
        },
    )
    assert problems == []
    assert changes == {
        "description": "nightly",
        "filter_subjects": ["S.a", "S.b"],
        "filter_subject": "",
        "ack_wait": 90 * SECOND,
        "backoff": [10 * SECOND, 60 * SECOND],
        "max_deliver": 5,
    }
    # back to one subject from several; and to every subject
    several = {**config, "filter_subject": None, "filter_subjects": ["S.a", "S.b"]}
    assert forms.check_consumer_edit(several, **{**values, "filter_subjects": "S.b"})[0] == {
        "filter_subject": "S.b",
        "filter_subjects": [],
    }
    assert forms.check_consumer_edit(config, **{**values, "filter_subjects": ""})[0] == {
        "filter_subject": ""
    }
    assert forms.check_consumer_edit(
        config,
        **{
            **values,
            "ack_wait": "0",
            "max_deliver": 0,
            "backoff": "10, 1m",
            "max_ack_pending": -2,
            "filter_subjects": "S..a",
        },
    )[1] == [
        'The subject "S..a" has an empty part between dots.',
        "Give the ack wait, like 30s: how long a delivery may go unacknowledged before it is "
        "delivered again.",
        "Maximum awaiting ack must be -1 (no limit) or a positive number.",
        "Maximum deliveries must be -1 (no limit) or a positive number.",
        '"10" is not a redelivery delay; write the delays like 10s, 1m, 5m.',
    ]
    assert forms.check_consumer_edit(config, **{**values, "backoff": "1s, 2s", "max_deliver": 2})[
        1
    ] == ["With 2 redelivery delays, maximum deliveries must be more than 2 (or -1, no limit)."]
    # without acknowledgements the ack wait and awaiting ack are not read
    assert forms.check_consumer_edit(
        {"ack_policy": "none", "max_deliver": -1}, ack_wait="", max_ack_pending=None, max_deliver=-1
    ) == ({}, [])
    assert forms.duration_text(5400 * SECOND) == "1h30m"
    assert forms.duration_text(1_500_000_000) == "1.5s" and forms.duration_text(0) == ""

    now = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    assert forms.check_pause("90m", now) == ("2026-01-15T11:30:00Z", [])
    assert forms.check_pause("2026-01-16 08:00", now) == ("2026-01-16T08:00:00Z", [])
    assert forms.check_pause("2026-01-14T08:00:00Z", now) == (
        None,
        ["The pause must end in the future."],
    )
    assert forms.check_pause("soon", now)[1] == [
        '"soon" is neither a duration (30m, 2h, 1d) nor a time (2024-01-15T10:30:00Z).'
    ]
    assert forms.check_pause(" ", now)[0] is None

    assert forms.check_purge_form(what="all") == ({}, [])
    assert forms.check_purge_form(what="keep", subject="S.a", keep=5) == (
        {"subject": "S.a", "keep": 5},
        [],
    )
    assert forms.check_purge_form(what="below", sequence=10) == ({"sequence": 10}, [])
    assert forms.check_purge_form(what="below", subject="S.>.a") == (
        None,
        [
            'In "S.>.a", > may only be the last part.',
            "Give the sequence to purge below (1 or more).",
        ],
    )
    assert forms.check_purge_form(what="keep")[1] == [
        "Give how many of the newest messages to keep (0 or more)."
    ]
    assert would_remove(PurgeResult(0, True, 1, 2048, True), "S", {"subject": "S.a"}) == (
        "The dry run says this purge would remove **1 message** on S.a (about 2.0 KiB) from S. "
        "Nothing was removed yet."
    )


# --------------------------------------------------------------------------- the main paths


def test_change_a_consumer_from_its_form(ui_logged_in, ui_hub, stack):
    name = stream_with_consumer(stack, "UI-CEDIT")
    try:
        at = stream_page(ui_logged_in, ui_hub.id, name, "Consumers")
        assert at.text_input(key="sd_cedit_ack_wait").value == "30s"
        assert at.text_area(key="sd_cedit_filter_subjects").value == f"{name}.a"

        at.button(key="sd_cedit_save").click().run()
        assert "Nothing changed: there is nothing to save." in texts(at.info)

        save_edit(
            at,
            ack_wait="1m",
            max_deliver=5,
            backoff="10s, 1m",
            filter_subjects=f"{name}.a\n{name}.b",
            description="nightly batch",
        )
        assert (
            f"Consumer {CONSUMER} updated: ack_wait, backoff, description, filter_subject, "
            "max_deliver."
        ) in texts(at.success), texts(at.error)
        config = consumer_on_server(stack, name).config
        assert config.max_deliver == 5 and config.description == "nightly batch"
        assert (
            config.backoff == [10, 60]
            and sorted(config.filter_subjects) == [f"{name}.a", f"{name}.b"]
            and not config.filter_subject
        )
        # the list and the form follow the server
        table = at.dataframe[0].value
        assert table[table["Name"] == CONSUMER].iloc[0]["Filter"] == f"{name}.a, {name}.b"
        assert at.text_input(key="sd_cedit_backoff").value == "10s, 1m"

        save_edit(at, backoff="1s, 2s, 3s, 4s, 5s")  # checked before anything is sent
        assert texts(at.error) == [
            "With 5 redelivery delays, maximum deliveries must be more than 5 (or -1, no limit)."
        ]
        save_edit(at, backoff="10s, 1m", description="x" * 5000)  # the API's 422, field named
        [refusal] = texts(at.error)
        assert "description" in refusal and "4096" in refusal, refusal
        assert consumer_on_server(stack, name).config.description == "nightly batch"
    finally:
        drop_stream(stack, name)


def test_pause_then_resume_a_consumer(ui_logged_in, ui_hub, stack):
    name = stream_with_consumer(stack, "UI-CPAUSE")
    try:
        at = stream_page(ui_logged_in, ui_hub.id, name, "Consumers")
        at.button(key="sd_con_pause").click().run()
        at.text_input(key="sd_con_pause_for").input("an hour")
        at.button(key="sd_con_pause_yes").click().run()
        assert texts(at.error) == [
            '"an hour" is neither a duration (30m, 2h, 1d) nor a time (2024-01-15T10:30:00Z).'
        ]
        assert not consumer_on_server(stack, name).paused

        at.text_input(key="sd_con_pause_for").input("2h")
        at.button(key="sd_con_pause_yes").click().run()
        assert not at.exception, texts(at.exception)
        assert any(s.startswith(f"Consumer {CONSUMER} paused until ") for s in texts(at.success)), (
            texts(at.success),
            texts(at.error),
        )
        assert consumer_on_server(stack, name).paused
        table = at.dataframe[0].value
        assert table[table["Name"] == CONSUMER].iloc[0]["Health"] == "❚❚ Paused"
        assert any(f"**{CONSUMER}** is paused until" in i for i in texts(at.info))
        assert "sd_con_pause" not in [b.key for b in at.button]

        at.button(key="sd_con_resume").click().run()
        assert f"Consumer {CONSUMER} resumed: its messages are delivered again." in texts(
            at.success
        ), texts(at.error)
        assert not consumer_on_server(stack, name).paused
        assert "sd_con_resume" not in [b.key for b in at.button]
    finally:
        drop_stream(stack, name)


def test_purge_after_its_dry_run(ui_logged_in, ui_hub, stack):
    name = stream_with_consumer(stack, "UI-PURGE", count=30)
    try:
        at = stream_page(ui_logged_in, ui_hub.id, name, "Overview")
        preview_purge(at, "keep", keep=10)
        [question] = texts(at.warning)
        assert question.startswith(
            "The dry run says this purge would remove **20 messages** (about "
        ), question
        assert question.endswith(f"from {name}. Nothing was removed yet. Purge them?")
        assert messages_on_server(stack, name) == 30  # a dry run removes nothing

        at.number_input(key="sd_purge_keep").set_value(5).run()  # another purge: preview again
        assert "sd_purge_yes" not in [b.key for b in at.button] and not texts(at.warning)
        at.button(key="sd_purge_dry_run").click().run()
        assert "**25 messages**" in texts(at.warning)[0]
        at.button(key="sd_purge_yes").click().run()
        assert f"Purged 25 messages from {name}." in texts(at.success), texts(at.error)
        assert messages_on_server(stack, name) == 5
        assert {m.label: m.value for m in at.metric}["Messages"] == "5"

        preview_purge(at, "all", subject=f"{name}.a")  # seqs 26..30: .a are 27 and 29
        assert "**2 messages** on " in texts(at.warning)[0]
        at.button(key="sd_purge_no").click().run()
        assert not texts(at.warning) and messages_on_server(stack, name) == 5

        preview_purge(at, "below", subject="", sequence=1)
        assert "The dry run found nothing to purge: no message matches." in texts(at.info)
        preview_purge(at, "all", subject=f"{name}..a")
        assert texts(at.error) == [f'The subject "{name}..a" has an empty part between dots.']
    finally:
        drop_stream(stack, name)


# --------------------------------------------------------------------------- the change gate


def test_on_production_a_change_and_a_purge_wait_for_approval(org: Org, stack, monkeypatch):
    on_hub(
        stack,
        lambda js: js.add_consumer(
            org.stream, ConsumerConfig(durable_name=CONSUMER, ack_policy="explicit")
        ),
    )
    editor = stream_page(
        app_as(org.editor, stack, monkeypatch), org.cluster.id, org.stream, "Consumers"
    )
    save_edit(editor, max_deliver=7)
    [sent] = [s for s in texts(editor.success) if s.startswith("Sent for approval:")] or [
        texts(editor.error)
    ]
    assert sent.startswith(f"Sent for approval: Update consumer {org.stream}/{CONSUMER}"), sent
    assert "Production Changes" in sent
    assert consumer_on_server(stack, org.stream).config.max_deliver != 7  # not yet

    admin = stream_page(
        app_as(org.admin, stack, monkeypatch), org.cluster.id, org.stream, "Overview"
    )
    preview_purge(admin, "all")
    assert "**5 messages**" in texts(admin.warning)[0], texts(admin.error)
    admin.button(key="sd_purge_yes").click().run()
    try:
        [sent] = [s for s in texts(admin.success) if s.startswith("Sent for approval:")] or [
            texts(admin.error)
        ]
        assert sent.startswith(f"Sent for approval: Purge stream {org.stream}"), sent
        assert messages_on_server(stack, org.stream) == 5  # waits for the approval
    finally:
        for request in org.admin_api.list_approvals(mine=True, status="waiting_approval"):
            org.admin_api.withdraw(request.id)  # no workflow left waiting


# --------------------------------------------------------------------------- roles, tenancy


@pytest.fixture(scope="module")
def tenant(api, stack):
    """An organization of its own with one account per role, a development cluster on the hub
    and a stream (prefix ``UI-ROLES``) with its consumer; and a second organization's admin."""
    admin = signup(api)
    accounts = {
        "admin": admin,
        **{role: invite(api, admin, role) for role in ("editor", "viewer", "operator", "member")},
    }
    client = ApiClient(stack.api_url)
    client.login(admin.email, admin.password)
    cluster = client.create_cluster(
        {
            "name": unique("roles"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "jetstream_domain": "hub",
        }
    )
    name = stream_with_consumer(stack, "UI-ROLES", count=10)
    try:
        yield {"accounts": accounts, "cluster": cluster, "stream": name, "other": signup(api)}
    finally:
        drop_stream(stack, name)
        client.delete_cluster(cluster.id)
        client.close()


# what each role may do here: change the consumer, pause it, purge the stream
ALLOWED = {
    "admin": (True, True, True),
    "editor": (True, False, False),
    "viewer": (False, False, False),
    "operator": (False, True, False),
    "member": (False, False, False),
}  # a member without a team owns no namespace


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_reads_the_api_answer(role, tenant, stack, monkeypatch):
    account: Account = tenant["accounts"][role]
    can_edit, can_pause, can_purge = ALLOWED[role]
    at = stream_page(
        app_as(account, stack, monkeypatch), tenant["cluster"].id, tenant["stream"], "Consumers"
    )

    save_edit(at, description=f"changed by {role}")
    if can_edit:
        assert f"Consumer {CONSUMER} updated: description." in texts(at.success), texts(at.error)
    else:
        [refusal] = texts(at.error)
        assert "not allow" in refusal or "namespace" in refusal, refusal

    at.button(key="sd_con_pause").click().run()
    at.button(key="sd_con_pause_yes").click().run()  # the default: for an hour
    if can_pause:
        assert any("paused until" in s for s in texts(at.success)), texts(at.error)
        at.button(key="sd_con_resume").click().run()
        assert any("resumed" in s for s in texts(at.success)), texts(at.error)
    else:
        [refusal] = texts(at.error)
        assert "not allow" in refusal or "namespace" in refusal, refusal
    assert not consumer_on_server(stack, tenant["stream"]).paused

    at.session_state[TAB_KEY] = "Overview"
    at.run()
    preview_purge(at, "keep", keep=9)
    if can_purge:
        assert "**1 message**" in texts(at.warning)[0], texts(at.error)
    else:
        [refusal] = texts(at.error)
        assert "not allow" in refusal or "namespace" in refusal, refusal
        assert not texts(at.warning)
    assert messages_on_server(stack, tenant["stream"]) == 10


def test_another_organization_cannot_reach_the_consumer(tenant, stack):
    other: Account = tenant["other"]
    with ApiClient(stack.api_url) as client:
        client.login(other.email, other.password)
        cluster, stream = tenant["cluster"].id, tenant["stream"]
        for attempt in (
            lambda: client.update_consumer(cluster, stream, CONSUMER, {"max_deliver": 3}),
            lambda: client.pause_consumer(cluster, stream, CONSUMER, "2999-01-01T00:00:00Z"),
            lambda: client.resume_consumer(cluster, stream, CONSUMER),
            lambda: client.purge_stream(cluster, stream, {}, dry_run=True),
        ):
            with pytest.raises(ApiError) as refused:
                attempt()
            assert refused.value.status == 404, refused.value.message
    assert consumer_on_server(stack, tenant["stream"]).config.max_deliver != 3
    assert messages_on_server(stack, tenant["stream"]) == 10
