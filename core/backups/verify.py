"""Verifying a backup: each stream's chain is restored into a temporary stream
``JSC_VERIFY_<hex>`` and compared with the source as it was when backed up; the temporary stream
is always removed.

Per stream (``verify_stream``):

- the restored stream's first and last sequence are the chain's (the full item's first, the
  newest item's last);
- the messages of the range this backup's item covers, counted and checksummed
  (``core.backups.checksum``) on the restored stream, equal what was recorded from the source:
  for an incremental item, the checksum computed while it was copied; for a full one, a
  checksum read from the source right after the backup (``source_checksum``: the first
  verification records it on the item; a later one compares with that record). When the source
  had meanwhile lost the start of the range (expired, purged), the overlap is compared and the
  details say so;
- the full item's consumers are all restored. They are restored quietly
  (``restore_chain(quiet_consumers=True)``): a push consumer delivers to a private subject
  ``_JSC_VERIFY.<hex>.<consumer>`` instead of its own, so nobody subscribed to its deliver
  subject on the target cluster (a standby application, say) ever receives the backup's
  messages; pull consumers are left as they are (nobody pulls from the temporary stream).

A chunk that is missing or damaged, or a restore the server refuses, makes the stream "failed"
with details naming it; nothing here raises for a verdict.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from core.backups.chain import ChainLink
from core.backups.checksum import RangeChecksum, stream_checksum
from core.backups.restore import RestoreFailed, RestoreRefused, restore_chain
from core.backups.targets import BackupTarget, ChunkCorrupted, ChunkMissing
from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable


def verify_stream_name() -> str:
    return f"JSC_VERIFY_{secrets.token_hex(6)}"


async def source_checksum(source: JetStreamApi, link: ChainLink) -> dict[str, Any]:
    """The checksum of a full item's range read from the source now: ``{first_seq, last_seq,
    messages, sha256, note?}`` over the overlap of the item's range and what the source holds
    (None values when the source no longer holds any of it)."""
    first, last = link.first_seq, link.last_seq
    try:
        info = await source.stream_info(link.stream)
    except JetStreamError as exc:
        if exc.not_found:
            return {
                "first_seq": first,
                "last_seq": last,
                "messages": None,
                "sha256": None,
                "note": f"the source stream '{link.stream}' no longer exists",
            }
        raise
    source_first = int(info["state"].get("first_seq", 0))
    note = None
    if source_first > first:
        note = (
            f"the source no longer holds sequences {first}..{source_first - 1} (expired or "
            f"purged since the backup): sequences {source_first}..{last} were compared"
        )
        first = source_first
    if first > last:
        return {
            "first_seq": first,
            "last_seq": last,
            "messages": None,
            "sha256": None,
            "note": f"the source no longer holds any message of sequences {link.first_seq}..{last}",
        }
    found = await stream_checksum(source, link.stream, first, last)
    result = {
        "first_seq": first,
        "last_seq": last,
        "messages": found.messages,
        "sha256": found.sha256,
    }
    if note:
        result["note"] = note
    return result


def expected_range(links: list[ChainLink]) -> dict[str, Any]:
    """What this backup's item says about the range it covers: (first, last, messages, sha256)
    as recorded, and how it was recorded."""
    item = links[-1]
    if item.kind == "incremental":
        base_last = links[-2].last_seq
        return {
            "first_seq": base_last + 1,
            "last_seq": item.last_seq,
            "messages": item.messages,
            "sha256": item.checksum,
            "recorded": "while the incremental backup was taken",
        }
    recorded = dict(item.state.get("checksum") or {})
    recorded["recorded"] = "from the source right after the backup"
    return recorded


async def verify_stream(
    target: BackupTarget,
    links: list[ChainLink],
    js: JetStreamApi,
    *,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Restore ``links`` into a temporary stream on ``js``'s cluster and compare (see the
    module). ``{"status": "verified" | "failed", ...details}``; the temporary stream is gone
    afterwards."""
    item = links[-1]
    details: dict[str, Any] = {
        "stream": item.stream,
        "kind": item.kind,
        "chain": [link.backup_id for link in links],
    }
    name = verify_stream_name()
    details["verified_as"] = name
    try:
        try:
            info = await restore_chain(
                js, target, links, name, subjects=[], progress=progress, quiet_consumers=True
            )
        except ChunkCorrupted as exc:
            return {
                **details,
                "status": "failed",
                "reason": str(exc),
                "chunk": exc.key,
                "expected_sha256": exc.expected,
                "found_sha256": exc.found,
            }
        except ChunkMissing as exc:
            return {**details, "status": "failed", "reason": str(exc), "chunk": exc.key}
        except (RestoreFailed, RestoreRefused) as exc:
            return {**details, "status": "failed", "reason": str(exc)}
        return await _compare(js, name, links, info, details)
    finally:
        try:
            await js.stream_delete(name)
        except (JetStreamError, JetStreamUnavailable):
            pass  # never made, or the restore removed it


