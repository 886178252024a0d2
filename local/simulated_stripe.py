"""Stripe in simulator mode: the offline simulator served on the loopback interface (the
functions reach it through STRIPE_API_BASE, as a stripe-mock would be reached), the stage's
Prices (the template's plan parameters) seeded in it, and its events delivered, signed, to the
stack's `POST /v1/webhooks/stripe` with the signing secret that the webhook function reads from
SSM. (In test mode, Stripe itself delivers; point a Stripe CLI `stripe listen` at the route.)

The pages Stripe hosts behind its objects' links (an invoice's PDF and hosted page, a charge's
receipt: `stripe_simulator.hosted`) are served by the stack itself under `/_local/stripe/`, so the
links the API hands out lead somewhere, and still do after a restart on the same port (the
simulator's own server takes a new port each run)."""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from local.apigw import HttpRequest, HttpResponse
from local.config import HOST

WEBHOOK_PATH = "/v1/webhooks/stripe"
HOSTED_PREFIX = "/_local/stripe"  # where the stack serves the pages Stripe hosts
SECRET_PARAMETER = "StripeWebhookSecretParameter"  # noqa: S105 - a template parameter name
# (plan, Price id parameter, monthly price parameter)
PLAN_PARAMETERS = (
    ("Developer", "DeveloperPriceId", "DeveloperMonthlyPrice"),
    ("Essential", "EssentialPriceId", "EssentialMonthlyPrice"),
    ("Professional", "ProfessionalPriceId", "ProfessionalMonthlyPrice"),
)


class SimulatedStripe:
    """Started with the stack (before its functions: they are given `api_base`), stopped with it."""

    def __init__(self, base_url: str, parameters: Mapping[str, Any], ssm: Callable[[], Any], clock: Any = None) -> None:
        """`clock`: the local stack's clock (`local.clock.LocalClock`), which the simulator follows."""
        self.base_url = base_url
        self.parameters = parameters
        self.ssm = ssm
        simulator_package = importlib.import_module("stripe_simulator")
        self.simulator: Any = simulator_package.Simulator(clock)
        self.simulator.hooks_base = f"{base_url}/_local"  # 3-D Secure challenges: `local.three_d_secure`
        self.simulator.files_base = f"{base_url}{HOSTED_PREFIX}"  # statements, invoice pages, receipts
        self._page_at = importlib.import_module("stripe_simulator.hosted").page_at
        self._server: Any = simulator_package.SimulatorServer(self.simulator, host=HOST)
        self._delivering = False

    @property
    def api_base(self) -> str:
        return str(self._server.url)

    def start(self) -> None:
        self._server.start()
        seed_price = importlib.import_module("stripe_simulator.resources.prices").seed_price
        for name, price_parameter, amount_parameter in PLAN_PARAMETERS:
            if price_parameter in self.parameters:
                seed_price(
                    self.simulator,
                    str(self.parameters[price_parameter]),
                    int(self.parameters[amount_parameter]),
                    name,
                )
        if SECRET_PARAMETER not in self.parameters:
            return
        secret = "whsec_" + secrets.token_hex(24)
        self.ssm().put_parameter(
            Name=str(self.parameters[SECRET_PARAMETER]), Value=secret, Type="SecureString", Overwrite=True
        )
        endpoint_type = importlib.import_module("stripe_simulator").WebhookEndpoint
        self.simulator.add_webhook_endpoint(endpoint_type.http(self.base_url + WEBHOOK_PATH, secret))

    def hosted_page(self, request: HttpRequest) -> HttpResponse | None:
        """`GET /_local/stripe/...`: a page Stripe hosts (`stripe_simulator.hosted`)."""
        if request.method != "GET" or not request.raw_path.startswith(f"{HOSTED_PREFIX}/"):
            return None
        page = self._page_at(self.simulator, request.raw_path.removeprefix(HOSTED_PREFIX))
        if page is None:
            return None
        return HttpResponse(page.status, [("Content-Type", page.content_type)], page.body)

    def snapshot(self) -> dict[str, Any]:
        """The simulator's state, to restore in a later run (`stripe_simulator.snapshot`)."""
        state: dict[str, Any] = importlib.import_module("stripe_simulator.snapshot").dump(self.simulator)
        return state

    def restore(self, state: dict[str, Any]) -> None:
        """A saved state back (after `start`: its undelivered events go to this run's webhook)."""
        importlib.import_module("stripe_simulator.snapshot").load(self.simulator, state)

    def deliver(self) -> None:
        """Start delivering events to the webhook (once the stack serves it)."""
        if self.simulator.webhooks.endpoints:
            self.simulator.webhooks.start(interval=0.2)
            self._delivering = True

    def stop_delivering(self) -> None:
        """Keep events queued from now on (they are delivered later, or kept with the state)."""
        if self._delivering:
            self.simulator.webhooks.stop()
            self._delivering = False

    def stop(self) -> None:
        self.stop_delivering()
        self._server.stop()
