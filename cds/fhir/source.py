"""Entry points that read FHIR input in whatever shape it comes: request prefetch, files, bulk exports."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import orjson
from msgspec import UNSET

from cds.errors import InputError
from cds.fhir import formats
from cds.fhir.decode import CallBody, FhirText, NotFast, checked_text, hook_call, is_object_text, object_texts
from cds.fhir.jsonparse import BOM, MAX_DEPTH, describe_error, exceeds_depth, parse_json_bytes, to_utf8
from cds.fhir.raw import ReadResult
from cds.fhir.unpack import Collector, join

Reader = Literal["fast", "validating"]
"""How JSON text is read. `fast` (`cds.fhir.decode`) builds only what is read; `validating` parses
every value of the input into Python first. Both give the same evaluation: the fast reader falls
back to the validating one for any document it does not take as it is."""


def read_input(data: bytes | str | dict[str, Any] | list[Any], *, reader: Reader = "fast") -> ReadResult:
    """Read a Bundle, a JSON list of resources, NDJSON, one resource or a prefetch object, by content.

    Already-parsed JSON (a dict or a list) is read the same way as its text would be.
    """
    collector = Collector()
    if isinstance(data, bytes | str):
        _collect_document(collector, to_utf8(data), "", reader)
    else:
        collector.add_document(data, "")
    return collector.result()


def parse_hook_call(data: bytes | str) -> Any:
    """A CDS Hooks call body as `parse_json_bytes` parses it, but with only the members CDS Hooks 2.0
    defines (the service ignores any other), and each object in `prefetch` kept as FhirText for
    `read_prefetch`, so that what nothing reads never becomes Python objects."""
    try:
        text = checked_text(to_utf8(data).removeprefix(BOM))
        call = hook_call(text)
        document = call.members()
        if call.prefetch is not UNSET:
            body = CallBody(text)
            document["prefetch"] = call.prefetch and {
                key: None if unit is None else FhirText(unit, body.source(key))
                for key, unit in call.prefetch.items()
            }
    except NotFast:
        return parse_json_bytes(data)
    return document


def read_prefetch(prefetch: Mapping[str, Any] | None) -> ReadResult:
    """Read a CDS Hooks prefetch that is already parsed; a missing prefetch is simply empty."""
    collector = Collector()
    if prefetch is not None:
        if not isinstance(prefetch, Mapping):
            raise InputError("prefetch: expected an object mapping prefetch keys to FHIR data")
        collector.add_prefetch(prefetch, "prefetch")
    return collector.result()


def read_path(path: Path | str, *, reader: Reader = "fast") -> ReadResult:
    """Read one file, or every supported file of a directory (a Bulk Data export), in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(
            child for child in path.iterdir() if child.is_file() and formats.is_supported(child.name)
        )
        if not files:
            raise InputError(f"{path}: no {formats.SUPPORTED} files in this directory")
    elif path.is_file():
        if not formats.is_supported(path.name):
            raise InputError(f"{path}: unsupported file type; expected {formats.SUPPORTED}")
        files = [path]
    else:
        raise InputError(f"{path}: no such file or directory")
    collector = Collector()
    for file in files:
        try:
            _collect_file(collector, file, reader)
        except InputError as error:
            raise InputError(f"{file}: {_within(str(error), file.name)}") from None
    return collector.result()


def _within(message: str, label: str) -> str:
    """The message without the file's own label, which origins inside the file start with."""
    return message.removeprefix(label).removeprefix(":").strip() if message.startswith(label) else message


def _collect_file(collector: Collector, file: Path, reader: Reader) -> None:
    data = formats.read_file(file)
    if formats.is_ndjson(file.name):
        _collect_ndjson(collector, data, file.name)
    else:
        _collect_document(collector, data, file.name, reader)


def _collect_document(collector: Collector, data: bytes, label: str, reader: Reader) -> None:
    if reader == "fast":
        try:
            found = _read_fast(data, label)
        except NotFast:
            pass
        else:
            collector.extend(found)
            return
    try:
        value = parse_json_bytes(data)
    except InputError:
        if _looks_like_ndjson(data):
            _collect_ndjson(collector, data, label)
            return
        raise
    collector.add_document(value, label)


def _read_fast(data: bytes, label: str) -> Collector:
    """A resource, Bundle or prefetch object, read the fast way; raises NotFast for anything else."""
    text = checked_text(data.removeprefix(BOM))
    try:
        units: FhirText | dict[str, FhirText | None] = FhirText.of_text(text)
    except NotFast:
        members = object_texts(text)
        if not members or not all(
            is_object_text(value) or bytes(value) == b"null" for value in members.values()
        ):
            raise NotFast from None
        units = {
            key: FhirText.of_text(value) if is_object_text(value) else None for key, value in members.items()
        }
    collector = Collector()
    if isinstance(units, FhirText):
        collector.add_text(units, label)
    else:
        collector.add_prefetch(units, join(label, "prefetch"))
    return collector


def _looks_like_ndjson(data: bytes) -> bool:
    """NDJSON only when the first line is a complete object by itself and more content follows."""
    first, _, rest = data.removeprefix(BOM).lstrip().partition(b"\n")
    if not rest.strip():
        return False
    try:
        return isinstance(orjson.loads(first), dict)
    except orjson.JSONDecodeError:
        return False


def _collect_ndjson(collector: Collector, data: bytes, label: str) -> None:
    lines = data.removeprefix(BOM).split(b"\n")
    values: list[tuple[int, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values.append((number, orjson.loads(line)))
        except orjson.JSONDecodeError as error:
            raise InputError(describe_error(error, line=number)) from None
    if exceeds_depth(data):
        number = next(n for n, line in enumerate(lines, start=1) if line.strip() and exceeds_depth(line))
        raise InputError(f"line {number}: JSON is nested deeper than {MAX_DEPTH} levels; FHIR data never is")
    for number, value in values:
        collector.add_unit(value, join(label, f"line {number}"))
