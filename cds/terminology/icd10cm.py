"""The official ICD-10-CM tabular (CMS, shipped by the PyPI package simple-icd-10-cm), asked lazily.

The package parses its 10 MB XML when first imported (about 2 s), so nothing imports it until a family
has to be expanded live: the shipped rules carry their expansions (`rules/terminology/
icd-10-cm-expansions.yaml`), checked against the tabular by the tests and by `cds rules check`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import warnings
from types import ModuleType

PACKAGE = "simple-icd-10-cm"


def tabular_version() -> str:
    """'simple-icd-10-cm 1.5.0': which tabular an expansion came from, known without loading it."""
    return f"{PACKAGE} {importlib.metadata.version(PACKAGE)}"


@functools.cache
def _tabular() -> ModuleType:
    with warnings.catch_warnings():
        # The package reads its data with importlib.resources.read_text, deprecated since Python 3.11.
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module("simple_icd_10_cm")


class Icd10CmTabular:
    """Codes with their hierarchy; every answer comes from the tabular, codes written with the dot."""

    @property
    def version(self) -> str:
        return tabular_version()

    def is_code(self, code: str) -> bool:
        """A category or (sub)category code; chapters and blocks (R25-R29) are not codes."""
        tabular = _tabular()
        return bool(tabular.is_valid_item(code)) and not tabular.is_chapter_or_block(code)

    def display(self, code: str) -> str:
        return str(_tabular().get_description(code))

    def descendants(self, code: str) -> list[str]:
        """Every code below `code`, in tabular order."""
        return [str(c) for c in _tabular().get_descendants(code)]
