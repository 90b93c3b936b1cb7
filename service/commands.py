"""What spacegate's commands (`python -m service`, `python -m mocks`) share.

Each command is an argparse parser whose subcommands set `run`; a refusal the command foresaw
(a setting or a cassette it cannot use) exits 2 with one line saying why, not a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

__all__ = ["run_subcommand"]


def run_subcommand(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    *,
    refusals: tuple[type[Exception], ...],
    prefix: str,
) -> int:
    """Run the subcommand `argv` names; its exit status, or 2 for one of `refusals`."""
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except refusals as exc:
        print(f"{prefix}: {exc}", file=sys.stderr)
        return 2