async def _compare(
    js: JetStreamApi,
    name: str,
    links: list[ChainLink],
    info: dict[str, Any],
    details: dict[str, Any],
) -> dict[str, Any]:
    problems: list[str] = []
    state = info.get("state") or {}
    full, item = links[0], links[-1]
    want_first = int(full.state.get("first_seq", full.first_seq) or full.first_seq)
    restored = {
        "messages": int(state.get("messages", 0)),
        "first_seq": int(state.get("first_seq", 0)),
        "last_seq": int(state.get("last_seq", 0)),
        "consumers": int(state.get("consumer_count", 0)),
    }
    details["restored"] = restored
    if restored["last_seq"] != item.last_seq:
        problems.append(
            f"the restored stream ends at sequence {restored['last_seq']}, the "
            f"backup at {item.last_seq}"
        )
    if full.state.get("messages") and restored["first_seq"] != want_first:
        problems.append(
            f"the restored stream starts at sequence {restored['first_seq']}, the "
            f"backup at {want_first}"
        )
    want_consumers = int(full.state.get("consumer_count", len(full.consumers)) or 0)
    if restored["consumers"] < want_consumers:
        problems.append(
            f"{restored['consumers']} consumer(s) restored, the backup holds {want_consumers}"
        )

    expected = expected_range(links)
    details["source"] = expected
    if expected.get("sha256") is None:
        if item.kind == "full":
            count = int(item.state.get("messages", 0))
            got = await stream_checksum(js, name, item.first_seq, item.last_seq)
            details["compared"] = _shown(got)
            if got.messages != count:
                problems.append(f"{got.messages} message(s) restored, the snapshot held {count}")
            details.setdefault("notes", []).append(
                expected.get("note") or "no source checksum was recorded: counts compared only"
            )
        else:
            problems.append("the incremental backup recorded no checksum")
    else:
        first, last = int(expected["first_seq"]), int(expected["last_seq"])
        got = (
            await stream_checksum(js, name, first, last)
            if first <= last
            else RangeChecksum(0, 0, 0, _EMPTY_SHA)
        )
        details["compared"] = _shown(got)
        if expected.get("note"):
            details.setdefault("notes", []).append(expected["note"])
        if got.messages != expected.get("messages"):
            problems.append(
                f"sequences {first}..{last}: {got.messages} message(s) restored, "
                f"{expected.get('messages')} at the source"
            )
        if got.sha256 != expected["sha256"]:
            problems.append(
                f"sequences {first}..{last}: the checksum of the restored messages "
                f"({got.sha256}) differs from the source's ({expected['sha256']})"
            )
            if item.kind == "full" and got.messages > (expected.get("messages") or 0):
                problems.append(
                    "the source had fewer messages in that range when it was read "
                    "(deleted after the backup?)"
                )
    details["status"] = "failed" if problems else "verified"
    if problems:
        details["problems"] = problems
    return details


_EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _shown(found: RangeChecksum) -> dict[str, Any]:
    return {
        "first_seq": found.first_seq,
        "last_seq": found.last_seq,
        "messages": found.messages,
        "sha256": found.sha256,
    }
