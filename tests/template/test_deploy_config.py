"""samconfig.toml: a plain `sam deploy --config-env <env>` has every parameter template.yaml needs,
valid, and each stage's own values (prod once read the dev stage's Stripe key and webhook secret).

samconfig.toml is read as the SAM CLI reads it: `[<env>.global.parameters]`, then
`[<env>.deploy.parameters]` over them; `parameter_overrides` is a list of `Key=Value`. Values are
checked against the parameter's own constraints in template.yaml (AllowedPattern, as a whole-value
match and for each item of a list, AllowedValues, lengths, number bounds), as CloudFormation
checks them when the change set is created.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.template import ROOT, load_template

SAMCONFIG = ROOT / "samconfig.toml"
README = ROOT / "README.md"
ENVIRONMENTS = {"default": "dev", "prod": "prod"}  # samconfig environment → the stage it deploys
# Values that belong to one stage: its identity provider's app client, its Stripe account's
# secret key, webhook secret and Prices, its web app and sending domain.
STAGE_SPECIFIC = (
    "Stage",
    "JwtAudience",
    "StripeSecretKeyParameter",
    "StripeWebhookSecretParameter",
    "DeveloperPriceId",
    "EssentialPriceId",
    "ProfessionalPriceId",
    "CorsAllowedOrigin",
    "WebAppUrl",
    "EmailSenderDomain",
    "EmailFromAddress",
)
SSM_SECURE_STRINGS = ("StripeSecretKeyParameter", "StripeWebhookSecretParameter")
# What a value left for someone to fill in looks like: reserved example and local names, and
# the words people put in such a value.
PLACEHOLDERS = (
    re.compile(r"(^|[/@.])(localhost|127\.0\.0\.1|0\.0\.0\.0)([:/]|$)"),
    re.compile(r"(^|[/@.])example\.(com|org|net)([:/]|$)"),
    re.compile(r"\.(test|invalid|example|localhost|local)([:/]|$)"),
    re.compile(r"placeholder|change[-_]?me|replace|your[-_]|todo|xxx|dummy|<|>", re.IGNORECASE),
)


@cache
def _samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG.read_text())


def deploy_settings(environment: str) -> dict[str, Any]:
    """What `sam deploy --config-env <environment>` reads: global parameters, then deploy's."""
    sections = _samconfig()[environment]
    return {**sections.get("global", {}).get("parameters", {}), **sections["deploy"]["parameters"]}


def overrides(environment: str) -> dict[str, str]:
    """The parameter overrides of an environment, by parameter name."""
    given = deploy_settings(environment).get("parameter_overrides", [])
    items = shlex.split(given) if isinstance(given, str) else list(given)
    pairs = {}
    for item in items:
        name, equals, value = str(item).partition("=")
        assert equals, f"{environment}: {item!r} is not Name=Value"
        assert re.fullmatch(r"[A-Za-z0-9]+", name), f"{environment}: {name!r} is not a parameter name"
        assert name not in pairs, f"{environment}: {name} is given twice"
        pairs[name] = value
    return pairs


def effective(environment: str) -> dict[str, str | None]:
    """Every template parameter's value in a deploy of the environment: given, else its Default."""
    given = overrides(environment)
    parameters = load_template()["Parameters"]
    return {
        name: given.get(name, None if "Default" not in spec else str(spec["Default"]))
        for name, spec in parameters.items()
    }


