"""The lists a card's words make of labels: repeats dropped, first-seen order kept."""

from hypothesis import given
from hypothesis import strategies as st

from cds.rulebook.templates import brief, join_words

words = st.lists(st.sampled_from(["cramp", "weakness", "fasciculation"]), max_size=5)


@given(words)
def test_brief_is_the_first_word_and_how_many_others(labels: list[str]) -> None:
    distinct = list(dict.fromkeys(labels))
    expected = distinct[0] + f" and {len(distinct) - 1} more" if len(distinct) > 1 else "".join(distinct)
    assert brief(labels) == expected


@given(words)
def test_joined_words_name_each_distinct_word_once(labels: list[str]) -> None:
    distinct = list(dict.fromkeys(labels))
    expected = ", ".join(distinct[:-1]) + " and " + distinct[-1] if len(distinct) > 1 else "".join(distinct)
    assert join_words(labels) == expected


def test_joined_words_keep_the_order_they_were_first_seen() -> None:
    assert (
        join_words(["weakness", "cramp", "weakness", "fasciculation"]) == "weakness, cramp and fasciculation"
    )
