"""Tax ID formats (pure): the types are Stripe's at the pinned version, each documented example
has its type's format, and malformed values do not."""

from __future__ import annotations

import typing

import pytest
from stripe.params import CustomerTaxIdCreateParams

from account_billing.billing.details.tax_ids import FORMATS, TAX_ID_TYPES, valid_tax_id


def test_the_types_are_stripes_own() -> None:
    annotation = typing.get_type_hints(CustomerTaxIdCreateParams)["type"]
    [literal] = [a for a in typing.get_args(annotation) if typing.get_origin(a) is typing.Literal]

    assert frozenset(typing.get_args(literal)) == TAX_ID_TYPES
    assert set(FORMATS) <= TAX_ID_TYPES


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("eu_vat", "DE123456789"),
        ("gb_vat", "GB123456789"),
        ("ch_vat", "CHE-123.456.789 MWST"),
        ("us_ein", "12-3456789"),
        ("in_gst", "12ABCDE3456FGZH"),
        ("au_abn", "12345678912"),
        ("br_cnpj", "01.234.456/5432-10"),
        ("no_vat", "123456789MVA"),
        ("jp_trn", "T1234567891234"),
        ("ad_nrt", "A-123456-Z"),
    ],
)
def test_stripes_examples_are_valid(kind: str, value: str) -> None:
    assert valid_tax_id(kind, value)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("eu_vat", "de123456789"),
        ("gb_vat", "FR123456789"),
        ("us_ein", "123-456789"),
        ("in_gst", "12ABCDE3456FGZ"),
        ("ad_nrt", "ABCDEF"),
        ("ad_nrt", "A" * 41),
        ("xx_vat", "123456789"),
    ],
)
def test_malformed_values_are_not(kind: str, value: str) -> None:
    assert not valid_tax_id(kind, value)
