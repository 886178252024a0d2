"""The local identity provider and the JWT authorizer of the HTTP API.

Tokens are RS256, signed by a key generated on first use into the git-ignored state folder, so
`make token` and a running `make dev` agree. The authorizer checks what API Gateway's JWT
authorizer checks (key id, signature, issuer, audience or client_id, expiry, not-before, scopes)
and hands the claims on as API Gateway does: every value as a string.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local.config import LOCAL_AUDIENCE, LOCAL_ISSUER, STATE_DIR

KEY_FILE = "jwt-signing-key.pem"
DEFAULT_TOKEN_TTL = 3600


def _generate_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_or_create_key(state_dir: Path = STATE_DIR) -> rsa.RSAPrivateKey:
    """The local signing key, created once. Concurrent first runs agree on one key: each writes
    its own file, then links it into place; whoever loses the race reads the winner's."""
    path = state_dir / KEY_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        scratch = state_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        scratch.write_bytes(_generate_pem())
        scratch.chmod(0o600)
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
        finally:
            scratch.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path} does not hold an RSA private key")
    return key


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The public key as a JWK, with its RFC 7638 thumbprint as `kid`."""
    numbers = key.public_key().public_numbers()
    jwk = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    kid = base64.urlsafe_b64encode(thumbprint).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass(frozen=True)
class TokenIssuer:
    """Issues tokens the local authorizer accepts, shaped like an identity provider's ID token."""

    key: rsa.RSAPrivateKey
    issuer: str = LOCAL_ISSUER
    audience: str = LOCAL_AUDIENCE

    @property
    def kid(self) -> str:
        return public_jwk(self.key)["kid"]

    def claims(self, sub: str, *, expires_in: int = DEFAULT_TOKEN_TTL, **overrides: Any) -> dict[str, Any]:
        """The claims of a token for `sub`; an override of None removes that claim."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + expires_in,
            "jti": secrets.token_hex(8),
            "email": f"{sub}@example.com",  # an address the service's own validator accepts
            "email_verified": True,
            "token_use": "id",
            "auth_time": now,  # a fresh sign-in (dangerous actions need a recent one)
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def issue(self, sub: str, *, expires_in: int = DEFAULT_TOKEN_TTL, **overrides: Any) -> str:
        claims = self.claims(sub, expires_in=expires_in, **overrides)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


class Unauthorized(Exception):
    """The request carries no valid token (API Gateway answers 401)."""

    def __init__(self, description: str | None = None) -> None:
        super().__init__(description or "missing token")
        self.description = description

    @property
    def www_authenticate(self) -> str:
        if self.description is None:
            return "Bearer"
        return f'Bearer error="invalid_token", error_description="{self.description}"'


class Forbidden(Exception):
    """The token lacks every scope the route requires (API Gateway answers 403)."""


@dataclass(frozen=True)
class JwtAuthorizer:
    """One JWT authorizer of the HTTP API: its issuer and accepted audiences, and the key set
    (here the local key) it checks signatures against."""

    issuer: str
    audiences: tuple[str, ...]
    jwks: Mapping[str, Any]  # kid → public key
    identity_header: str = "authorization"

    def token_of(self, headers: Mapping[str, str]) -> str:
        value = headers.get(self.identity_header, "").strip()
        token = value[7:].strip() if value[:7].lower() == "bearer " else value
        if not token:
            raise Unauthorized()
        return token

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if API Gateway would accept it; `Unauthorized` otherwise."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            if not isinstance(kid, str) or kid not in self.jwks:
                raise Unauthorized("no signing key matches the token's kid")
            claims: dict[str, Any] = jwt.decode(
                token,
                self.jwks[kid],
                algorithms=["RS256", "RS384", "RS512"],
                issuer=self.issuer,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("the token has an invalid issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized("the token signature is invalid") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token is not valid") from exc
        if not self._audience_matches(claims):
            raise Unauthorized("the token does not have a valid audience")
        return claims

    def _audience_matches(self, claims: Mapping[str, Any]) -> bool:
        # API Gateway accepts a token whose `aud`, or failing that `client_id`, is an audience.
        aud = claims.get("aud", claims.get("client_id"))
        given = aud if isinstance(aud, list) else [aud]
        return any(isinstance(value, str) and value in self.audiences for value in given)

    def authorize(self, headers: Mapping[str, str], required_scopes: Iterable[str] = ()) -> dict[str, Any]:
        """The `requestContext.authorizer` of the request's event; raises `Unauthorized`/`Forbidden`."""
        claims = self.verify(self.token_of(headers))
        scopes = token_scopes(claims)
        required = set(required_scopes)
        if required and not required.intersection(scopes or ()):
            raise Forbidden()
        return {"jwt": {"claims": {name: claim_string(value) for name, value in claims.items()}, "scopes": scopes}}


def token_scopes(claims: Mapping[str, Any]) -> list[str] | None:
    """The token's scopes (`scope`, space-separated, or `scp`), as API Gateway lists them."""
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split() or None
    if isinstance(raw, list):
        return [str(scope) for scope in raw] or None
    return None


def claim_string(value: Any) -> str:
    """A claim as the HTTP API's JWT authorizer passes it: always a string. Booleans become
    "true"/"false", numbers their decimal form, arrays "[a b]" and objects "map[k:v]"."""
    match value:
        case bool():
            text = "true" if value else "false"
        case str():
            text = value
        case None:
            text = ""
        case list():
            text = "[" + " ".join(claim_string(item) for item in value) + "]"
        case dict():
            text = "map[" + " ".join(f"{key}:{claim_string(item)}" for key, item in sorted(value.items())) + "]"
        case float() if value.is_integer():
            text = str(int(value))
        case _:
            text = str(value)
    return text
