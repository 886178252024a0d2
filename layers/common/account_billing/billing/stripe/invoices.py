"""Invoices at Stripe: one by id, a customer's history, and the preview of what a change costs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe

from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.errors import RESOURCE_MISSING, refused_with
from account_billing.billing.stripe.results import InvoicePreview, StripeInvoice

if TYPE_CHECKING:
    from stripe.params import InvoiceCreatePreviewParams, InvoiceCreatePreviewParamsSubscriptionDetailsItem


class Invoices:
    def __init__(self, api: StripeApi) -> None:
        self.api = api

    def retrieve(self, invoice_id: str) -> StripeInvoice | None:
        try:
            invoice = self.api.call(lambda c: c.v1.invoices.retrieve(invoice_id))
        except stripe.InvalidRequestError as exc:
            if refused_with(exc, RESOURCE_MISSING):
                return None
            raise
        return StripeInvoice.from_dict(invoice.to_dict())

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
