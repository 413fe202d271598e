"""Exports of a stream's messages and of the audit log.

A small range is streamed inline by its route; a large one (over ``JSC_EXPORT_INLINE_MAX_MESSAGES``
messages or ``JSC_EXPORT_INLINE_MAX_ROWS`` audit rows, or asked with ``as_operation=true``) is an
operation (``workflows.export.ExportWorkflow``) that writes the file in chunks to the store the
backups use, downloaded once complete.

- ``models``: the typed requests, the workflow's one input and the chunk records.
- ``formats``: the lines of a file (JSON lines or CSV), the same inline and in chunks.
- ``store``: where the chunks are kept (a directory target under the backup root).
- ``chunks``: writing one chunk, idempotently (the same chunk input writes the same bytes).
"""
