"""Load and validate a GitOps tree: ``environments/<env>/**/*.yaml|yml`` -> resources per
environment.

Safe by construction: no YAML tags at all (not even standard explicit ones), no anchors or aliases
(so no alias-expansion bombs), a size limit per file, limits on files and documents, and paths
confined to the root (a symlink, file or directory, resolving outside the root is refused and never
read). Every problem is reported as ``path:line: message``, path relative to the root.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from core.jetstream.config import ConsumerConfig, StreamConfig
from core.jetstream.kv import KvBucketConfig
from core.jetstream.objects import ObjectStoreConfig
from gitops.manifests import ManifestError, Resource, resources_from_document

MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 5000
MAX_DOCUMENTS_PER_FILE = 500
MAX_DOCUMENTS = 20000
MAX_DEPTH = 64
EXTENSIONS = (".yaml", ".yml")

MODELS = {
    "stream": StreamConfig,
    "consumer": ConsumerConfig,
    "kv": KvBucketConfig,
    "object_store": ObjectStoreConfig,
}


@dataclass
class LoadResult:
    resources_by_env: dict[str, list[Resource]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class LineDict(dict):
    line: int = 1
    key_lines: dict


class LineList(list):
    line: int = 1


class _Refused(yaml.MarkedYAMLError):
    pass


class SafeManifestLoader(yaml.SafeLoader):
    """Composes nodes only; refuses tags, anchors and aliases at the event, before any expansion."""

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refused(
                None, None, f"aliases are not allowed (*{event.anchor})", event.start_mark
            )
        if isinstance(event, (ScalarEvent, CollectionStartEvent)):
            if event.anchor is not None:
                raise _Refused(
                    None, None, f"anchors are not allowed (&{event.anchor})", event.start_mark
                )
            if event.tag is not None:
                raise _Refused(None, None, f"tags are not allowed ({event.tag})", event.start_mark)
        return super().compose_node(parent, index)


def _build(node, constructor: SafeManifestLoader, depth: int = 0) -> Any:
    line = node.start_mark.line + 1
    if depth > MAX_DEPTH:
        raise ManifestError("nesting too deep", line)
    if isinstance(node, ScalarNode):
        return constructor.construct_object(node, deep=True)
    if isinstance(node, SequenceNode):
        out = LineList(_build(n, constructor, depth + 1) for n in node.value)
        out.line = line
        return out
    if isinstance(node, MappingNode):
        out = LineDict()
        out.line, out.key_lines = line, {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                raise ManifestError("mapping keys must be plain scalars", key_line)
            key = _build(key_node, constructor, depth + 1)
            if key == "<<":
                raise ManifestError("merge keys are not allowed", key_line)
            if key in out:
                raise ManifestError(
                    f"duplicate key '{key}' (first on line {out.key_lines[key]})", key_line
                )
            out[key] = _build(value_node, constructor, depth + 1)
            out.key_lines[key] = key_line
        return out
    raise ManifestError("unsupported YAML node", line)  # pragma: no cover


def parse_documents(text: str) -> list[tuple[int, Any]]:
    """[(line, value)] per non-empty document. Raises ManifestError with a line."""
    loader = SafeManifestLoader(text)
    docs: list[tuple[int, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if len(docs) >= MAX_DOCUMENTS_PER_FILE:
                raise ManifestError(
                    f"more than {MAX_DOCUMENTS_PER_FILE} documents in one file",
                    node.start_mark.line + 1,
                )
            value = _build(node, loader)
            if value is not None:  # an empty document
                docs.append((node.start_mark.line + 1, value))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise ManifestError(message, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ManifestError(str(exc), None) from None
    finally:
        loader.dispose()
    return docs


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _fmt(rel: str, line: int | None, message: str) -> str:
    return f"{rel}:{line or 1}: {message}"


def _validation_errors(resource: Resource) -> list[str]:
    model = MODELS[resource.kind]
    try:
        validated = model.model_validate(resource.config)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            line = resource.field_lines.get(loc[0], resource.line) if loc else resource.line
            where = ".".join(loc) or "config"
            out.append(_fmt(resource.source, line, f"{resource.describe()}: {where}: {err['msg']}"))
        return out
    if resource.kind in ("stream", "consumer"):
        resource.config = validated.to_api()  # durations in nanoseconds
    else:
        resource.config = validated.model_dump(mode="json", exclude_unset=True)
        resource.config.setdefault("bucket", validated.bucket)
    return []


def _yaml_files(base: Path, root: Path, result: LoadResult) -> list[Path]:
    """Regular files with a YAML extension below base, never leaving root (sorted,
    deterministic)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        current = Path(dirpath)
        for name in sorted(dirnames):
            path = current / name
            if path.is_symlink():
                rel = os.path.relpath(path, root)
                target = Path(os.path.realpath(path))
                if not _inside(target, root):
                    result.errors.append(
                        _fmt(rel, 1, "symlinked directory points outside the repository; refused")
                    )
                else:
                    result.warnings.append(_fmt(rel, 1, "symlinked directory not followed"))
        dirnames[:] = sorted(d for d in dirnames if not (current / d).is_symlink())
        for name in sorted(filenames):
            if name.lower().endswith(EXTENSIONS):
                found.append(current / name)
                if len(found) > MAX_FILES:
                    result.errors.append(
                        _fmt(
                            os.path.relpath(base, root),
                            1,
                            f"more than {MAX_FILES} manifest files; refused",
                        )
                    )
                    return []
    return found


