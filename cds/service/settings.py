"""Service configuration: defaults, then a YAML config file, then `CDS_*` environment variables, then flags.

Paths in a config file are relative to the file, so a deployment directory can be moved as a whole.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from cds.errors import CdsError
from cds.fielderrors import message_of
from cds.rulebook import DEFAULT_RULES_DIR
from cds.service.urls import NormalUrl, UrlRefused, normalise

ENV_PREFIX = "CDS_"
CONFIG_ENV = "CDS_CONFIG"
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
_FILE_PATH_KEYS = ("rules_dir", "shadow_rules", "data_dir", "tls_certfile", "tls_keyfile")
_LIST_SETTINGS = ("cors_origins", "fhir_servers", "fhir_open_servers", "outbound_private_networks")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(CdsError, ValueError):
    """A configuration the service cannot start with; the message names the file or setting."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    return is_loopback(urlsplit(url).hostname or "")


def _http_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{what} must be an absolute http(s) URL without query or fragment, got {value!r}")
    return value


class TrustedIssuer(BaseModel):
    """A client allowed to call: its `iss` and where its public keys come from (never an arbitrary `jku`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(min_length=1)
    jwks: dict[str, Any] | None = None
    jwks_file: Path | None = None
    jku: tuple[str, ...] = ()
    """Key-set URLs this issuer may name in its token header; fetched over https (http only on loopback)."""
    fhir_servers: tuple[str, ...] = ()
    """FHIR server base URLs this issuer's calls may name as `fhirServer`; none by default."""

    @field_validator("fhir_servers")
    @classmethod
    def _fhir_servers(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        return _base_urls(urls, "fhir_servers")

    @field_validator("jku")
    @classmethod
    def _jku_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            _http_url(url, "jku")
            if urlsplit(url).scheme != "https" and not is_loopback_url(url):
                raise ValueError(f"jku must use https (http only on loopback), got {url!r}")
        return urls

    @model_validator(mode="after")
    def _has_keys(self) -> TrustedIssuer:
        if self.jwks is None and self.jwks_file is None and not self.jku:
            raise ValueError(f"issuer {self.iss!r} needs its public keys: jwks, jwks_file or jku")
        return self


def _base_urls(urls: tuple[str, ...], what: str) -> tuple[str, ...]:
    for url in urls:
        _http_url(url, what)
        try:
            normalise(url)
        except UrlRefused as error:
            raise ValueError(f"{what}: {url!r} {error}") from None
    return tuple(url.rstrip("/") for url in urls)


def _comma_separated(value: Any) -> Any:
    """Lets `CDS_CORS_ORIGINS=https://a,https://b` work as well as a JSON list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return yaml.safe_load(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, populate_by_name=True
    )

    config_file: Path | None = Field(
        default=None, validation_alias="CDS_CONFIG", description="YAML file with any of these settings."
    )
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port to listen on.")
    workers: PositiveInt = Field(default=1, description="Worker processes; each evaluates on its own core.")
    rules_dir: Path = Field(
        default=DEFAULT_RULES_DIR, description="Rules directory (default: the shipped rules/)."
    )
    shadow_rules: Path | None = Field(
        default=None,
        description="Candidate rules evaluated in shadow after each answer; their cards are never sent.",
    )
    shadow_sample: float = Field(
        default=1.0, gt=0.0, le=1.0, description="Share of hook calls evaluated again in shadow (0 to 1]."
    )
    shadow_queue: PositiveInt = Field(
        default=16,
        description="Most calls waiting for shadow evaluation (each holds its resources); more are skipped.",
    )
    shadow_timeout_seconds: PositiveFloat = Field(
        default=10.0, description="Seconds one shadow evaluation may take before its process is replaced."
    )
    data_dir: Path = Field(default=Path("var"), description="Feedback store, jti cache, pid file, metrics.")
    public_base_url: str | None = Field(
        default=None,
        description="URL clients call (e.g. via a proxy); JWT aud = it + the path. Default: host and port.",
    )
    auth: Literal["jwt", "off"] = Field(
        default="jwt", description="jwt: calls need a JWT from a trusted issuer; off: loopback only."
    )
    trusted_issuers: tuple[TrustedIssuer, ...] = Field(
        default=(), description="JSON list of {iss, jwks | jwks_file | jku: [urls]}."
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("*",), description="Origins browsers may call from, comma-separated or a JSON list."
    )
    jwt_clock_skew_seconds: int = Field(default=60, ge=0, le=600, description="Leeway for exp and iat.")
    jku_cache_seconds: PositiveInt = Field(
        default=3600, description="How long a fetched jku key set is kept."
    )
    fhir_connect_timeout: PositiveFloat = Field(
        default=2.0, description="Seconds to connect to a fhirServer."
    )
    fhir_read_timeout: PositiveFloat = Field(
        default=5.0, description="Seconds to wait for each fhirServer read."
    )
    fhir_total_timeout: PositiveFloat = Field(
        default=8.0, description="Seconds for all fhirServer queries of one call, together."
    )
    fhir_max_pages: PositiveInt = Field(
        default=20, description="Pages of one search read before giving up (502)."
    )
    fhir_max_response_bytes: PositiveInt = Field(
        default=20_000_000, description="Largest fhirServer answer accepted (502 beyond)."
    )
    fhir_allow_http: bool = Field(
        default=False,
        description="Send access tokens to plain-http fhirServers (always allowed on loopback).",
    )
    max_request_bytes: PositiveInt = Field(
        default=5_000_000, description="Largest request body (413 beyond)."
    )
    # Security limits (issue 10): outbound allowlists, token lifetime, connection limits.
    fhir_servers: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="FHIR server base URLs every caller may name as fhirServer (issuers add their own).",
    )
    fhir_open_servers: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Open FHIR servers queried WITHOUT fhirAuthorization (sandboxes, test systems); none.",
    )
    outbound_private_networks: Annotated[tuple[IPNetwork, ...], NoDecode] = Field(
        default=(),
        description="Non-public networks (loopback, private, link-local) outbound requests may reach.",
    )
    jwt_max_lifetime_seconds: int = Field(
        default=300, ge=1, le=3600, description="Largest exp - iat of a JWT (also bounds exp and iat vs now)."
    )
    jku_timeout_seconds: PositiveFloat = Field(
        default=5.0, description="Seconds for one whole jku key-set fetch."
    )
    jku_max_bytes: PositiveInt = Field(default=256_000, description="Largest jku key set read.")
    max_header_bytes: int = Field(
        default=20_000, ge=1024, description="Largest single request header line (431 beyond)."
    )
    max_headers_bytes: int = Field(
        default=65_536, ge=1024, description="Largest request line and headers together (431 beyond)."
    )
    header_timeout_seconds: PositiveFloat = Field(
        default=10.0, description="Seconds a client has to send the request line and headers."
    )
    body_timeout_seconds: PositiveFloat = Field(
        default=30.0, description="Seconds a client has to send the whole body once headers are in."
    )
    on_missing_data: Literal["412", "warning-card"] = Field(
        default="412",
        description="When required data cannot be had: 412 (the spec), or 200 with one warning card.",
    )
    reader: Literal["fast", "validating"] = Field(
        default="fast",
        description=(
            "How call bodies are read: fast (only what the rules can read becomes Python objects) or "
            "validating (all of it first); both give the same answers."
        ),
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")
    database_url: str | None = Field(
        default=None,
        description="postgresql://user@host/db, shared by instances. Default: SQLite in data_dir.",
    )
    retention_days: PositiveInt = Field(
        default=365,
        description="Days issued cards, feedback, audit and shadow records are kept, then purged.",
    )
    purge_interval_seconds: PositiveFloat = Field(
        default=3600.0, description="Seconds between purges of records past retention (and expired JWT ids)."
    )
    shutdown_drain_seconds: PositiveInt = Field(
        default=10, description="On SIGTERM, seconds to let calls in progress finish before closing them."
    )
    tls_certfile: Path | None = Field(
        default=None, description="PEM certificate (chain) to serve HTTPS directly; needs tls_keyfile."
    )
    tls_keyfile: Path | None = Field(default=None, description="PEM private key of tls_certfile.")
    proxy_headers: bool = Field(
        default=True,
        description="Believe X-Forwarded-Proto/For from forwarded_allow_ips (client address and scheme).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1", description="Comma-separated proxy addresses whose X-Forwarded-* are believed."
    )

    @field_validator(*_LIST_SETTINGS, mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return _comma_separated(value)

    @field_validator("fhir_servers", "fhir_open_servers")
    @classmethod
    def _fhir_base_urls(cls, urls: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return _base_urls(urls, str(info.field_name))

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value, "public_base_url").rstrip("/")

    @model_validator(mode="after")
    def _safe_to_expose(self) -> Settings:
        if self.auth == "off" and not is_loopback(self.host):
            raise ValueError(
                f"auth is off, so the service only listens on loopback (127.0.0.1, ::1, localhost); "
                f"host {self.host!r} is not. Configure trusted_issuers and keep auth on to expose it"
            )
        if self.auth == "jwt" and self.public_base_url is None and self.host in _WILDCARD_HOSTS:
            raise ValueError(
                f"host {self.host!r} listens on every address, so the URL clients call cannot be guessed; "
                "set public_base_url (CDS_PUBLIC_BASE_URL), which JWT aud claims must match"
            )
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile go together: set both to serve HTTPS, or neither")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(init_settings, InitSettingsSource)
        given = init_settings.init_kwargs
        path = given.get(CONFIG_ENV) or given.get("config_file") or os.environ.get(CONFIG_ENV)
        if not path:
            return (init_settings, env_settings)
        return (init_settings, env_settings, InitSettingsSource(settings_cls, read_config_file(Path(path))))

    @property
    def base_urls(self) -> tuple[str, ...]:
        """Every base URL clients may call this service by; a JWT's aud must be one of them plus the path."""
        if self.public_base_url is not None:
            return (self.public_base_url,)
        if is_loopback(self.host):
            return tuple(f"http://{name}:{self.port}" for name in ("127.0.0.1", "localhost", "[::1]"))
        return (f"http://{self.host}:{self.port}",)

    @property
    def public_url(self) -> str:
        return self.base_urls[0]

    def fhir_servers_for(self, iss: str | None) -> tuple[NormalUrl, ...]:
        """The base URLs a caller (by issuer; None with auth off) may name as fhirServer."""
        own = next((issuer.fhir_servers for issuer in self.trusted_issuers if issuer.iss == iss), ())
        return tuple(normalise(url) for url in (*self.fhir_servers, *own))

    @property
    def embedded_database(self) -> Path:
        """The SQLite file used when no database_url is set."""
        return self.data_dir / "cds.sqlite3"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.embedded_database.resolve()}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "cds.pid"

    @property
    def metrics_dir(self) -> Path:
        return self.data_dir / "metrics"


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"{path}: cannot read the config file: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SettingsError(f"{path}:{where} not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of setting names to values at the top of the file")
    return _relative_to(path.resolve().parent, data)


