"""Configuration: read in one place, and a bad value names its variable."""

from __future__ import annotations

import pytest

from service.settings import DEV_JWT_SECRET, ConfigError, Settings

SECRET = "s" * 40


def test_defaults_are_mock_with_the_development_secret():
    settings = Settings.from_env({})
    assert settings.mode == "mock"
    assert settings.jwt_secret == DEV_JWT_SECRET
    assert settings.jwt_algorithms == ("HS256",)
    assert settings.allowed_hosts == ("*.atlassian.net",)
    assert settings.allow_http is False
    assert settings.allow_private_addresses is False
    assert settings.deadline_seconds == 30
    assert settings.tenant_claim == "tenant_id"
    assert settings.cassettes.name == "cassettes"


def test_live_mode_has_no_default_secret():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SPACEGATE_MODE": "live"})
    assert caught.value.variable == "SPACEGATE_JWT_SECRET"


def test_the_mode_flag_wins_over_the_variable():
    settings = Settings.from_env({"SPACEGATE_MODE": "mock", "SPACEGATE_JWT_SECRET": SECRET}, mode="live")
    assert settings.mode == "live"


def test_values_are_read_and_typed():
    settings = Settings.from_env(
        {
            "SPACEGATE_MODE": "live",
            "SPACEGATE_JWT_SECRET": SECRET,
            "SPACEGATE_ALLOWED_HOSTS": " confluence.acme.example , *.atlassian.net,wiki.example:8443 ",
            "SPACEGATE_ALLOW_HTTP": "TRUE",
            "SPACEGATE_ALLOW_PRIVATE_ADDRESSES": "yes",
            "SPACEGATE_DEADLINE_SECONDS": "12.5",
            "SPACEGATE_MAX_PAGES": "7",
            "SPACEGATE_CORS_ORIGINS": "https://app.example",
            "SPACEGATE_LOG_LEVEL": "debug",
            "SPACEGATE_JWT_ISSUER": "https://idp.example",
        }
    )
    assert settings.allowed_hosts == ("confluence.acme.example", "*.atlassian.net", "wiki.example:8443")
    assert settings.allow_http is True
    assert settings.allow_private_addresses is True
    assert settings.deadline_seconds == 12.5
    assert settings.max_pages == 7
    assert settings.cors_origins == ("https://app.example",)
    assert settings.log_level == "DEBUG"
    assert settings.jwt_issuer == "https://idp.example"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SPACEGATE_MODE", "production"),
        ("SPACEGATE_DEADLINE_SECONDS", "soon"),
        ("SPACEGATE_DEADLINE_SECONDS", "-1"),
        ("SPACEGATE_DEADLINE_SECONDS", "nan"),
        ("SPACEGATE_MAX_PAGES", "0"),
        ("SPACEGATE_MAX_PAGES", "1.5"),
        ("SPACEGATE_MAX_SPACES", "0"),
        ("SPACEGATE_PAGE_CONCURRENCY", "0"),
        ("SPACEGATE_PAGE_CONCURRENCY", "four"),
        ("SPACEGATE_ALLOW_HTTP", "maybe"),
        ("SPACEGATE_ALLOWED_HOSTS", "https://acme.atlassian.net"),
        ("SPACEGATE_ALLOWED_HOSTS", "acme.atlassian.net:99999"),
        ("SPACEGATE_ALLOWED_HOSTS", "*acme.net"),
        ("SPACEGATE_JWT_SECRET", "too-short"),
        ("SPACEGATE_JWT_ALGORITHMS", "none"),
        ("SPACEGATE_JWT_ALGORITHMS", "RS256"),
        ("SPACEGATE_JWT_PUBLIC_KEY", "not a pem"),
        ("SPACEGATE_JWKS_URL", "http://idp.example/jwks"),
        ("SPACEGATE_LOG_LEVEL", "chatty"),
        ("SPACEGATE_CORS_ORIGINS", "app.example"),
        ("SPACEGATE_CASSETTES", "/nonexistent/cassettes"),
        ("SPACEGATE_MAX_HEADER_BYTES", "4096"),
        ("SPACEGATE_MAX_CONNECTIONS", "0"),
        ("SPACEGATE_CLIENT_TIMEOUT_SECONDS", "0"),
        ("SPACEGATE_CLIENT_TIMEOUT_SECONDS", "61"),
    ],
)
def test_a_bad_value_names_its_variable(variable, value):
    key_variables = ("SPACEGATE_JWT_SECRET", "SPACEGATE_JWT_PUBLIC_KEY", "SPACEGATE_JWKS_URL")
    environ = {} if variable in key_variables else {"SPACEGATE_JWT_SECRET": SECRET}
    environ[variable] = value
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)


def test_large_sites_fit_the_default_caps_and_the_page_cap_follows_the_spaces_cap():
    defaults = Settings.from_env({})
    assert defaults.page_concurrency == 4
    assert defaults.max_spaces == 500_000
    # Data Center's pages of 25: 60,000 spaces are 2,400 pages, which the old cap (1,000) refused.
    assert defaults.max_pages == 20_000 == Settings().max_pages
    halved = Settings.from_env({"SPACEGATE_MAX_SPACES": "250001"})
    assert halved.max_pages == 10_001
    written = Settings.from_env({"SPACEGATE_MAX_SPACES": "1000", "SPACEGATE_MAX_PAGES": "7"})
    assert (written.max_spaces, written.max_pages) == (1000, 7)
    assert Settings.from_env({"SPACEGATE_PAGE_CONCURRENCY": "1"}).page_concurrency == 1


