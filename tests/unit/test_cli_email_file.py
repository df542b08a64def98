"""Reading address lists: CSV header detection and column choice, text files, line numbers."""

from __future__ import annotations

import pytest

from operator_cli.email_file import FileFormat, parse_email_file
from operator_cli.errors import UsageError


def emails(name: str, text: str, **options) -> list[tuple[int, str]]:
    parsed = parse_email_file(name, text.encode(), **options)
    return [(address.line, address.email) for address in parsed.addresses]


@pytest.mark.parametrize(
    "header", ["email", "Email", "E-mail Address", "email_address", "subscriberIdString"]
)
def test_a_header_naming_the_address_column_is_recognised_and_skipped(header):
    # Given a CSV whose address column is named in its header, not first
    text = f"name,{header},team\nJane,jane@example.com,ops\nBob,bob@example.org,dev\n"

    # When it is read without --column
    parsed = parse_email_file("list.csv", text.encode())

    # Then the named column is read, from line 2
    assert [(a.line, a.email) for a in parsed.addresses] == [(2, "jane@example.com"), (3, "bob@example.org")]
    assert parsed.header_line == 1
    assert parsed.column == f"column 2 ({header})"


def test_without_a_header_the_first_column_holding_an_address_is_read():
    # Given a headerless CSV whose second column holds addresses
    text = "Jane,jane@example.com\nBob,bob@example.org\n"

    # When it is read, then the first row is data, not a header
    assert emails("list.csv", text) == [(1, "jane@example.com"), (2, "bob@example.org")]


def test_a_single_column_csv_with_a_header_word_skips_it_but_a_bad_address_is_rejected():
    # Given one-column CSVs: one with a header word, one whose first line is a broken address
    with_header = parse_email_file("a.csv", b"Contact\njane@example.com\n")
    broken_first = parse_email_file("b.csv", b"jane@@example.com\nbob@example.org\n")

    # Then the header word is skipped, and the broken address is reported, not taken as a header
    assert [(a.line, a.email) for a in with_header.addresses] == [(2, "jane@example.com")]
    assert with_header.header_line == 1
    assert broken_first.header_line is None
    assert [(r.line, r.reason) for r in broken_first.rejected] == [(1, "the address has more than one @")]


@pytest.mark.parametrize("column", ["Contact", "contact", "2"])
def test_column_is_chosen_by_name_or_by_number_from_one(column):
    # Given a CSV with two address columns
    text = "Owner,Contact\nboss@example.com,jane@example.com\n"

    # When the second is chosen, by name (any case) or number
    # Then its addresses are read
    assert emails("list.csv", text, column=column) == [(2, "jane@example.com")]


def test_column_by_number_on_a_headerless_file_keeps_the_first_row():
    # Given a headerless CSV; when its second column is chosen by number
    # Then row 1 is data
    assert emails("list.csv", "x,jane@example.com\ny,bob@example.org\n", column="2") == [
        (1, "jane@example.com"),
        (2, "bob@example.org"),
    ]


def test_an_unknown_column_name_or_an_ambiguous_file_is_a_usage_error_that_masks_addresses():
    # Given a CSV with no column named `mail` and none holding an address in its first row
    # When it is read by that name, or without --column
    with pytest.raises(UsageError, match="no column named 'mail'"):
        parse_email_file("list.csv", b"Owner,Contact\nboss@example.com,jane@example.com\n", column="mail")
    with pytest.raises(UsageError, match="--column") as ambiguous:
        parse_email_file("list.csv", b"a,jane@@example.com\n")

    # Then the error shows the first row with addresses masked
    assert "jane@@example.com" not in str(ambiguous.value)


@pytest.mark.parametrize("column", ["9" * 5000, "10001"])
def test_a_column_number_past_any_file_is_refused_as_a_usage_error(column):
    with pytest.raises(UsageError, match="counts from 1"):
        parse_email_file("list.csv", b"jane@example.com\n", column=column)


def test_column_zero_is_refused():
    with pytest.raises(UsageError, match="counts from 1"):
        parse_email_file("list.csv", b"jane@example.com\n", column="0")


