"""Settings: defaults, a config file, CDS_* variables and flags, and the configurations refused outright."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from joserfc.jwk import ECKey

from cds.cli.main import cli
from cds.rulebook import DEFAULT_RULES_DIR
from cds.service.jwks import configured_keys
from cds.service.settings import Settings, SettingsError, TrustedIssuer, load_settings


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CDS_CONFIG", "CDS_PORT", "CDS_HOST", "CDS_AUTH", "CDS_CORS_ORIGINS", "CDS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_the_defaults_serve_loopback_8080_with_auth_on() -> None:
    settings = load_settings()
    assert (settings.host, settings.port, settings.workers, settings.auth) == ("127.0.0.1", 8080, 1, "jwt")
    assert (settings.rules_dir, settings.data_dir, settings.cors_origins) == (
        DEFAULT_RULES_DIR,
        Path("var"),
        ("*",),
    )
    assert (settings.fhir_connect_timeout, settings.fhir_read_timeout, settings.fhir_total_timeout) == (
        2,
        5,
        8,
    )


def test_a_loopback_service_accepts_its_localhost_names_as_audience() -> None:
    assert load_settings(port=9000).base_urls == (
        "http://127.0.0.1:9000",
        "http://localhost:9000",
        "http://[::1]:9000",
    )


def test_a_public_base_url_is_the_only_audience_base() -> None:
    assert load_settings(public_base_url="https://cds.example.org/spasm/").base_urls == (
        "https://cds.example.org/spasm",
    )


def test_environment_variables_override_the_config_file_and_flags_override_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cds.yaml"
    config.write_text("port: 7000\nworkers: 3\nlog_level: debug\n", encoding="utf-8")
    monkeypatch.setenv("CDS_PORT", "7100")
    monkeypatch.setenv("CDS_WORKERS", "4")
    settings = load_settings(config_file=config, workers=5)
    assert (settings.port, settings.workers, settings.log_level) == (7100, 5, "debug")


def test_paths_in_a_config_file_are_relative_to_the_file(tmp_path: Path) -> None:
    config = tmp_path / "deploy" / "cds.yaml"
    config.parent.mkdir()
    issuer = "trusted_issuers:\n  - iss: https://ehr.example.org\n    jwks_file: keys.json\n"
    config.write_text("data_dir: state\nrules_dir: rules\n" + issuer, encoding="utf-8")
    settings = load_settings(config_file=config)
    assert settings.data_dir == config.parent / "state"
    assert settings.rules_dir == config.parent / "rules"
    assert settings.trusted_issuers[0].jwks_file == config.parent / "keys.json"


def test_cors_origins_may_be_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDS_CORS_ORIGINS", "https://ehr.example.org, https://sandbox.cds-hooks.org")
    assert load_settings().cors_origins == ("https://ehr.example.org", "https://sandbox.cds-hooks.org")


def test_turning_auth_off_on_a_public_address_is_refused() -> None:
    with pytest.raises(SettingsError, match="only listens on loopback"):
        load_settings(auth="off", host="0.0.0.0")


def test_listening_everywhere_with_auth_needs_the_public_base_url() -> None:
    with pytest.raises(SettingsError, match="public_base_url"):
        load_settings(host="0.0.0.0")


def test_an_unknown_setting_in_the_config_file_is_refused_by_name(tmp_path: Path) -> None:
    config = tmp_path / "cds.yaml"
    config.write_text("prot: 8080\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(config_file=config)


def test_a_config_file_that_is_not_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "cds.yaml"
    config.write_text("port: 8080\nhost: [\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"cds.yaml: line 3"):
        load_settings(config_file=config)


def test_an_issuer_without_keys_is_refused() -> None:
    with pytest.raises(SettingsError, match="needs its public keys"):
        load_settings(trusted_issuers=[{"iss": "https://ehr.example.org"}])


def test_a_plain_http_jku_off_loopback_is_refused() -> None:
    with pytest.raises(SettingsError, match="https"):
        load_settings(trusted_issuers=[{"iss": "x", "jku": ["http://keys.example.org/jwks.json"]}])


def test_a_private_key_in_an_issuer_key_set_is_refused() -> None:
    private = ECKey.generate_key("P-384", parameters={"kid": "k"}, private=True).as_dict(private=True)
    with pytest.raises(SettingsError, match="private key"):
        configured_keys(TrustedIssuer(iss="x", jwks={"keys": [private]}))


def test_a_symmetric_key_in_an_issuer_key_set_is_refused() -> None:
    with pytest.raises(SettingsError, match="HMAC"):
        configured_keys(TrustedIssuer(iss="x", jwks={"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}))


def test_an_unreadable_jwks_file_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "keys.json"
    with pytest.raises(SettingsError, match=r"keys\.json: cannot read"):
        configured_keys(TrustedIssuer(iss="x", jwks_file=missing))


def test_serve_help_lists_every_setting_with_its_variable() -> None:
    output = CliRunner().invoke(cli, ["serve", "--help"]).output
    assert all(f"CDS_{name.upper()}" in output for name in Settings.model_fields if name != "config_file")
