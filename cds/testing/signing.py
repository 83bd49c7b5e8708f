"""Signing calls with a test key, as the CDS Hooks Sandbox signs them: ES384, a fresh JWT per request.

A service under test trusts the signer's public key set (`jwks()`) for the signer's issuer; each
request then carries `Authorization: Bearer <JWT>` with `aud` the exact URL called, `exp` five minutes
after `iat`, and a new `jti`, so replay checks never trip on a test's repeated calls.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from joserfc import jwt
from joserfc.jwk import ECKey

DEFAULT_ISSUER = "https://qa.example.org/cds-testing"
LIFETIME_SECONDS = 300


class TestSigner:
    """An ES384 key of its own (or one given) and the issuer it signs as."""

    __test__ = False  # not a pytest test class, whatever module imports it

    def __init__(self, issuer: str = DEFAULT_ISSUER, key: ECKey | None = None) -> None:
        self.issuer = issuer
        self.key = key or ECKey.generate_key("P-384", parameters={"kid": str(uuid.uuid4())})

    def save(self, path: Path) -> None:
        """The private key and issuer in a file, for a suite run elsewhere (`TestSigner.load`)."""
        path.write_bytes(orjson.dumps({"issuer": self.issuer, "key": self.key.as_dict(private=True)}))

    @classmethod
    def load(cls, path: Path | str) -> TestSigner:
        saved = orjson.loads(Path(path).read_bytes())
        return cls(saved["issuer"], ECKey.import_key(saved["key"]))

    def jwks(self) -> dict[str, Any]:
        """The public key set a service is told to trust for `issuer`."""
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "alg": "ES384", "use": "sig"}]}

    def token(self, audience: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": audience,
            "iat": now,
            "exp": now + LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        header = {"alg": "ES384", "typ": "JWT", "kid": self.key.kid}
        return jwt.encode(header, claims, self.key, algorithms=["ES384"])

    def headers(self, audience: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(audience)}"}
