"""DynamoDB requests per API route, counted through botocore's event hooks against moto
(budget: at most 2 per call, never a Scan; account deletion aside). `make bench` prints the
counts (bench/dynamodb_requests.py) and tests/api/test_request_budget.py asserts them."""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws

from account_billing.core.wiring import reset_containers
from local.template import create_tables, load_template
from stripe_simulator import Simulator, WebhookEndpoint
from stripe_simulator.cards import CARDS
from stripe_simulator.resources.prices import seed_price
from stripe_simulator.webhooks import sign
from tests.support.events import call, http_event
from tests.support.iam import name_in
from tests.support.stripe import simulated_process

BUDGET = 2
# Routes over the budget, each measured on its most expensive path: the requests it makes there
# (the request-budget test asserts exactly these counts) and why.
EXEMPT = {
    "DELETE /v1/account": (
        19,
        "an account with two verified addresses, a card and a paid plan after an upgrade (two "
        "open holds): the account read and marked, each open hold released (claimed, settled), "
        "the addresses' markers freed, the partition's items listed and removed in batches, the "
        "tombstone written, and the activity entries of the deletion and of each hold released; it "
        "grows with the account's holds and addresses",
    ),
    "POST /v1/billing/payment-methods": (
        16,
        "money-moving: the idempotency record (claimed, then completed), the account, the hold "
        "recorded before Stripe is called and its outcome written after (DESIGN §3, §6); the "
        "card-testing guard before Stripe sees the card (the lock read, the hour's attempts "
        "counted, the book of additions, the cards and holds read for the caps); the shared "
        "Stripe budget taken; the activity log's entries of the card added and its hold placed",
    ),
    "POST /v1/billing/payment-methods/{payment_method_id}/verification": (
        16,
        "money-moving: the idempotency record (claimed, then completed), the account, the card, the "
        "new hold's id, the card-testing guard (the lock read, the hour's attempts counted), the "
        "shared Stripe budget taken, the previous hold (read, claimed and released), the new hold "
        "recorded before Stripe is called and its outcome written with the card after, and the "
        "activity entries of the release and of the new hold",
    ),
    "DELETE /v1/billing/payment-methods/{payment_method_id}": (
        6,
        "money-moving: removing a card releases its holds at once (removing a card and adding it "
        "again never stacks holds): the cards, the removal's transaction, the account's holds, and "
        "each open hold of the card claimed before Stripe cancels it and marked released after, "
        "and the release's activity entry",
    ),
    "POST /v1/billing/setup-intent": (
        3,
        "calls Stripe: the shared Stripe budget taken first (one counter update, so every "
        "container together stays under Stripe's rate limit), the account, and its customer",
    ),
    "PUT /v1/billing/subscription": (
        14,
        "money-moving, Developer to Essential: the idempotency record (claimed, then completed), "
        "the account, its subscription, card and hold, the larger hold recorded before Stripe and "
        "its outcome after, the old hold retired, the subscription and plan written in one "
        "transaction once Stripe answered, the shared Stripe budget taken, and the plan change's "
        "activity entry",
    ),
    "POST /v1/webhooks/stripe": (
        6,
        "Stripe's deliveries, not a user's calls; a fresh `invoice.paid`: its marker claimed, the "
        "account of its customer, the mirror's conditional transaction, the marker done, and the "
        "payment notice's recipient (the billing details, then the account's primary address)",
    ),
    "POST /v1/billing/invoices/{invoice_id}/pay": (
        8,
        "money-moving: the idempotency record (claimed, then completed), the account, the invoice "
        "(its pointer, then the invoice), the card, and the paid invoice written after Stripe answered",
    ),
    "PUT /v1/billing/details": (
        6,
        "replaced once per Idempotency-Key: the idempotency record (claimed, then completed), the "
        "account (its Stripe customer) and its details (their version), and the new version written "
        "beside the account's check",
    ),
}


class RequestCounter:
    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations[model.name] += 1


