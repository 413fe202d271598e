"""Backups and restore of JetStream streams.

- ``models``: the typed requests (a backup, a restore, a schedule, a target) shared by the API,
  the workflows and the activities.
- the engine: ``targets`` (where chunks are kept: an object store on a registered cluster, or a
  directory under the console's backup root), ``archive`` (the server's snapshot format, v2, and
  the framing its restore reads), ``full_snapshot`` (a snapshot as the start of a restore
  stream, its head rewritten when asked), ``snapshot`` (a full backup: the server's own
  snapshot of a stream, chunked and checksummed), ``incremental`` (the messages after a
  sequence), ``restore`` (a chain of chunks streamed into the server's restore), ``verify`` (a
  test restore compared with the source); beside them ``reader`` (a range of a stream read
  exactly: raw headers, timestamps in ns), ``checksum`` (the message checksum) and ``chain`` (a
  stream's items, full first, with their chunks).
- the service: ``rows`` (the database rows), ``selection`` (which streams a request means),
  ``retention`` (which backups a schedule removes), ``schedules`` (the Temporal schedules).
"""
