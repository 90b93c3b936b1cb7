"""Command line (docs/design.md#operator-interface): `python -m service serve|token`."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence

from service.auth import is_canonical_uuid
from service.commands import run_subcommand
from service.minting import DEFAULT_TTL_SECONDS, CannotMint, mint_token
from service.settings import ConfigError, Settings

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    from service.asgi import make_app
    from service.server import granian_server

    if args.mode:
        # Workers are separate processes that read the environment, not our arguments.
        os.environ["SPACEGATE_MODE"] = args.mode
    with _mock_state_folder():
        # Built here first so that a bad setting or cassette stops the command with a message
        # naming it, before any worker is spawned.
        make_app()
        settings = Settings.from_env()
        granian_server(settings, host=args.host, port=args.port, workers=args.workers).serve()
    return 0


@contextlib.contextmanager
def _mock_state_folder() -> Iterator[None]:
    """In mock mode, a folder for the state this server's workers share (the journal, where
    each sequence is), unless SPACEGATE_MOCK_STATE_DIR names one; removed when serving ends."""
    settings = Settings.from_env()
    if settings.mode != "mock" or settings.mock_state_dir is not None:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="spacegate-mock-") as folder:
        os.environ["SPACEGATE_MOCK_STATE_DIR"] = folder
        try:
            yield
        finally:
            del os.environ["SPACEGATE_MOCK_STATE_DIR"]


def _token(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if not is_canonical_uuid(args.tenant):
        print("--tenant must be a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6", file=sys.stderr)
        return 2
    try:
        print(mint_token(settings, args.tenant, ttl=args.ttl, subject=args.subject))
    except CannotMint as exc:
        print(f"token: {exc}", file=sys.stderr)
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API (granian, with the client limits)")
    serve.add_argument("--mode", choices=("live", "mock"), help="overrides SPACEGATE_MODE")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)
    token = commands.add_parser("token", help="print a JWT for a tenant, signed with the secret")
    token.add_argument("--tenant", required=True, help="the tenant UUID (x-tenantid)")
    token.add_argument(
        "--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="seconds until it expires"
    )
    token.add_argument("--subject", default="spacegate-cli", help="the token's sub claim")
    token.set_defaults(run=_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_subcommand(
        _parser(), argv, refusals=(ConfigError,), prefix="spacegate: configuration error"
    )


if __name__ == "__main__":
    sys.exit(main())