def environment() -> None:
    """The environment Lambda gives the functions, with moto's credentials."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # moto accepts any credentials
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_REGION="eu-west-1",
        STAGE="bench",
        POWERTOOLS_SERVICE_NAME="account-billing",
        POWERTOOLS_METRICS_NAMESPACE="AccountBilling",
        POWERTOOLS_LOG_LEVEL="ERROR",
    )


def scenarios() -> list[tuple[str, Callable[[], Any], Callable[[], dict[str, Any]]]]:
    """(route, set-up, the request) for every route: the set-up's requests are not counted."""
    # Imported once the environment is set: Powertools reads it when the module loads.
    from functions.profile import app as profile  # noqa: PLC0415

    def handler(event: dict[str, Any]) -> Callable[[], dict[str, Any]]:
        return lambda: dict(zip(("status", "headers", "body"), call(profile.lambda_handler, event), strict=True))

    def account(sub: str, public: bool = False) -> Callable[[], Any]:
        def setup() -> None:
            call(profile.lambda_handler, http_event("profile/create_account", sub=sub, body={"user_id": sub}))
            if public:
                call(profile.lambda_handler, http_event("profile/set_visibility", sub=sub))

        return setup

    def nothing() -> None:
        return None

    verified = {"email": "bench@example.com", "email_verified": "true"}
    return [
        ("POST /v1/account", nothing, handler(http_event("profile/create_account", sub="bench1", claims=verified))),
        ("GET /v1/account", account("bench2"), handler(http_event("profile/get_account", sub="bench2"))),
        (
            "GET /v1/account/activity",
            account("bench8"),
            handler(http_event("profile/list_activity", sub="bench8")),
        ),
        (
            "PATCH /v1/account/profile",
            account("bench3"),
            handler(http_event("profile/update_profile", sub="bench3", headers={"if-match": '"v1"'})),
        ),
        ("PUT /v1/account/user-id", account("bench4"), handler(http_event("profile/change_user_id", sub="bench4"))),
        ("PUT /v1/account/visibility", account("bench5"), handler(http_event("profile/set_visibility", sub="bench5"))),
        (
            "GET /v1/users/{user_id}",
            account("bench6", public=True),
            handler(http_event("profile/public_profile", sub=None, path_parameters={"user_id": "bench6"})),
        ),
    ]


def email_scenarios() -> list[tuple[str, Callable[[], Any], Callable[[], dict[str, Any]]]]:
    """The emails function's routes, each on an account that signed up with a verified address."""
    from account_billing.core.ratelimit_windows import window_of  # noqa: PLC0415
    from account_billing.core.table import marshal  # noqa: PLC0415
    from account_billing.emails.settings import EmailSettings, address_subject  # noqa: PLC0415
    from functions.emails import app as emails  # noqa: PLC0415 (after the environment is set)
    from functions.profile import app as profile  # noqa: PLC0415
    from tests.support.mailbox import latest_token  # noqa: PLC0415

    def call_emails(sample: str, sub: str, **kwargs: Any) -> dict[str, Any]:
        event = http_event(f"emails/{sample}", sub=sub, **kwargs)
        return dict(zip(("status", "headers", "body"), call(emails.lambda_handler, event), strict=True))

    def signed_up(sub: str, *added: str, verified: bool = False) -> Callable[[], None]:
        def setup() -> None:
            claims = {"email": f"{sub}@example.com", "email_verified": "true"}
            call(
                profile.lambda_handler,
                http_event("profile/create_account", sub=sub, claims=claims, body={"user_id": sub}),
            )
            for address in added:
                call_emails("add_email", sub, body={"address": address})
                if verified:
                    call_emails("verify_email", sub, body={"token": latest_token(address)})

        return setup

    token: dict[str, str] = {}

    def with_token(sub: str, address: str) -> Callable[[], None]:
        def setup() -> None:
            signed_up(sub, address)()
            token[sub] = latest_token(address)

        return setup

    def cooled_down(sub: str, address: str) -> Callable[[], None]:
        """An address whose last verification email went out long enough ago to resend (its
        time on the item, and its interval's window, gone)."""

        def setup() -> None:
            signed_up(sub, address)()
            client = boto3.client("dynamodb")
            client.update_item(
                TableName=os.environ["TABLE_NAME"],
                Key={"PK": {"S": f"ACCOUNT#{sub}"}, "SK": {"S": f"EMAIL#{address}"}},
                UpdateExpression="SET verification_sent_at = :long_ago",
                ExpressionAttributeValues={":long_ago": {"S": "2000-01-01T00:00:00.000Z"}},
            )
            interval = EmailSettings().send_limits.interval
            window = window_of(interval, address_subject(address, sub), datetime.now(UTC))
            client.delete_item(TableName=os.environ["TABLE_NAME"], Key=marshal(window.key))

        return setup

    def request(sample: str, sub: str, **kwargs: Any) -> Callable[[], dict[str, Any]]:
        return lambda: call_emails(sample, sub, **kwargs)

    return [
        ("GET /v1/account/emails", signed_up("email1", "x1@example.com"), request("list_emails", "email1")),
        (
            "POST /v1/account/emails",
            signed_up("email2"),
            request("add_email", "email2", body={"address": "x2@example.com"}),
        ),
        (
            "POST /v1/account/emails/verify",
            with_token("email3", "x3@example.com"),
            lambda: call_emails("verify_email", "email3", body={"token": token["email3"]}),
        ),
        (
            "PUT /v1/account/emails/primary",
            signed_up("email4", "x4@example.com", verified=True),
            request("set_primary_email", "email4", body={"address": "x4@example.com"}),
        ),
        (
            "DELETE /v1/account/emails/{email}",
            signed_up("email5", "x5@example.com", verified=True),
            request("remove_email", "email5", path_parameters={"email": "x5%40example.com"}),
        ),
        (
            "POST /v1/account/emails/resend",
            cooled_down("email6", "x6@example.com"),
            request("resend_verification", "email6", body={"address": "x6@example.com"}),
        ),
    ]


