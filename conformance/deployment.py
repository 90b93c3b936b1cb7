"""What a run knows of the target's configuration, where a rule of the contract depends on it.

Most rules hold for every deployment. A few are the deployment's choice, and the run must be
told (or see from the body it was given) which way the target went:

- plain `http://` in `instance_url` (`SPACEGATE_ALLOW_HTTP` on spacegate): `--allows-http`,
  or a `--body-file` whose `instance_url` is http;
- loopback, private and link-local addresses (`SPACEGATE_ALLOW_PRIVATE_ADDRESSES`):
  `--allows-private-addresses`, or a body file whose `instance_url` host is such an address.
  Cloud metadata addresses are refused whatever the deployment says;
- the origins a browser may call from (`SPACEGATE_CORS_ORIGINS`): `--origin`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["DEFAULT_ORIGIN", "Deployment"]

# The origin CORS probes ask for when the run names none: mock mode grants every origin.
DEFAULT_ORIGIN = "https://conformance.example"


def _is_private_literal(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


@dataclass(frozen=True)
class Deployment:
    # Each allowance is None when the target keeps the contract's default (refused), else why
    # the run holds it allowed ("--allows-http").
    allows_http: str | None = None
    allows_private_addresses: str | None = None
    # The origin CORS probes use, and whether the run was told it is allowed (--origin).
    origin: str = DEFAULT_ORIGIN
    origin_given: bool = False

    @classmethod
    def of_run(
        cls,
        *,
        allows_http: bool,
        allows_private_addresses: bool,
        origin: str | None,
        instance_url: object,
    ) -> Deployment:
        """From the run's options and the `instance_url` it pins (if any)."""
        parts = urlsplit(instance_url) if isinstance(instance_url, str) else None
        http = "--allows-http" if allows_http else None
        private = "--allows-private-addresses" if allows_private_addresses else None
        if http is None and parts is not None and parts.scheme.lower() == "http":
            http = "the body's instance_url is http://"
        if private is None and parts is not None and _is_private_literal(parts.hostname or ""):
            private = "the body's instance_url is a private address"
        return cls(
            allows_http=http,
            allows_private_addresses=private,
            origin=origin or DEFAULT_ORIGIN,
            origin_given=origin is not None,
        )
