"""Typed settings read from the environment (and an optional `.env` file).

Every setting is documented in the README's configuration table. `load_settings`
turns a validation failure into a one-line `ConfigError` naming the variable, so
a bad deployment stops at start-up with a message a person can act on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    FilePath,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/clientzone.db"
INSECURE_DEV_SECRET = "insecure-development-secret-change-me-0000000000"  # noqa: S105 (refused in production)
PAYMENT_PROVIDER_NAMES = ("sandbox", "mercadopago", "stripe", "none")


class BankAccount(BaseModel):
    """One of the company's bank accounts, for customers paying by transfer:
    a CLABE for MXN, a CBU (and its alias) for ARS, an IBAN (and BIC) for EUR."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    bank: str = Field(min_length=1, max_length=100)
    holder: str = Field(min_length=1, max_length=200)
    clabe: str | None = None
    cbu: str | None = None
    alias: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.\-]{6,20}$")
    iban: str | None = None
    bic: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")

    @model_validator(mode="after")
    def _numbers(self) -> BankAccount:
        from clientzone.core import validators

        required = {"MXN": "clabe", "ARS": "cbu", "EUR": "iban"}.get(self.currency)
        for name in ("clabe", "cbu", "iban"):
            raw = getattr(self, name)
            if raw is None:
                if name == required:
                    raise ValueError(f"a {self.currency} account needs its {name.upper()}")
                continue
            checked = getattr(validators, name)(raw)
            if checked is None:
                raise ValueError(f"{raw!r} is not a valid {name.upper()}")
            setattr(self, name, checked)
        return self