def avatar_scenarios() -> list[tuple[str, Callable[[], Any], Callable[[], dict[str, Any]]]]:
    """The avatar function's routes; removal on an account whose avatar was published."""
    from functions.avatar import app as avatar  # noqa: PLC0415 (after the environment is set)
    from functions.profile import app as profile  # noqa: PLC0415
    from tests.support.avatars import AvatarClient  # noqa: PLC0415
    from tests.support.corpus import photo_jpeg  # noqa: PLC0415

    def handler(event: dict[str, Any]) -> Callable[[], dict[str, Any]]:
        return lambda: dict(zip(("status", "headers", "body"), call(avatar.lambda_handler, event), strict=True))

    def account(sub: str, *, with_avatar: bool = False) -> Callable[[], None]:
        def setup() -> None:
            call(profile.lambda_handler, http_event("profile/create_account", sub=sub, body={"user_id": sub}))
            if with_avatar:
                AvatarClient(sub).upload(photo_jpeg())

        return setup

    return [
        ("POST /v1/account/avatar", account("avatar1"), handler(http_event("avatar/request_upload", sub="avatar1"))),
        (
            "DELETE /v1/account/avatar",
            account("avatar2", with_avatar=True),
            handler(http_event("avatar/remove_avatar", sub="avatar2")),
        ),
    ]


def _billing_environment(session: Any, names: dict[str, str]) -> None:
    """The payment_methods function's environment: the idempotency table, the hold release
    schedule group and dead-letter queue, the queue of background Stripe work (Stripe is the
    simulator, see `measure`)."""
    session.client("scheduler").create_schedule_group(Name="bench-hold-releases")
    queue = session.client("sqs").create_queue(QueueName="bench-hold-release-dlq")["QueueUrl"]
    tasks_name = name_in("bench", "StripeTaskQueue").rsplit("/", 1)[-1]  # a queue's Ref is its URL
    tasks = session.client("sqs").create_queue(QueueName=tasks_name)["QueueUrl"]
    os.environ.update(
        IDEMPOTENCY_TABLE_NAME=names["IdempotencyTable"],
        RELEASE_SCHEDULE_GROUP="bench-hold-releases",
        RELEASE_QUEUE_ARN=f"arn:aws:sqs:eu-west-1:123456789012:{tasks.rsplit('/', 1)[-1]}",
        STRIPE_TASK_QUEUE_URL=tasks,
        RELEASE_SCHEDULER_ROLE_ARN="arn:aws:iam::123456789012:role/bench-scheduler",
        RELEASE_DEAD_LETTER_QUEUE_ARN=f"arn:aws:sqs:eu-west-1:123456789012:{queue.rsplit('/', 1)[-1]}",
    )


