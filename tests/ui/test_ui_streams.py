"""Streams of a chosen cluster: the list, creating from the form, deleting after confirming."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from .conftest import remove_stream, texts, unique


def stream_name(prefix: str) -> str:
    return unique(prefix).upper()


def open_streams(at, cluster):
    at.switch_page("screens/streams.py").run()
    assert not at.exception, texts(at.exception)
    at.selectbox(key="streams_cluster").select(cluster.id).run()
    assert not at.exception, texts(at.exception)
    assert texts(at.title) == ["Streams"]
    return at


def on_server(url: str, name: str) -> StreamConfig | None:
    """The stream's config as the NATS server itself reports it (None when it does not exist)."""

    async def look() -> StreamConfig | None:
        nc = await nats.connect(url)
        try:
            return (await nc.jetstream().stream_info(name)).config
        except NotFoundError:
            return None
        finally:
            await nc.close()

    return asyncio.run(look())


def test_create_a_stream_from_the_form(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-CREATED")
    at = open_streams(ui_logged_in, ui_hub)
    at.text_input(key="stream_name").input(name)
    at.text_area(key="stream_subjects").input(f"{name}.orders.>\n{name}.events.*")
    at.selectbox(key="stream_storage").select("memory")
    at.text_input(key="stream_max_age").input("72h")
    at.text_input(key="stream_max_bytes").input("1MiB")
    at.button(key="stream_submit").click().run()
    try:
        assert not at.exception
        assert f"Stream {name} created on {ui_hub.name}." in texts(at.success), texts(at.error)
        # the list shows just this one (the search box is there once the cluster has a stream:
        # the hub may have had none before)
        at.text_input(key="streams_search").input(name).run()
        table = at.dataframe[0].value
        row = table[table["Name"] == name].iloc[0]
        assert row["Messages"] == 0 and row["Consumers"] == 0
        assert row["Storage"] == "memory" and row["Max age"] == "3d"

        config = on_server(stack.env["JSC_HUB_URL"], name)
        assert config is not None
        assert config.subjects == [f"{name}.orders.>", f"{name}.events.*"]
        assert config.max_age == 72 * 3600  # nats-py gives seconds
        assert config.max_bytes == 1024 * 1024
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_stream_list_shows_messages_bytes_and_consumers(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-LISTED")
    ui_admin.create_stream(
        ui_hub.id, {"name": name, "subjects": [f"{name}.>"], "storage": "memory"}
    )

    async def publish() -> None:
        nc = await nats.connect(stack.env["JSC_HUB_URL"])
        js = nc.jetstream()
        for i in range(3):
            await js.publish(f"{name}.x", f"message {i}".encode())
        await js.add_consumer(name, durable_name="ui-reader")
        await nc.close()

    asyncio.run(publish())
    try:
        at = open_streams(ui_logged_in, ui_hub)
        at.text_input(key="streams_search").input(f"{name}.x").run()  # a subject finds it too
        table = at.dataframe[0].value
        assert list(table["Name"]) == [name]
        row = table.iloc[0]
        assert row["Messages"] == 3
        assert row["Consumers"] == 1
        assert row["Size"].endswith("B")
        at.multiselect(key="streams_storage").set_value(["file"]).run()  # a memory stream
        assert "No stream matches the search and filters." in texts(at.info)
        at.multiselect(key="streams_storage").set_value(["memory"]).run()
        assert list(at.dataframe[0].value["Name"]) == [name]
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_an_invalid_stream_is_refused_before_sending(ui_logged_in, ui_admin, ui_hub):
    at = open_streams(ui_logged_in, ui_hub)
    at.text_input(key="stream_name").input("NOT A NAME")
    at.text_area(key="stream_subjects").input("")
    at.button(key="stream_submit").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert (
        "A stream name may only contain letters, digits, - and _ (up to 255 characters)." in errors
    )
    assert "Give at least one subject, for example orders.>." in errors
    assert "NOT A NAME" not in [s.name for s in ui_admin.list_streams(ui_hub.id)]


def test_the_servers_refusal_is_shown_as_its_sentence(ui_logged_in, ui_admin, ui_hub):
    first, second = stream_name("UI-FIRST"), stream_name("UI-SECOND")
    ui_admin.create_stream(ui_hub.id, {"name": first, "subjects": [f"{first}.>"]})
    try:
        at = open_streams(ui_logged_in, ui_hub)
        at.text_input(key="stream_name").input(second)
        at.text_area(key="stream_subjects").input(f"{first}.>")  # overlaps the first stream
        at.button(key="stream_submit").click().run()
        assert not at.exception
        [message] = texts(at.error)
        assert "overlap" in message.lower()
        assert "Traceback" not in message
        assert second not in [s.name for s in ui_admin.list_streams(ui_hub.id)]
        assert at.text_input(key="stream_name").value == second  # kept, to be corrected
    finally:
        remove_stream(ui_admin, ui_hub, first)
        remove_stream(ui_admin, ui_hub, second)


def test_delete_a_stream_after_confirming(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-DOOMED")
    ui_admin.create_stream(ui_hub.id, {"name": name, "subjects": [f"{name}.>"]})
    try:
        at = open_streams(ui_logged_in, ui_hub)
        at.selectbox(key="streams_delete_name").select(name)
        at.button(key="streams_delete").click().run()
        assert any(name in w for w in texts(at.warning))
        assert on_server(stack.env["JSC_HUB_URL"], name) is not None  # nothing deleted yet

        at.button(key="streams_cancel_delete").click().run()
        assert not at.warning
        assert on_server(stack.env["JSC_HUB_URL"], name) is not None

        at.selectbox(key="streams_delete_name").select(name)
        at.button(key="streams_delete").click().run()
        at.button(key="streams_confirm_delete").click().run()
        assert not at.exception
        assert f"Stream {name} deleted from {ui_hub.name}." in texts(at.success)
        assert on_server(stack.env["JSC_HUB_URL"], name) is None
        names = list(at.dataframe[0].value["Name"]) if at.dataframe else []
        assert name not in names
    finally:
        remove_stream(ui_admin, ui_hub, name)


@pytest.mark.parametrize("bad", ["orders..created", "orders.>.x", "orders.a*"])
def test_bad_subjects_are_refused_before_sending(ui_logged_in, ui_hub, bad):
    at = open_streams(ui_logged_in, ui_hub)
    at.text_input(key="stream_name").input("UI_NEVER_SENT")
    at.text_area(key="stream_subjects").input(bad)
    at.button(key="stream_submit").click().run()
    [message] = texts(at.error)
    assert bad in message
