"""Configuration: every `SPACEGATE_*` variable, read and validated in this one place.

`Settings.from_env()` reads a mapping (``os.environ`` by default, a plain dict in tests) and
raises `ConfigError` naming the variable for any value it cannot use, so a bad setting stops
the process at start-up instead of failing one request later.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from service.confluence.urlpolicy import is_host_pattern
from service.resources import default_cassettes_dir

__all__ = ["DEV_JWT_SECRET", "MAX_MOCK_LATENCY_MS", "PREFIX", "ConfigError", "Settings"]

PREFIX = "SPACEGATE_"

# Published on purpose: mock mode must work with no set-up at all. Live mode never falls
# back to it.
DEV_JWT_SECRET = "spacegate-development-secret-not-for-production"  # noqa: S105

# An unset SPACEGATE_MAX_PAGES follows SPACEGATE_MAX_SPACES at Data Center's page of 25, the
# smallest page a site serves: the spaces cap is the guard, the page cap only scales with it.
SMALLEST_PAGE = 25

# The bounds of the HTTP server's own settings (granian's http1 buffer and header read timeout).
MIN_HEADER_BYTES = 8192
MAX_CLIENT_TIMEOUT_SECONDS = 60.0
# Mock mode's latency per Confluence answer, from the setting or `Prefer: delay=`: a minute is
# slower than any read timeout worth testing; beyond it, a typo.
MAX_MOCK_LATENCY_MS = 60_000

Mode = Literal["live", "mock"]
T = TypeVar("T")  # a variable's default
V = TypeVar("V")  # what its text converts to


class ConfigError(ValueError):
    """A setting is missing or unusable; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True)
