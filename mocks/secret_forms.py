"""Every form a credential can take in recorded HTTP text, to replace it or to find it.

A server may echo a token or a username as it was sent, or JSON-escaped (`\\/`, `\\u00f6`, or
every character as `\\u0041`), in another case, percent-encoded (either case of hex, `+` for a
space), as HTML character references, base64'd (alone or inside `user:token`, padded or not,
either alphabet, at any offset of a longer blob), or as mojibake (UTF-8 bytes read as
Latin-1, as HTTP headers are). YAML, which the cassette is written in, adds `\\xF6` and
`\\U0001F600`.

    forms = SecretForms({"api_token": (token, "REDACTED-API-TOKEN")})
    forms.scrub(text)        # every form found replaced by the placeholder (same encoding)
    forms.find(text)         # what is left, as Finding(secret="api_token", form="base64")

`scrub` handles each single form and any mix of them character by character, and base64
wherever a run of base64 decodes to text holding the secret. `find` looks further, through
up to `_DECODE_ROUNDS` nested layers of percent, JSON and HTML encoding and base64 at any
alignment: what it finds after scrubbing is a form the scrubber could not rewrite, and the
recorder refuses to write the cassette.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import html.entities
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

__all__ = ["Finding", "SecretForms"]

# A base64 core shorter than this matches by chance in any long base64 text.
_MIN_CORE = 4
_DECODE_ROUNDS = 3
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{6,}={0,2}")
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|U([0-9a-fA-F]{8})|([\"\\/bfnrt]))")
_SHORT_ESCAPES = dict(zip('/"\\bfnrt', '/"\\\b\f\n\r\t', strict=True))
_SHORT_ESCAPED = {value: "\\" + key for key, value in _SHORT_ESCAPES.items()}


@dataclass(frozen=True)
class Finding:
    secret: str  # the secret's label, never its value
    form: str


def _escapes(char: str) -> set[str]:
    """Regular expressions for `char` written in one of the encodings a text may use."""
    point = ord(char)
    found = {re.escape(char)}
    if point > 0xFFFF:  # JSON writes it as a surrogate pair
        high, low = divmod(point - 0x10000, 0x400)
        found.add(re.escape(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"))
    else:
        found.add(re.escape(f"\\u{point:04x}"))
        found.add(re.escape(f"%u{point:04x}"))  # JavaScript's escape()
    found.add(re.escape(f"\\U{point:08x}"))
    if char in _SHORT_ESCAPED:
        found.add(re.escape(_SHORT_ESCAPED[char]))
    found.add("".join(f"%{byte:02x}" for byte in char.encode("utf-8")))
    if char == " ":
        found.add(r"\+")
    found.add(f"&#0*{point};")
    found.add(f"&#x0*{point:x};")
    name = html.entities.codepoint2name.get(point)
    if name:
        found.add(f"&{name};")
    if point <= 0xFF:
        found.add(re.escape(f"\\x{point:02x}"))
        if point >= 0x80:
            found.add(f"%{point:02x}")  # percent-encoded Latin-1
            found.add(re.escape(chr(0xDC00 + point)))  # a raw Latin-1 byte (surrogateescape)
    if point >= 0x80:
        utf8 = char.encode("utf-8")
        for codec in ("latin-1", "cp1252"):  # UTF-8 bytes read as a one-byte charset
            with contextlib.suppress(UnicodeDecodeError):
                found.add(re.escape(utf8.decode(codec)))
    return found


def _pattern(secret: str) -> re.Pattern[str]:
    parts = []
    for char in secret:
        # Escapes of the other case too: ö and Ö are different bytes once encoded.
        variants = {char, char.lower(), char.upper()}
        alternatives = set().union(*(_escapes(v) for v in variants if len(v) == 1))
        parts.append("(?:" + "|".join(sorted(alternatives, key=len, reverse=True)) + ")")
    return re.compile("".join(parts), re.IGNORECASE)


def _base64_cores(data: bytes) -> Iterator[str]:
    """The base64 text `data` encodes to at each alignment, minus the characters it shares."""
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data).decode("ascii").rstrip("=")
        lead = (0, 2, 3)[offset]  # characters that also hold bits of the bytes before it
        end = len(encoded) - (1 if (offset + len(data)) % 3 else 0)  # ...or of those after it
        core = encoded[lead:end]
        if len(core) >= _MIN_CORE:
            yield core


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2) or match.group(3)
        return chr(int(code, 16)) if code else _SHORT_ESCAPES[match.group(4)]

    # chr() of two \u escapes gives a surrogate pair; as UTF-16 it is one character again.
    joined = _ESCAPE.sub(one, text)
    return joined.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


def _unbase64(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        decoded = _decode_run(match.group(0))
        # Only runs that decode to text: any long word is "base64" of some bytes. (A raw
        # byte that is not UTF-8 decodes to a surrogate, which is not printable either.)
        if decoded is None or not decoded[1].isprintable():
            return match.group(0)
        return decoded[1]

    return _BASE64_RUN.sub(one, text)


# (name, marker that must be in a text for the decoding to change it, decoding)
_DECODINGS: tuple[tuple[str, str, Callable[[str], str]], ...] = (
    ("percent-encoding", "%", lambda text: unquote_plus(text, errors="surrogateescape")),
    ("JSON/YAML escapes", "\\", _unescape),
    ("HTML references", "&", html.unescape),
    ("base64", "", _unbase64),
)


def _decode_run(run: str, offset: int = 0) -> tuple[str, str, str, bool] | None:
    """(kept prefix, decoded text, alphabet, padded) for a base64 run from `offset`, or None."""
    body = run[offset:].rstrip("=")
    if "+" in body or "/" in body:
        if "-" in body or "_" in body:
            return None
        altchars = b"+/"
    else:
        altchars = b"-_"
    if len(body) % 4 == 1:
        return None
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    return run[:offset], data.decode("utf-8", "surrogateescape"), altchars.decode(), run.endswith(
        "="
    )


class SecretForms:
    """Secrets by label, each with the placeholder that replaces it."""

    def __init__(self, secrets: Mapping[str, tuple[str, str]]) -> None:
        # Longest first, so that a secret inside another is not half-replaced.
        chosen = sorted(
            ((label, value, mask) for label, (value, mask) in secrets.items() if value),
            key=lambda item: -len(item[1]),
        )
        self._secrets = [
            (label, value, placeholder, _pattern(value), tuple(self._cores(value)))
            for label, value, placeholder in chosen
        ]

    @staticmethod
    def _cores(value: str) -> Iterator[tuple[str, str]]:
        for core in _base64_cores(value.encode("utf-8")):
            yield core, "base64"
            url_safe = core.translate(str.maketrans("+/", "-_"))
            if url_safe != core:
                yield url_safe, "base64url"

    # -- replacing -------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        text = self._scrub_plain(text)
        return _BASE64_RUN.sub(lambda match: self._scrub_run(match.group(0)), text)

    def scrub_bytes(self, data: bytes) -> bytes:
        # surrogateescape: bytes that are not UTF-8 (a Latin-1 body) survive the round trip.
        return self.scrub(data.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape"
        )

    def _scrub_plain(self, text: str) -> str:
        for _label, _value, placeholder, pattern, _cores in self._secrets:
            text = pattern.sub(placeholder, text)
        return text

    def _scrub_run(self, run: str) -> str:
        for offset in range(4):  # the base64 may start after up to three other characters
            decoded = _decode_run(run, offset)
            if decoded is None:
                continue
            kept, text, altchars, padded = decoded
            scrubbed = self._scrub_plain(text)
            if scrubbed != text:
                data = scrubbed.encode("utf-8", "surrogateescape")
                encoded = base64.b64encode(data, altchars=altchars.encode()).decode("ascii")
                return kept + (encoded if padded else encoded.rstrip("="))
        return run

    # -- finding ---------------------------------------------------------------------------

    def find(self, value: str | bytes) -> list[Finding]:
        """Every secret still in `value`, with the form it was found in."""
        text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
        found: dict[str, str] = {}
        views = [(text, "")]
        seen = {text}
        for _round in range(_DECODE_ROUNDS + 1):
            for view, path in views:
                for label, form in self._find_in(view):
                    found.setdefault(label, f"{form}, inside {path}" if path else form)
            decoded = []
            for view, path in views:
                for name, marker, decode in _DECODINGS:
                    if marker not in view or path.startswith(name):
                        continue
                    result = decode(view)
                    if result not in seen:
                        seen.add(result)
                        decoded.append((result, f"{name}, {path}" if path else name))
            views = decoded
            if not views:
                break
        return [Finding(label, form) for label, form in found.items()]

    def _find_in(self, text: str) -> Iterator[tuple[str, str]]:
        for label, value, _placeholder, pattern, cores in self._secrets:
            match = pattern.search(text)
            if match is not None:
                yield label, _form_of(match.group(0), value)
            for core, form in cores:
                if core in text:
                    yield label, form


def _form_of(match: str, secret: str) -> str:
    """How a matching text writes the secret, in words that never quote it."""
    if match == secret:
        return "raw"

    def added(char: str) -> bool:
        return char in match and char not in secret

    forms = []
    if added("%") or (added("+") and " " in secret):
        forms.append("percent-encoded")
    if added("\\"):
        forms.append("backslash-escaped (JSON/YAML)")
    if added("&"):
        forms.append("HTML character references")
    if any(0xDC80 <= ord(char) <= 0xDCFF for char in match):
        forms.append("Latin-1 bytes")
    if not forms:
        same = match.casefold() == secret.casefold()
        forms.append("in another case" if same else "Latin-1/UTF-8 mojibake")
    return ", ".join(forms)
