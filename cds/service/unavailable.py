"""The one card a clinician sees when required data cannot be had and the service is set to say so.

CDS Hooks answers such a call with 412, and the default stays that. But an EHR or the CDS Hooks
Sandbox may show a 412 as no guidance at all ("All clear") for a patient who should have had a
critical card. With `on_missing_data: warning-card` the service answers 200 with one warning card
that says the chart was not checked and names each missing key and why, so silence is never mistaken
for a clean chart.
"""

from __future__ import annotations

import uuid

from cds.cards import Card, CdsResponse, Source, to_json
from cds.cards.render import SOURCE_LABEL
from cds.service.prefetch import RequiredDataUnavailable

SUMMARY = "Muscle spasm decision support could not check this chart: {missing} unavailable"


def missing_data_card(error: RequiredDataUnavailable) -> bytes:
    """The response body: one warning card, no rule behind it, so nothing to record for feedback."""
    keys = [item.key for item in error.missing]
    named = keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]
    reasons = "\n".join(f"- {item.key}: {item.why}" for item in error.missing)
    card = Card(
        uuid=str(uuid.uuid4()),
        summary=SUMMARY.format(missing=named),
        indicator="warning",
        source=Source(label=SOURCE_LABEL),
        detail=(
            "Red flags for muscle spasms are recorded in the patient's conditions and observations. "
            f"This data could not be had, so none could be ruled out:\n{reasons}"
        ),
    )
    return to_json(CdsResponse(cards=(card,)))
