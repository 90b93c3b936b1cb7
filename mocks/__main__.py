"""`python -m mocks record|new|list`: record a scenario from a real Confluence, start one by
hand, or list the scenarios folder."""

from __future__ import annotations

import argparse
import datetime
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mocks.proving import Prover
from mocks.record import RecordingRefused, record_scenario
from mocks.scenario_folder import load_folder
from mocks.scenarios import SCENARIO_NAME, ScenarioError
from mocks.template import write_template
from service.commands import run_subcommand
from service.confluence.client import ClientOptions
from service.settings import ConfigError, Settings

__all__ = ["main"]

TOKEN_VARIABLE = "SPACEGATE_RECORD_API_TOKEN"  # noqa: S105 - the variable's name


def _api_token() -> str | None:
    token = os.environ.get(TOKEN_VARIABLE)
    if token:
        return token
    if not sys.stdin.isatty():
        return None
    return getpass.getpass("Confluence API token (not echoed): ") or None


def _record(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    token = _api_token()
    if token is None:
        print(
            f"no API token: set {TOKEN_VARIABLE} or run from a terminal to be asked for it "
            "(it is never taken from the command line)",
            file=sys.stderr,
        )
        return 2
    folder = args.cassettes or settings.cassettes
    try:
        recording = record_scenario(
            folder=folder,
            scenario=args.scenario,
            instance_url=args.instance_url,
            web_url=args.web_url,
            username=args.username,
            api_token=token,
            # the site's name is scrubbed from the cassette, so not named here either
            description=args.description or f"Recorded on {datetime.date.today().isoformat()}",
            options=ClientOptions.from_settings(settings),
            force=args.force,
        )
    except (FileExistsError, RecordingRefused) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(
        f"recorded {recording.interactions} interaction(s) to {recording.path}: spacegate "
        f"answered {recording.status}"
        + (f" with {recording.spaces} space(s)" if recording.status == 200 else "")
    )
    return 0


def _new(args: argparse.Namespace) -> int:
    folder = args.cassettes or Settings.from_env().cassettes
    try:
        path = write_template(folder, args.name)
    except FileExistsError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"wrote {path}: edit it, then call it with the header Prefer: example={args.name}")
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    folder = args.cassettes or settings.cassettes
    # Proved as the mock proves them at start-up, so that what this lists is what it serves.
    found = load_folder(folder, ClientOptions.from_settings(settings), Prover(settings).prove)
    for name, scenario in sorted(found.scenarios.items()):
        kind = scenario.source + (f" {scenario.fault}" if scenario.fault else "")
        print(f"{name:24} {scenario.status}  {scenario.root:16} {kind:18}  {scenario.description}")
    for name, sequence in sorted(found.sequences.items()):
        print(f"{name:24} ...  {'':16} {'sequence':18}  {' > '.join(sequence.steps)}")
    for problem in found.errors.values():
        print(problem, file=sys.stderr)
    return 1 if found.errors else 0


def _scenario_name(value: str) -> str:
    if not SCENARIO_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError("lower-case letters, digits and dashes")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mocks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser(
        "record",
        help="record a scenario cassette from a Confluence you can reach",
        description=f"The API token comes from {TOKEN_VARIABLE}, or a prompt.",
    )
    record.add_argument("--scenario", required=True, type=_scenario_name)
    record.add_argument("--instance-url", required=True, help="the REST API root")
    record.add_argument("--web-url", required=True, help="the web UI root")
    record.add_argument("--username", required=True)
    record.add_argument("--description", help="one line shown by GET /mock/scenarios")
    record.add_argument("--cassettes", type=Path, help="folder (default: SPACEGATE_CASSETTES)")
    record.add_argument("--force", action="store_true", help="record over an existing cassette")
    record.set_defaults(run=_record)
    new = commands.add_parser(
        "new",
        help="write a commented hand-written scenario to start from",
        description="Writes NAME.yaml into the scenarios folder; never over an existing one.",
    )
    new.add_argument("name", type=_scenario_name)
    new.add_argument("--cassettes", type=Path, help="folder (default: SPACEGATE_CASSETTES)")
    new.set_defaults(run=_new)
    listing = commands.add_parser(
        "list", help="list the scenarios folder; refused files on stderr (exit 1)"
    )
    listing.add_argument("--cassettes", type=Path)
    listing.set_defaults(run=_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_subcommand(
        _parser(), argv, refusals=(ConfigError, ScenarioError), prefix="spacegate"
    )


if __name__ == "__main__":
    sys.exit(main())
