"""Payment notices to the account's billing email (its billing details' email, else its verified
primary address): a payment that failed, with the link to pay what is due, and a payment that
went through. Composed here as plain data; sent by the mailer handed in."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from account_billing.billing.stripe.results import StripeInvoice
from account_billing.core.observability import logger
from account_billing.emails.messages import Message

if TYPE_CHECKING:
    from account_billing.accounts.store import AccountStore
    from account_billing.billing.details.store import BillingDetailsStore

Recipient = Callable[[str], str | None]  # account key → the address its billing notices go to


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency.upper()}"


def payment_failed_message(to: str, invoice: StripeInvoice, web_app_url: str) -> Message:
    link = f"{web_app_url.rstrip('/')}/settings/billing/invoices/{invoice.id}"
    due = _money(invoice.amount_remaining, invoice.currency)
    return Message(
        to=to,
        subject=f"Payment failed: {due} is due",
        text=(
            f"We could not collect the payment of invoice {invoice.number or invoice.id} ({due}).\n\n"
            f"Pay it with your card on file or another card here:\n{link}\n\n"
            "Until it is paid your subscription is past due; we will also retry the card automatically.\n"
        ),
    )


def payment_succeeded_message(to: str, invoice: StripeInvoice) -> Message:
    paid = _money(invoice.amount_paid, invoice.currency)
    return Message(
        to=to,
        subject=f"Payment received: {paid}",
        text=(
            f"Thank you: we received {paid} for invoice {invoice.number or invoice.id}.\n\n"
            "The invoice and its statement are on the Billing page of your settings.\n"
        ),
    )


class PaymentNotices:
    def __init__(self, send: Callable[[Message], None], recipient: Recipient, web_app_url: str) -> None:
        self.send = send
        self.recipient = recipient
        self.web_app_url = web_app_url

    def after(self, event_type: str, sub: str, invoice: StripeInvoice) -> None:
        """Tell the account of a payment Stripe reports (once per event: the webhook applies each
        event once)."""
        failed = event_type == "invoice.payment_failed" and invoice.status == "open"
        succeeded = event_type == "invoice.paid" and invoice.amount_paid > 0
        if not (failed or succeeded):
            return
        to = self.recipient(sub)
        if to is None:
            logger.info("No billing email to notify", extra={"type": event_type})
            return
        if failed:
            self.send(payment_failed_message(to, invoice, self.web_app_url))
        else:
            self.send(payment_succeeded_message(to, invoice))


def billing_recipient(accounts: AccountStore, details: BillingDetailsStore) -> Recipient:
    """Where an account's billing notices go: its billing email, else its verified primary address."""

    def recipient(sub: str) -> str | None:
        billing = details.get(sub)
        if billing is not None and billing.email:
            return billing.email
        account = accounts.get(sub)
        primary = account.primary_email if account is not None else None
        return primary.address if primary is not None and primary.verified else None

    return recipient
