"""Display text from real systems carries invisible characters that break matching and layout."""

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_text(s: str) -> str:
    """Drop zero-width characters and collapse whitespace runs (including newlines) to single spaces."""
    return " ".join(s.translate(_INVISIBLE).split())
