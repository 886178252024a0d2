"""Avatar routes: a presigned POST to upload an image, and removal of the published avatar."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.avatars.models import AvatarUpload, AvatarUploadRequest
from account_billing.avatars.service import AvatarService
from account_billing.avatars.settings import avatar_settings
from account_billing.avatars.storage import AvatarStorage, s3_client
from account_billing.avatars.store import AvatarStore
from account_billing.core.api import caller_of, create_resolver, json_response, no_content, responses
from account_billing.core.observability import logger, metrics
from account_billing.core.ratelimit_windows import WindowCounters
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container

app = create_resolver()


@per_container
def avatars() -> AvatarService:
    settings = get_settings()
    table = Table(dynamodb_client(), settings.table_name)
    storage = AvatarStorage.from_settings(s3_client(), settings)
    return AvatarService(AvatarStore(table), storage, WindowCounters(table), avatar_settings().form_limit)


@app.post(
    "/v1/account/avatar",
    operation_id="avatar.createUpload",
    tags=["Avatar"],
    summary="A presigned POST to upload an avatar (JPEG or PNG, at most 20 MB)",
    responses=responses(200, AvatarUpload, "The upload form", 401, 404, 422, 429),
)
def request_upload(request: AvatarUploadRequest) -> Response[str]:
    return json_response(avatars().request_upload(caller_of(app), request))


@app.delete(
    "/v1/account/avatar",
    operation_id="avatar.remove",
    tags=["Avatar"],
    summary="Remove the avatar (the profile shows initials again)",
    responses=responses(204, None, "Removed (or there was none)", 401, 404),
)
def remove_avatar() -> Response[None]:
    avatars().remove(caller_of(app))
    return no_content()


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