def _read(path: Path, root: Path, rel: str, result: LoadResult) -> str | None:
    real = Path(os.path.realpath(path))
    if not _inside(real, root):
        result.errors.append(_fmt(rel, 1, "symlink points outside the repository; refused"))
        return None
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(real, flags)
    except OSError as exc:
        result.errors.append(_fmt(rel, 1, f"cannot open: {exc.strerror}"))
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            result.errors.append(_fmt(rel, 1, "not a regular file; refused"))
            return None
        if info.st_size > MAX_FILE_BYTES:
            result.errors.append(
                _fmt(
                    rel,
                    1,
                    f"file is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit; refused",
                )
            )
            return None
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        result.errors.append(_fmt(rel, 1, f"file is over the {MAX_FILE_BYTES}-byte limit; refused"))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        result.errors.append(_fmt(rel, 1, "not UTF-8 text"))
        return None


def load_tree(root: Path, subdir: str = "") -> LoadResult:
    """Every manifest under ``<root>/<subdir>/environments/<env>/``, validated, per environment.

    ``errors`` non-empty means the tree must not be applied."""
    result = LoadResult()
    root = Path(os.path.realpath(root))
    base = Path(os.path.realpath(root / subdir)) if subdir else root
    if not _inside(base, root):
        result.errors.append(_fmt(subdir, 1, "path points outside the repository; refused"))
        return result
    envs_dir = base / "environments"
    if envs_dir.is_symlink() or (
        envs_dir.exists() and not _inside(Path(os.path.realpath(envs_dir)), root)
    ):
        result.errors.append(
            _fmt(
                os.path.relpath(envs_dir, root),
                1,
                "environments/ must be a directory, not a symlink; refused",
            )
        )
        return result
    if not envs_dir.is_dir():
        result.warnings.append(
            _fmt(os.path.relpath(envs_dir, root), 1, "no environments/ directory")
        )
        return result
    seen: dict[tuple[str, tuple], Resource] = {}
    documents = 0
    for path in _yaml_files(envs_dir, root, result):
        rel = os.path.relpath(path, root)
        parts = path.relative_to(envs_dir).parts
        if len(parts) < 2:
            result.warnings.append(_fmt(rel, 1, "outside an environment directory; skipped"))
            continue
        env = parts[0]
        text = _read(path, root, rel, result)
        if text is None:
            continue
        try:
            docs = parse_documents(text)
        except ManifestError as exc:
            result.errors.append(_fmt(rel, exc.line, exc.message))
            continue
        documents += len(docs)
        if documents > MAX_DOCUMENTS:
            result.errors.append(
                _fmt(rel, 1, f"more than {MAX_DOCUMENTS} documents in the tree; refused")
            )
            return result
        for line, doc in docs:
            if not isinstance(doc, dict):
                result.errors.append(_fmt(rel, line, "a manifest must be a mapping"))
                continue
            warnings: list[tuple[int, str]] = []
            try:
                resources = resources_from_document(doc, rel, warnings)
            except ManifestError as exc:
                result.errors.append(_fmt(rel, exc.line or line, exc.message))
                resources = []
            result.warnings.extend(_fmt(rel, wl, msg) for wl, msg in warnings)
            for resource in resources:
                errors = _validation_errors(resource)
                if errors:
                    result.errors.extend(errors)
                    continue
                key = (env, resource.key)
                if key in seen:
                    first = seen[key]
                    result.errors.append(
                        _fmt(
                            rel,
                            resource.line,
                            (
                                f"duplicate {resource.describe()} in environment '{env}' "
                                f"(also at {first.source}:{first.line})"
                            ),
                        )
                    )
                    continue
                seen[key] = resource
                result.resources_by_env.setdefault(env, []).append(resource)
    return result
