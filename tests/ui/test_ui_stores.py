"""KV and object stores: a bucket created from the form, a value put and read back with its
history, a key deleted; an object store created, a file uploaded, listed and deleted."""

from __future__ import annotations

import json

import pytest

from ui.client import ApiError

from .conftest import open_page, texts, unique


def bucket_name(prefix: str) -> str:
    return unique(prefix).replace("-", "_")


def drop(fn, *args) -> None:
    try:
        fn(*args)
    except ApiError as err:
        if err.status != 404:
            raise


def test_kv_create_a_bucket_put_and_get(ui_logged_in, ui_admin, ui_hub):
    bucket = bucket_name("ui_kv")
    at = open_page(ui_logged_in, "kv.py", "KV stores", ui_hub)
    at.selectbox(key="kv_cluster").select(ui_hub.id).run()
    try:
        at.text_input(key="kv_new_bucket").input(bucket)
        at.number_input(key="kv_new_history").set_value(5)
        at.text_input(key="kv_new_ttl").input("forever")
        at.button(key="kv_new_submit").click().run()
        assert texts(at.error) == [
            '"forever" is not a duration; write it like 72h, 30m, 1h30m or 7d.'
        ]
        at.text_input(key="kv_new_ttl").input("24h")
        at.button(key="kv_new_submit").click().run()
        assert not at.exception
        assert f"Bucket {bucket} created on {ui_hub.name}." in texts(at.success), texts(at.error)
        assert at.selectbox(key="kv_bucket").value == bucket
        made = ui_admin.kv_bucket(ui_hub.id, bucket)
        assert made.history == 5 and made.ttl == 24 * 3600 * 10**9

        at.text_input(key="kv_put_key").input("config.feature-x")
        at.text_area(key="kv_put_value").input('{"enabled": true, "share": 0.25}')
        at.checkbox(key="kv_put_json").check()
        at.button(key="kv_put_submit").click().run()
        assert f"Stored config.feature-x in {bucket} (revision 1)." in texts(at.success), texts(
            at.error
        )
        assert list(at.dataframe[1].value["Key"]) == ["config.feature-x"]
        assert json.loads(at.json[0].value) == {"enabled": True, "share": 0.25}

        at.text_input(key="kv_put_key").input("config.feature-x")
        at.text_area(key="kv_put_value").input("off")
        at.button(key="kv_put_submit").click().run()
        assert f"Stored config.feature-x in {bucket} (revision 2)." in texts(at.success)
        assert any("off" in c for c in texts(at.code))
        history = at.dataframe[2].value
        assert list(history["Revision"]) == [2, 1] and list(history["Operation"]) == ["PUT", "PUT"]
        assert ui_admin.kv_get(ui_hub.id, bucket, "config.feature-x").value == "off"

        at.text_input(key="kv_put_key").input("bad key")
        at.button(key="kv_put_submit").click().run()
        assert texts(at.error) == [
            'The key "bad key" may only contain letters, digits and '
            "- / _ = . (dot-separated parts, no wildcards)."
        ]

        at.button(key="kv_delete_key").click().run()
        at.button(key="kv_pending_delete_key_yes").click().run()
        assert f"Key config.feature-x deleted from {bucket}." in texts(at.success), texts(at.error)
        assert ui_admin.kv_keys(ui_hub.id, bucket).items == []
        with pytest.raises(ApiError) as err:
            ui_admin.kv_get(ui_hub.id, bucket, "config.feature-x")
        assert err.value.status == 404

        at.button(key="kv_delete_bucket").click().run()
        at.button(key="kv_pending_delete_bucket_yes").click().run()
        assert f"Bucket {bucket} deleted from {ui_hub.name}." in texts(at.success)
        assert bucket not in [b.bucket for b in ui_admin.list_kv_buckets(ui_hub.id)]
    finally:
        drop(ui_admin.delete_kv_bucket, ui_hub.id, bucket)


def test_object_store_upload_list_and_delete(ui_logged_in, ui_admin, ui_hub):
    store = bucket_name("ui_obj")
    at = open_page(ui_logged_in, "objects.py", "Object stores", ui_hub)
    at.selectbox(key="obj_cluster").select(ui_hub.id).run()
    try:
        at.text_input(key="obj_new_bucket").input(store)
        at.selectbox(key="obj_new_storage").select("memory")
        at.button(key="obj_new_submit").click().run()
        assert f"Object store {store} created on {ui_hub.name}." in texts(at.success), texts(
            at.error
        )

        data = b"id,total\n1,9.99\n" * 5000  # 80 kB: more than one chunk
        at.get("file_uploader")[0].set_value(("orders.csv", data, "text/csv"))
        at.text_input(key="obj_upload_name").input("reports/orders.csv")
        at.button(key="obj_upload_submit").click().run()
        assert not at.exception
        assert f"Uploaded reports/orders.csv (78.1 KiB) to {store}." in texts(at.success), texts(
            at.error
        )
        files = at.dataframe[1].value
        row = files[files["Name"] == "reports/orders.csv"].iloc[0]
        assert row["Size"] == "78.1 KiB" and row["Content type"] == "text/csv"
        assert ui_admin.download_object(ui_hub.id, store, "reports/orders.csv") == data

        at.button(key="obj_delete_file").click().run()
        at.button(key="obj_pending_delete_object_yes").click().run()
        assert f"reports/orders.csv deleted from {store}." in texts(at.success), texts(at.error)
        assert ui_admin.list_objects(ui_hub.id, store) == []
    finally:
        drop(ui_admin.delete_object_store, ui_hub.id, store)