def _relative_to(directory: Path, data: dict[str, Any]) -> dict[str, Any]:
    resolved = dict(data)
    for key in _FILE_PATH_KEYS:
        if isinstance(resolved.get(key), str):
            resolved[key] = str(directory / resolved[key])
    issuers = resolved.get("trusted_issuers")
    if isinstance(issuers, list):
        resolved["trusted_issuers"] = [
            {**issuer, "jwks_file": str(directory / issuer["jwks_file"])}
            if isinstance(issuer, dict) and isinstance(issuer.get("jwks_file"), str)
            else issuer
            for issuer in issuers
        ]
    return resolved


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) of every setting, for `cds serve --help` and the docs."""
    rows = []
    for name, field in Settings.model_fields.items():
        variable = CONFIG_ENV if name == "config_file" else f"{ENV_PREFIX}{name.upper()}"
        rows.append((variable, _shown(field.default), field.description or ""))
    return rows


def _shown(default: Any) -> str:
    if default in (None, ()):
        return "-"
    if isinstance(default, tuple):
        return ",".join(default)
    if isinstance(default, Path) and default.is_absolute():
        return f"{default.name}/"
    return str(default)


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source; flags given as overrides win. Raises SettingsError naming the setting."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        lines = [f"- {_setting_name(e['loc'])}: {message_of(e)}" for e in error.errors()]
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from None


def _setting_name(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "settings"
    head = str(loc[0])
    variable = CONFIG_ENV if head in ("config_file", CONFIG_ENV) else f"{ENV_PREFIX}{head.upper()}"
    rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
    return f"{head}{rest} ({variable})"


def ensure_writable_data_dir(directory: Path) -> None:
    """Creates the data directory if needed; raises SettingsError with one line if it cannot be written.

    Checked before anything else opens a file there, so a read-only or impossible path is one clear
    line (exit status 1) instead of a traceback from whichever store opens first.
    """
    probe = directory / ".cds-write-check"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise SettingsError(
            f"data_dir {directory}: cannot create or write there ({error.strerror}); "
            "give a writable directory with --data-dir or CDS_DATA_DIR"
        ) from None
