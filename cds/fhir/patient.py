"""Which resources are about the patient being evaluated.

Prefetch and files mix in other people's data (a practitioner, a family member's record, a whole
Bulk export), so a resource counts only when its subject or patient reference points at the patient.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from cds.errors import InputError
from cds.fhir.raw import RawResource

_SUBJECT_KEYS = ("subject", "patient")


class PatientMatcher:
    """Tells whether a resource is about one patient; built once a call, so a plain class (a frozen
    dataclass costs a `object.__setattr__` a field)."""

    __slots__ = ("_subject_texts", "aliases", "patient_id")

    def __init__(self, patient_id: str, aliases: frozenset[str]) -> None:
        self.patient_id = patient_id
        self.aliases = aliases
        """Reference strings that mean this patient: "Patient/<id>" and the Patient entries' fullUrls."""
        self._subject_texts = frozenset([b'{"reference":' + orjson.dumps(alias) + b"}" for alias in aliases])
        """A `subject` written as a reference to an alias and nothing else, in compact JSON (as
        servers write it): a resource read fast whose subject is one of these texts is about the
        patient without parsing it; any other text is parsed and read as before."""

    @classmethod
    def for_patient(cls, patient_id: str, resources: Sequence[RawResource]) -> "PatientMatcher":
        if not patient_id or "/" in patient_id:
            raise InputError(f"patient id {patient_id!r} is not a FHIR logical id (expected e.g. '123')")
        aliases = {f"Patient/{patient_id}"}
        aliases.update(
            [
                raw.full_url
                for raw in resources
                if raw.resource_type == "Patient" and raw.id == patient_id and raw.full_url is not None
            ]
        )
        return cls(patient_id, frozenset(aliases))

    @classmethod
    def infer(cls, resources: Sequence[RawResource]) -> "PatientMatcher":
        """The patient of the Patient resource present, else the one patient all references point at."""
        ids = patient_ids(resources) or _referenced(resources)
        if len(ids) > 1:
            raise InputError(
                f"the input holds {len(ids)} different patients; give the id of the one to evaluate "
                f"(--patient ID, or patient_id= in Python): {_listing(ids)}"
            )
        if not ids:
            raise InputError(
                "cannot tell which patient the input is about: it has no Patient resource and no "
                "subject or patient reference of the form Patient/<id>"
            )
        return cls.for_patient(ids[0], resources)

    def is_about_patient(self, raw: RawResource) -> bool:
        if raw.resource_type == "Patient":
            return raw.id == self.patient_id
        if raw.subject_text in self._subject_texts:
            return True
        return any(self._means_patient(reference) for reference in references(raw.head))

    def with_plain_references(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A copy whose references to this patient read `Patient/<id>`, as where no fullUrl resolves
        a `urn:uuid:` (NDJSON)."""
        copy = dict(resource)
        for key in _SUBJECT_KEYS:
            target = resource.get(key)
            if isinstance(target, dict) and self._means_patient(target.get("reference")):
                copy[key] = {**target, "reference": f"Patient/{self.patient_id}"}
        return copy

    def _means_patient(self, reference: object) -> bool:
        return isinstance(reference, str) and (
            reference in self.aliases or patient_id_in(reference) == self.patient_id
        )


def patient_of(resource: Mapping[str, Any]) -> str | None:
    """The patient a resource is about, from it alone: a Patient's own id, else the patient its
    subject or patient reference points at (a `urn:uuid:` needs the Bundle: see PatientMatcher)."""
    if resource.get("resourceType") == "Patient":
        value = resource.get("id")
        return value if isinstance(value, str) and value else None
    return next((found for reference in references(resource) if (found := patient_id_in(reference))), None)


def references(resource: Mapping[str, Any]) -> list[str]:
    """The subject and patient references of a resource, the ones that say whom it is about."""
    found = []
    for key in _SUBJECT_KEYS:
        target = resource.get(key)
        if isinstance(target, dict):
            reference = target.get("reference")
            if isinstance(reference, str):
                found.append(reference)
    return found


def check_in_input(patient_id: str, resources: Sequence[RawResource]) -> None:
    """A patient the caller names must be in the input, or a mistyped id would read as "no guidance"."""
    present, referenced = patient_ids(resources), _referenced(resources)
    if patient_id in present or patient_id in referenced:
        return
    found = present or referenced
    holds = f"the patients in it: {_listing(found)}" if found else "it names no patient"
    raise InputError(f"patient {patient_id!r} is not in the input; {holds}")


def patient_ids(resources: Iterable[RawResource]) -> list[str]:
    """Ids of the Patient resources present, once each, in input order."""
    return _distinct(raw.id for raw in resources if raw.resource_type == "Patient" and raw.id is not None)


def patient_id_in(reference: str) -> str | None:
    """The patient id of a literal reference to a Patient, relative or absolute, versioned or not."""
    head, slash, tail = reference.split("/_history/", 1)[0].rpartition("/")
    if not slash or not tail or head.rpartition("/")[2] != "Patient":
        return None
    return tail


def _referenced(resources: Iterable[RawResource]) -> list[str]:
    """The patients that subject and patient references point at, once each, in input order."""
    return _distinct(
        patient_id
        for raw in resources
        for reference in references(raw.head)
        if (patient_id := patient_id_in(reference)) is not None
    )


def _listing(ids: Sequence[str], shown: int = 10) -> str:
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
