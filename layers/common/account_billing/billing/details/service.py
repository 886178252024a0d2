"""Reading and replacing the account's billing details. Stripe's customer is the source of
truth (invoices copy it at finalization): a change goes to Stripe first, then to the mirror the
reads come from. Tax IDs are added before anything else changes, so one that Stripe refuses
changes nothing (those added before it are removed again)."""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import TYPE_CHECKING, Any

from account_billing.billing.context import BillingContext
from account_billing.billing.details.errors import BillingDetailsChanged
from account_billing.billing.details.models import (
    AddressView,
    BillingDetailsRequest,
    BillingDetailsView,
    TaxIdView,
)
from account_billing.billing.details.records import Address, BillingDetails, TaxIdRecord
from account_billing.billing.idempotency import once_per_key
from account_billing.billing.stripe.results import StripeTaxId
from account_billing.core.clock import timestamp
from account_billing.core.identity import Caller

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from types_boto3_dynamodb import DynamoDBClient


def details_view(details: BillingDetails | None) -> BillingDetailsView:
    if details is None:
        return BillingDetailsView(name=None, company=None, email=None, address=None, tax_ids=[])
    address = details.address
    return BillingDetailsView(
        name=details.name,
        company=details.company,
        email=details.email,
        address=AddressView(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            postal_code=address.postal_code,
            state=address.state,
            country=address.country,
        )
        if address
        else None,
        tax_ids=[TaxIdView(type=t.type, value=t.value, verification=t.verification) for t in details.tax_ids],
    )


class BillingDetailsService:
    def __init__(self, context: BillingContext) -> None:
        self.context = context
        self.accounts = context.accounts
        self.store = context.billing_details
        self.gateway = context.gateway

    def get(self, caller: Caller) -> tuple[BillingDetailsView, int]:
        """The details and their version (the ETag)."""
        self.accounts.require_active(caller.sub)
        details = self.store.get(caller.sub)
        return details_view(details), details.version if details else 0

    def replace(
        self, caller: Caller, request: BillingDetailsRequest, versions: Set[int] | None, key: str
    ) -> tuple[BillingDetailsView, int]:
        account = self.accounts.require_active(caller.sub)
        current = self.store.get(caller.sub)
        version = current.version if current else 0
        if versions is not None and version not in versions:
            raise BillingDetailsChanged("The billing details changed since they were read: read them again.")
        customer_id = self.context.customers.ensure(account)
        at_stripe = self.gateway.details.tax_ids(customer_id)
        tax_ids = self._replace_tax_ids(customer_id, request, at_stripe, key)
        details = BillingDetails(
            sub=caller.sub,
            version=version + 1,
            updated_at=timestamp(self.context.clock()),
            name=request.name,
            company=request.company,
            email=request.email,
            address=Address(**request.address.model_dump()) if request.address else None,
            tax_ids=tuple(TaxIdRecord(t.id, t.type, t.value, t.verification) for t in tax_ids),
        )
        self.gateway.details.update(customer_id, details, f"details-{caller.sub}-{key}")
        if not self.store.save(details, version):
            raise BillingDetailsChanged("The billing details changed meanwhile: read them again.")
        return details_view(details), details.version

    def _replace_tax_ids(
        self, customer_id: str, request: BillingDetailsRequest, at_stripe: list[StripeTaxId], key: str
    ) -> list[StripeTaxId]:
        """Make the customer's tax IDs those of `request`: add the new ones (all or none), then
        remove the ones no longer wanted."""
        existing = {(t.type, t.value): t for t in at_stripe}
        added: list[StripeTaxId] = []
        try:
            for index, wanted in enumerate(request.tax_ids):
                if (wanted.type, wanted.value) not in existing:
                    added.append(
                        self.gateway.details.add_tax_id(customer_id, wanted.type, wanted.value, f"tax-{key}-{index}")
                    )
        except Exception:
            for tax_id in added:
                self.gateway.details.remove_tax_id(customer_id, tax_id.id)
            raise
        wanted_keys = {(t.type, t.value) for t in request.tax_ids}
        for pair, tax_id in existing.items():
            if pair not in wanted_keys:
                self.gateway.details.remove_tax_id(customer_id, tax_id.id)
        by_key = {**existing, **{(t.type, t.value): t for t in added}}
        return [by_key[(t.type, t.value)] for t in request.tax_ids]


def idempotent_replace(
    service: BillingDetailsService, table_name: str, config: IdempotencyConfig, client: DynamoDBClient | None = None
) -> Callable[[Caller, BillingDetailsRequest, Set[int] | None, str], tuple[BillingDetailsView, int]]:
    """`service.replace`, once per (caller, Idempotency-Key): a retry answers the first answer."""

    def replace(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        versions = request["if_match"]
        view, version = service.replace(
            caller,
            BillingDetailsRequest.model_validate(request["body"]),
            frozenset(versions) if versions is not None else None,
            key,
        )
        return {"view": view.model_dump(mode="json"), "version": version}

    once = once_per_key(replace, service.accounts, table_name, config, client)

    def run(
        caller: Caller, request: BillingDetailsRequest, versions: Set[int] | None, key: str
    ) -> tuple[BillingDetailsView, int]:
        if_match = sorted(versions) if versions is not None else None
        answer = once(caller, {"body": request.model_dump(mode="json"), "if_match": if_match}, key)
        return BillingDetailsView.model_validate(answer["view"]), int(answer["version"])

    return run
