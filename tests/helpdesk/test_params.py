import pytest

from helpdesk.params import MAX_ID, parse_id


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("42", 42),
        (" 7 ", 7),
        (42, 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("²", None),
        ("٣", None),  # an Arabic-Indic digit: isdigit() but not an id
        ("0", None),
        ("-1", None),
        ("1e5", None),
        ("", None),
        (None, None),
        ("abc", None),
    ],
)
def test_parse_id_accepts_only_plain_positive_ids(raw, expected):
    assert parse_id(raw) == expected
