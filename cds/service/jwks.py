"""Public keys of the trusted issuers: inline, from a file, or fetched from an allowlisted jku.

Only public EC and RSA keys are accepted: a private key in the configuration is a leak waiting to
happen and a symmetric key would mean HMAC, which CDS Hooks forbids. Fetched key sets are cached per
URL and fetched again when they expire or, at most once a minute, when a token names an unknown kid
(the issuer rotated its keys). A failed fetch keeps the keys already known and is not retried for
a minute, so an unreachable jku cannot be hammered by every incoming call. Each fetch has one total
deadline (a per-read timeout alone let a trickling server hold a call for 24 s) and a size cap
counted while reading, so a huge key set is cut off instead of read whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from cds.service.download import ACCEPT_ENCODING, BodyTooLarge, BodyUndecodable, read_limited
from cds.service.settings import Settings, SettingsError, TrustedIssuer

PublicKey = ECKey | RSAKey
REFETCH_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class JkuLimits:
    cache_seconds: float
    timeout_seconds: float
    max_bytes: int


class KeyLookupError(Exception):
    """Why no key could be found; `reason` is a short code for metrics, the message is for the log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_key_set(document: Any, where: str) -> dict[str, PublicKey]:
    """Keys by kid; raises ValueError naming `where` and the key at fault."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"{where}: expected a JWKS, an object with a non-empty 'keys' list")
    found: dict[str, PublicKey] = {}
    for index, entry in enumerate(keys):
        at = f"{where} keys[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{at}: expected a JWK object")
        if entry.get("kty") not in ("EC", "RSA"):
            raise ValueError(
                f"{at}: kty must be EC or RSA (symmetric keys would mean HMAC, which is refused)"
            )
        if "d" in entry:
            raise ValueError(f"{at}: this is a private key; configure only the issuer's public keys")
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ValueError(f"{at}: kid is required, tokens name their key by it")
        try:
            key_set = KeySet.import_key_set({"keys": [entry]})
        except (JoseError, ValueError, TypeError) as error:
            raise ValueError(f"{at}: not a valid key ({type(error).__name__})") from None
        key = key_set.keys[0]
        assert isinstance(key, ECKey | RSAKey)
        found[kid] = key
    return found


def configured_keys(issuer: TrustedIssuer) -> dict[str, PublicKey]:
    """The inline and file keys of an issuer; raises SettingsError so a bad key stops start-up."""
    keys: dict[str, PublicKey] = {}
    try:
        if issuer.jwks is not None:
            keys.update(parse_key_set(issuer.jwks, f"trusted issuer {issuer.iss!r} jwks"))
        if issuer.jwks_file is not None:
            where = str(issuer.jwks_file)
            try:
                document = orjson.loads(issuer.jwks_file.read_bytes())
            except OSError as error:
                raise ValueError(f"{where}: cannot read the JWKS file: {error.strerror}") from None
            except orjson.JSONDecodeError as error:
                raise ValueError(
                    f"{where}: not valid JSON (line {error.lineno}, column {error.colno})"
                ) from None
            keys.update(parse_key_set(document, where))
    except ValueError as error:
        raise SettingsError(str(error)) from None
    return keys


class _Fetched:
    __slots__ = ("at", "keys", "lock")

    def __init__(self) -> None:
        self.keys: dict[str, PublicKey] = {}
        self.at = float("-inf")
        self.lock = asyncio.Lock()


class IssuerKeys:
    def __init__(self, issuer: TrustedIssuer, limits: JkuLimits) -> None:
        self.issuer = issuer
        self.limits = limits
        self.static = configured_keys(issuer)
        self._fetched: dict[str, _Fetched] = {url: _Fetched() for url in issuer.jku}

    async def key(self, kid: str, jku: str | None, http: httpx.AsyncClient) -> PublicKey:
        if kid in self.static:
            return self.static[kid]
        if jku is not None and jku not in self._fetched:
            raise KeyLookupError("jku-not-allowed", "the token's jku is not on this issuer's allowlist")
        for url in (jku,) if jku is not None else self.issuer.jku:
            key = await self._from_url(url, kid, http)
            if key is not None:
                return key
        raise KeyLookupError("unknown-kid", "no key of this issuer has the token's kid")

    async def _from_url(self, url: str, kid: str, http: httpx.AsyncClient) -> PublicKey | None:
        cached = self._fetched[url]
        async with cached.lock:
            age = time.monotonic() - cached.at
            if age > self.limits.cache_seconds or (kid not in cached.keys and age > REFETCH_AFTER_SECONDS):
                cached.at = time.monotonic()
                cached.keys = await _download(url, http, self.limits)
        return cached.keys.get(kid)


async def _download(url: str, http: httpx.AsyncClient, limits: JkuLimits) -> dict[str, PublicKey]:
    headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
    try:
        async with (
            asyncio.timeout(limits.timeout_seconds),
            http.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise KeyLookupError("jku-unavailable", f"the jku answered {response.status_code}")
            body = await read_limited(response, limits.max_bytes)
    except TimeoutError:
        raise KeyLookupError(
            "jku-unavailable", f"the jku did not answer within {limits.timeout_seconds:g} s"
        ) from None
    except BodyTooLarge:
        raise KeyLookupError("jku-unavailable", f"the jku key set is over {limits.max_bytes} bytes") from None
    except (BodyUndecodable, httpx.HTTPError) as error:
        raise KeyLookupError("jku-unavailable", f"cannot fetch the jku ({type(error).__name__})") from None
    try:
        return parse_key_set(orjson.loads(body), "jku")
    except (orjson.JSONDecodeError, ValueError) as error:
        raise KeyLookupError("jku-unavailable", f"the jku is not a usable JWKS: {error}") from None


def issuer_keys(settings: Settings) -> Mapping[str, IssuerKeys]:
    """Raises SettingsError when a configured key set is unusable, so start-up stops with the reason."""
    limits = JkuLimits(settings.jku_cache_seconds, settings.jku_timeout_seconds, settings.jku_max_bytes)
    return {issuer.iss: IssuerKeys(issuer, limits) for issuer in settings.trusted_issuers}
