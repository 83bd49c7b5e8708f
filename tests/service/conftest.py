"""Service test fixtures: an app per test on a fresh data directory, signed tokens, a real FHIR server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from joserfc.jwk import ECKey, RSAKey
from service_fhir_server import FhirTestServer
from service_helpers import BASE, FIXTURES, MakeClient, TestClient

from cds.rulebook import Rulebook
from cds.service import Settings, create_app
from cds.service.reload import ActiveRules, RulesHolder


@pytest.fixture(scope="session")
def urgent_prefetch() -> dict[str, Any]:
    """A prefetch whose record gives one critical card; medicationStatements holds an OperationOutcome."""
    loaded: dict[str, Any] = orjson.loads((FIXTURES / "prefetch-urgent.json").read_bytes())
    return loaded


@pytest.fixture(scope="session")
def shared_holder(rulebook: Rulebook) -> RulesHolder:
    """The shipped rules, loaded once; tests that reload build their own holder."""
    return RulesHolder(rulebook.directory, ActiveRules.build(rulebook))


@contextmanager
def _clients(data_dir: Path, holder: RulesHolder, fhir_server: FhirTestServer) -> Iterator[MakeClient]:
    """Starts apps (lifespan included) with the test settings, keyword arguments overriding them.

    The loopback FHIR server is explicitly allowed: as fhirServer, and as a non-public address.
    """
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        options: dict[str, Any] = {
            "auth": "off",
            "data_dir": data_dir,
            "public_base_url": BASE,
            "fhir_read_timeout": 1.0,
            "fhir_total_timeout": 2.0,
            "fhir_max_pages": 5,
            "fhir_max_response_bytes": 100_000,
            "fhir_servers": [fhir_server.root],
            "outbound_private_networks": ["127.0.0.1/32"],
        }
        options.update(overrides)
        client = TestClient(create_app(Settings(**options), holder=holder), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.__exit__(None, None, None)


@pytest.fixture
def make_client(
    tmp_path: Path, shared_holder: RulesHolder, fhir_server: FhirTestServer
) -> Iterator[MakeClient]:
    """Apps on this test's own data directory, `tmp_path / "var"`."""
    with _clients(tmp_path / "var", shared_holder, fhir_server) as make:
        yield make


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_holder: RulesHolder, fhir_server: FhirTestServer
) -> Iterator[TestClient]:
    """One app per test module, for tests that do not read its data directory."""
    with _clients(tmp_path_factory.mktemp("var"), shared_holder, fhir_server) as make:
        yield make()


@pytest.fixture(scope="session")
def es384_key() -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": "es-1"}, private=True)


@pytest.fixture(scope="session")
def rs384_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rs-1"}, private=True)


@pytest.fixture(scope="session")
def fhir_server(urgent_prefetch: dict[str, Any]) -> Iterator[FhirTestServer]:
    server = FhirTestServer(urgent_prefetch)
    server.start()
    yield server
    server.stop()
