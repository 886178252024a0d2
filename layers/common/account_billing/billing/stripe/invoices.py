"""Invoices at Stripe: one by id, a customer's history, and the preview of what a change costs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import stripe

from account_billing.billing.errors import CardDeclined
from account_billing.billing.invoices.errors import InvoiceNotPayable
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.errors import RESOURCE_MISSING, refused_with
from account_billing.billing.stripe.results import (
    InvoiceLine,
    InvoicePayment,
    InvoicePreview,
    PaymentActionRequired,
    StripeInvoice,
)

if TYPE_CHECKING:
    from stripe.params import (
        InvoiceCreatePreviewParams,
        InvoiceCreatePreviewParamsSubscriptionDetailsItem,
        InvoicePayParams,
    )

# Stripe's answer when paying an invoice needs the customer to authenticate (3-D Secure).
REQUIRES_ACTION = "invoice_payment_intent_requires_action"


class Invoices:
    def __init__(self, api: StripeApi) -> None:
        self.api = api

    def retrieve(self, invoice_id: str) -> StripeInvoice | None:
        """The invoice as Stripe has it now, with all its lines and, once paid, how it was paid."""
        try:
            invoice = StripeInvoice.from_dict(self.api.call(lambda c: c.v1.invoices.retrieve(invoice_id)).to_dict())
        except stripe.InvalidRequestError as exc:
            if refused_with(exc, RESOURCE_MISSING):
                return None
            raise
        if invoice.more_lines:
            invoice = replace(invoice, lines=self._lines(invoice_id), more_lines=False)
        if invoice.status == "paid" and invoice.amount_paid > 0:
            invoice = replace(invoice, payment=self.payment_of(invoice_id))
        return invoice

    def pay(
        self, invoice_id: str, payment_method_id: str, idempotency_key: str
    ) -> StripeInvoice | PaymentActionRequired:
        """Pay an open invoice with one of the customer's cards, the customer present (so the bank
        may ask for 3-D Secure: `PaymentActionRequired`). A decline is `CardDeclined`; an invoice
        that is no longer open is `InvoiceNotPayable`."""
        params: InvoicePayParams = {"payment_method": payment_method_id, "off_session": False}
        try:
            self.api.call(lambda c: c.v1.invoices.pay(invoice_id, params, {"idempotency_key": idempotency_key}))
        except CardDeclined as exc:
            intent = self._open_intent(invoice_id) if exc.extensions.get("code") == REQUIRES_ACTION else None
            if intent is None:
                raise
            return intent
        except stripe.InvalidRequestError as exc:
            current = self.retrieve(invoice_id)
            if current is None or current.status != "open":
                raise InvoiceNotPayable(f"The invoice is {current.status if current else 'gone'}.") from exc
            raise
        paid = self.retrieve(invoice_id)
        if paid is None:
            raise InvoiceNotPayable("The invoice is gone.")
        return paid

    def _open_intent(self, invoice_id: str) -> PaymentActionRequired | None:
        """The PaymentIntent still collecting the invoice (waiting for the customer), if any."""
        page = self.api.call(lambda c: c.v1.invoice_payments.list({"invoice": invoice_id, "status": "open"}))
        for payment in page.data:
            intent = payment.payment.payment_intent
            if intent is not None:
                intent_id = intent if isinstance(intent, str) else intent.id
                found = self.api.call(lambda c, key=intent_id: c.v1.payment_intents.retrieve(key))  # type: ignore[misc]
                if found.status == "requires_action":
                    return PaymentActionRequired(found.id, found.client_secret)
        return None

    def _lines(self, invoice_id: str) -> tuple[InvoiceLine, ...]:
        page = self.api.call(lambda c: c.v1.invoices.line_items.list(invoice_id, {"limit": 100}))
        return tuple(InvoiceLine.from_dict(line.to_dict()) for line in page.auto_paging_iter())

    def payment_of(self, invoice_id: str) -> InvoicePayment | None:
        """The card that paid the invoice and the charge's receipt (its paid InvoicePayment's
        PaymentIntent, with the charge expanded); None when no card paid it (a credit balance)."""
        page = self.api.call(lambda c: c.v1.invoice_payments.list({"invoice": invoice_id, "status": "paid"}))
        for payment in page.data:
            intent_id = payment.payment.payment_intent
            if intent_id is None:
                continue
            charge = self._charge_of(intent_id if isinstance(intent_id, str) else intent_id.id)
            if charge is not None:
                return InvoicePayment.from_charge(charge)
        return None

    def _charge_of(self, payment_intent_id: str) -> Mapping[str, Any] | None:
        """The PaymentIntent's latest charge."""
        intent = self.api.call(
            lambda c: c.v1.payment_intents.retrieve(payment_intent_id, {"expand": ["latest_charge"]})
        ).to_dict()
        charge = intent.get("latest_charge")
        return charge if isinstance(charge, Mapping) else None

    def of_customer(self, customer_id: str) -> list[StripeInvoice]:
        page = self.api.call(lambda c: c.v1.invoices.list({"customer": customer_id, "limit": 100}))
        return [StripeInvoice.from_dict(invoice.to_dict()) for invoice in page.auto_paging_iter()]

    def preview(
        self,
        customer_id: str,
        *,
        price_id: str,
        subscription_id: str | None = None,
        item_id: str | None = None,
        proration_behavior: str = "none",
    ) -> InvoicePreview:
        """Stripe's preview of the invoice a change would produce."""
        item: InvoiceCreatePreviewParamsSubscriptionDetailsItem = {"price": price_id}
        if item_id:
            item["id"] = item_id
        params: InvoiceCreatePreviewParams = {
            "customer": customer_id,
            "subscription_details": {"items": [item], "proration_behavior": proration_behavior},
        }
        if subscription_id:
            params["subscription"] = subscription_id
        preview = self.api.call(lambda c: c.v1.invoices.create_preview(params))
        return InvoicePreview(amount_due=int(preview.amount_due), currency=str(preview.currency))