def test_only_one_key_source():
    with pytest.raises(ConfigError, match="only one"):
        Settings.from_env(
            {"SPACEGATE_JWT_SECRET": SECRET, "SPACEGATE_JWKS_URL": "https://idp.example/jwks"}
        )


def test_redacted_settings_hide_the_secret():
    shown = Settings.from_env({"SPACEGATE_MODE": "live", "SPACEGATE_JWT_SECRET": SECRET}).redacted()
    assert shown["jwt_secret"] == "(set)"
    assert SECRET not in repr(shown)


# -- the clocks: a default never contradicts a value the operator wrote --------------------------

CLOCKS = {
    "SPACEGATE_DEADLINE_SECONDS": "deadline_seconds",
    "SPACEGATE_CONNECT_TIMEOUT_SECONDS": "connect_timeout_seconds",
    "SPACEGATE_READ_TIMEOUT_SECONDS": "read_timeout_seconds",
    "SPACEGATE_RETRY_BUDGET_SECONDS": "retry_budget_seconds",
    "SPACEGATE_RETRY_MAX_WAIT_SECONDS": "retry_max_wait_seconds",
}


def clocks(settings: Settings) -> tuple[float, float, float, float, float]:
    return tuple(getattr(settings, name) for name in CLOCKS.values())  # type: ignore[return-value]


def test_the_defaults_when_nothing_is_set():
    # deadline, connect, read, budget, max wait
    assert clocks(Settings.from_env({})) == (30, 5, 20, 10, 5)


@pytest.mark.parametrize("variable", CLOCKS)
@pytest.mark.parametrize("value", ["0.1", "1", "3", "7.5", "45", "600"])
def test_any_one_clock_alone_is_accepted_and_kept(variable, value):
    settings = Settings.from_env({variable: value})
    assert getattr(settings, CLOCKS[variable]) == float(value)
    deadline, connect, read, budget, max_wait = clocks(settings)
    assert max(connect, read, budget) <= deadline
    assert max_wait <= budget


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"SPACEGATE_DEADLINE_SECONDS": "3"}, (3, 3, 3, 3, 3)),  # the audit's case
        ({"SPACEGATE_DEADLINE_SECONDS": "12"}, (12, 5, 12, 10, 5)),
        ({"SPACEGATE_DEADLINE_SECONDS": "120"}, (120, 5, 20, 10, 5)),
        ({"SPACEGATE_CONNECT_TIMEOUT_SECONDS": "60"}, (60, 60, 20, 10, 5)),
        ({"SPACEGATE_READ_TIMEOUT_SECONDS": "45"}, (45, 5, 45, 10, 5)),
        ({"SPACEGATE_RETRY_BUDGET_SECONDS": "2"}, (30, 5, 20, 2, 2)),
        ({"SPACEGATE_RETRY_BUDGET_SECONDS": "50"}, (50, 5, 20, 50, 5)),
        ({"SPACEGATE_RETRY_MAX_WAIT_SECONDS": "20"}, (30, 5, 20, 20, 20)),
        ({"SPACEGATE_RETRY_MAX_WAIT_SECONDS": "40"}, (40, 5, 20, 40, 40)),
        ({"SPACEGATE_DEADLINE_SECONDS": "8", "SPACEGATE_RETRY_MAX_WAIT_SECONDS": "6"}, (8, 5, 8, 8, 6)),
        ({"SPACEGATE_DEADLINE_SECONDS": "3", "SPACEGATE_CONNECT_TIMEOUT_SECONDS": "3"}, (3, 3, 3, 3, 3)),
    ],
)  # fmt: skip
def test_unset_clocks_are_derived_from_those_set(environ, expected):
    assert clocks(Settings.from_env(environ)) == expected


@pytest.mark.parametrize(
    ("environ", "named", "other"),
    [
        ({"SPACEGATE_DEADLINE_SECONDS": "3", "SPACEGATE_CONNECT_TIMEOUT_SECONDS": "5"},
         "SPACEGATE_CONNECT_TIMEOUT_SECONDS", "SPACEGATE_DEADLINE_SECONDS"),
        ({"SPACEGATE_DEADLINE_SECONDS": "3", "SPACEGATE_READ_TIMEOUT_SECONDS": "20"},
         "SPACEGATE_READ_TIMEOUT_SECONDS", "SPACEGATE_DEADLINE_SECONDS"),
        ({"SPACEGATE_DEADLINE_SECONDS": "3", "SPACEGATE_RETRY_BUDGET_SECONDS": "10"},
         "SPACEGATE_RETRY_BUDGET_SECONDS", "SPACEGATE_DEADLINE_SECONDS"),
        ({"SPACEGATE_DEADLINE_SECONDS": "3", "SPACEGATE_RETRY_MAX_WAIT_SECONDS": "5"},
         "SPACEGATE_RETRY_MAX_WAIT_SECONDS", "SPACEGATE_DEADLINE_SECONDS"),
        ({"SPACEGATE_RETRY_BUDGET_SECONDS": "2", "SPACEGATE_RETRY_MAX_WAIT_SECONDS": "3"},
         "SPACEGATE_RETRY_MAX_WAIT_SECONDS", "SPACEGATE_RETRY_BUDGET_SECONDS"),
    ],
)  # fmt: skip
def test_only_a_contradiction_between_two_written_values_is_refused(environ, named, other):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ)
    assert caught.value.variable == named
    assert other in str(caught.value)
