"""Removing a card is a dangerous action: it needs a recent sign-in (see `core.recent_sign_in`)."""

from __future__ import annotations

import pytest

from functions.payment_methods import app as payment_methods
from tests.support.billing import Cards
from tests.support.events import call, http_event
from tests.support.sign_in import assert_reauthentication_required, signed_in


@pytest.mark.usefixtures("billing")
def test_removing_a_card_with_an_old_sign_in_is_refused_and_the_card_stays() -> None:
    ada = Cards("user-ada")
    assert ada.create_account("ada")[0] == 201
    status, _, added = ada.add("pm_card_visa")
    assert status == 201
    card = added["payment_method"]["id"]
    event = http_event(
        "payment_methods/remove_payment_method",
        sub="user-ada",
        claims=signed_in(11),
        path_parameters={"payment_method_id": card},
    )
    assert_reauthentication_required(*call(payment_methods.lambda_handler, event))

    assert [c["id"] for c in ada.list()[2]["payment_methods"]] == [card]
    assert ada.remove(card)[0] == 204
