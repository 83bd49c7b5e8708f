"""The words each card placeholder can take, gathered from the terminology and the rule files.

Summaries are checked against the longest of these when rules load, so the vocabulary must hold every
label a card can show: concept labels, progressive variants, medication classes and rule-written labels.
"""

from __future__ import annotations

from cds.facts.parameters import WordingFile
from cds.rulebook.files import Scalar
from cds.rulebook.templates import Vocabulary, join_words
from cds.rulebook.yamlsource import YamlDocument
from cds.terminology import Terminology


def build_vocabulary(
    terminology: Terminology, docs: list[YamlDocument], values: dict[str, Scalar], wording: WordingFile
) -> Vocabulary:
    contributor = {c.label for c in terminology.concepts["problem"].values() if c.group == "contributor"}
    contributor |= {c.label for kind in terminology.measured.values() for c in kind.values()}
    contributor |= {
        f"{terminology.medication_classes[m.med_class].label} ({m.ingredient})"
        for m in terminology.all_medications()
    }
    for doc in docs:
        for pattern in (doc.data.get("when") or {}).get("any") or []:
            if isinstance(pattern, dict) and isinstance(pattern.get("label"), str):
                contributor.add(pattern["label"])
    red_flags = {c.label for c in terminology.concepts["red_flag"].values()}
    red_flag_labels = red_flags | {wording.progressive(label) for label in red_flags}
    context = {c.label for c in terminology.concepts["problem"].values() if c.group == "context"}
    return Vocabulary(
        labels={
            "symptom": frozenset(c.label for c in terminology.concepts["symptom"].values()),
            "red_flag": frozenset(red_flag_labels),
            "pattern": frozenset(wording.patterns.values()),
            "contributor": frozenset(contributor),
            "context": frozenset(context | red_flag_labels),
        },
        parameters={name: str(value) for name, value in values.items()},
        constants={"red_flags_to_watch": join_words([*sorted(red_flags), *wording.red_flags_to_watch_also])},
    )
