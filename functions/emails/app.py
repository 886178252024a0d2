"""Email address routes: list, add (with a verification email), resend, verify, primary, remove."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.core.api import caller_of, create_resolver, json_response, no_content, responses
from account_billing.core.observability import logger, metrics
from account_billing.core.ratelimit_windows import WindowCounters
from account_billing.core.recent_sign_in import documented, recently_signed_in
from account_billing.core.settings import get_settings, required
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container, sesv2_client
from account_billing.emails.mailer import SesMailer
from account_billing.emails.models import (
    AddEmailRequest,
    EmailList,
    EmailView,
    ResendVerificationRequest,
    SetPrimaryEmailRequest,
    VerifyEmailRequest,
)
from account_billing.emails.service import EmailService
from account_billing.emails.settings import email_settings
from account_billing.emails.store import EmailStore

app = create_resolver()


@per_container
def emails() -> EmailService:
    settings = get_settings()
    table = Table(dynamodb_client(), settings.table_name)
    return EmailService(
        EmailStore(table),
        send=SesMailer(sesv2_client, required(settings.email_from, "EMAIL_FROM"), settings.email_configuration_set),
        web_app_url=settings.web_app_url,
        counters=WindowCounters(table),
        limits=email_settings().send_limits,
    )


@app.get(
    "/v1/account/emails",
    operation_id="emails.list",
    tags=["Emails"],
    summary="The account's addresses",
    responses=responses(200, EmailList, "Addresses", 401),
)
def list_emails() -> Response[str]:
    return json_response(emails().list(caller_of(app)))


@app.post(
    "/v1/account/emails",
    operation_id="emails.add",
    tags=["Emails"],
    summary="Add an address; a verification email with a single-use link is sent to it",
    responses=responses(201, EmailView, "Added, unverified", 401, 404, 409, 422, 429, 502),
)
def add_email(request: AddEmailRequest) -> Response[str]:
    return json_response(emails().add(caller_of(app), request.address), status=201)


@app.post(
    "/v1/account/emails/resend",
    operation_id="emails.resendVerification",
    tags=["Emails"],
    summary="Send the verification email again (at most once a minute, and within the address's and "
    "the account's daily budgets)",
    responses=responses(200, EmailView, "Sent", 401, 404, 409, 422, 429, 502),
)
def resend_verification(request: ResendVerificationRequest) -> Response[str]:
    return json_response(emails().resend(caller_of(app), request.address))


@app.post(
    "/v1/account/emails/verify",
    operation_id="emails.verify",
    tags=["Emails"],
    summary="Verify an address with the token from its verification email",
    responses=responses(200, EmailView, "Verified", 401, 409, 422),
)
def verify_email(request: VerifyEmailRequest) -> Response[str]:
    return json_response(emails().verify(caller_of(app), request.token))


@app.put(
    "/v1/account/emails/primary",
    operation_id="emails.setPrimary",
    tags=["Emails"],
    summary="Make a verified address the primary (the previous one is told)",
    responses=documented(responses(200, EmailView, "Primary", 401, 404, 409, 422)),
)
def set_primary(request: SetPrimaryEmailRequest) -> Response[str]:
    return json_response(emails().set_primary(recently_signed_in(app), request.address))


@app.delete(
    "/v1/account/emails/<email>",
    operation_id="emails.remove",
    tags=["Emails"],
    summary="Remove an address (not the primary, not the last verified one)",
    responses=responses(204, None, "Removed", 401, 404, 409, 422),
)
def remove_email(email: Annotated[str, Path(max_length=400)]) -> Response[None]:
    emails().remove(caller_of(app), unquote(email))
    return no_content()


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
