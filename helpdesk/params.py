"""Reading ids out of query strings and forms without trusting them."""

# The largest value a bigint primary key holds: a larger number would overflow the database
# driver (SQLite raises OverflowError) instead of simply matching nothing.
MAX_ID = 2**63 - 1


def parse_id(raw) -> int | None:
    """A positive id from user input, or None. `str.isdigit()` alone is not enough: it accepts
    digits such as "²" that `int()` refuses, and numbers too big for the database."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
