"""Cleaning contact fields: addresses, phones, tags and typed attribute values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnidesk.helpdesk.actions.base import ActionError
from omnidesk.helpdesk.actions.fields import (
    clean_attribute,
    clean_email,
    clean_phone,
    clean_tags,
)


@pytest.mark.parametrize(
    ("given_", "stored"),
    [
        ("Foo@Example.COM", "foo@example.com"),
        ("  ana@shop.test ", "ana@shop.test"),
        ("ops@corp.local", "ops@corp.local"),
        ("admin@localhost", "admin@localhost"),
        ("Ünï@exämple.de", "ünï@exämple.de"),
    ],
)
def test_addresses_are_stored_one_way(given_: str, stored: str) -> None:
    assert clean_email(given_) == stored


@pytest.mark.parametrize("bad", ["", "no-at", "a b@x.com", "a@b@c.com", "x" * 400 + "@a.com", 7])
def test_bad_addresses_are_refused(bad: object) -> None:
    with pytest.raises(ActionError):
        clean_email(bad)


def test_phones_become_e164_and_local_numbers_need_a_region() -> None:
    assert clean_phone("+1 (415) 555-2671") == "+14155552671"
    assert clean_phone("+44 20 7946 0958") == "+442079460958"
    assert clean_phone("020 7946 0958", region="GB") == "+442079460958"
    for bad in ("020 7946 0958", "+1 23", "call me", "", None):
        with pytest.raises(ActionError):
            clean_phone(bad)


def test_tags_are_trimmed_lowered_and_distinct() -> None:
    assert clean_tags(["VIP", " vip", "Big   Co", ""]) == ["vip", "big co"]
    assert clean_tags("beta, VIP ,beta") == ["beta", "vip"]
    with pytest.raises(ActionError):
        clean_tags([1, 2])
    with pytest.raises(ActionError):
        clean_tags([f"t{i}" for i in range(51)])


def test_attribute_values_follow_their_type() -> None:
    assert clean_attribute("number", [], "12.0", "seats") == 12
    assert clean_attribute("number", [], 2.5, "seats") == 2.5
    assert clean_attribute("date", [], "2026-01-02T10:00", "since") == "2026-01-02"
    assert clean_attribute("boolean", [], "Yes", "paid") is True
    assert clean_attribute("boolean", [], False, "paid") is False
    assert clean_attribute("list", ["gold", "silver"], "gold", "plan") == "gold"
    assert clean_attribute("link", [], "https://crm.example/1", "crm") == "https://crm.example/1"
    assert clean_attribute("text", [], "", "x") is None
    for kind, options, value in [
        ("number", [], "nan"),
        ("number", [], True),
        ("date", [], "yesterday"),
        ("boolean", [], "maybe"),
        ("list", ["gold"], "bronze"),
        ("link", [], "javascript:alert(1)"),
        ("text", [], {"a": 1}),
        ("colour", [], "red"),
    ]:
        with pytest.raises(ActionError):
            clean_attribute(kind, options, value, "key")


@given(st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.booleans(), st.none()))
def test_any_value_is_cleaned_or_refused_never_crashes(value: object) -> None:
    for kind in ("text", "number", "date", "boolean", "list", "link"):
        try:
            cleaned = clean_attribute(kind, ["a"], value, "key")
        except ActionError:
            continue
        assert cleaned is None or isinstance(cleaned, str | int | float | bool)
