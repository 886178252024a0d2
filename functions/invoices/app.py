"""Invoice routes: the billing history (newest first, paginated), one invoice, its statement, and
paying an open one."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.billing.context import billing_context
from account_billing.billing.idempotency import idempotency, idempotency_table_name
from account_billing.billing.invoices.models import InvoiceDetail, InvoicePage, InvoicePaymentAction, PayInvoiceRequest
from account_billing.billing.invoices.paying import InvoicePayer, idempotent_pay
from account_billing.billing.invoices.service import InvoiceService
from account_billing.core.api import IdempotencyKey, caller_of, create_resolver, json_response, responses
from account_billing.core.observability import logger, metrics
from account_billing.core.wiring import dynamodb_client, per_container

app = create_resolver()

InvoiceId = Annotated[str, Path(pattern=r"^in_[A-Za-z0-9_]{1,250}$", max_length=253)]


@per_container
def invoices() -> InvoiceService:
    return InvoiceService(billing_context())


@per_container
def pay_once() -> Any:
    return idempotent_pay(InvoicePayer(billing_context()), idempotency_table_name(), idempotency(), dynamodb_client())


@app.get(
    "/v1/billing/invoices",
    operation_id="invoices.list",
    tags=["Invoices"],
    summary="The billing history, newest first: number, status, amounts, period",
    responses=responses(200, InvoicePage, "One page of invoices", 400, 401, 404, 422),
)
def list_invoices(
    limit: Annotated[int, Query(ge=1, le=100, description="Invoices per page")] = 20,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")] = None,
) -> Response[str]:
    return json_response(invoices().list_invoices(caller_of(app), limit, cursor))


@app.get(
    "/v1/billing/invoices/<invoice_id>",
    operation_id="invoices.get",
    tags=["Invoices"],
    summary="One invoice of the account: its lines, totals, payment, hosted page, receipt and statement",
    responses=responses(200, InvoiceDetail, "The invoice", 401, 404, 422),
)
def get_invoice(invoice_id: InvoiceId) -> Response[str]:
    return json_response(invoices().get(caller_of(app), invoice_id))


@app.get(
    "/v1/billing/invoices/<invoice_id>/pdf",
    operation_id="invoices.downloadStatement",
    tags=["Invoices"],
    summary="The invoice's statement (a redirect to Stripe's PDF); 409 while it is a draft",
    responses=responses(302, None, "Redirect to the PDF", 401, 404, 409, 422),
)
def invoice_pdf(invoice_id: InvoiceId) -> Response[None]:
    url = invoices().statement_url(caller_of(app), invoice_id)
    return Response(302, headers={"Location": url, "Cache-Control": "no-store"})


@app.post(
    "/v1/billing/invoices/<invoice_id>/pay",
    summary="Pay an open invoice now, with the default card or another verified card of the account",
    operation_id="invoices.pay",
    tags=["Invoices"],
    responses={
        **responses(200, InvoiceDetail, "Paid", 400, 401, 402, 404, 409, 422, 503),
        202: {
            "description": "The bank asks for 3-D Secure: complete it with Stripe.js; the webhook records the payment",
            "content": {"application/json": {"model": InvoicePaymentAction}},
        },
    },
)
def pay_invoice(invoice_id: InvoiceId, request: PayInvoiceRequest, idempotency_key: IdempotencyKey) -> Response[str]:
    status, answer = pay_once()(caller_of(app), invoice_id, request, idempotency_key)
    return json_response(answer, status=status)


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency().register_lambda_context(context)
    return app.resolve(event, context)
