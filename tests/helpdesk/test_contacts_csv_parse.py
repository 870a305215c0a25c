"""Reading contact CSVs from outside: hostile files are refused with a reason a person
can act on, rows are cleaned through the same helpers as the API, and one bad row never
stops the others."""

from __future__ import annotations

import codecs

import pytest

from omnidesk.helpdesk.contacts_csv import (
    MAX_FILE_BYTES,
    Attribute,
    CsvError,
    RowError,
    clean_row,
    parse,
)
from omnidesk.helpdesk.contacts_csv.parse import MAX_CELL_CHARS

ATTRS = {
    "plan": Attribute("plan", "list", ["free", "pro"], "Plan"),
    "seats": Attribute("seats", "number", [], "Seats"),
    "renewal": Attribute("renewal", "date", [], "Renewal date"),
}


def rows(text: str | bytes) -> list[object]:
    sheet = parse(text.encode() if isinstance(text, str) else text, ATTRS)
    out: list[object] = []
    for line, cells in sheet.rows:
        try:
            out.append(clean_row(sheet, line, cells, ATTRS))
        except RowError as exc:
            out.append(exc.reason)
    return out


def test_a_good_file_maps_columns_and_cleans_values() -> None:
    text = (
        "\ufeffName,E-mail,Phone,Company,Tags,Notes,plan,Seats,Renewal date,favourite colour\n"
        "Ada Lovelace, ADA@Example.COM ; ada@work.test ,+44 20 7946 0958,Analytical,"
        "VIP; beta,likes tea,pro,12,2027-01-31,blue\n"
    )
    sheet = parse(text.encode(), ATTRS)
    assert sheet.ignored == ["favourite colour"]
    assert sheet.fields[:3] == ["name", "email", "phone"]
    [row] = rows(text)
    assert row.emails == ("ada@example.com", "ada@work.test")  # type: ignore[attr-defined]
    assert row.phones == ("+442079460958",)  # type: ignore[attr-defined]
    assert row.tags == ("vip", "beta")  # type: ignore[attr-defined]
    assert row.attributes == {"plan": "pro", "seats": 12, "renewal": "2027-01-31"}  # type: ignore[attr-defined]
    assert (row.name, row.company, row.notes) == ("Ada Lovelace", "Analytical", "likes tea")  # type: ignore[attr-defined]


def test_semicolons_first_and_last_names_and_utf16() -> None:
    text = "first name;last name;email\nGrace;Hopper;grace@navy.test\n"
    [row] = rows(text)
    assert row.name == "Grace Hopper"  # type: ignore[attr-defined]
    [again] = rows(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert again == row


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"email,name\n", "no rows"),
        (b"email,name\n,\n , \n", "no rows"),
        (b"name,company\nAda,Analytical\n", "'email' or 'phone' column"),
        (b"ada@example.com,Ada\nbob@example.com,Bob\n", "'email' or 'phone' column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
        ("email,name\nzoë@example.com,Zoë\n".encode("latin-1"), "not UTF-8"),
        (b"email,email address,name,Name\na@b.test,,x,y\n", "two columns"),
        (b"email," + b",".join(b"c%d" % i for i in range(250)) + b"\n", "more than 200 columns"),
        (b'email,notes\na@b.test,"' + b"x" * 200_000 + b'"\n', "field larger than field limit"),
        (b"x" * (MAX_FILE_BYTES + 1), "larger than 10 MiB"),
    ],
)
def test_hostile_files_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(CsvError) as caught:
        parse(data, ATTRS)
    assert reason in caught.value.reason


def test_too_many_rows() -> None:
    from omnidesk.helpdesk.contacts_csv import MAX_ROWS

    data = "email\n" + "a@b.test\n" * (MAX_ROWS + 1)
    with pytest.raises(CsvError, match="more than"):
        parse(data.encode(), ATTRS)


def test_bad_rows_fail_alone_with_their_reason() -> None:
    text = (
        "email,phone,name,plan,seats,tags\n"
        "good@example.com,,Good,,,\n"
        "not-an-address,,Bad email,,,\n"
        ",12345,Local number,,,\n"
        ",,Nobody,,,\n"
        f"long@example.com,,{'n' * 201},,,\n"
        "plan@example.com,,Plan,enterprise,,\n"
        "seats@example.com,,Seats,,many,\n"
        f"cell@example.com,,{'c' * (MAX_CELL_CHARS + 1)},,,\n"
        "extra@example.com,,Extra,,,,surplus\n"
        f"tags@example.com,,Tags,,,{';'.join(f't{i}' for i in range(51))}\n"
        "ok2@example.com,,,,,\n"
    )
    got = rows(text)
    assert got[0].emails == ("good@example.com",)  # type: ignore[union-attr,attr-defined]
    assert "'email' must be an email address" in got[1]  # type: ignore[operator]
    assert "country code" in got[2]  # type: ignore[operator]
    assert "no email address or phone number" in got[3]  # type: ignore[operator]
    assert "'name' is longer than 200" in got[4]  # type: ignore[operator]
    assert "'plan' must be a list value" in got[5]  # type: ignore[operator]
    assert "'seats' must be a number value" in got[6]  # type: ignore[operator]
    assert f"longer than {MAX_CELL_CHARS}" in got[7]  # type: ignore[operator]
    assert "7 cells, but the header names 6" in got[8]  # type: ignore[operator]
    assert "at most 50 tags" in got[9]  # type: ignore[operator]
    assert got[10].emails == ("ok2@example.com",)  # type: ignore[union-attr,attr-defined]


def test_formula_cells_are_kept_as_text_and_our_quote_is_dropped() -> None:
    text = (
        "email,name,company,notes\n"
        "f@example.com,=HYPERLINK(\"http://evil\"),'=SUM(A1),'-not a formula\n"
        "g@example.com,'+44 is quoted,@at,'plain apostrophe\n"
    )
    first, second = rows(text)
    assert first.name == '=HYPERLINK("http://evil")'  # type: ignore[attr-defined]
    assert first.company == "=SUM(A1)"  # type: ignore[attr-defined]
    assert first.notes == "-not a formula"  # type: ignore[attr-defined]
    assert second.name == "+44 is quoted"  # type: ignore[attr-defined]
    assert second.notes == "'plain apostrophe"  # type: ignore[attr-defined]


def test_line_numbers_count_the_header_and_blank_lines() -> None:
    sheet = parse(b'email\n\na@b.test\n"multi\nline"\nc@d.test\n', ATTRS)
    assert [line for line, _ in sheet.rows] == [3, 4, 5]
