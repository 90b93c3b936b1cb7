"""`python -m conformance.mint KIND --tenant VALUE`: make a token as a conformance run makes it.

A run's curl lines carry its tokens as `$SPACEGATE_CONFORMANCE_*_TOKEN` variables; the summary
says which command sets each one, and this is that command. It prints one token on stdout::

    export SPACEGATE_CONFORMANCE_EXPIRED_TOKEN="$(python -m conformance.mint expired \\
        --tenant 3fa85f64-5717-4562-b3fc-2c963f66afa6)"

The signing secret comes from SPACEGATE_JWT_SECRET, never from the command line; `tampered`
forges the signature of SPACEGATE_CONFORMANCE_TOKEN when set (else of a token minted here).
`--tenant` is the tenant claim's value, whatever it is (the probes mint claims that are not
UUIDs on purpose). Exit status: 0 printed, 2 bad usage or no secret.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from conformance.tokens import KINDS, SECRET_VARIABLE, CredentialsMissing, Tokens

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.mint",
        description="Print a bearer token of the kind a conformance run sends.",
        epilog=f"Signs with {SECRET_VARIABLE} (HS256), read from the environment.",
    )
    parser.add_argument("kind", choices=KINDS, help="the kind of token")
    parser.add_argument("--tenant", required=True, help="the tenant claim's value")
    parser.add_argument("--issuer", help="`iss` of the token")
    parser.add_argument("--audience", help="`aud` of the token")
    parser.add_argument(
        "--tenant-claim", default="tenant_id", help="claim naming the tenant (default tenant_id)"
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        tokens = Tokens.from_environment(
            arguments.tenant,
            environ=os.environ if environ is None else environ,
            issuer=arguments.issuer,
            audience=arguments.audience,
            tenant_claim=arguments.tenant_claim,
        )
        print(tokens.make(arguments.kind))
    except CredentialsMissing as exc:
        print(f"conformance.mint: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
