"""One error family: the tree drawn in `cds.errors` is the tree the code defines."""

from __future__ import annotations

import importlib
import pkgutil
import re

import cds
import cds.errors
from cds.errors import CdsError


def _family() -> dict[str, tuple[str, ...]]:
    for module in pkgutil.walk_packages(cds.__path__, "cds."):
        if ".migrations." not in module.name:  # Alembic's scripts run only under Alembic
            importlib.import_module(module.name)
    found: dict[str, tuple[str, ...]] = {}
    pending = [CdsError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found[subclass.__name__] = tuple(base.__name__ for base in subclass.__bases__)
            pending.append(subclass)
    return found


def _drawn() -> dict[str, tuple[str, ...]]:
    assert cds.errors.__doc__ is not None
    return {
        name: tuple(base.strip() for base in bases.split(","))
        for name, bases in re.findall(r"[├└]── (\w+)\(([^)]*)\)", cds.errors.__doc__)
    }


def test_the_docstring_draws_every_error_of_the_family_with_its_bases() -> None:
    assert _drawn() == _family()


def test_every_error_of_the_family_lives_where_the_tree_says() -> None:
    assert cds.errors.__doc__ is not None
    homes = dict(re.findall(r"[├└]── (\w+)\([^)]*\).*\((cds[\w.]*)\)", cds.errors.__doc__))
    for name, home in homes.items():
        assert issubclass(getattr(importlib.import_module(home), name), CdsError), name
