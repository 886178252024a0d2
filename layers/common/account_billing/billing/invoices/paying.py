"""Paying what is due: an open invoice (a renewal whose payment failed leaves the subscription
`past_due`) paid now with the account's default card or another of its verified cards. The
customer is present, so the bank may ask for 3-D Secure: the answer is then the PaymentIntent's
client secret, as when adding a card, and the webhook learns of the payment. Once per
Idempotency-Key: a retry answers what the first request did and moves no money twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from account_billing.billing.context import BillingContext
from account_billing.billing.idempotency import once_per_key
from account_billing.billing.invoices.errors import InvoiceNotFound, InvoiceNotPayable, PaymentCardUnavailable
from account_billing.billing.invoices.models import InvoiceDetail, InvoicePaymentAction, PayInvoiceRequest
from account_billing.billing.invoices.records import OPEN, Invoice
from account_billing.billing.invoices.service import invoice_detail
from account_billing.billing.stripe.results import PaymentActionRequired
from account_billing.billing.subscriptions.records import read_time
from account_billing.core.identity import Caller

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from types_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """200 and the paid invoice, or 202 and what the cardholder must do."""

    status: int
    body: dict[str, Any]


class InvoicePayer:
    def __init__(self, context: BillingContext) -> None:
        self.accounts = context.accounts
        self.cards = context.cards
        self.invoices = context.invoices
        self.gateway = context.gateway

    def pay(self, caller: Caller, invoice_id: str, request: PayInvoiceRequest, key: str) -> PaymentOutcome:
        account = self.accounts.require_active(caller.sub)
        invoice = self.invoices.get(caller.sub, invoice_id)
        if invoice is None or not account.stripe_customer_id:
            raise InvoiceNotFound("No such invoice.")
        if invoice.status != OPEN:
            raise InvoiceNotPayable(f"The invoice is {invoice.status}; only an open invoice can be paid.")
        card_id = request.payment_method_id or account.default_payment_method
        card = self.cards.get(caller.sub, card_id) if card_id else None
        if card is None or not card.verified:
            raise PaymentCardUnavailable(
                "Pay with one of the account's verified cards (add one, or make one the default)."
            )
        outcome = self.gateway.invoices.pay(invoice_id, card.payment_method_id, f"invoice-pay-{invoice_id}-{key}")
        if isinstance(outcome, PaymentActionRequired):
            action = InvoicePaymentAction(invoice_id=invoice_id, client_secret=outcome.client_secret)
            return PaymentOutcome(202, action.model_dump(mode="json"))
        paid = Invoice.from_stripe(caller.sub, outcome, read_time())
        self.invoices.save(paid, account.stripe_customer_id)
        return PaymentOutcome(200, invoice_detail(paid).model_dump(mode="json"))


def idempotent_pay(
    payer: InvoicePayer, table_name: str, config: IdempotencyConfig, client: DynamoDBClient | None = None
) -> Callable[[Caller, str, PayInvoiceRequest, str], tuple[int, BaseModel]]:
    """`payer.pay`, once per (caller, Idempotency-Key): a decline is remembered like a payment."""

    def pay(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        outcome = payer.pay(caller, request["invoice_id"], PayInvoiceRequest.model_validate(request["body"]), key)
        return {"status": outcome.status, "body": outcome.body}

    once = once_per_key(pay, payer.accounts, table_name, config, client)

    def run(caller: Caller, invoice_id: str, request: PayInvoiceRequest, key: str) -> tuple[int, BaseModel]:
        answer = once(caller, {"invoice_id": invoice_id, "body": request.model_dump(mode="json")}, key)
        if answer["status"] == 202:
            return 202, InvoicePaymentAction.model_validate(answer["body"])
        return answer["status"], InvoiceDetail.model_validate(answer["body"])

    return run
