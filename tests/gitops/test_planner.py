"""Pure unit tests for gitops.planner."""

from gitops.planner import Desired, FieldChange, Live, parse_duration, plan


def S(name, **cfg):
    return Desired("stream", name, None, {"name": name, **cfg})


def LS(name, **cfg):
    return Live("stream", name, None, {"name": name, **cfg})


def C(stream, name, **cfg):
    return Desired("consumer", name, stream, {"durable_name": name, **cfg})


def LC(stream, name, **cfg):
    return Live("consumer", name, stream, {"name": name, "durable_name": name, **cfg})


def actions(p):
    return [(c.action, c.kind, c.name) for c in p.changes]


def test_create_when_missing():
    p = plan([S("ORDERS", subjects=["orders.>"])], [])
    assert actions(p) == [("create", "stream", "ORDERS")]
    assert p.changes[0].fields == [FieldChange("subjects", None, ["orders.>"])]
    assert not p.needs_approval


def test_noop_ignores_unset_fields_and_server_metadata():
    live = LS(
        "ORDERS",
        subjects=["orders.>"],
        storage="file",
        max_msgs=-1,
        num_replicas=1,
        created="2024-01-01T00:00:00Z",
        cluster={"leader": "n1"},
        state={"messages": 3},
        metadata={"team": "a", "_nats.req.level": "1", "_nats.ver": "2.11"},
    )
    desired = S("ORDERS", subjects=["orders.>"], metadata={"team": "a"}, replicas=1)
    p = plan([desired], [live])
    assert p.changes == [] and p.empty
    assert p.summary() == "no changes"


def test_update_lists_changed_fields_only():
    p = plan(
        [S("ORDERS", subjects=["orders.>"], max_msgs=100, description="x")],
        [LS("ORDERS", subjects=["orders.>"], max_msgs=-1, description="x")],
    )
    assert actions(p) == [("update", "stream", "ORDERS")]
    assert p.changes[0].fields == [FieldChange("max_msgs", -1, 100)]
    assert not p.needs_approval


def test_subjects_order_insensitive():
    p = plan([S("O", subjects=["a.*", "b.>"])], [LS("O", subjects=["b.>", "a.*"])])
    assert p.changes == []
    c = plan([C("O", "w", filter_subjects=["x", "y"])], [LC("O", "w", filter_subjects=["y", "x"])])
    assert c.changes == []


def test_duration_normalisation():
    assert parse_duration("1h30m") == 5_400_000_000_000
    assert parse_duration("500ms") == 500_000_000
    assert parse_duration("1.5s") == 1_500_000_000
    assert parse_duration(30) == 30
    p = plan(
        [S("O", max_age="24h", duplicate_window="2m")],
        [LS("O", max_age=86_400_000_000_000, duplicate_window=120_000_000_000)],
    )
    assert p.changes == []
    p = plan(
        [C("O", "w", ack_wait="30s", backoff=["1s", "5s"])],
        [LC("O", "w", ack_wait=30_000_000_000, backoff=[1_000_000_000, 5_000_000_000])],
    )
    assert p.changes == []
    p = plan([S("O", max_age="1h")], [LS("O", max_age=86_400_000_000_000)])
    assert actions(p) == [("update", "stream", "O")]


def test_enum_case_and_omitted_zero_values():
    p = plan([S("O", storage="File", sealed=False, deny_delete=False)], [LS("O", storage="file")])
    assert p.changes == []


def test_consumer_name_vs_durable_name_equivalent():
    d = Desired("consumer", "w", "O", {"durable_name": "w", "ack_policy": "explicit"})
    current = Live("consumer", "w", "O", {"name": "w", "ack_policy": "explicit"})
    assert plan([d], [current]).changes == []


def test_replace_flagged_for_storage_change():
    p = plan([S("O", storage="memory")], [LS("O", storage="file")])
    assert actions(p) == [("replace", "stream", "O")]
    assert "storage" in p.changes[0].reason
    assert p.needs_approval
    assert "needs approval" in p.summary()
    assert "! replace stream O" in p.diff()


def test_retention_limits_interest_is_update_but_workqueue_is_replace():
    assert actions(plan([S("O", retention="interest")], [LS("O", retention="limits")])) == [
        ("update", "stream", "O")
    ]
    assert actions(plan([S("O", retention="workqueue")], [LS("O", retention="limits")])) == [
        ("replace", "stream", "O")
    ]


