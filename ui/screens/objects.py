"""Object stores of a cluster: the stores (create, delete: ``ui.bucket_page``), the objects of one
(paged), upload, download and delete an object."""

from __future__ import annotations

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.bucket_page import BucketPage, SizeInput, show_page
from ui.client import ApiClient, Cluster, ObjectInfo, ObjectStore, ObjectStoreSpec

STORE_DEFAULTS: dict[str, object] = {
    "obj_new_bucket": "",
    "obj_new_description": "",
    "obj_new_ttl": "",
    "obj_new_max_bytes": "",
    "obj_new_replicas": 1,
    "obj_new_storage": "file",
}
PENDING_DELETE_OBJECT = "obj_pending_delete_object"
PAGE_SIZE = 50


# --------------------------------------------------------------------------- objects


def show_objects(cluster: Cluster, store: ObjectStore) -> None:
    api = session.client()
    st.subheader(f"Objects in {store.bucket}")
    session.show_flash("obj_files")
    objects = session.call(api.list_objects, cluster.id, store.bucket)
    if objects is None:
        return
    if objects:
        st.dataframe(
            [
                {
                    "Name": o.name,
                    "Size": fmt.size(o.size),
                    "Modified": fmt.when(o.mtime),
                    "Content type": o.content_type or "",
                    "Chunks": o.chunks,
                    "Description": o.description,
                    "Digest": o.digest or "",
                }
                for o in widgets.page_of(objects, "obj_files_page", PAGE_SIZE, "objects")
            ],
            hide_index=True,
        )
        show_object(api, cluster, store, objects)
    else:
        st.info(f"{store.bucket} holds no object yet.")
    show_upload(cluster, store)


def show_object(
    api: ApiClient, cluster: Cluster, store: ObjectStore, objects: list[ObjectInfo]
) -> None:
    by_name = {o.name: o for o in objects}
    if st.session_state.get("obj_file") not in by_name:
        st.session_state["obj_file"] = objects[0].name
    pick, download, delete = st.columns([4, 1, 1], vertical_alignment="bottom")
    name = pick.selectbox("Object", list(by_name), key="obj_file")
    info = by_name[name]
    download.download_button(
        "Download",
        key="obj_download",
        width="stretch",
        on_click="ignore",
        data=_downloader(api, cluster.id, store.bucket, name),
        file_name=name.rsplit("/", 1)[-1] or "object",
        mime=info.content_type or "application/octet-stream",
    )
    delete.button(
        "Delete…",
        key="obj_delete_file",
        width="stretch",
        on_click=lambda: widgets.ask(
            PENDING_DELETE_OBJECT, (cluster.id, store.bucket, st.session_state.obj_file)
        ),
    )
    widgets.confirm(
        PENDING_DELETE_OBJECT,
        (cluster.id, store.bucket, name),
        f"Delete **{name}** ({fmt.size(info.size)}) from {store.bucket}?",
        "Yes, delete it",
        _delete_object,
        args=(cluster.id, store.bucket, name),
    )


def _downloader(api: ApiClient, cluster_id: str, bucket: str, name: str):
    """The object's data, fetched only when the button is clicked (in another thread)."""

    def fetch() -> bytes:
        try:
            return api.download_object(cluster_id, bucket, name)
        except Exception as err:  # noqa: BLE001 - the file then says why, in a sentence
            return f"The download failed: {getattr(err, 'message', err)}\n".encode()

    return fetch


def _delete_object(cluster_id: str, bucket: str, name: str) -> None:
    def act() -> str:
        session.client().delete_object(cluster_id, bucket, name)
        st.session_state.pop("obj_file", None)
        return f"{name} deleted from {bucket}."

    session.in_callback("obj_files", act)


def show_upload(cluster: Cluster, store: ObjectStore) -> None:
    with st.expander("Upload a file", expanded=False):
        with st.form("obj_upload", clear_on_submit=True):
            st.file_uploader("File", key="obj_upload_file")
            st.text_input(
                "Store it as (optional)",
                key="obj_upload_name",
                placeholder="the file's own name, or e.g. reports/2024/q1.pdf",
                help="An object of the same name is replaced.",
            )
            st.form_submit_button(
                "Upload",
                key="obj_upload_submit",
                type="primary",
                on_click=_upload,
                args=(cluster.id, store.bucket),
            )
        session.show_flash("obj_upload")


def _upload(cluster_id: str, bucket: str) -> None:
    state = st.session_state
    file = state.get("obj_upload_file")
    if file is None:
        session.flash("obj_upload", "error", "Choose the file to upload.")
        return
    name = (state.get("obj_upload_name") or "").strip() or file.name
    if problem := forms.object_name_problem(name):
        session.flash("obj_upload", "error", problem)
        return

    def act() -> str:
        data = file.getvalue()
        session.client().upload_object(
            cluster_id, bucket, name, data, content_type=file.type or None
        )
        state["obj_file"] = name
        return f"Uploaded {name} ({fmt.size(len(data))}) to {bucket}."

    session.in_callback("obj_upload", act, success_area="obj_files")


# --------------------------------------------------------------------------- the page


def _checked(state) -> tuple[ObjectStoreSpec | None, list[str]]:
    return forms.check_object_store_form(
        bucket=state.obj_new_bucket,
        description=state.obj_new_description,
        ttl=state.obj_new_ttl,
        max_bytes=state.obj_new_max_bytes,
        replicas=state.obj_new_replicas,
        storage=state.obj_new_storage,
    )


PAGE: BucketPage[ObjectStore] = BucketPage(
    title="Object stores",
    area="objects",
    key="obj",
    thing="store",
    label="Object store",
    none_yet="object store",
    create_heading="Create an object store",
    create_button="Create object store",
    name_placeholder="reports",
    ttl_placeholder="none, or 30d",
    size=SizeInput("Max size", "max_bytes", "no limit, or 10GiB"),
    defaults=STORE_DEFAULTS,
    list_buckets=ApiClient.list_object_stores,
    create=ApiClient.create_object_store,
    delete=ApiClient.delete_object_store,
    row=lambda s: {
        "Store": s.bucket,
        "Size": fmt.size(s.size),
        "Storage": s.storage,
        "Replicas": s.replicas,
        "TTL": fmt.duration_ns(s.ttl),
        "Max size": fmt.size(s.max_bytes),
        "Sealed": "yes" if s.sealed else "",
        "Description": s.description,
        "Created": fmt.when(s.created),
    },
    delete_question=lambda s: (
        f"Delete the object store **{s.bucket}** ({fmt.size(s.size)})? "
        "Every object in it is lost for good."
    ),
    checked=_checked,
)


def main() -> None:
    show_page(PAGE, show_objects)


session.run_page(main)
