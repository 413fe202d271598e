"""The stream detail page: opened from the list; messages browsed page by page, one read, one
published; the live tail; a consumer created with its health, then deleted; the configuration
edited as JSON."""

from __future__ import annotations

import json

from nats.js.errors import NotFoundError

from ui.screens.stream import TAB_KEY

from .conftest import make_stream, on_hub, open_page, remove_stream, texts, unique


def stream_name(prefix: str) -> str:
    return unique(prefix).upper()


def open_stream(at, cluster, name: str, tab: str | None = None):
    """Through the streams list and its Open button, as a person would."""
    at = open_page(at, "streams.py", "Streams", cluster)
    at.selectbox(key="streams_cluster").select(cluster.id).run()
    at.selectbox(key="streams_delete_name").select(name).run()
    at.button(key="streams_open").click().run()
    assert not at.exception, texts(at.exception)
    assert texts(at.title) == [f"Stream {name}"], (texts(at.title), texts(at.error))
    # AppTest reruns the page it was told to show, not one the script switched to: follow it
    at.switch_page("screens/stream.py")
    if tab:
        at.session_state[TAB_KEY] = tab
        at.run()
        assert not at.exception, texts(at.exception)
    return at


def test_overview_shows_state_and_configuration(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-DETAIL")
    make_stream(stack, name, 7)
    try:
        at = open_stream(ui_logged_in, ui_hub, name)
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Messages"] == "7" and metrics["Consumers"] == "0"
        summary = " ".join(texts(at.markdown))
        assert f"{name}.>" in summary and "Memory" in summary and "#7" in summary
        # The subject tree: 7 messages round-robin on .a and .b, folded under the stream's name.
        tree = at.dataframe[0].value.set_index("Path")["Messages"].to_dict()
        assert tree == {name: 7, f"{name}.a": 4, f"{name}.b": 3}
        at.text_input(key="sd_subjects_filter").input(f"{name}.b").run()
        assert at.dataframe[0].value.set_index("Path")["Messages"].to_dict() == {
            name: 3,
            f"{name}.b": 3,
        }

        at.button(key="sd_replay").click().run()  # to the replay form, this stream as the source
        assert texts(at.title) == ["Operations"], texts(at.error)
        assert at.session_state["ops_tab"] == "Replay messages"
        assert at.selectbox(key="replay_cluster").value == ui_hub.id
        assert at.selectbox(key="replay_stream").value == name
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_browse_read_delete_export_and_publish_messages(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-BROWSE")
    make_stream(stack, name, 30)
    try:
        at = open_stream(ui_logged_in, ui_hub, name, "Messages")
        table = at.dataframe[0].value
        assert list(table["Seq"]) == list(range(1, 21))  # 20 per page
        assert table.iloc[0]["Subject"] == f"{name}.a" and table.iloc[0]["Payload"] == '{"n": 0}'
        assert at.json[0].value == '{"n": 0}' or json.loads(at.json[0].value) == {"n": 0}

        at.button(key="sd_msg_next").click().run()
        assert list(at.dataframe[0].value["Seq"]) == list(range(21, 31))
        assert at.button(key="sd_msg_next").proto.disabled  # the last page
        at.button(key="sd_msg_prev").click().run()
        assert list(at.dataframe[0].value["Seq"]) == list(range(1, 21))

        at.selectbox(key="sd_msg_selected").select(2).run()
        at.button(key="sd_msg_delete").click().run()
        assert any("Delete message #2" in w for w in texts(at.warning))
        at.button(key="sd_pending_delete_msg_yes").click().run()
        assert f"Message #2 deleted from {name}." in texts(at.success), texts(at.error)
        assert 2 not in list(at.dataframe[0].value["Seq"])

        assert {b.key for b in at.get("download_button")} >= {"sd_export_jsonl", "sd_export_csv"}
        exported = ui_admin.export_messages(ui_hub.id, name, format="jsonl", subject=f"{name}.a")
        lines = [json.loads(line) for line in exported.decode().splitlines()]
        assert [m["seq"] for m in lines] == list(range(1, 30, 2))

        at.text_input(key="sd_msg_subject").input(f"{name}.b").run()
        at.selectbox(key="sd_msg_from").select("last").run()
        table = at.dataframe[0].value
        assert list(table["Seq"]) == list(range(30, 2, -2))  # newest first, only .b (#2 deleted)

        at.text_input(key="sd_pub_subject").input(f"{name}.c")
        at.text_area(key="sd_pub_payload").input('{"hello": "world"}')
        at.checkbox(key="sd_pub_json").check()
        at.text_area(key="sd_pub_headers").input("X-Trace: abc-123")
        at.button(key="sd_pub_submit").click().run()
        assert not at.exception
        assert f"Published to {name}.c: stored in {name} as #31." in texts(at.success), texts(
            at.error
        )

        msg = on_hub(stack, lambda js: js.get_msg(name, 31))
        assert msg.subject == f"{name}.c" and json.loads(msg.data) == {"hello": "world"}
        assert msg.headers["X-Trace"] == "abc-123"

        at.text_input(key="sd_pub_subject").input(f"{name}.*")
        at.button(key="sd_pub_submit").click().run()
        assert texts(at.error) == [
            f'The subject "{name}.*" has a wildcard: give a concrete subject.'
        ]
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_the_live_tail_shows_the_newest_messages(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-TAIL")
    make_stream(stack, name, 25)
    try:
        at = open_stream(ui_logged_in, ui_hub, name, "Messages")
        at.toggle(key="sd_msg_live").set_value(True).run()
        assert not at.exception
        assert list(at.dataframe[0].value["Seq"]) == list(range(25, 5, -1))

        async def more(js):
            await js.publish(f"{name}.a", b"late")

        on_hub(stack, more)
        at.run()  # what the fragment's timer does in a browser
        table = at.dataframe[0].value
        assert table.iloc[0]["Seq"] == 26 and table.iloc[0]["Payload"] == "late"
        assert any("last sequence #26" in c for c in texts(at.caption))
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_create_a_consumer_see_its_health_and_delete_it(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-CONSUMED")
    make_stream(stack, name, 1500)
    try:
        at = open_stream(ui_logged_in, ui_hub, name, "Consumers")
        assert any("has no consumer yet" in i for i in texts(at.info))
        at.text_input(key="sd_con_name").input("ui-reader")
        at.text_area(key="sd_con_filters").input(f"{name}.a")
        at.text_input(key="sd_con_ack_wait").input("1m")
        at.button(key="sd_con_submit").click().run()
        assert not at.exception
        assert f"Consumer ui-reader created on {name}." in texts(at.success), texts(at.error)
        table = at.dataframe[0].value
        row = table[table["Name"] == "ui-reader"].iloc[0]
        assert row["Pending"] == 750 and row["Filter"] == f"{name}.a"
        assert row["Health"] == "● Healthy" and row["Kind"] == "pull"

        info = on_hub(stack, lambda js: js.consumer_info(name, "ui-reader"))
        assert info.config.filter_subject == f"{name}.a" and info.config.ack_wait == 60

        # a second consumer over every subject lags: 1,500 undelivered
        at.text_input(key="sd_con_name").input("ui-everything")
        at.button(key="sd_con_submit").click().run()
        table = at.dataframe[0].value
        assert table[table["Name"] == "ui-everything"].iloc[0]["Health"] == "◐ Lagging"
        assert any(
            "ui-everything" in m and "1,500 messages not delivered" in m for m in texts(at.markdown)
        )

        at.selectbox(key="sd_con_selected").select("ui-reader").run()
        at.button(key="sd_con_delete").click().run()
        assert any("ui-reader" in w for w in texts(at.warning))
        at.button(key="sd_pending_delete_consumer_yes").click().run()
        assert f"Consumer ui-reader deleted from {name}." in texts(at.success), texts(at.error)
        assert list(at.dataframe[0].value["Name"]) == ["ui-everything"]

        async def gone(js):
            try:
                await js.consumer_info(name, "ui-reader")
            except NotFoundError:
                return True
            return False

        assert on_hub(stack, gone)
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_edit_the_configuration_as_json(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-CONFIG")
    make_stream(stack, name)
    try:
        at = open_stream(ui_logged_in, ui_hub, name, "Configuration")
        config = json.loads(at.text_area(key="sd_config_text").value)
        assert config["name"] == name and config["max_msgs"] == -1

        at.button(key="sd_config_save").click().run()
        assert "Nothing changed: there is nothing to save." in texts(at.info)

        at.text_area(key="sd_config_text").input('{"name": "x"')
        at.button(key="sd_config_save").click().run()
        [problem] = texts(at.error)
        assert problem.startswith("The configuration is not valid JSON:")

        config.update(max_msgs=500, description="edited in the UI")
        at.text_area(key="sd_config_text").input(json.dumps(config))
        at.button(key="sd_config_save").click().run()
        assert not at.exception
        assert f"Stream {name} updated: description, max_msgs." in texts(at.success), texts(
            at.error
        )
        assert json.loads(at.text_area(key="sd_config_text").value)["max_msgs"] == 500
        server = on_hub(stack, lambda js: js.stream_info(name)).config
        assert server.max_msgs == 500 and server.description == "edited in the UI"

        config.update(storage="file")  # JetStream cannot change the storage of a stream
        at.text_area(key="sd_config_text").input(json.dumps(config))
        at.button(key="sd_config_save").click().run()
        [refusal] = texts(at.error)
        assert "storage" in refusal.lower() and "Traceback" not in refusal
        assert on_hub(stack, lambda js: js.stream_info(name)).config.storage == "memory"
    finally:
        remove_stream(ui_admin, ui_hub, name)
