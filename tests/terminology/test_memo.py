"""The memo behind repeated look-ups: a repeated key is not computed again, and a full memo starts over."""

from cds.terminology.memo import Memo


def squares_computed(keys: tuple[int, ...], limit: int = 4096) -> list[int]:
    computed: list[int] = []

    def square(n: int) -> int:
        computed.append(n)
        return n * n

    memo: Memo[int, int] = Memo(square, limit=limit)
    assert [memo.get(n) for n in keys] == [n * n for n in keys]
    return computed


def test_a_repeated_key_is_computed_once() -> None:
    assert squares_computed((1, 2, 1, 1)) == [1, 2]


def test_a_full_memo_forgets_what_it_held_and_keeps_answering() -> None:
    assert squares_computed((1, 2, 3, 1), limit=2) == [1, 2, 3, 1]