def violations(spec: dict[str, Any], value: str) -> list[str]:
    """How a value breaks a parameter's constraints, as CloudFormation checks them."""
    problems = []
    kind = spec.get("Type", "String")
    items = value.split(",") if kind == "CommaDelimitedList" else [value]
    if pattern := spec.get("AllowedPattern"):
        problems += [f"{item!r} does not match {pattern}" for item in items if not re.fullmatch(pattern, item)]
    if kind == "Number":
        try:
            number = float(value)
        except ValueError:
            return [f"{value!r} is not a number"]
        if "MinValue" in spec and number < float(spec["MinValue"]):
            problems.append(f"{value} is below {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            problems.append(f"{value} is above {spec['MaxValue']}")
        if "AllowedValues" in spec and number not in {float(v) for v in spec["AllowedValues"]}:
            problems.append(f"{value} is not one of {spec['AllowedValues']}")
    elif "AllowedValues" in spec and value not in {str(v) for v in spec["AllowedValues"]}:
        problems.append(f"{value!r} is not one of {spec['AllowedValues']}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        problems.append(f"{value!r} is shorter than {spec['MinLength']}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        problems.append(f"{value!r} is longer than {spec['MaxLength']}")
    return problems


def placeholder_in(value: str) -> str | None:
    for pattern in PLACEHOLDERS:
        if found := pattern.search(value):
            return found.group(0)
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


environments = pytest.mark.parametrize("environment", list(ENVIRONMENTS))


# ---------------------------------------------------------------------------- every deploy
@environments
def test_the_environment_supplies_every_parameter_that_has_no_default(environment: str) -> None:
    missing = [name for name, value in effective(environment).items() if value is None]
    assert missing == [], f"sam deploy --config-env {environment} would stop: no value for {missing}"


@environments
def test_every_override_names_a_template_parameter(environment: str) -> None:
    assert set(overrides(environment)) - set(load_template()["Parameters"]) == set()


@environments
def test_every_value_passes_its_parameter_constraints(environment: str) -> None:
    parameters = load_template()["Parameters"]
    problems = {
        name: found
        for name, value in effective(environment).items()
        if value is not None and (found := violations(parameters[name], value))
    }
    assert problems == {}


@environments
def test_the_environment_deploys_its_own_stage_under_its_own_stack(environment: str) -> None:
    settings = deploy_settings(environment)
    stage = ENVIRONMENTS[environment]
    assert overrides(environment)["Stage"] == stage
    assert settings["stack_name"] == f"account-billing-{stage}"
    assert settings["s3_prefix"] == settings["stack_name"]
    assert settings["region"]
    assert "CAPABILITY_IAM" in settings["capabilities"].split()  # the functions' roles


@environments
def test_stage_specific_values_are_given_explicitly(environment: str) -> None:
    assert set(STAGE_SPECIFIC) - set(overrides(environment)) == set()


@environments
def test_the_stripe_secrets_are_read_from_the_stage_own_ssm_paths(environment: str) -> None:
    values = overrides(environment)
    stage = ENVIRONMENTS[environment]
    for name in SSM_SECURE_STRINGS:
        assert f"/{stage}/" in values[name], (name, values[name])


@environments
def test_mail_goes_from_the_verified_domain_and_the_browser_origin_is_the_web_app(environment: str) -> None:
    values = effective(environment)
    assert str(values["EmailFromAddress"]).rsplit("@", 1)[1] == values["EmailSenderDomain"]
    assert _origin(str(values["WebAppUrl"])) == values["CorsAllowedOrigin"]


def test_stage_specific_values_differ_between_stages() -> None:
    dev, prod = (overrides(environment) for environment in ENVIRONMENTS)
    shared = [name for name in STAGE_SPECIFIC if dev[name] == prod[name]]
    assert shared == [], f"prod would use dev's {shared}"


def test_prod_has_no_placeholder_nor_a_template_default_for_a_stage_value() -> None:
    values = effective("prod")
    defaults = {name: str(spec.get("Default")) for name, spec in load_template()["Parameters"].items()}
    placeholders = {name: found for name, value in values.items() if (found := placeholder_in(str(value)))}
    assert placeholders == {}
    assert [name for name in STAGE_SPECIFIC if values[name] == defaults[name]] == []


def test_the_readme_checklist_creates_each_stage_secret_as_a_securestring() -> None:
    commands = [line for line in README.read_text().splitlines() if "aws ssm put-parameter" in line]
    for environment in ENVIRONMENTS:
        for name in SSM_SECURE_STRINGS:
            path = overrides(environment)[name]
            assert any(path in line.split() and "SecureString" in line for line in commands), (environment, path)
    assert "sam deploy --config-env prod" in README.read_text()


# ---------------------------------------------------------------------------- the checks can fail
@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("DeveloperPriceId", "price_developer_monthly"),  # Stripe's ids are letters and digits
        ("DeveloperPriceId", "prod_1C5ISTK8bJkLdoXuuhkBmbFQ"),
        ("StripeSecretKeyParameter", "account-billing/prod/stripe-secret-key"),
        ("StripeWebhookSecretParameter", "/account-billing/prod/stripe webhook secret"),
        ("JwtIssuer", "http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_nDlBXTGFZ"),
        ("JwtAudience", "client-a,"),
        ("CorsAllowedOrigin", "https://app.acctbilling.io/settings"),
        ("WebAppUrl", "https://app.acctbilling.io/"),
        ("EmailSenderDomain", "https://acctbilling.io"),
        ("LogRetentionDays", "100"),
        ("HoldReleaseDelayMinutes", "10080"),  # a week: past the card networks' authorization window
        ("Stage", "Prod"),
    ],
)
def test_a_bad_value_breaks_its_parameter_constraints(parameter: str, value: str) -> None:
    assert violations(load_template()["Parameters"][parameter], value) != []


@pytest.mark.parametrize(
    "value",
    [
        "https://localhost:3000",  # the template's default origin and web app URL
        "example.com",  # the template's default sending domain
        "no-reply@example.com",
        "https://issuer.example.test/",
        "price_REPLACEME",
        "/account-billing/CHANGE_ME/stripe-secret-key",
        "<your app client id>",
    ],
)
def test_the_placeholder_check_catches_what_is_left_to_fill_in(value: str) -> None:
    assert placeholder_in(value) is not None
