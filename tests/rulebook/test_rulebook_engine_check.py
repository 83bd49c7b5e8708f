"""Loading rules asks the engine to accept them, and frees what that check built."""

from __future__ import annotations

from typing import Any

import pytest

from cds.engine.durable_host import DurableRuleset
from cds.rulebook import load_rulebook


def test_loading_the_rules_leaves_no_durable_ruleset_open(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[DurableRuleset] = []
    closed: list[DurableRuleset] = []
    build, close = DurableRuleset.__init__, DurableRuleset.close

    def counting_build(self: DurableRuleset, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        opened.append(self)

    def counting_close(self: DurableRuleset) -> None:
        close(self)
        closed.append(self)

    monkeypatch.setattr(DurableRuleset, "__init__", counting_build)
    monkeypatch.setattr(DurableRuleset, "close", counting_close)
    load_rulebook()
    assert opened
    assert closed == opened