class ConfigError(Exception):
    """Configuration that cannot work; the message names the variable."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Introspection(StrEnum):
    """Who may ask the schema about itself (`__schema`, `__type`)."""

    ALL = "all"
    SIGNED_IN = "signed-in"
    OFF = "off"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class MailSender(StrEnum):
    IN_PROCESS = "in-process"
    OFF = "off"


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


def normalize_database_url(url: str) -> str:
    """Add the async driver to plain `postgresql://` and `sqlite://` URLs."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    database_pool_timeout_seconds: float = Field(default=3.0, gt=0, le=120)
    database_statement_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    database_idle_in_transaction_seconds: float = Field(default=30.0, gt=0, le=3600)
    # false behind PgBouncer in transaction mode (docs/deployment.md#poolers).
    database_session_settings: bool = True
    # Requests served at once per process (unset: the pool's connections, its
    # overflow included), how many more may wait, and for how long.
    max_concurrent_requests: int | None = Field(default=None, ge=1, le=10_000)
    max_queued_requests: int = Field(default=100, ge=0, le=100_000)
    queue_wait_seconds: float = Field(default=2.0, ge=0, le=60)
    # GET /metrics: with a token, its bearer only; without, loopback callers only.
    metrics_token: str | None = Field(default=None, min_length=16)
    # On SIGTERM: how long in-flight requests and the mail batch in hand get.
    shutdown_grace_seconds: float = Field(default=20.0, gt=0, le=600)
    secret_key: str = Field(default=INSECURE_DEV_SECRET, min_length=32)
    # Seals services' control-panel credentials (Fernet). Unset: derived from
    # SECRET_KEY, so changing SECRET_KEY would make them unreadable; set it
    # once to keep them across a SECRET_KEY rotation (docs/deployment.md).
    service_credentials_key: str | None = Field(default=None, min_length=32)
    public_base_url: str = "http://127.0.0.1:8000"

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The explorer on GET /graphql: unset means on in development, off in
    # production (where GRAPHIQL=true opens it to signed-in sessions only).
    graphiql: bool | None = None
    # Run only documents registered with `clientzone documents register`.
    trusted_documents: bool = False
    # Unset: everyone in development, signed-in people only in production
    # (anonymous callers then get no field suggestions either).
    introspection: Introspection | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_query_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=4000, ge=100)
    # What one operation may cost (docs/graphql-conventions.md#cost), and what one
    # client (a session, else an IP address) may spend per minute.
    max_query_cost: int = Field(default=5_000, ge=10)
    cost_budget_per_minute: int = Field(default=50_000, ge=10)
    max_response_bytes: int = Field(default=5_000_000, ge=10_000)
    request_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (comma-separated addresses or networks, or "*"): uvicorn's FORWARDED_ALLOW_IPS.
    forwarded_allow_ips: str = "127.0.0.1"
    # Strict-Transport-Security max-age in production (0: not sent).
    hsts_seconds: int = Field(default=31_536_000, ge=0)
    # How often a live WebSocket re-checks its session even when nothing was announced.
    ws_session_check_seconds: float = Field(default=60.0, gt=0)

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: SmtpSecurity = SmtpSecurity.STARTTLS
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from_name: str = "Área de clientes"
    mail_from_address: str = "no-reply@example.com"
    mail_reply_to: str | None = None
    mail_sender: MailSender = MailSender.IN_PROCESS
    mail_poll_seconds: float = Field(default=2.0, gt=0)
    mail_batch_size: int = Field(default=50, ge=1, le=1000)
    mail_max_attempts: int = Field(default=8, ge=1)
    # Scheduled mail (mailers/scheduler.py): how often workers look for due facts.
    scheduler_interval_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # An invoice is announced when imported, unless issued more than this many days ago.
    invoice_issued_cutoff_days: int = Field(default=30, ge=0, le=3650)
    # "Due soon" reminder this many days before the due date (0: none).
    invoice_due_soon_days: int = Field(default=3, ge=0, le=60)
    # Overdue reminders this many days after the due date.
    invoice_overdue_reminder_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [1, 7, 14, 30]
    )
    # Renewal reminder this many days before a service's next due date (0: none).
    service_renewal_reminder_days: int = Field(default=14, ge=0, le=365)
    # A reminder missed (workers stopped) is still sent this many days late, no later.
    reminder_catch_up_days: int = Field(default=7, ge=1, le=365)
    # How long the one-click unsubscribe link in an email keeps working.
    unsubscribe_link_days: int = Field(default=90, ge=1, le=3650)
    # DKIM signing (mailers/dkim_signing.py): on when both are set.
    dkim_key_file: str | None = None
    dkim_selector: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    dkim_domain: str | None = None

    redis_url: str | None = None
    redis_prefix: str = "clientzone:"

    portal_url: str | None = None
    session_cookie_name: str = Field(default="cz_session", pattern=r"^[A-Za-z0-9_\-]+$")
    session_cookie_secure: bool | None = None
    session_idle_minutes: int = Field(default=120, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    session_remember_days: int = Field(default=30, ge=1)
    token_days: int = Field(default=90, ge=1)
    # Staff sessions and tokens end after this many hours, whatever was asked.
    staff_session_hours: int = Field(default=8, ge=1, le=24)
    session_touch_seconds: int = Field(default=60, ge=0)
    # API clients (docs/partners.md): access-token lifetime, key rotation
    # grace and each client's request budget.
    api_token_seconds: int = Field(default=900, ge=60, le=86_400)
    api_key_grace_hours: int = Field(default=24, ge=0, le=720)
    api_client_requests_per_minute: int = Field(default=600, ge=1)
    # Outbound webhooks (docs/partners.md): how long one delivery may take,
    # how many attempts before DEAD, how often the worker looks for due ones,
    # and whether private addresses may be called (tests and development only).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1, le=20)
    webhook_poll_seconds: float = Field(default=5.0, gt=0)
    webhook_allow_private_addresses: bool = False
    # A PEM file of CA certificates trusted for HTTPS endpoints besides the
    # public ones (a partner's private CA, a test CA); the name is still checked.
    webhook_ca_file: FilePath | None = None
    # How long a server process may reuse a session it looked up (0: never);
    # revocations reach every process at once through the event bus.
    session_cache_seconds: float = Field(default=10.0, ge=0, le=300)
    auth_response_floor_ms: int = Field(default=400, ge=0)
    signup_enabled: bool = True
    verification_link_hours: int = Field(default=24, ge=1)
    # Who approves a change of login email: the person, through a link to the
    # new address (self), or staff first (staff; docs/staff.md).
    email_change: str = Field(default="self", pattern=r"^(self|staff)$")
    # Validity of the code and link that confirm adding an account with the
    # same email to a login (requestAccountUnification).
    unification_code_minutes: int = Field(default=30, ge=5, le=24 * 60)

    # Upper limit of the balance for online payment, per currency, in currency
    # units: "MXN:50000,ARS:2000000,EUR:3000" (set by administration).
    payment_online_limits: Annotated[dict[str, Decimal], NoDecode] = Field(default_factory=dict)

    # Which provider takes online payments in each currency:
    # "MXN:mercadopago,ARS:mercadopago,EUR:stripe". A currency not listed uses
    # PAYMENT_PROVIDER. The sandbox serves only outside production, and a
    # provider without its keys is not offered (Account.paymentOptions says why).
    payment_providers: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    payment_provider: str = Field(default="sandbox", pattern=r"^(sandbox|mercadopago|stripe|none)$")
    mercadopago_access_token: str | None = Field(default=None, min_length=8)
    # The "secret signature" of the application's webhooks (x-signature).
    mercadopago_webhook_secret: str | None = Field(default=None, min_length=8)
    stripe_secret_key: str | None = Field(default=None, min_length=8)
    # The endpoint's signing secret (whsec_...), for Stripe-Signature.
    stripe_webhook_secret: str | None = Field(default=None, min_length=8)
    # Every call to a provider gives up after this long.
    payment_provider_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # A signed webhook older (or newer) than this is refused: a replay.
    payment_webhook_tolerance_seconds: int = Field(default=300, ge=10, le=3600)
    # A PENDING online payment the provider never completes expires after this
    # (`clientzone worker`); money reported later is still applied. 0: never.
    payment_expiry_minutes: int = Field(default=24 * 60, ge=0, le=30 * 24 * 60)
    payment_webhook_secret: str | None = Field(default=None, min_length=16)
    # How long a checkout not yet answered by the provider keeps its invoices
    # and amount reserved (no second checkout for them meanwhile).
    payment_reservation_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    max_receipt_bytes: int = Field(default=900_000, ge=1024)
    # The company's accounts for transfers, as JSON: [{"currency": "MXN",
    # "bank": "...", "holder": "...", "clabe": "..."}, ...] (see BankAccount).
    bank_accounts: list[BankAccount] = Field(default_factory=list)

    # Case attachments: per file, per case (all files together), which types
    # (recognised by content), and where the bytes live (the database when unset).
    case_attachment_max_bytes: int = Field(default=10_000_000, ge=1024)
    case_attachments_max_total_bytes: int = Field(default=25_000_000, ge=1024)
    case_attachment_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "application/pdf",
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "text/plain",
        ]
    )
    case_attachments_dir: Path | None = None
    # Multipart (upload) requests may be this large; other bodies MAX_BODY_BYTES.
    max_upload_body_bytes: int = Field(default=26_214_400, ge=1024)

    company_name: str = "clientzone"
    support_email: str = "soporte@example.com"
    support_phone: str | None = None
    logo_url: str | None = None
    # The default brand's code and colours (#RRGGBB): accounts without a brand
    # (docs/brands.md). Stored brands are read again after this many seconds.
    brand_code: str = Field(default="default", min_length=1, max_length=40)
    brand_primary_color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
    brand_accent_color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
    brand_cache_seconds: float = Field(default=60.0, ge=0)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        url = normalize_database_url(value.strip())
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return url

    @field_validator("introspection", mode="before")
    @classmethod
    def _introspection(cls, value: object) -> object:
        # The switch was once a boolean: true/false still mean all/off.
        if isinstance(value, bool):
            return Introspection.ALL if value else Introspection.OFF
        if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "on"}:
            return Introspection.ALL
        if isinstance(value, str) and value.strip().lower() in {"false", "0", "no"}:
            return Introspection.OFF
        return value or None

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        for part in parts:
            if part == "*" or part.startswith("unix:"):
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an address or network") from None
        return ",".join(parts)

    @field_validator("case_attachment_types", mode="before")
    @classmethod
    def _split_types(cls, value: object) -> object:
        if isinstance(value, str):
            return [kind.strip().lower() for kind in value.split(",") if kind.strip()]
        return value

    @field_validator("invoice_overdue_reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return sorted({int(day) for day in value.split(",") if day.strip()})
        return value

    @field_validator("invoice_overdue_reminder_days")
    @classmethod
    def _positive_days(cls, value: list[int]) -> list[int]:
        if any(day < 1 or day > 3650 for day in value):
            raise ValueError("days after the due date must be between 1 and 3650")
        return sorted(set(value))

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("public_base_url", "portal_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("payment_online_limits", mode="before")
    @classmethod
    def _limits(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        limits: dict[str, Decimal] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            currency, _, amount = part.partition(":")
            try:
                limit = Decimal(amount.strip())
            except InvalidOperation:
                raise ValueError(f"{part!r} is not CURRENCY:AMOUNT") from None
            if len(currency.strip()) != 3 or not limit.is_finite() or limit <= 0:
                raise ValueError(f"{part!r} is not CURRENCY:AMOUNT")
            limits[currency.strip().upper()] = limit
        return limits

    @field_validator("payment_providers", mode="before")
    @classmethod
    def _providers(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        providers: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            currency, _, name = (x.strip() for x in part.partition(":"))
            if len(currency) != 3 or name.lower() not in PAYMENT_PROVIDER_NAMES:
                raise ValueError(
                    f"{part!r} is not CURRENCY:PROVIDER ({', '.join(PAYMENT_PROVIDER_NAMES)})"
                )
            providers[currency.upper()] = name.lower()
        return providers

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        # The development key is public: anyone could sign download links and
        # payment webhooks with it. Only a development service on this machine
        # may use it.
        if self.secret_key == INSECURE_DEV_SECRET and not (
            self.environment is Environment.DEVELOPMENT and is_loopback_url(self.public_base_url)
        ):
            raise ValueError(
                "SECRET_KEY must be set (the built-in key is only for development on "
                "127.0.0.1 or localhost)"
            )
        if self.webhook_allow_private_addresses and self.environment is Environment.PRODUCTION:
            raise ValueError(
                "WEBHOOK_ALLOW_PRIVATE_ADDRESSES is refused in production (webhooks would "
                "reach the internal network)"
            )
        return self

    def credentials_key(self) -> bytes:
        """The Fernet key sealing service credentials (urlsafe base64 of 32 bytes)."""
        secret = self.service_credentials_key or self.secret_key
        return base64.urlsafe_b64encode(_derive_key(secret, "service-credentials"))

    def key(self, purpose: str) -> bytes:
        """A key for one purpose derived from SECRET_KEY, so that a signature made
        for one use (a download link) is worth nothing for another (a webhook)."""
        return _derive_key(self.secret_key, purpose)

    @property
    def concurrent_requests(self) -> int:
        return self.max_concurrent_requests or 2 * self.database_pool_size

    @property
    def explorer_enabled(self) -> bool:
        if self.graphiql is not None:
            return self.graphiql
        return self.environment is Environment.DEVELOPMENT

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def introspection_policy(self) -> Introspection:
        if self.introspection is not None:
            return self.introspection
        if self.environment is Environment.PRODUCTION:
            return Introspection.SIGNED_IN
        return Introspection.ALL

    @property
    def requires_smtp(self) -> bool:
        """In production a sender without SMTP_HOST would mark mail sent and drop it."""
        return self.environment is Environment.PRODUCTION and self.smtp_host is None

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies unless set otherwise; plain HTTP is allowed in development."""
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment is Environment.PRODUCTION

    @property
    def portal_base_url(self) -> str:
        """Where the links in emails point: the portal front end, else this service."""
        return (self.portal_url or self.public_base_url).rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@cache
def _derive_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"clientzone:{purpose}".encode(), hashlib.sha256).digest()


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise a one-line ConfigError when invalid."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        location = [str(part) for part in first["loc"]]
        message = first["msg"].removeprefix("Value error, ")
        if location:
            variable = location[0].upper()
        elif "SECRET_KEY" in message:
            variable = "SECRET_KEY"
        else:
            variable = "configuration"
        raise ConfigError(f"invalid {variable}: {message}") from None