def payment_method_scenarios() -> list[tuple[str, Callable[[], Any], Callable[[], dict[str, Any]]]]:
    """The card routes, on accounts that already have a Stripe customer and cards."""
    from functions.payment_methods import app as payment_methods  # noqa: PLC0415 (after the environment is set)
    from functions.profile import app as profile  # noqa: PLC0415

    cards: dict[str, list[str]] = {}

    def call_cards(sample: str, sub: str, **kwargs: Any) -> dict[str, Any]:
        event = http_event(f"payment_methods/{sample}", sub=sub, **kwargs)
        return dict(zip(("status", "headers", "body"), call(payment_methods.lambda_handler, event), strict=True))

    def account(sub: str, *numbers: str) -> Callable[[], None]:
        def setup() -> None:
            call(profile.lambda_handler, http_event("profile/create_account", sub=sub, body={"user_id": sub}))
            for number, card in enumerate(numbers):
                added = call_cards(
                    "add_payment_method",
                    sub,
                    body={"payment_method": card},
                    headers={"idempotency-key": f"bench-{sub}-{number}"},
                )
                cards.setdefault(sub, []).append(added["body"]["payment_method"]["id"])

        return setup

    def on_card(sample: str, sub: str, index: int) -> Callable[[], dict[str, Any]]:
        return lambda: call_cards(sample, sub, path_parameters={"payment_method_id": cards[sub][index]})

    return [
        ("POST /v1/billing/setup-intent", account("card1"), lambda: call_cards("create_setup_intent", "card1")),
        (
            "POST /v1/billing/payment-methods",
            account("card2"),
            lambda: call_cards(
                "add_payment_method",
                "card2",
                body={"payment_method": "pm_card_visa"},
                headers={"idempotency-key": "bench-card2-new"},
            ),
        ),
        (
            "GET /v1/billing/payment-methods",
            account("card3", "pm_card_visa", "pm_card_mastercard"),
            lambda: call_cards("list_payment_methods", "card3"),
        ),
        (
            "PUT /v1/billing/payment-methods/{payment_method_id}/default",
            account("card4", "pm_card_visa", "pm_card_mastercard"),
            on_card("set_default_payment_method", "card4", 1),
        ),
        (
            "DELETE /v1/billing/payment-methods/{payment_method_id}",
            account("card5", "pm_card_visa", "pm_card_mastercard"),
            on_card("remove_payment_method", "card5", 0),
        ),
        (
            "POST /v1/billing/payment-methods/{payment_method_id}/verification",
            account("card6", "pm_card_threeDSecureRequired"),
            lambda: call_cards(
                "retry_verification",
                "card6",
                path_parameters={"payment_method_id": cards["card6"][0]},
                headers={"idempotency-key": "bench-card6-retry"},
            ),
        ),
    ]


PLAN_PRICES = {
    "developer": ("price_developer_monthly", 2900),
    "essential": ("price_essential_monthly", 9900),
    "professional": ("price_professional_monthly", 29900),
}
WEBHOOK_SECRET = "whsec_bench0000000000000000000000000000"


def _subscription_environment(session: Any, sim: Simulator) -> None:
    """The stage's Prices in the simulator, their ids in the environment, the webhook's secret."""
    for plan, (price, amount) in PLAN_PRICES.items():
        seed_price(sim, price, amount, plan.title())
    session.client("ssm").put_parameter(
        Name="/account-billing/bench/stripe-webhook-secret", Value=WEBHOOK_SECRET, Type="SecureString"
    )
    os.environ.update(
        PLAN_PRICE_IDS=json.dumps({plan: price for plan, (price, _) in PLAN_PRICES.items()}),
        PLAN_MONTHLY_PRICES=json.dumps({plan: amount for plan, (_, amount) in PLAN_PRICES.items()}),
        STRIPE_WEBHOOK_SECRET_PARAMETER="/account-billing/bench/stripe-webhook-secret",
    )


