"""The Assistant page under AppTest, against the real stack; the model is the local server speaking
Anthropic's Messages API (``fake_claude``), scripted per question.

A scripted answer streams into the chat with its tool call folded under it; a proposal is a card
whose button opens its approval; without the model a notice says why; "Ask about this" on a stream
and on a consumer opens the assistant with that context and a starter question; conversations are
listed, reopened and deleted; "Describe what you need" drafts a configuration that only the
normal create call creates."""

from __future__ import annotations

import threading

import pytest
from nats.js.api import ConsumerConfig, DiscardPolicy, StreamConfig

from tests.ai.fake_anthropic import Error, Text, ToolUse
from ui.assistant_panels.context import CONTEXT_KEY, CONVERSATION_KEY
from ui.client import ApiClient, ApiError, AuthenticationRequired

from .conftest import make_stream, on_hub, open_page, remove_stream, texts, unique
from .test_ui_stream_detail import open_stream, stream_name

DAY_NS = 24 * 3600 * 10**9


def open_assistant(at):
    return open_page(at, "assistant.py", "Assistant")


def ask(at, question: str):
    at.chat_input(key="ai_input").set_value(question).run()
    assert not at.exception, texts(at.exception)
    return at


def markdown_text(at) -> str:
    return "\n".join(texts(at.markdown))


def test_a_scripted_answer_appears_with_its_tool_call_folded(
    ui_logged_in, ui_admin, ui_hub, stack, fake_claude
):
    name = stream_name("UI-AI")
    make_stream(stack, name, 3)
    try:
        question = f"How many messages does {name} hold?"
        fake_claude.script(
            question,
            [
                ToolUse(
                    "get_stream", {"cluster_id": ui_hub.id, "stream": name}, text="Let me look."
                ),
                Text(f"{name} holds 3 messages."),
            ],
        )
        at = ask(open_assistant(ui_logged_in), question)
        shown = markdown_text(at)
        assert question in shown
        assert f"Let me look.\n\n{name} holds 3 messages." in shown, shown
        (folded,) = [e for e in at.expander if "get_stream" in e.label]
        inside = "\n".join(texts(folded.markdown))
        assert f"→ `get_stream`: {name}: 3 messages" in inside, inside
        assert name in folded.code[0].value  # the tool's input
        assert not at.info and not at.error
        # the conversation is stored and listed; it opens with its turns
        conversation_id = at.session_state[CONVERSATION_KEY]
        stored = ui_admin.conversation(conversation_id)
        assert [t["role"] for t in stored.turns] == ["user", "assistant"]
        at.run()
        assert at.button(key=f"ai_open_{conversation_id}").label == stored.title
        assert f"{name} holds 3 messages." in markdown_text(at)
        assert any("get_stream" in e.label for e in at.expander)

        # a follow-up goes on in the same conversation
        follow_up = unique("and tomorrow")
        fake_claude.script(follow_up, [Text("Still 3, unless someone publishes.")])
        ask(at, follow_up)
        assert at.session_state[CONVERSATION_KEY] == conversation_id
        assert len(ui_admin.conversation(conversation_id).turns) == 4

        # a new conversation, then the old one again, then deleted
        at.button(key="ai_new").click().run()
        assert at.session_state[CONVERSATION_KEY] is None
        assert "holds 3 messages" not in markdown_text(at)
        at.button(key=f"ai_open_{conversation_id}").click().run()
        assert "Still 3, unless someone publishes." in markdown_text(at)
        at.button(key="ai_delete").click().run()
        assert any("cannot be brought back" in w for w in texts(at.warning))
        at.button(key="ai_pending_delete_yes").click().run()
        assert not at.exception, texts(at.exception)
        assert "The conversation is deleted." in texts(at.success)
        assert at.session_state[CONVERSATION_KEY] is None
        assert not [b for b in at.button if b.key == f"ai_open_{conversation_id}"]
        try:
            ui_admin.conversation(conversation_id)
            raise AssertionError("the conversation is still there")
        except ApiError as err:
            assert err.status == 404
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_a_proposal_card_opens_its_approval(ui_logged_in, ui_admin, ui_hub, stack, fake_claude):
    name = stream_name("UI-AI-PROP")
    make_stream(stack, name)
    try:
        question = f"Please increase max_bytes of {name} to 2 MB"
        fake_claude.script(
            question,
            [
                ToolUse(
                    "propose_change",
                    {
                        "cluster_id": ui_hub.id,
                        "kind": "stream",
                        "operation": "update",
                        "stream": name,
                        "config": {"max_bytes": 2 * 1024 * 1024},
                        "reason": "It fills up.",
                    },
                ),
                Text("I filed a change request; it waits for approval."),
            ],
        )
        at = ask(open_assistant(ui_logged_in), question)
        waiting = [a for a in ui_admin.list_approvals(status="waiting_approval") if name in a.title]
        assert len(waiting) == 1, waiting
        request = waiting[0]
        shown = markdown_text(at)
        assert f"Proposed change: {request.title}" in shown and "Waiting for approval" in shown
        assert any("Nothing changes until a person approves it" in c for c in texts(at.caption))
        # nothing was applied
        assert ui_admin.stream_info(ui_hub.id, name).config["max_bytes"] == -1

        at.button(key=f"ai_live_open_{request.id}").click().run()
        assert not at.exception, texts(at.exception)
        assert texts(at.title) == ["Approvals"], (texts(at.title), texts(at.error))
        assert "The request you opened" in texts(at.subheader)
        assert any(request.title in m for m in texts(at.markdown))
        assert at.session_state["apr_open"] == request.id
        ui_admin.withdraw(request.id, "done with the test")
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_without_the_model_a_notice_says_why(ui_logged_in, fake_claude):
    question = unique("why is everything slow")
    fake_claude.script(question, [Error(529, "overloaded_error", "Overloaded")])
    at = ask(open_assistant(ui_logged_in), question)
    notices = texts(at.info)
    assert any("busy or failing right now" in n for n in notices), notices
    assert "deterministic checks" in markdown_text(at)
    assert any("diagnose" in e.label for e in at.expander)