def test_semicolon_and_tab_delimiters_are_detected():
    # Given a semicolon CSV and a TSV
    # When they are read, then their columns are split on the right character
    assert emails("list.csv", "name;email\nJane;jane@example.com\n") == [(2, "jane@example.com")]
    assert emails("list.tsv", "name\temail\nJane\tjane@example.com\n") == [(2, "jane@example.com")]


def test_csv_line_numbers_are_physical_lines_even_after_a_multi_line_cell():
    # Given a quoted cell spanning three lines, and a blank row
    text = 'note,email\n"line one\nline two\nline three",jane@example.com\n\n,bob@x\n'

    # When it is read
    parsed = parse_email_file("list.csv", text.encode())

    # Then the record is numbered by its first line, and later lines keep their numbers
    assert [(a.line, a.email) for a in parsed.addresses] == [(2, "jane@example.com")]
    (rejected,) = parsed.rejected
    assert (rejected.line, rejected.original) == (6, ",bob@x")


def test_a_short_row_and_an_empty_cell_are_rejected_with_their_reasons():
    parsed = parse_email_file("list.csv", b"name,email\nJane\nBob,\n")
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (2, "the row has no column 2"),
        (3, "the address is empty"),
    ]


def test_text_files_skip_blank_lines_and_comments_and_strip_whitespace():
    # Given a text file with a comment, blank and whitespace-only lines, CRLF endings and padding
    text = "# leavers\r\n\r\n  jane@example.com \r\n\t\n bob@example.org\n# end\n"

    # When it is read, then only the addresses remain, with their own line numbers
    assert emails("list.txt", text) == [(3, "jane@example.com"), (5, "bob@example.org")]


def test_a_text_file_rejects_what_is_not_an_address_keeping_the_original_line():
    # Given a line with an inner space
    parsed = parse_email_file("list.txt", b"jane@example.com\n  not an@address.com  \n")

    # Then it is rejected with the reason, its original text kept for the .rejected.csv
    (rejected,) = parsed.rejected
    assert (rejected.line, rejected.value, rejected.original) == (
        2,
        "not an@address.com",
        "  not an@address.com  ",
    )
    assert "whitespace" in rejected.reason


def test_a_repeated_address_is_sent_once_from_its_first_line_whatever_its_case():
    parsed = parse_email_file("list.txt", b"jane@example.com\nbob@example.org\nJANE@example.com\n")
    assert [(a.line, a.email) for a in parsed.addresses] == [(1, "jane@example.com"), (2, "bob@example.org")]
    assert [(d.line, d.first_line) for d in parsed.duplicates] == [(3, 1)]


def test_addresses_only_a_fold_or_a_normalisation_makes_equal_are_two_subscribers():
    # Given a CSV holding straße and strasse (equal after casefold), and é composed and decomposed
    data = "\n".join(
        [
            "email",
            "straße@example.de",
            "strasse@example.de",
            "STRASSE@example.de",
            "j\u00e9@example.fr",
            "je\u0301@example.fr",
        ]
    )
    parsed = parse_email_file("list.csv", data.encode())

    # Then each is sent as its exact string; only what HubSpot's lower() makes equal is a repeat
    assert [a.email for a in parsed.addresses] == [
        "straße@example.de",
        "strasse@example.de",
        "j\u00e9@example.fr",
        "je\u0301@example.fr",
    ]
    assert [(d.line, d.first_line) for d in parsed.duplicates] == [(4, 3)]


def test_a_byte_order_mark_is_ignored_and_non_utf8_is_a_usage_error_naming_the_line():
    # Given an Excel-style UTF-8 CSV with a BOM, and a Latin-1 text file
    assert emails("list.csv", "\ufeffemail\njane@example.com\n") == [(2, "jane@example.com")]
    with pytest.raises(UsageError, match=r"not UTF-8 text \(line 2\)"):
        parse_email_file("list.txt", "jane@example.com\nj\xf8rn@example.com\n".encode("latin-1"))


def test_the_format_can_be_forced_either_way():
    # Given a .txt file that is a CSV, and a .csv file that is a plain list with a comment
    assert emails("list.txt", "name,email\nJane,jane@example.com\n", file_format=FileFormat.CSV) == [
        (2, "jane@example.com")
    ]
    assert emails("list.csv", "# comment\njane@example.com\n", file_format=FileFormat.TEXT) == [
        (2, "jane@example.com")
    ]
