"""Account and profile routes: create, read, edit, User ID, visibility, public profile, delete."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.accounts.models import (
    AccountView,
    ChangeUserIdRequest,
    CreateAccountRequest,
    DeleteAccountRequest,
    PublicProfileView,
    SetVisibilityRequest,
    UpdateProfileRequest,
    UserIdChanged,
)
from account_billing.accounts.service import AccountService
from account_billing.accounts.store import AccountStore
from account_billing.activity.models import ActivityPage
from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.core.api import caller_of, create_resolver, json_response, no_content, responses
from account_billing.core.http import etag_for, versions_matching
from account_billing.core.observability import logger, metrics
from account_billing.core.recent_sign_in import documented, recently_signed_in
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container

app = create_resolver()

IfMatch = Annotated[
    str | None,
    Header(alias="if-match", description='The ETag of the account as last read, e.g. "v3"'),
]


@per_container
def table() -> Table:
    return Table(dynamodb_client(), get_settings().table_name)


@per_container
def accounts() -> AccountService:
    return AccountService(AccountStore(table()))


def account_response(view: AccountView, status: int = 200) -> Response[str]:
    return json_response(view, status, headers={"ETag": etag_for(view.version)})


@app.post(
    "/v1/account",
    operation_id="account.create",
    tags=["Account"],
    summary="Create the caller's account",
    responses=responses(201, AccountView, "Account created", 401, 409, 422),
)
def create_account(request: CreateAccountRequest) -> Response[str]:
    return account_response(accounts().create(caller_of(app), request), status=201)


@app.get(
    "/v1/account",
    operation_id="account.get",
    tags=["Account"],
    summary="The caller's account",
    responses=responses(200, AccountView, "The account", 401, 404),
)
def get_account() -> Response[str]:
    return account_response(accounts().get(caller_of(app)))


@app.patch(
    "/v1/account/profile",
    operation_id="account.updateProfile",
    tags=["Account"],
    summary="Edit profile fields (present fields only; null clears)",
    responses=responses(200, AccountView, "The updated account", 401, 404, 412, 422),
)
def update_profile(request: UpdateProfileRequest, if_match: IfMatch = None) -> Response[str]:
    return account_response(accounts().update_profile(caller_of(app), request, versions_matching(if_match)))


@app.put(
    "/v1/account/user-id",
    operation_id="account.changeUserId",
    tags=["Account"],
    summary="Change the User ID (the old one is freed at once; nothing redirects from it)",
    responses=documented(responses(200, UserIdChanged, "The User ID changed", 401, 404, 409, 412, 422)),
)
def change_user_id(request: ChangeUserIdRequest, if_match: IfMatch = None) -> Response[str]:
    change, view = accounts().change_user_id(recently_signed_in(app), request, versions_matching(if_match))
    return json_response(change, headers={"ETag": etag_for(view.version)})


@app.put(
    "/v1/account/visibility",
    operation_id="account.setVisibility",
    tags=["Account"],
    summary="Make the profile public or private",
    responses=responses(200, AccountView, "The updated account", 401, 404, 412, 422),
)
def set_visibility(request: SetVisibilityRequest, if_match: IfMatch = None) -> Response[str]:
    return account_response(accounts().set_visibility(caller_of(app), request, versions_matching(if_match)))


@app.get(
    "/v1/users/<user_id>",
    operation_id="account.getPublicProfile",
    tags=["Account"],
    summary="A public profile by User ID (case-insensitive); no token needed",
    responses=responses(200, PublicProfileView, "The public profile", 404),
)
def public_profile(user_id: Annotated[str, Path(max_length=64)]) -> Response[str]:
    # Not cached: a profile made private must disappear at once.
    return json_response(accounts().public_profile(user_id))


@app.delete(
    "/v1/account",
    operation_id="account.delete",
    tags=["Account"],
    summary="Delete the account permanently (repeat the User ID to confirm)",
    responses=documented(responses(204, None, "Deleted", 401, 404, 409, 422)),
)
def delete_account(request: DeleteAccountRequest) -> Response[None]:
    # The erasure of every feature's data (S3, billing...) is loaded only when an account goes.
    from account_billing.deletion.steps import erasure_steps  # noqa: PLC0415

    accounts().delete(recently_signed_in(app), request, erasure_steps(table()))
    return no_content()


@per_container
def activity() -> ActivityLog:
    return ActivityLog.of(table())


@app.get(
    "/v1/account/activity",
    summary="The account's activity log: every change to it, newest first",
    operation_id="account.listActivity",
    tags=["Account"],
    responses=responses(200, ActivityPage, "A page of the log", 400, 401),
)
def list_activity(
    limit: Annotated[int, Query(ge=1, le=100, description="Entries per page")] = 25,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")] = None,
    kind: Annotated[list[ActivityKind] | None, Query(max_length=25, description="Only entries of these kinds")] = None,
) -> Response[str]:
    return json_response(activity().page(caller_of(app), limit, cursor, frozenset(kind or ())))


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
