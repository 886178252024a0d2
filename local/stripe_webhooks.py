"""Stripe's side of the local stack in simulator mode: the stage's Prices (the template's plan
parameters) seeded in the simulator, and its events delivered, signed, to the stack's
`POST /v1/webhooks/stripe` with the signing secret that the webhook function reads from SSM.
(In test mode, Stripe itself delivers; point a Stripe CLI `stripe listen` at the route.)"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable, Mapping
from typing import Any

WEBHOOK_PATH = "/v1/webhooks/stripe"
SECRET_PARAMETER = "StripeWebhookSecretParameter"  # noqa: S105 - a template parameter name
# (plan, Price id parameter, monthly price parameter)
PLAN_PARAMETERS = (
    ("Developer", "DeveloperPriceId", "DeveloperMonthlyPrice"),
    ("Essential", "EssentialPriceId", "EssentialMonthlyPrice"),
    ("Professional", "ProfessionalPriceId", "ProfessionalMonthlyPrice"),
)


class SimulatorWebhooks:
    """Started with the stack, stopped with it."""

    def __init__(self, base_url: str, parameters: Mapping[str, Any], ssm: Callable[[], Any]) -> None:
        self.base_url = base_url
        self.parameters = parameters
        self.ssm = ssm
        self._endpoint: Any = None
        self._simulator: Any = None

    def start(self) -> None:
        simulator = importlib.import_module("stripe_simulator").default_simulator()
        seed_price = importlib.import_module("stripe_simulator.resources.prices").seed_price
        for name, price_parameter, amount_parameter in PLAN_PARAMETERS:
            if price_parameter in self.parameters:
                seed_price(
                    simulator, str(self.parameters[price_parameter]), int(self.parameters[amount_parameter]), name
                )
        if SECRET_PARAMETER not in self.parameters:
            return
        secret = "whsec_" + secrets.token_hex(24)
        self.ssm().put_parameter(
            Name=str(self.parameters[SECRET_PARAMETER]), Value=secret, Type="SecureString", Overwrite=True
        )
        endpoint_type = importlib.import_module("stripe_simulator").WebhookEndpoint
        self._endpoint = simulator.add_webhook_endpoint(endpoint_type.http(self.base_url + WEBHOOK_PATH, secret))
        self._simulator = simulator
        simulator.webhooks.start(interval=0.2)

    def stop(self) -> None:
        if self._simulator is None:
            return
        self._simulator.webhooks.stop()
        if self._endpoint in self._simulator.webhooks.endpoints:
            self._simulator.webhooks.endpoints.remove(self._endpoint)
        self._simulator = self._endpoint = None
