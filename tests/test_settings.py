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


def test_only_one_key_source():
    with pytest.raises(ConfigError, match="only one"):
        Settings.from_env(
            {"SPACEGATE_JWT_SECRET": SECRET, "SPACEGATE_JWKS_URL": "https://idp.example/jwks"}
        )


def test_redacted_settings_hide_the_secret():
    shown = Settings.from_env({"SPACEGATE_MODE": "live", "SPACEGATE_JWT_SECRET": SECRET}).redacted()
    assert shown["jwt_secret"] == "(set)"
    assert SECRET not in repr(shown)
