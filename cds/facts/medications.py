"""Active medications of the classes the article names, one fact per ingredient (a combination
product gives one for each of its ingredients)."""

from __future__ import annotations

from collections.abc import Sequence

from cds.facts.models import Evidence, Fact, Medication
from cds.facts.select import Usable
from cds.terminology import MedicationMatch, Terminology
from cds.terminology.codeable import concept_text


def medication_facts(usable: Sequence[Usable], terminology: Terminology) -> list[Fact]:
    grouped: dict[str, list[tuple[Usable, MedicationMatch]]] = {}
    for item in usable:
        for match in item.ingredients:
            grouped.setdefault(match.ingredient, []).append((item, match))
    facts: list[Fact] = []
    for ingredient, items in sorted(grouped.items()):
        items.sort(key=lambda pair: (pair[1].matched_by != "rxnorm", pair[0].reference, pair[0].origin))
        match = items[0][1]
        med_class = terminology.medication_classes[match.med_class]
        evidence = tuple(
            Evidence.of(
                resource_type=item.raw.resource_type,
                resource_id=item.raw.id,
                origin=item.origin,
                date=item.when.date() if item.when else None,
                text=f"{concept_text(item.raw.resource.get('medicationCodeableConcept')) or ingredient} "
                f"({item.raw.resource.get('status')})",
            )
            for item, _ in sorted(items, key=lambda pair: pair[0].reference)
        )
        facts.append(
            Medication.of(
                id=f"medication:{ingredient}",
                label=f"{med_class.label} ({ingredient})",
                med_class=match.med_class,
                ingredient=ingredient,
                atc=match.atc,
                evidence=evidence,
                detail=f"{ingredient}, ATC class {match.atc}, recognised by {match.matched_by}",
                advice=med_class.advice,
            )
        )
    return facts