def subscription_scenarios(sim: Simulator) -> list[tuple[str, Callable[[], Any], Callable[[], dict[str, Any]]]]:
    """Plans, subscriptions, invoices and the webhook, on accounts with a verified card that are
    subscribed (their invoices mirrored by the webhook); account deletion on such an account."""
    from functions.emails import app as emails  # noqa: PLC0415 (after the environment is set)
    from functions.invoices import app as invoices  # noqa: PLC0415
    from functions.payment_methods import app as payment_methods  # noqa: PLC0415
    from functions.profile import app as profile  # noqa: PLC0415
    from functions.stripe_webhook import app as webhook  # noqa: PLC0415
    from functions.subscriptions import app as subscriptions  # noqa: PLC0415
    from tests.support.mailbox import latest_token  # noqa: PLC0415

    def answer(handler: Any, event: dict[str, Any]) -> dict[str, Any]:
        return dict(zip(("status", "headers", "body"), call(handler, event), strict=True))

    def deliver(body: bytes, headers: dict[str, str]) -> int:
        event = http_event(
            "stripe_webhook/stripe_event",
            sub=None,
            raw_body=body.decode(),
            headers={"stripe-signature": headers["Stripe-Signature"]},
        )
        return int(answer(webhook.lambda_handler, event)["status"])

    endpoint = sim.add_webhook_endpoint(WebhookEndpoint(deliver, WEBHOOK_SECRET))

    def subscribed(sub: str, plan: str | None = "developer", then: str | None = None) -> Callable[[], None]:
        def setup() -> None:
            call(profile.lambda_handler, http_event("profile/create_account", sub=sub, body={"user_id": sub}))
            card = {"payment_method": "pm_card_visa"}
            add = http_event(
                "payment_methods/add_payment_method",
                sub=sub,
                body=card,
                headers={"idempotency-key": f"bench-{sub}-card"},
            )
            answer(payment_methods.lambda_handler, add)
            for step, target in enumerate(p for p in (plan, then) if p):
                change = http_event(
                    "subscriptions/change_plan",
                    sub=sub,
                    body={"plan": target},
                    headers={"idempotency-key": f"bench-{sub}-{step}"},
                )
                answer(subscriptions.lambda_handler, change)
            sim.webhooks.deliver_pending()

        return setup

    def invoice_of(sub: str) -> str:
        customer = next(s for s in sim.all("subscription") if s["metadata"].get("account") == sub)["customer"]
        return str(next(i["id"] for i in sim.all("invoice") if i["customer"] == customer))

    def on_invoice(sample: str, sub: str) -> Callable[[], dict[str, Any]]:
        return lambda: answer(
            invoices.lambda_handler, http_event(sample, sub=sub, path_parameters={"invoice_id": invoice_of(sub)})
        )

    def preview(sub: str) -> dict[str, Any]:
        event = http_event("subscriptions/preview_plan_change", sub=sub)
        return answer(subscriptions.lambda_handler, event)

    def past_due(sub: str) -> Callable[[], None]:
        """Subscribed; its card declined the renewal (past_due, the invoice open), then works again."""

        def setup() -> None:
            subscribed(sub)()
            cards = [pm for pm in sim.all("payment_method") if pm["customer"] == customer_of(sub)]
            for pm in cards:
                sim.private(pm["id"])["card"] = CARDS["chargeCustomerFail"]
            sim.advance(31 * 24 * 3600)
            sim.tick()
            sim.webhooks.deliver_pending()
            for pm in cards:
                sim.private(pm["id"])["card"] = CARDS["visa"]

        return setup

    def customer_of(sub: str) -> str:
        return str(next(s for s in sim.all("subscription") if s["metadata"].get("account") == sub)["customer"])

    def pay_due(sub: str) -> dict[str, Any]:
        due = next(i["id"] for i in sim.all("invoice") if i["customer"] == customer_of(sub) and i["status"] == "open")
        event = http_event("invoices/pay_invoice", sub=sub, path_parameters={"invoice_id": due})
        return answer(invoices.lambda_handler, event)

    def everything(sub: str) -> Callable[[], None]:
        """An account with a second verified address, a card, a paid plan after an upgrade
        (the card's hold and the larger one, both open) and its invoices."""

        def setup() -> None:
            subscribed(sub, "developer", "essential")()
            address = f"{sub}-work@example.com"
            answer(emails.lambda_handler, http_event("emails/add_email", sub=sub, body={"address": address}))
            verify = http_event("emails/verify_email", sub=sub, body={"token": latest_token(address)})
            answer(emails.lambda_handler, verify)

        return setup

    def upgraded_undelivered(sub: str) -> Callable[[], None]:
        """Subscribed, then upgraded: the upgrade's events are not delivered yet."""

        def setup() -> None:
            subscribed(sub)()
            change = http_event(
                "subscriptions/change_plan",
                sub=sub,
                body={"plan": "essential"},
                headers={"idempotency-key": f"bench-{sub}-upgrade"},
            )
            answer(subscriptions.lambda_handler, change)

        return setup

    def a_fresh_delivery() -> dict[str, Any]:
        """The upgrade's prorated invoice paid: an event the webhook has not applied yet."""
        event = sim.events("invoice.paid")[-1]
        payload = json.dumps(event)
        request = http_event(
            "stripe_webhook/stripe_event",
            sub=None,
            raw_body=payload,
            headers={"stripe-signature": sign(payload, endpoint.secret)},
        )
        return answer(webhook.lambda_handler, request)

    def nothing() -> None:
        return None

    return [
        (
            "GET /v1/plans",
            nothing,
            lambda: answer(subscriptions.lambda_handler, http_event("subscriptions/list_plans", sub=None)),
        ),
        (
            "GET /v1/billing/subscription",
            subscribed("plan1"),
            lambda: answer(subscriptions.lambda_handler, http_event("subscriptions/get_subscription", sub="plan1")),
        ),
        (
            "PUT /v1/billing/subscription",
            subscribed("plan2"),
            lambda: answer(
                subscriptions.lambda_handler,
                http_event(
                    "subscriptions/change_plan",
                    sub="plan2",
                    body={"plan": "essential"},
                    headers={"idempotency-key": "bench-plan2-upgrade"},
                ),
            ),
        ),
        (
            "DELETE /v1/billing/subscription/scheduled-change",
            subscribed("plan3", "essential", "developer"),
            lambda: answer(
                subscriptions.lambda_handler, http_event("subscriptions/undo_scheduled_change", sub="plan3")
            ),
        ),
        ("GET /v1/billing/subscription/preview", subscribed("plan4"), lambda: preview("plan4")),
        (
            "GET /v1/billing/invoices",
            subscribed("plan5"),
            lambda: answer(invoices.lambda_handler, http_event("invoices/list_invoices", sub="plan5")),
        ),
        ("GET /v1/billing/invoices/{invoice_id}", subscribed("plan6"), on_invoice("invoices/get_invoice", "plan6")),
        (
            "GET /v1/billing/invoices/{invoice_id}/pdf",
            subscribed("plan7"),
            on_invoice("invoices/get_invoice_pdf", "plan7"),
        ),
        ("POST /v1/webhooks/stripe", upgraded_undelivered("plan8"), a_fresh_delivery),
        ("POST /v1/billing/invoices/{invoice_id}/pay", past_due("plan10"), lambda: pay_due("plan10")),
        (
            "GET /v1/billing/details",
            subscribed("plan12"),
            lambda: answer(subscriptions.lambda_handler, http_event("subscriptions/get_billing_details", sub="plan12")),
        ),
        (
            "PUT /v1/billing/details",
            subscribed("plan13"),
            lambda: answer(
                subscriptions.lambda_handler,
                http_event("subscriptions/replace_billing_details", sub="plan13", headers={"if-match": None}),
            ),
        ),
        (
            "DELETE /v1/account",
            everything("plan9"),
            lambda: answer(
                profile.lambda_handler,
                http_event("profile/delete_account", sub="plan9", body={"confirm_user_id": "plan9"}),
            ),
        ),
    ]