def test_one_way_flags():
    assert actions(plan([S("O", deny_delete=True)], [LS("O", deny_delete=False)]))[0][0] == "update"
    assert (
        actions(plan([S("O", deny_delete=False)], [LS("O", deny_delete=True)]))[0][0] == "replace"
    )


def test_replace_flagged_for_consumer_ack_policy_change():
    p = plan(
        [C("O", "w", ack_policy="explicit", max_deliver=5)],
        [LC("O", "w", ack_policy="none", max_deliver=1)],
    )
    assert actions(p) == [("replace", "consumer", "w")]
    assert "ack_policy" in p.changes[0].reason
    assert p.needs_approval


def test_consumer_push_pull_switch_is_replace_but_push_subject_change_is_update():
    assert actions(plan([C("O", "w", deliver_subject="a")], [LC("O", "w")]))[0][0] == "replace"
    assert (
        actions(plan([C("O", "w", deliver_subject="b")], [LC("O", "w", deliver_subject="a")]))[0][0]
        == "update"
    )
    assert (
        actions(plan([C("O", "w", filter_subject="x.b")], [LC("O", "w", filter_subject="x.a")]))[0][
            0
        ]
        == "update"
    )


def test_consumers_of_replaced_stream_are_replaced_too():
    p = plan(
        [S("O", storage="memory"), C("O", "w", ack_policy="explicit")],
        [LS("O", storage="file"), LC("O", "w", ack_policy="explicit")],
    )
    assert actions(p) == [("replace", "stream", "O"), ("replace", "consumer", "w")]


def test_deletions_only_with_prune():
    live = [LS("O"), LC("O", "w")]
    p = plan([], live, prune=False)
    assert p.changes == [] and not p.needs_approval
    assert [(c.kind, c.name) for c in p.skipped_deletions] == [("consumer", "w"), ("stream", "O")]
    assert "skipped" in p.summary()


def test_deletions_last_consumer_before_stream():
    p = plan([S("NEW"), C("NEW", "c")], [LS("OLD"), LC("OLD", "w"), LS("X")], prune=True)
    assert actions(p) == [
        ("create", "stream", "NEW"),
        ("create", "consumer", "c"),
        ("delete", "consumer", "w"),
        ("delete", "stream", "OLD"),
        ("delete", "stream", "X"),
    ]
    assert p.needs_approval


def test_unmanaged_live_resources_never_deleted():
    def managed(kind, name, stream):
        return (stream or name).startswith("team-a-")

    p = plan([], [LS("team-a-O"), LS("other"), LC("other", "w")], prune=True, managed=managed)
    assert actions(p) == [("delete", "stream", "team-a-O")]
    p = plan([], [LS("other")], prune=False, managed=managed)
    assert p.skipped_deletions == []


def test_dependency_order_of_creates():
    p = plan(
        [
            C("O", "w"),
            Desired("kv", "cfg", None, {"history": 5}),
            S("O"),
            Desired("object_store", "blobs", None, {}),
        ],
        [],
    )
    assert actions(p) == [
        ("create", "stream", "O"),
        ("create", "kv", "cfg"),
        ("create", "object_store", "blobs"),
        ("create", "consumer", "w"),
    ]


def test_kv_storage_change_is_replace():
    p = plan(
        [Desired("kv", "cfg", None, {"storage": "memory"})],
        [Live("kv", "cfg", None, {"storage": "file"})],
    )
    assert actions(p) == [("replace", "kv", "cfg")]


def test_nested_dict_compares_only_set_keys_and_mirror_change_is_replace():
    live = LS("M", mirror={"name": "A", "opt_start_seq": 0, "external": None})
    assert plan([S("M", mirror={"name": "A"})], [live]).changes == []
    assert actions(plan([S("M", mirror={"name": "B"})], [live]))[0][0] == "replace"


def test_sources_order_insensitive():
    p = plan(
        [S("A", sources=[{"name": "x"}, {"name": "y"}])],
        [LS("A", sources=[{"name": "y", "filter_subject": ""}, {"name": "x"}])],
    )
    assert p.changes == []
