"""Constants and local settings of the embedded stack: where it keeps its state, which identity
it plays, which template parameters it overrides, and how it reaches Stripe."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Git-ignored folder of the local stack's state: the JWT signing key, the running stack's address,
# the data kept across restarts. LOCAL_STATE_DIR=/some/dir puts it elsewhere (for every `make`
# target alike: a token is signed with the key of the stack it is for).
STATE_DIR = Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".local")
RUNNING_FILE = "running.json"  # in STATE_DIR while `make dev` runs: where `make run-schedule` finds it

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"  # moto's default account
HOST = "127.0.0.1"

# The identity provider the local stack plays. The template's JwtIssuer and JwtAudience
# parameters take these values, so the authorizer of template.yaml checks them.
LOCAL_ISSUER = "https://127.0.0.1/local-issuer"
LOCAL_AUDIENCE = "account-billing-local"

# Template parameters the local stack sets; the others take their Default. `--param Name=Value`
# or LOCAL_PARAM_<Name>=Value in the environment override both.
LOCAL_PARAMETERS: dict[str, Any] = {
    "Stage": "local",
    "JwtIssuer": LOCAL_ISSUER,
    "JwtAudience": [LOCAL_AUDIENCE],
}
PARAMETER_ENV_PREFIX = "LOCAL_PARAM_"

# API Gateway's and Lambda's payload limits.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024


def parameter_overrides(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Template parameters given as LOCAL_PARAM_<Name>=Value in the environment."""
    return {
        name.removeprefix(PARAMETER_ENV_PREFIX): value
        for name, value in environ.items()
        if name.startswith(PARAMETER_ENV_PREFIX)
    }


# The template parameter naming the SSM parameter of the Stripe secret key: in Stripe test mode the
# local stack puts the configured sk_test_ key there (in moto), where the functions read it.
STRIPE_KEY_PARAMETER = "StripeSecretKeyParameter"


# The key the functions use with the offline simulator (it takes any test key).
SIMULATOR_KEY = "sk_test_simulator"


@dataclass(frozen=True)
class StripeSettings:
    """How the local stack reaches Stripe. Either way the key goes into the SSM parameter the
    template names, and the functions run with STRIPE_MODE=test (a live key is refused).

    `test`: a `sk_test_` key (STRIPE_SECRET_KEY in the environment, or `.local/stripe-key`) uses
    Stripe's real test mode. `simulator`: no key; the offline Stripe simulator (`stripe_simulator`)
    is served on the loopback interface, and the functions reach it through STRIPE_API_BASE,
    as a stripe-mock would be reached.
    """

    mode: str
    secret_key: str

    @property
    def description(self) -> str:
        if self.mode == "test":
            return "Stripe test mode (sk_test_ key configured)"
        return "offline Stripe simulator (set STRIPE_SECRET_KEY=sk_test_... for Stripe's test mode)"


class LiveStripeKeyError(ValueError):
    """A live Stripe key was configured for the local stack."""


def stripe_settings(state_dir: Path = STATE_DIR, environ: Mapping[str, str] = os.environ) -> StripeSettings:
    key_file = state_dir / "stripe-key"
    key = environ.get("STRIPE_SECRET_KEY") or (key_file.read_text().strip() if key_file.is_file() else "")
    if not key:
        return StripeSettings("simulator", SIMULATOR_KEY)
    if not key.startswith(("sk_test_", "rk_test_")):
        raise LiveStripeKeyError("the local stack only takes a Stripe test key (sk_test_...), never a live one")
    return StripeSettings("test", key)
