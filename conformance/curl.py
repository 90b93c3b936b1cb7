"""A request as a curl line a person can paste, with every secret behind a `$VARIABLE`.

Secrets (the bearer tokens, the pinned api_token, the JWT secret) are replaced by shell
variables spliced in double quotes, so the line still runs once the variables are exported:

    curl -sS -i -X POST 'http://host/v2/…' -H "Authorization: Bearer $SPACEGATE_CONFORMANCE_TOKEN"
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from conformance.exchange import SentRequest

__all__ = ["Redactor", "render_curl"]

# Headers every client adds by itself; printing them only hides the ones that matter.
_NOISE_HEADERS = frozenset(
    {"user-agent", "accept-encoding", "connection", "content-length", "x-schemathesis-testcaseid"}
)
# Past this, a body is written to a file rather than inlined (a 64 KiB probe, say).
_INLINE_BODY_LIMIT = 2048
_DOUBLE_QUOTE_SAFE = re.compile(r'^[^"$`\\!]*$')


class Redactor:
    """Replaces known secrets by `$PLACEHOLDER` in any text the report prints."""

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        self._secrets: dict[str, str] = {}
        for secret, name in (secrets or {}).items():
            self.add(secret, name)

    def add(self, secret: str | None, name: str) -> None:
        # Any length: a short secret may mangle a word of the report, which beats leaking it.
        if not secret:
            return
        self._secrets[secret] = name
        # As it appears inside a JSON string, if different.
        self._secrets.setdefault(json.dumps(secret)[1:-1], name)

    def _ordered(self) -> list[tuple[str, str]]:
        return sorted(self._secrets.items(), key=lambda item: -len(item[0]))

    def pieces(self, text: str) -> list[tuple[str, bool]]:
        """`text` cut into (literal, False) and (placeholder name, True) pieces."""
        result: list[tuple[str, bool]] = [(text, False)]
        for secret, name in self._ordered():
            cut: list[tuple[str, bool]] = []
            for piece, is_placeholder in result:
                if is_placeholder or secret not in piece:
                    cut.append((piece, is_placeholder))
                    continue
                parts = piece.split(secret)
                for index, part in enumerate(parts):
                    if part:
                        cut.append((part, False))
                    if index < len(parts) - 1:
                        cut.append((name, True))
            result = cut
        return result

    def __call__(self, text: str) -> str:
        return "".join(f"${piece}" if hidden else piece for piece, hidden in self.pieces(text))


def _quote(text: str) -> str:
    # Always single-quoted (unlike shlex.quote), so every argument reads the same way.
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _shell_word(text: str, redactor: Redactor) -> str:
    pieces = redactor.pieces(text)
    if not any(hidden for _, hidden in pieces):
        return _quote(text)
    if all(hidden or _DOUBLE_QUOTE_SAFE.match(piece) for piece, hidden in pieces):
        return '"' + "".join(f"${p}" if hidden else p for p, hidden in pieces) + '"'
    return "".join(f'"${p}"' if hidden else _quote(p) for p, hidden in pieces)


def _bytes_word(body: bytes) -> str:
    # Not UTF-8: bash's $'…' quoting carries any byte.
    escaped = "".join(
        chr(byte) if 0x20 <= byte < 0x7F and chr(byte) not in "'\\" else f"\\x{byte:02x}"
        for byte in body
    )
    return f"$'{escaped}'"


def _header_arguments(request: SentRequest) -> Iterable[str]:
    """What follows each `-H`: `Name: value`, `Name;` for an empty value, `Name:` for none."""
    for name, value in request.lines or tuple(request.headers.items()):
        lowered = name.lower()
        if lowered in _NOISE_HEADERS or (lowered == "accept" and value == "*/*"):
            continue
        # curl drops a header given as `Name:`; `Name;` is how it sends one with no value.
        yield f"{name}: {value}" if value else f"{name};"
    if request.lines_complete and "accept" not in request.headers:
        yield "Accept:"  # the request had none; curl would add `Accept: */*` by itself


def render_curl(request: SentRequest, redactor: Redactor | None = None) -> str:
    """The curl command that sends `request` again, secrets as `$VARIABLES`."""
    redactor = redactor or Redactor()
    method = request.method.upper()
    words = ["curl", "-sS", "-i"]
    words += ["--head"] if method == "HEAD" else ["-X", method]
    words.append(_shell_word(request.url, redactor))
    for argument in _header_arguments(request):
        words += ["-H", _shell_word(argument, redactor)]
    note = ""
    if request.body is not None:
        if "content-type" not in request.headers:
            # curl would add `Content-Type: application/x-www-form-urlencoded` by itself.
            words += ["-H", _quote("Content-Type:")]
        if len(request.body) > _INLINE_BODY_LIMIT:
            words += ["--data-binary", "@request-body"]
            preview = redactor(request.body[:200].decode("utf-8", errors="replace"))
            note = f"\n  # request-body: {len(request.body)} bytes, starting {preview!r}"
        else:
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError:
                words += ["--data-binary", _bytes_word(request.body)]
            else:
                words += ["--data-binary", _shell_word(text, redactor)]
    return " ".join(words) + note