def spending_scenarios() -> list[tuple[str, Callable[[], Any], Callable[[], dict[str, Any]]]]:
    """The spending function's routes, on an account with a request already on file."""
    from functions.profile import app as profile  # noqa: PLC0415 (after the environment is set)
    from functions.spending import app as spending  # noqa: PLC0415

    def call_spending(sample: str, sub: str, **kwargs: Any) -> dict[str, Any]:
        event = http_event(f"spending/{sample}", sub=sub, **kwargs)
        return dict(zip(("status", "headers", "body"), call(spending.lambda_handler, event), strict=True))

    def account(sub: str) -> Callable[[], None]:
        def setup() -> None:
            call(profile.lambda_handler, http_event("profile/create_account", sub=sub, body={"user_id": sub}))
            call_spending("request_limit_increase", sub)

        return setup

    return [
        ("GET /v1/billing/spending", account("spend1"), lambda: call_spending("get_spending", "spend1")),
        ("GET /v1/billing/spending/alerts", account("spend4"), lambda: call_spending("get_spending_alerts", "spend4")),
        (
            "PUT /v1/billing/spending/alerts",
            account("spend5"),
            lambda: call_spending("replace_spending_alerts", "spend5"),
        ),
        (
            "POST /v1/billing/spending-limit-requests",
            account("spend2"),
            lambda: call_spending("request_limit_increase", "spend2"),
        ),
        (
            "GET /v1/billing/spending-limit-requests",
            account("spend3"),
            lambda: call_spending("list_limit_requests", "spend3"),
        ),
    ]


