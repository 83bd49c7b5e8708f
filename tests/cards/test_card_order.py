"""Cards are shown most urgent first."""

from cds.cards import Card, Indicator, Source, indicator_rank, sort_cards


def card(indicator: Indicator, summary: str, uuid_suffix: str) -> Card:
    return Card(
        uuid=f"00000000-0000-4000-8000-{uuid_suffix:0>12}",
        summary=summary,
        indicator=indicator,
        source=Source(label="Spasm CDS"),
    )


def test_indicator_rank_puts_info_below_warning_below_critical() -> None:
    assert indicator_rank("info") < indicator_rank("warning") < indicator_rank("critical")


def test_critical_cards_come_first_then_warning_then_info() -> None:
    cards = [card("info", "a", "1"), card("critical", "b", "2"), card("warning", "c", "3")]
    assert [c.indicator for c in sort_cards(cards)] == ["critical", "warning", "info"]


def test_cards_of_equal_indicator_are_ordered_by_summary() -> None:
    cards = [card("warning", "Weakness", "1"), card("warning", "Fasciculations", "2")]
    assert [c.summary for c in sort_cards(cards)] == ["Fasciculations", "Weakness"]


def test_cards_with_equal_indicator_and_summary_keep_their_order() -> None:
    cards = [card("info", "Same", "2"), card("info", "Same", "1")]
    assert sort_cards(cards) == cards