class Settings:
    mode: Mode = "mock"
    # auth
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwks_url: str | None = None
    jwt_algorithms: tuple[str, ...] = ()
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: float = 30.0
    tenant_claim: str = "tenant_id"
    # Confluence URL policy
    allowed_hosts: tuple[str, ...] = ("*.atlassian.net",)
    allow_private_addresses: bool = False
    allow_http: bool = False
    # Confluence client behaviour
    deadline_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 20.0
    max_spaces: int = 500_000
    max_pages: int = max_spaces // SMALLEST_PAGE
    max_page_bytes: int = 16 * 1024 * 1024
    page_concurrency: int = 4
    retry_attempts: int = 4
    retry_max_wait_seconds: float = 5.0
    retry_budget_seconds: float = 10.0
    # serving
    cassettes: Path = field(default_factory=default_cassettes_dir)
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    worker_threads: int = 40
    validate_responses: bool = False
    # what one client may take of the server (service/server.py applies them)
    max_header_bytes: int = 16 * 1024
    max_connections: int = 512
    client_timeout_seconds: float = 10.0
    # mock mode: Confluence's latency per answer, and the folder of the state its workers share
    mock_latency_ms: int = 0
    mock_state_dir: Path | None = None

    @property
    def jwt_key_source(self) -> str:
        if self.jwks_url:
            return "jwks"
        if self.jwt_public_key:
            return "public_key"
        return "secret"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, mode: str | None = None
    ) -> Settings:
        """Build settings from `environ`; `mode` (the `--mode` flag) wins over the variable."""
        env = _Reader(os.environ if environ is None else environ)
        chosen = mode or env.text("MODE", "mock")
        if chosen not in ("live", "mock"):
            raise ConfigError(PREFIX + "MODE", f"must be 'live' or 'mock', not {chosen!r}")
        base = cls()
        values: dict[str, Any] = {
            "mode": chosen,
            "jwt_secret": env.text("JWT_SECRET", None),
            "jwt_public_key": env.text("JWT_PUBLIC_KEY", None),
            "jwks_url": env.text("JWKS_URL", None),
            "jwt_algorithms": env.words("JWT_ALGORITHMS", ()),
            "jwt_issuer": env.text("JWT_ISSUER", None),
            "jwt_audience": env.text("JWT_AUDIENCE", None),
            "jwt_leeway_seconds": env.number("JWT_LEEWAY_SECONDS", base.jwt_leeway_seconds, 0),
            "tenant_claim": env.text("TENANT_CLAIM", base.tenant_claim),
            "allowed_hosts": env.words("ALLOWED_HOSTS", base.allowed_hosts),
            "allow_private_addresses": env.flag("ALLOW_PRIVATE_ADDRESSES", False),
            "allow_http": env.flag("ALLOW_HTTP", False),
            **_clocks(
                deadline=env.number("DEADLINE_SECONDS", None, 0.1),
                connect=env.number("CONNECT_TIMEOUT_SECONDS", None, 0.1),
                read=env.number("READ_TIMEOUT_SECONDS", None, 0.1),
                budget=env.number("RETRY_BUDGET_SECONDS", None, 0),
                max_wait=env.number("RETRY_MAX_WAIT_SECONDS", None, 0),
            ),
            **_listing_caps(
                spaces=env.integer("MAX_SPACES", base.max_spaces, 1),
                pages=env.integer("MAX_PAGES", None, 1),
            ),
            "max_page_bytes": env.integer("MAX_PAGE_BYTES", base.max_page_bytes, 1024),
            "page_concurrency": env.integer("PAGE_CONCURRENCY", base.page_concurrency, 1),
            "retry_attempts": env.integer("RETRY_ATTEMPTS", base.retry_attempts, 1),
            "cassettes": env.path("CASSETTES", base.cassettes),
            "cors_origins": env.words("CORS_ORIGINS", ()),
            "log_level": env.choice(
                "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
            ),
            "worker_threads": env.integer("WORKER_THREADS", base.worker_threads, 1),
            "validate_responses": env.flag("VALIDATE_RESPONSES", False),
            "max_header_bytes": env.integer(
                "MAX_HEADER_BYTES", base.max_header_bytes, MIN_HEADER_BYTES
            ),
            "max_connections": env.integer("MAX_CONNECTIONS", base.max_connections, 1),
            "client_timeout_seconds": env.number(
                "CLIENT_TIMEOUT_SECONDS", base.client_timeout_seconds, 0.1
            ),
            "mock_latency_ms": env.integer("MOCK_LATENCY_MS", base.mock_latency_ms, 0),
            "mock_state_dir": env.path("MOCK_STATE_DIR", None),
        }
        return cls(**values).validated()

    def validated(self) -> Settings:
        """Check combinations of values; fill in what depends on the mode."""
        keys = [k for k in (self.jwt_secret, self.jwt_public_key, self.jwks_url) if k]
        if len(keys) > 1:
            raise ConfigError(
                PREFIX + "JWT_SECRET",
                "set only one of SPACEGATE_JWT_SECRET, SPACEGATE_JWT_PUBLIC_KEY, "
                "SPACEGATE_JWKS_URL",
            )
        settings = self
        if not keys:
            if self.mode == "live":
                raise ConfigError(
                    PREFIX + "JWT_SECRET",
                    "live mode needs a key to verify tokens: set SPACEGATE_JWT_SECRET (HS256), "
                    "SPACEGATE_JWT_PUBLIC_KEY (RS256/ES256 PEM) or SPACEGATE_JWKS_URL",
                )
            settings = replace(settings, jwt_secret=DEV_JWT_SECRET)
        if settings.jwt_secret is not None and len(settings.jwt_secret.encode()) < 32:
            # RFC 7518 3.2: an HS256 key must be at least as long as the hash (32 bytes)
            raise ConfigError(PREFIX + "JWT_SECRET", "must be at least 32 bytes long")
        if settings.jwt_public_key is not None and "BEGIN" not in settings.jwt_public_key:
            raise ConfigError(PREFIX + "JWT_PUBLIC_KEY", "must be a PEM-encoded public key")
        jwks_url = settings.jwks_url or "https://"
        if not jwks_url.startswith("https://") and not (
            jwks_url.startswith("http://") and settings.allow_http
        ):
            raise ConfigError(
                PREFIX + "JWKS_URL",
                "must be an https:// URL (http:// only with SPACEGATE_ALLOW_HTTP=true)",
            )
        algorithms = settings.jwt_algorithms or _default_algorithms(settings.jwt_key_source)
        allowed = _ALGORITHMS[settings.jwt_key_source]
        wrong = [a for a in algorithms if a not in allowed]
        if wrong:
            raise ConfigError(
                PREFIX + "JWT_ALGORITHMS",
                f"{', '.join(wrong)} cannot be used with this key; choose from "
                f"{', '.join(sorted(allowed))}",
            )
        settings = replace(settings, jwt_algorithms=tuple(algorithms))
        if not settings.tenant_claim:
            raise ConfigError(PREFIX + "TENANT_CLAIM", "must not be empty")
        if not settings.allowed_hosts:
            raise ConfigError(PREFIX + "ALLOWED_HOSTS", "must list at least one host pattern")
        for pattern in settings.allowed_hosts:
            _check_host_pattern(pattern)
        for smaller, larger in _CLOCK_ORDER:
            value, limit = getattr(settings, smaller), getattr(settings, larger)
            if value > limit:
                raise ConfigError(
                    _variable(smaller), f"{value:g} must not exceed {_variable(larger)} ({limit:g})"
                )
        if settings.mode == "mock" and not settings.cassettes.is_dir():
            raise ConfigError(PREFIX + "CASSETTES", f"{settings.cassettes} is not a folder")
        for origin in settings.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ConfigError(
                    PREFIX + "CORS_ORIGINS", f"{origin!r} is not an origin like https://app.example"
                )
        if settings.client_timeout_seconds > MAX_CLIENT_TIMEOUT_SECONDS:
            raise ConfigError(
                PREFIX + "CLIENT_TIMEOUT_SECONDS",
                f"must be at most {MAX_CLIENT_TIMEOUT_SECONDS:g} (the server's longest header "
                "read timeout)",
            )
        if settings.mock_latency_ms > MAX_MOCK_LATENCY_MS:
            raise ConfigError(
                PREFIX + "MOCK_LATENCY_MS", f"must be at most {MAX_MOCK_LATENCY_MS} (a minute)"
            )
        return settings

    def redacted(self) -> dict[str, object]:
        """The settings as they may be logged: secrets replaced by whether they are set."""
        shown: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS:
                value = "(set)" if value else "(unset)"
            elif isinstance(value, Path):
                value = str(value)
            shown[f.name] = value
        return shown


