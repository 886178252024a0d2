"""A typical Powertools service, as its documentation and examples write one: Logger, Tracer and
Metrics, an HTTP API resolver validating with pydantic, one model, a boto3 client made at import,
one route reading one DynamoDB item. The cold-start peer of `make bench` (DESIGN §10)."""

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)
dynamodb = boto3.client("dynamodb")


class Account(BaseModel):
    user_id: str
    display_name: str | None = None
    public: bool = False


@app.get("/v1/account")
@tracer.capture_method
def get_account() -> Account:
    sub = app.current_event.request_context.authorizer.jwt_claim["sub"]
    key = {"PK": {"S": f"ACCOUNT#{sub}"}, "SK": {"S": "PROFILE"}}
    item = dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key=key)["Item"]
    return Account(
        user_id=item["user_id"]["S"],
        display_name=item.get("display_name", {}).get("S"),
        public=item.get("visibility", {}).get("S") == "public",
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
