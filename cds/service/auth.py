"""Who may call: CDS Hooks 2.0 JWTs from trusted issuers, checked in the order that leaks least.

The header and claims are read unverified only to pick the issuer and key; nothing else is believed
until the signature checks out. `alg` is pinned to ES384 or RS384 before any key is touched, so
`none` and HMAC (key-confusion attacks) never reach the crypto. The caller learns only "401"; the
reason goes to the log with iss, tenant and jti, never the token. A token may live at most
`jwt_max_lifetime_seconds` (CDS Hooks recommends 5 minutes): a longer `exp - iat`, an `exp` further
than that from now or an `iat` further in the past is refused, which also bounds how long its jti is
remembered.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from joserfc import jws
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwt import JWTClaimsRegistry

from cds.service import metrics
from cds.service.jwks import IssuerKeys, KeyLookupError
from cds.service.logging import get_logger
from cds.service.replay import ReplayGuard

ALGORITHMS = frozenset({"ES384", "RS384"})
MAX_TOKEN_BYTES = 16_384
MAX_JTI_LENGTH = 256
_LOGGED_TEXT = 200

log = get_logger("auth")


@dataclass(frozen=True)
class Caller:
    iss: str
    jti: str
    tenant: str | None


class Unauthorized(Exception):
    def __init__(self, reason: str, message: str, claims: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.claims = claims or {}


class Authenticator:
    def __init__(
        self,
        issuers: Mapping[str, IssuerKeys],
        replay: ReplayGuard,
        http: httpx.AsyncClient,
        clock_skew: int,
        max_lifetime: int,
    ) -> None:
        self.issuers = issuers
        self.replay = replay
        self.http = http
        self.clock_skew = clock_skew
        self.max_lifetime = max_lifetime

    async def authenticate(self, authorization: str | None, audiences: Sequence[str]) -> Caller:
        """Raises Unauthorized; logs and counts every refusal."""
        try:
            caller = await self._check(authorization, audiences)
        except Unauthorized as refusal:
            metrics.AUTH_FAILURES.labels(reason=refusal.reason).inc()
            log.warning(
                "call refused: %s", refusal, extra={"fields": _claims_to_log(refusal.reason, refusal.claims)}
            )
            raise
        return caller

    async def _check(self, authorization: str | None, audiences: Sequence[str]) -> Caller:
        if not self.issuers:
            raise Unauthorized("no-issuers", "no trusted issuer is configured, so every call is refused")
        token = _bearer_token(authorization)
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = compact.headers()
            claims = orjson.loads(compact.payload)
        except (JoseError, ValueError, UnicodeEncodeError):
            raise Unauthorized("malformed", "the bearer token is not a compact JWS") from None
        if not isinstance(claims, dict):
            raise Unauthorized("malformed", "the token's payload is not a JSON object")
        alg, kid, jku = header.get("alg"), header.get("kid"), header.get("jku")
        if alg not in ALGORITHMS:
            raise Unauthorized("algorithm", f"alg {_short(alg)} is not ES384 or RS384", claims)
        if header.get("typ", "JWT") != "JWT":
            raise Unauthorized("malformed", f"typ {_short(header.get('typ'))} is not JWT", claims)
        if not isinstance(kid, str) or (jku is not None and not isinstance(jku, str)):
            raise Unauthorized(
                "malformed", "the token header needs a kid (and jku, if any, must be text)", claims
            )
        iss = claims.get("iss")
        if not isinstance(iss, str) or iss not in self.issuers:
            raise Unauthorized("untrusted-issuer", "the token's iss is not a trusted issuer", claims)
        try:
            key = await self.issuers[iss].key(kid, jku, self.http)
        except KeyLookupError as error:
            raise Unauthorized(error.reason, str(error), claims) from None
        try:
            valid = jws.validate_compact(compact, key, algorithms=[alg])
        except JoseError:
            valid = False
        if not valid:
            raise Unauthorized("bad-signature", "the signature does not verify with the issuer's key", claims)
        self._validate_claims(claims, iss, audiences)
        self._check_lifetime(claims)
        if not await self.replay.first_use(iss, claims["jti"], float(claims["exp"])):
            raise Unauthorized("replay", "the token's jti was already used", claims)
        return Caller(iss=iss, jti=claims["jti"], tenant=_text_or_none(claims.get("tenant")))

    def _validate_claims(self, claims: dict[str, Any], iss: str, audiences: Sequence[str]) -> None:
        registry = JWTClaimsRegistry(
            leeway=self.clock_skew,
            iss={"essential": True, "value": iss},
            aud={"essential": True, "values": list(audiences)},
            exp={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise Unauthorized("expired", "the token has expired", claims) from None
        except MissingClaimError as error:
            raise Unauthorized("claims", f"claims missing: {error.description}", claims) from None
        except InvalidClaimError as error:
            reason = "audience" if "aud" in str(error) else "claims"
            raise Unauthorized(reason, f"invalid claim: {error.description}", claims) from None

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        exp, iat, jti = claims["exp"], claims["iat"], claims["jti"]
        if not (_finite_number(exp) and _finite_number(iat)):
            raise Unauthorized("lifetime", "exp and iat must be finite numbers", claims)
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise Unauthorized("claims", f"jti must be text of 1 to {MAX_JTI_LENGTH} characters", claims)
        now = time.time()
        if exp - iat > self.max_lifetime:
            raise Unauthorized("lifetime", f"exp is more than {self.max_lifetime} s after iat", claims)
        if exp > now + self.max_lifetime + self.clock_skew:
            raise Unauthorized("lifetime", f"exp is more than {self.max_lifetime} s from now", claims)
        if iat < now - self.max_lifetime - self.clock_skew:
            raise Unauthorized("lifetime", f"iat is more than {self.max_lifetime} s in the past", claims)


def _finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing-token", "no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing-token", "the Authorization header is not 'Bearer <JWT>'")
    if len(token) > MAX_TOKEN_BYTES:
        raise Unauthorized("malformed", f"the bearer token is longer than {MAX_TOKEN_BYTES} bytes")
    return token.strip()


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _short(value: Any) -> str:
    return repr(value)[:_LOGGED_TEXT]


def _claims_to_log(reason: str, claims: Mapping[str, Any]) -> dict[str, Any]:
    """iss, tenant and jti as claimed (unverified unless the signature already checked out)."""
    fields: dict[str, Any] = {"event": "auth_refused", "reason": reason}
    for name in ("iss", "tenant", "jti"):
        value = claims.get(name)
        if isinstance(value, str):
            fields[name] = value[:_LOGGED_TEXT]
    return fields
