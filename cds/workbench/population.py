"""A population read one patient at a time, from a folder of patient Bundles or a Bulk Data export.

Memory stays bounded whatever the population's size. A folder is streamed file by file (the workers
parse them). A Bulk Data export scatters each patient over one NDJSON file per resource type, so its
lines are first spread over bucket files on disk by patient id, then each bucket, small enough to hold,
is grouped: the classic hash partition, holding one bucket at a time and never the population.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from cds.errors import InputError
from cds.fhir import formats
from cds.fhir.patient import patient_of

MANIFEST = "manifest.json"
BUCKET_BYTES = 48 * 2**20
MAX_BUCKETS = 512
GZIP_RATIO = 8
"""About how much larger NDJSON is than its gzip, to size the buckets of a compressed export."""
_NOTES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class PatientInput:
    """One unit of work: FHIR data about one patient (`patient_id`), or a file naming its own patients."""

    label: str
    data: bytes
    compressed: bool = False
    patient_id: str | None = None


class Population(ABC):
    """Patients one at a time; `notes` collects what was skipped and why, complete once iterated."""

    def __init__(
        self,
        path: Path,
        description: str,
        expected_patients: int | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        self.path = path
        self.description = description
        self.expected_patients = expected_patients
        """How many patients to expect, for the progress bar; None when unknown until read."""
        self.now = now
        """The moment the data describe (a Bulk Data export's transactionTime), when known."""
        self.notes: list[str] = []

    @abstractmethod
    def __iter__(self) -> Iterator[PatientInput]: ...


def open_population(path: Path) -> Population:
    """A folder of *.json(.gz) Bundles, or a Bulk Data export (*.ndjson(.gz), maybe with manifest.json).

    Raises InputError saying what was found when it is neither.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_file():
        if formats.is_ndjson(path.name):
            return BulkExport(path.parent, files=[path])
        raise InputError(f"{path}: expected a folder of patient Bundles or a Bulk Data export (*.ndjson)")
    names = [p.name for p in path.iterdir() if p.is_file() and formats.is_supported(p.name)]
    if (path / MANIFEST).is_file() or any(formats.is_ndjson(n) for n in names):
        return BulkExport(path)
    if any(formats.is_json(n) for n in names):
        return BundleFolder(path)
    raise InputError(f"{path}: no patient Bundles (*.json, *.json.gz) and no Bulk Data export (*.ndjson)")


class BundleFolder(Population):
    """One file per patient, as Synthea writes them; a file naming several patients gives each."""

    def __init__(self, path: Path) -> None:
        files = sorted(p for p in path.iterdir() if p.is_file() and formats.is_json(p.name))
        super().__init__(path, "folder of patient Bundles", expected_patients=len(files))
        self._files = files

    def __iter__(self) -> Iterator[PatientInput]:
        for file in self._files:
            try:
                data = file.read_bytes()
            except OSError as exc:
                self.notes.append(f"{file.name}: cannot be read ({exc.strerror}); skipped")
                continue
            yield PatientInput(label=file.name, data=data, compressed=formats.is_compressed(file.name))


class BulkExport(Population):
    """NDJSON per resource type; resources reach their patient through subject or patient references."""

    def __init__(
        self, path: Path, files: list[Path] | None = None, *, bucket_bytes: int = BUCKET_BYTES
    ) -> None:
        manifest = _read_manifest(path / MANIFEST) if files is None else {}
        super().__init__(path, "FHIR Bulk Data export", _patient_count(manifest), _transaction_time(manifest))
        self._bucket_bytes = bucket_bytes
        self._files = (
            files
            or _manifest_files(path, manifest)
            or sorted(p for p in path.iterdir() if p.is_file() and formats.is_ndjson(p.name))
        )
        if not self._files:
            raise InputError(f"{path}: the Bulk Data export lists no NDJSON files")
        self.unowned = 0
        self.unreadable = 0

    def __iter__(self) -> Iterator[PatientInput]:
        with tempfile.TemporaryDirectory(prefix="cds-buckets-") as scratch:
            for bucket in self._partition(Path(scratch)):
                yield from _grouped(bucket)
                bucket.unlink()
        if self.unowned:
            self.notes.append(f"{self.unowned} resources name no patient (subject or patient); not used")
        if self.unreadable:
            self.notes.append(f"{self.unreadable} NDJSON lines are not JSON objects; skipped")

    def _bucket_count(self) -> int:
        size = sum(
            f.stat().st_size * (GZIP_RATIO if formats.is_compressed(f.name) else 1) for f in self._files
        )
        return max(1, min(MAX_BUCKETS, size // self._bucket_bytes + 1))

    def _partition(self, scratch: Path) -> list[Path]:
        count = self._bucket_count()
        paths = [scratch / f"bucket-{index:04d}" for index in range(count)]
        handles: list[IO[bytes]] = [path.open("wb") for path in paths]
        try:
            for file in self._files:
                name = file.name.encode()
                for number, line in formats.numbered_lines(file):
                    owner = self._owner(line, file)
                    if owner is not None:
                        place = b"%s%s:%d" % (owner[:1], name, number)
                        handles[zlib.crc32(owner[1:]) % count].write(
                            b"\t".join((owner[1:], place, line)) + b"\n"
                        )
        finally:
            for handle in handles:
                handle.close()
        return paths

    def _owner(self, line: bytes, file: Path) -> bytes | None:
        """The patient id, after one byte saying whether the line is that Patient resource itself (P)."""
        try:
            resource = orjson.loads(line)
        except orjson.JSONDecodeError:
            resource = None
        if not isinstance(resource, dict):
            self.unreadable += 1
            if self.unreadable <= _NOTES_SHOWN:
                self.notes.append(f"{file.name}: a line is not a JSON object")
            return None
        owner = patient_of(resource)
        if owner is None:
            self.unowned += 1
            return None
        return (b"P" if resource.get("resourceType") == "Patient" else b"-") + owner.encode()


def _grouped(bucket: Path) -> Iterator[PatientInput]:
    """Each patient's lines, labelled with where its Patient resource is (else its first line), such as
    `Patient.ndjson:17`, so a report points into the export."""
    patients: dict[bytes, list[bytes]] = {}
    places: dict[bytes, bytes] = {}
    with bucket.open("rb") as stream:
        for line in stream:
            owner, place, resource = line.rstrip(b"\n").split(b"\t", 2)
            patients.setdefault(owner, []).append(resource)
            if owner not in places or place.startswith(b"P"):
                places[owner] = place
    for owner, lines in patients.items():
        patient_id = owner.decode()
        label = places[owner][1:].decode()
        yield PatientInput(label=label, data=b"\n".join(lines), patient_id=patient_id)


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        manifest = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{path}: expected a Bulk Data manifest (an object with output)")
    return manifest


def _transaction_time(manifest: dict[str, Any]) -> dt.datetime | None:
    value = manifest.get("transactionTime")
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _outputs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    output = manifest.get("output")
    return [item for item in output if isinstance(item, dict)] if isinstance(output, list) else []


def _patient_count(manifest: dict[str, Any]) -> int | None:
    counts = [o.get("count") for o in _outputs(manifest) if o.get("type") == "Patient"]
    numbers = [c for c in counts if isinstance(c, int)]
    return sum(numbers) if counts and len(numbers) == len(counts) else None


def _manifest_files(folder: Path, manifest: dict[str, Any]) -> list[Path]:
    """The output files a manifest names, resolved in the folder; remote URLs are not fetched."""
    files = []
    for output in _outputs(manifest):
        url = output.get("url")
        if isinstance(url, str):
            name = url.rsplit("/", 1)[-1]
            if (folder / name).is_file():
                files.append(folder / name)
    return files
