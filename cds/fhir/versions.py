"""History Bundles and merged sources repeat resources; rules must see each resource once, as it is now."""

import operator
from collections.abc import Iterable
from datetime import UTC, datetime

from cds.fhir.raw import RawResource, SourceNote

_MAX_ID_LENGTH = 64
_ID = operator.attrgetter("id")


def latest_versions(resources: Iterable[RawResource]) -> tuple[list[RawResource], list[SourceNote]]:
    """One resource per (type, id), the latest; every copy dropped is reported so nothing vanishes silently.

    Latest means the higher numeric meta.versionId, else the later meta.lastUpdated, else the later
    one in input order. Resources without an id cannot be versions of each other and are all kept.
    A chart whose ids are all present and distinct (the usual case) is returned as it is, told in
    one pass that looks at no resource one by one.
    """
    every = list(resources)
    ids = set(map(_ID, every))
    if len(ids) == len(every) and None not in ids:
        return every, []
    kept: list[RawResource] = []
    position: dict[tuple[str, str], int] = {}
    notes: list[SourceNote] = []
    for raw in every:
        id_ = raw.id
        if id_ is None:
            kept.append(raw)
            continue
        key = (raw.resource_type, id_)
        index = position.get(key)
        if index is None:
            position[key] = len(kept)
            kept.append(raw)
            continue
        current = kept[index]
        name = f"{key[0]}/{id_}"
        if raw.resource == current.resource:
            notes.append(SourceNote(raw.origin, f"{name} is an identical copy of {current.origin}; dropped"))
            continue
        newer, older = (raw, current) if _is_newer(raw, current) else (current, raw)
        kept[index] = newer
        notes.append(SourceNote(older.origin, f"{name} {_superseded(older, newer)}"))
    return kept, notes


def _is_newer(later: RawResource, earlier: RawResource) -> bool:
    later_version, earlier_version = _version_number(later), _version_number(earlier)
    if later_version is not None and earlier_version is not None and later_version != earlier_version:
        return later_version > earlier_version
    later_time, earlier_time = _last_updated(later), _last_updated(earlier)
    if later_time is not None and earlier_time is not None and later_time != earlier_time:
        return later_time > earlier_time
    return True


def _meta(raw: RawResource, key: str) -> str | None:
    meta = raw.resource.get("meta")
    value = meta.get(key) if isinstance(meta, dict) else None
    return value if isinstance(value, str) else None


def _version_number(raw: RawResource) -> int | None:
    version = _meta(raw, "versionId")
    if version is None or len(version) > _MAX_ID_LENGTH or not (version.isascii() and version.isdigit()):
        return None
    return int(version)


def _last_updated(raw: RawResource) -> datetime | None:
    text = _meta(raw, "lastUpdated")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _superseded(older: RawResource, newer: RawResource) -> str:
    old, new = _version_label(older), _version_label(newer)
    if old is None and new is None:
        return f"superseded by a later copy at {newer.origin} (no version information: input order decides)"
    return f"{old or 'unversioned copy'} superseded by {new or 'unversioned copy'} at {newer.origin}"


def _version_label(raw: RawResource) -> str | None:
    version = _meta(raw, "versionId")
    if version is not None:
        return f"version {version}"
    updated = _meta(raw, "lastUpdated")
    return f"version updated {updated}" if updated is not None else None
