"""Body sites placed in body regions: by code, named site, named muscle, then words.

Every bodySite of a resource is placed, so fasciculations recorded at the calf and the tongue on one
Condition are two regions. A named site may be placed in no region (facial and eyelid twitching) or
raise a red flag of its own (tongue fasciculations).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import Struct

from cds.terminology import Coded, CodeSystems
from cds.terminology.codeable import all_words, codings
from cds.terminology.schema import Region
from cds.terminology.valuesets import BodySite, BodySiteFile


class Placement(Struct, frozen=True, gc=False):
    """Where one bodySite is: a region (or none), the named site it is, and how it was read."""

    region: Region | None
    site: str | None
    how: str
    counts_toward_widespread: bool

    def words(self) -> str:
        where = f"{self.region} region" if self.region else "in no region"
        counted = "" if self.counts_toward_widespread else ", not counted toward widespread"
        return f"{where} ({self.how}{counted})"


def _pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({w.lower() for w in words}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in alternatives) + r")", re.IGNORECASE)


class BodySites:
    """The placement table of `valuesets/body_sites.yaml`, built once per rulebook."""

    def __init__(self, table: BodySiteFile, systems: CodeSystems) -> None:
        self.table = table
        self._systems = systems
        self._codes: dict[Coded, tuple[Region | None, str | None, str]] = {}
        for entry in table.codes:
            coded = Coded(entry.system, systems.normalise(entry.system, entry.code))
            self._codes[coded] = (entry.region, entry.site, f"code {entry.code} {entry.display}")
        self._sites = [(name, _pattern(site.words)) for name, site in table.sites.items()]
        self._muscles = [(region, _pattern(words)) for region, words in table.muscles.items()]
        self._regions = [(region, _pattern(words)) for region, words in table.regions.items()]

    def site(self, name: str) -> BodySite:
        return self.table.sites[name]

    def place_all(self, body_site: object) -> tuple[Placement, ...]:
        """Each bodySite (a Condition's list, or an Observation's one) that can be placed."""
        if body_site is None:
            return ()
        items = body_site if isinstance(body_site, list) else [body_site]
        placed = (self.place(item) for item in items if isinstance(item, Mapping))
        return tuple(p for p in placed if p is not None)

    def place(self, concept: Mapping[str, Any]) -> Placement | None:
        for system, code in codings(concept):
            coded = self._systems.canonical(system, code)
            if coded is not None and coded in self._codes:
                region, site, how = self._codes[coded]
                return self._placement(region, site, how)
        text = all_words(concept)
        if not text:
            return None
        for name, pattern in self._sites:
            found = pattern.search(text) if pattern else None
            if found:
                return self._placement(None, name, found.group(1).lower())
        for region, pattern in self._muscles:
            found = pattern.search(text) if pattern else None
            if found:
                return Placement(region, None, f"muscle {found.group(1).lower()}", True)
        for region, pattern in self._regions:
            found = pattern.search(text) if pattern else None
            if found:
                return Placement(region, None, found.group(1).lower(), True)
        return None

    def _placement(self, region: Region | None, site: str | None, how: str) -> Placement:
        if site is None:
            return Placement(region, None, how, True)
        rule = self.table.sites[site]
        return Placement(rule.region, site, how, rule.counts_toward_widespread)
