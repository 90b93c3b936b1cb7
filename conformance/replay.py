"""How a person replaying a failure sets the `$VARIABLES` of its curl line.

Curl lines never show a secret: tokens, the pinned api_token and the JWT secret appear as
shell variables (`conformance.curl`). For each variable a run may print, this gives the shell
line that sets it (a `python -m conformance.mint` command for minted tokens, with the Python
that ran the harness), or says where its value came from.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from conformance.tokens import (
    API_TOKEN_PLACEHOLDER,
    SECRET_VARIABLE,
    TOKEN_PLACEHOLDER,
    TOKEN_VARIABLE,
    Tokens,
)

__all__ = ["python_command", "replay_instructions"]

_READ_API_TOKEN = 'import json, sys; print(json.load(open(sys.argv[1]))["api_token"])'  # noqa: S105 - code


def python_command() -> str:
    """The interpreter running the harness, as a person would type it here."""
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(Path.cwd()))
    except ValueError:
        return str(executable)


def _export(variable: str, words: list[str], note: str) -> str:
    command = " ".join(shlex.quote(word) for word in words)
    return f'export {variable}="$({command})"  # {note}'


def replay_instructions(tokens: Tokens, *, body_file: Path | None) -> dict[str, str]:
    """Variable -> the line that sets it, for every variable the run may print."""
    python = python_command()
    mint = [python, "-m", "conformance.mint"]
    options: list[str] = []
    if tokens.issuer:
        options += ["--issuer", tokens.issuer]
    if tokens.audience:
        options += ["--audience", tokens.audience]
    if tokens.tenant_claim != "tenant_id":
        options += ["--tenant-claim", tokens.tenant_claim]
    lines: dict[str, str] = {}
    if TOKEN_PLACEHOLDER not in tokens.recipes:
        lines[TOKEN_PLACEHOLDER] = (
            f"{TOKEN_VARIABLE}: the token this run was given in {TOKEN_VARIABLE}"
        )
    for variable, recipe in tokens.recipes.items():
        needs = SECRET_VARIABLE
        if recipe.kind == "tampered":
            needs = f"{TOKEN_VARIABLE} or {SECRET_VARIABLE}"
        words = [*mint, recipe.kind, "--tenant", recipe.tenant, *options]
        lines[variable] = _export(variable, words, f"needs {needs}, as the run did")
    if body_file is not None:
        words = [python, "-c", _READ_API_TOKEN, str(body_file)]
        lines[API_TOKEN_PLACEHOLDER] = _export(
            API_TOKEN_PLACEHOLDER, words, "the api_token of --body-file"
        )
    else:
        lines[API_TOKEN_PLACEHOLDER] = (
            f"{API_TOKEN_PLACEHOLDER}: the api_token of the body the run was given"
        )
    lines[SECRET_VARIABLE] = f"{SECRET_VARIABLE}: the secret the run minted its tokens with"
    return lines
