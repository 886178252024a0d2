"""The template's JWT authorizers, configured for the local identity provider.

The template's own authorizer configuration (issuer, audiences, identity source) is resolved
with the local parameter values, so the checks are the template's and only the values are
local. `make token` uses this module without starting a stack."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from local.auth import JwtAuthorizer, TokenIssuer, load_or_create_key, public_jwk
from local.config import ACCOUNT_ID, LOCAL_PARAMETERS, REGION, STATE_DIR, parameter_overrides
from local.intrinsics import Resolver, parameter_values
from local.template import resources


def stack_parameters(
    template: Mapping[str, Any], given: Mapping[str, Any] | None = None, defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The template's parameter values locally: the local ones (`defaults` among them), then
    LOCAL_PARAM_*, then `given`."""
    declared = template.get("Parameters", {})
    local = {name: value for name, value in {**LOCAL_PARAMETERS, **(defaults or {})}.items() if name in declared}
    return parameter_values(template, {**local, **parameter_overrides(), **(given or {})})


def pseudo_parameters(stack: str, region: str = REGION, account: str = ACCOUNT_ID) -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::StackName": stack,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack}/local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


def _identity_header(source: Any) -> str:
    text = source[0] if isinstance(source, list) else str(source or "$request.header.Authorization")
    return text.removeprefix("$request.header.").lower()


def http_api_authorizers(
    template: Mapping[str, Any], resolver: Resolver, key: rsa.RSAPrivateKey
) -> dict[str, JwtAuthorizer]:
    """Every JWT authorizer the template's HTTP APIs define, checking tokens of the local key."""
    jwk = public_jwk(key)
    authorizers = {}
    apis = [res.get("Properties") or {} for res in resources(dict(template), "AWS::Serverless::HttpApi").values()]
    apis.append(template.get("Globals", {}).get("HttpApi", {}))
    for props in apis:
        for name, spec in ((props.get("Auth") or {}).get("Authorizers") or {}).items():
            config = resolver(spec.get("JwtConfiguration") or {})
            if not config:
                continue  # a Lambda authorizer: not emulated
            audience = config.get("audience") or []
            authorizers[name] = JwtAuthorizer(
                issuer=str(config["issuer"]),
                audiences=tuple(audience if isinstance(audience, list) else [audience]),
                jwks={jwk["kid"]: key.public_key()},
                identity_header=_identity_header(spec.get("IdentitySource")),
            )
    return authorizers


def token_issuer(
    template: Mapping[str, Any],
    *,
    state_dir: Path = STATE_DIR,
    parameters: Mapping[str, Any] | None = None,
    stack: str = "local",
) -> TokenIssuer:
    """An issuer of tokens the template's (first) authorizer accepts on the local stack."""
    key = load_or_create_key(state_dir)
    resolver = Resolver(template, parameters=stack_parameters(template, parameters), pseudo=pseudo_parameters(stack))
    return issuer_for(http_api_authorizers(template, resolver, key), key)


def issuer_for(authorizers: Mapping[str, JwtAuthorizer], key: rsa.RSAPrivateKey) -> TokenIssuer:
    """Issues tokens for the first authorizer's issuer and audience (the local ones by default)."""
    first = next(iter(authorizers.values()), None)
    if first is None:
        return TokenIssuer(key)
    return TokenIssuer(key, issuer=first.issuer, audience=first.audiences[0])