_SECRET_FIELDS = frozenset({"jwt_secret"})

# (smaller, larger): a timeout or a wait longer than what bounds it could never be used. From
# the environment, only two values the operator both wrote can break one (see _clocks).
_CLOCK_ORDER = (
    ("connect_timeout_seconds", "deadline_seconds"),
    ("read_timeout_seconds", "deadline_seconds"),
    ("retry_budget_seconds", "deadline_seconds"),
    ("retry_max_wait_seconds", "deadline_seconds"),
    ("retry_max_wait_seconds", "retry_budget_seconds"),
)


def _variable(field_name: str) -> str:
    return PREFIX + field_name.upper()


def _clocks(
    *,
    deadline: float | None,
    connect: float | None,
    read: float | None,
    budget: float | None,
    max_wait: float | None,
) -> dict[str, float]:
    """The deadline, timeouts and retry waits, those left unset derived from those set.

    A default never contradicts a value the operator wrote: an unset deadline grows to the
    longest timeout or wait written, unset timeouts and waits shrink to fit the deadline
    and the budget. `SPACEGATE_DEADLINE_SECONDS=3` alone gives 3 s connect and read timeouts.
    """
    base = Settings()
    if deadline is None:
        written = [v for v in (connect, read, budget, max_wait) if v is not None]
        deadline = max([base.deadline_seconds, *written])
    if connect is None:
        connect = min(base.connect_timeout_seconds, deadline)
    if read is None:
        read = min(base.read_timeout_seconds, deadline)
    if budget is None:
        budget = min(max(base.retry_budget_seconds, max_wait or 0.0), deadline)
    if max_wait is None:
        max_wait = min(base.retry_max_wait_seconds, budget)
    return {
        "deadline_seconds": deadline,
        "connect_timeout_seconds": connect,
        "read_timeout_seconds": read,
        "retry_budget_seconds": budget,
        "retry_max_wait_seconds": max_wait,
    }

_ALGORITHMS = {
    "secret": frozenset({"HS256", "HS384", "HS512"}),
    "public_key": frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256"}),
    "jwks": frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256"}),
}


def _listing_caps(*, spaces: int, pages: int | None) -> dict[str, int]:
    """The runaway guards: an unset page cap follows the spaces cap (see SMALLEST_PAGE)."""
    return {"max_spaces": spaces, "max_pages": pages or math.ceil(spaces / SMALLEST_PAGE)}


def _default_algorithms(source: str) -> tuple[str, ...]:
    return ("HS256",) if source == "secret" else ("RS256", "ES256")


def _check_host_pattern(pattern: str) -> None:
    # The URL policy's own reading of a pattern, so that a pattern accepted here is one it uses.
    if not is_host_pattern(pattern):
        raise ConfigError(
            PREFIX + "ALLOWED_HOSTS",
            f"{pattern!r} is not a host pattern like 'confluence.example.com', "
            "'*.atlassian.net', 'host:8443' or '*'",
        )


class _Reader:
    """Typed access to prefixed variables; every failure names the variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(PREFIX + name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def _convert(self, name: str, default: T, convert: Callable[[str], V]) -> V | T:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            return convert(raw)
        except ValueError as exc:
            raise ConfigError(PREFIX + name, str(exc)) from None

    def text(self, name: str, default: T) -> str | T:
        raw = self._raw(name)
        return default if raw is None else raw

    def words(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self._raw(name)
        if raw is None:
            return default
        return tuple(w.strip() for w in raw.split(",") if w.strip())

    def flag(self, name: str, default: bool) -> bool:
        def convert(raw: str) -> bool:
            lowered = raw.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"must be true or false, not {raw!r}")

        return self._convert(name, default, convert)

    def number(self, name: str, default: T, minimum: float) -> float | T:
        def convert(raw: str) -> float:
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"must be a number of seconds, not {raw!r}") from None
            if not math.isfinite(value) or value < minimum:
                raise ValueError(f"must be a number at least {minimum}, not {raw!r}")
            return value

        return self._convert(name, default, convert)

    def integer(self, name: str, default: T, minimum: int) -> int | T:
        def convert(raw: str) -> int:
            if not raw.isdigit() or int(raw) < minimum:
                raise ValueError(f"must be a whole number at least {minimum}, not {raw!r}")
            return int(raw)

        return self._convert(name, default, convert)

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        def convert(raw: str) -> str:
            if raw.upper() not in choices:
                raise ValueError(f"must be one of {', '.join(choices)}, not {raw!r}")
            return raw.upper()

        return self._convert(name, default, convert)

    def path(self, name: str, default: T) -> Path | T:
        return self._convert(name, default, lambda raw: Path(raw).expanduser())