def test_ask_about_a_stream_and_a_consumer_carries_the_context(
    ui_logged_in, ui_admin, ui_hub, stack, fake_claude
):
    name = stream_name("UI-AI-ASK")
    make_stream(stack, name, 2)
    on_hub(stack, lambda js: js.add_consumer(name, ConsumerConfig(durable_name="ui-worker")))
    try:
        at = open_stream(ui_logged_in, ui_hub, name)
        at.button(key="sd_ask").click().run()
        assert not at.exception, texts(at.exception)
        assert texts(at.title) == ["Assistant"], (texts(at.title), texts(at.error))
        at.switch_page("screens/assistant.py")  # AppTest follows the page the script switched to
        assert at.session_state[CONTEXT_KEY] == {"cluster_id": ui_hub.id, "stream": name}
        assert any(name in c and ui_hub.name in c for c in texts(at.caption))
        starter = at.text_area(key="ai_starter_text").value
        assert name in starter and starter.startswith("Is anything wrong with the stream")
        fake_claude.script(starter, [Text(f"{name} is fine.")])
        at.button(key="ai_starter_ask").click().run()
        assert not at.exception, texts(at.exception)
        assert f"{name} is fine." in markdown_text(at)
        conversation = ui_admin.conversation(at.session_state[CONVERSATION_KEY])
        assert conversation.context == {"cluster_id": ui_hub.id, "stream": name}
        assert f"stream {name}" in fake_claude.requests_matching(starter)[-1].system

        # and from the consumer tab, about one consumer
        at = open_stream(at, ui_hub, name, "Consumers")
        at.selectbox(key="sd_con_selected").select("ui-worker").run()
        at.button(key="sd_con_ask").click().run()
        assert texts(at.title) == ["Assistant"], (texts(at.title), texts(at.error))
        at.switch_page("screens/assistant.py")
        assert at.session_state[CONVERSATION_KEY] is None  # a new conversation
        assert at.session_state[CONTEXT_KEY] == {
            "cluster_id": ui_hub.id,
            "stream": name,
            "consumer": "ui-worker",
        }
        starter = at.text_area(key="ai_starter_text").value
        assert "consumer ui-worker" in starter
        edited = starter + f" ({unique('edited')})"
        at.text_area(key="ai_starter_text").input(edited)
        fake_claude.script(edited, [Text("ui-worker keeps up.")])
        at.button(key="ai_starter_ask").click().run()
        assert "ui-worker keeps up." in markdown_text(at)
        conversation = ui_admin.conversation(at.session_state[CONVERSATION_KEY])
        assert conversation.context["consumer"] == "ui-worker"
        assert conversation.turns[0]["text"] == edited
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_describe_what_you_need_drafts_and_creates_only_on_request(
    ui_logged_in, ui_admin, ui_hub, fake_claude
):
    name = stream_name("UI-AI-CFG").replace("-", "_")
    description = f"A stream of page views kept 2 days, with a processing consumer ({name})"
    fake_claude.script(
        description,
        [
            ToolUse(
                "emit_configuration",
                {
                    "stream": {
                        "name": name,
                        "subjects": [f"{name.lower()}.>"],
                        "storage": "memory",
                        "num_replicas": 1,
                        "max_age": 2 * DAY_NS,
                    },
                    "consumer": {"durable_name": "views-processor", "ack_policy": "explicit"},
                    "explanation": ["memory storage for the test", "two days of max_age"],
                },
            )
        ],
    )
    at = open_assistant(ui_logged_in)
    at.session_state["jsc_cluster_id"] = ui_hub.id
    at.session_state["ai_tab"] = "Describe what you need"
    at.run()
    try:
        at.text_area(key="ai_cfg_text").input(description)
        at.button(key="ai_cfg_submit").click().run()
        assert not at.exception, texts(at.exception)
        assert f"Drafted a configuration for {name}: check it below." in texts(at.success)
        assert "- two days of max_age" in markdown_text(at)
        configs = [j.value for j in at.json]
        assert any(name in str(c) and str(2 * DAY_NS) in str(c) for c in configs), configs
        assert any("views-processor" in str(c) for c in configs)
        # drafted, not created
        try:
            ui_admin.stream_info(ui_hub.id, name)
            raise AssertionError("the draft created the stream")
        except ApiError as err:
            assert err.status == 404
        at.button(key="ai_cfg_create").click().run()
        assert not at.exception, texts(at.exception)
        assert any(
            f"Stream {name} created" in s and "views-processor" in s for s in texts(at.success)
        ), texts(at.success) + texts(at.error)
        info = ui_admin.stream_info(ui_hub.id, name)
        assert info.config["max_age"] == 2 * DAY_NS
        assert [c.name for c in ui_admin.list_consumers(ui_hub.id, name)] == ["views-processor"]

        # the same description again: the stream exists, so a diff and no Create
        at.button(key="ai_cfg_submit").click().run()
        assert any("already exists" in w for w in texts(at.warning))
        assert not [b for b in at.button if b.key == "ai_cfg_create"]
        assert "It already has every value the draft sets." in texts(at.caption)
        # a draft that changes it: only the fields it sets, with their values now and drafted
        longer = f"{description}, kept 3 days"
        fake_claude.script(
            longer,
            [
                ToolUse(
                    "emit_configuration",
                    {
                        "stream": {
                            "name": name,
                            "subjects": [f"{name.lower()}.>"],
                            "storage": "memory",
                            "num_replicas": 1,
                            "max_age": 3 * DAY_NS,
                        },
                        "explanation": ["three days"],
                    },
                )
            ],
        )
        at.text_area(key="ai_cfg_text").input(longer)
        at.button(key="ai_cfg_submit").click().run()
        diff = at.dataframe[0].value
        assert diff.to_dict("records") == [
            {"Field": "max_age", "Now": str(2 * DAY_NS), "Drafted": str(3 * DAY_NS)}
        ]

        # an invalid draft: its errors, the field named, and Create disabled
        other = stream_name("UI-AI-BAD").replace("-", "_")
        wrong = f"Five hundred replicas for {other}"
        fake_claude.script(
            wrong,
            [
                ToolUse(
                    "emit_configuration",
                    {
                        "stream": {
                            "name": other,
                            "subjects": [f"{other.lower()}.>"],
                            "num_replicas": 500,
                        },
                        "explanation": ["as many replicas as asked"],
                    },
                )
            ],
        )
        at.text_area(key="ai_cfg_text").input(wrong)
        at.button(key="ai_cfg_submit").click().run()
        errors = texts(at.error)
        assert any("not valid" in e and "num_replicas" in e for e in errors), errors
        assert at.button(key="ai_cfg_create").disabled
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_the_client_yields_each_event_as_it_arrives(ui_admin, ui_hub, stack, fake_claude):
    """``ApiClient.chat`` hands over the first events while the model is still writing: its
    second turn waits until the test has read the tool's result."""
    question = unique("what streams are there")
    read = threading.Event()

    def rest_of_the_answer(_request):
        read.wait(timeout=15)
        return Text("Here they are." if read.is_set() else "Too late.")

    fake_claude.script(
        question,
        [
            ToolUse("list_streams", {"cluster_id": ui_hub.id}, text="Let me list them."),
            rest_of_the_answer,
        ],
    )
    kinds, text = [], ""
    for event in ui_admin.chat(question):
        kinds.append(event.kind)
        text += event.data.get("delta", "") if event.kind == "text" else ""
        if event.kind == "tool_result":
            assert text == "Let me list them." and "done" not in kinds
            read.set()
    assert kinds[0] == "conversation" and kinds[-1] == "done"
    assert text == "Let me list them.\n\nHere they are."
    # refusals before the answer starts are ApiErrors; a stranger is asked to log in
    with pytest.raises(ApiError) as refused:
        list(ui_admin.chat("go on", conversation_id="00000000-0000-0000-0000-000000000000"))
    assert refused.value.status == 404
    with ApiClient(stack.api_url) as stranger, pytest.raises(AuthenticationRequired):
        list(stranger.chat("hello"))