def export_scenarios() -> list[tuple[str, Callable[[], Any], Callable[[], dict[str, Any]]]]:
    """The exports function's routes: starting an export (one transaction), showing one (one read)."""
    from functions.exports import app as exports  # noqa: PLC0415 (after the environment is set)
    from functions.profile import app as profile  # noqa: PLC0415

    def call_exports(sample: str, sub: str, **kwargs: Any) -> dict[str, Any]:
        event = http_event(f"exports/{sample}", sub=sub, **kwargs)
        return dict(zip(("status", "headers", "body"), call(exports.lambda_handler, event), strict=True))

    started: dict[str, str] = {}

    def account(sub: str, export: bool = False) -> Callable[[], None]:
        def setup() -> None:
            call(profile.lambda_handler, http_event("profile/create_account", sub=sub, body={"user_id": sub}))
            if export:
                started[sub] = call_exports("start_export", sub)["body"]["id"]

        return setup

    return [
        ("POST /v1/account/exports", account("export1"), lambda: call_exports("start_export", "export1")),
        (
            "GET /v1/account/exports/{export_id}",
            account("export2", export=True),
            lambda: call_exports("get_export", "export2", path_parameters={"export_id": started["export2"]}),
        ),
    ]


def measure() -> list[tuple[str, int, int, Counter[str]]]:
    environment()
    rows = []
    with mock_aws():
        session = boto3.session.Session()
        template = load_template()
        names = create_tables(session.client("dynamodb"), template, "bench")
        os.environ["TABLE_NAME"] = names["AccountTable"]
        session.client("sesv2").create_email_identity(
            EmailIdentity=template["Parameters"]["EmailSenderDomain"]["Default"]
        )
        os.environ["EMAIL_FROM"] = template["Parameters"]["EmailFromAddress"]["Default"]
        s3 = session.client("s3")
        bucket = name_in("bench", "AvatarBucket")  # as the template names it (its policies name it so)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        os.environ.update(AVATAR_BUCKET=bucket, AVATAR_BASE_URL="https://avatars.example.test")
        exports = name_in("bench", "ExportBucket")
        s3.create_bucket(Bucket=exports, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        queue = session.client("sqs").create_queue(QueueName=name_in("bench", "ExportQueue").rsplit("/", 1)[-1])
        os.environ.update(EXPORT_BUCKET=exports, EXPORT_QUEUE_URL=queue["QueueUrl"])
        _billing_environment(session, names)
        sim = Simulator()
        _subscription_environment(session, sim)
        counter = RequestCounter()
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call.dynamodb.*", counter)  # type: ignore[union-attr]
        reset_containers()
        # Metrics (EMF lines on stdout) and Powertools' empty-metrics warning are not the point here.
        with simulated_process(sim), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            every = scenarios() + email_scenarios() + avatar_scenarios() + payment_method_scenarios()
            every += export_scenarios()
            for route, setup, request in every + spending_scenarios() + subscription_scenarios(sim):
                setup()
                counter.operations.clear()
                response = request()
                rows.append((route, response["status"], sum(counter.operations.values()), Counter(counter.operations)))
    return rows