def test_run_the_checks_shows_the_findings_as_cards(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-AI-FULL")

    async def fill(js):
        await js.add_stream(
            StreamConfig(
                name=name,
                subjects=[f"{name}.>"],
                max_bytes=20_000,
                discard=DiscardPolicy.NEW,
                storage="memory",
            )
        )
        while (await js.stream_info(name)).state.bytes < 19_200:  # 96 % of max_bytes
            await js.publish(f"{name}.x", b"y" * 150)

    on_hub(stack, fill)
    quiet = stream_name("UI-AI-QUIET")
    make_stream(stack, quiet, 1)
    try:
        at = open_stream(ui_logged_in, ui_hub, name)
        at.button(key="sd_ask").click().run()
        at.switch_page("screens/assistant.py")
        at.button(key="ai_checks").click().run()
        assert not at.exception, texts(at.exception)
        shown = markdown_text(at)
        assert f"**Stream {name} is 96% full**" in shown and ":red-badge[Critical]" in shown
        captions = texts(at.caption)
        assert any(c.startswith("What to do: Raise the limit") for c in captions), captions
        assert any("max_bytes = 20,000" in c for c in captions), captions

        at = open_stream(at, ui_hub, quiet)
        at.button(key="sd_ask").click().run()
        at.switch_page("screens/assistant.py")
        assert "96% full" not in markdown_text(at)  # that was about another stream
        at.button(key="ai_checks").click().run()
        assert any(
            "No problem found in the stream" in s and quiet in s for s in texts(at.success)
        ), texts(at.success)
    finally:
        remove_stream(ui_admin, ui_hub, name)
        remove_stream(ui_admin, ui_hub, quiet)
