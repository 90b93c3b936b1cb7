"""400, 413, 415: the body as sent (not JSON, too large, not typed JSON), before its fields."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from conformance.expectations import expect_status
from conformance.probe_client import ProbeClient
from conformance.probing import probe
from conformance.vocabulary import MAX_BODY_BYTES


def oversized_body(client: ProbeClient) -> bytes:
    """The valid body padded one byte past the 64 KiB limit."""
    body = client.body(conformance_padding="x" * (MAX_BODY_BYTES + 1))
    return json.dumps(body).encode("utf-8")


def _chunked(content: bytes) -> Iterable[bytes]:
    return iter([content[i : i + 8192] for i in range(0, len(content), 8192)])


# 400: not a JSON object


@probe(
    variants={
        "truncated": b'{"instance_url": ',
        "empty": b"",
        "invalid-utf8": b'{"username": "\xff\xfe"}',
        # Deep enough to exhaust a recursive parser, small enough to stay under 64 KiB.
        "deep-nesting": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        "trailing-garbage": b'{"username": "x"} trailing',
        "single-quotes": b"{'username': 'x'}",
    }
)
def malformed_json_is_400(client: ProbeClient, content: bytes) -> None:
    """A body that is not parseable JSON is a 400 invalid_json."""
    exchange = client.send(headers=client.headers(), content=content)
    expect_status(exchange, 400, "invalid_json")


@probe(
    variants=lambda client: {
        "array": [client.valid_body],  # the valid body, wrapped: only the shape is wrong
        "null": None,
        "number": 42,
        "string": "x",
        "boolean": True,
    }
)
def non_object_json_is_400(client: ProbeClient, value: object) -> None:
    """JSON that is not an object (array, null, number…) is a 400 invalid_json."""
    expect_status(client.post(value), 400, "invalid_json")


# 413 and 415


@probe(variants={"content-length": lambda content: content, "chunked": _chunked})
def oversized_body_is_413(
    client: ProbeClient, framing: Callable[[bytes], bytes | Iterable[bytes]]
) -> None:
    """A body over 64 KiB is a 413 body_too_large, announced or streamed."""
    exchange = client.send(headers=client.headers(), content=framing(oversized_body(client)))
    expect_status(exchange, 413, "body_too_large")


@probe()
def missing_content_type_is_415(client: ProbeClient) -> None:
    """A JSON body without content-type is a 415 unsupported_media_type."""
    exchange = client.send(headers=client.headers(content_type=None), body=client.valid_body)
    expect_status(exchange, 415, "unsupported_media_type")


@probe(
    variants={
        "text-plain": "text/plain",
        "form": "application/x-www-form-urlencoded",
        "xml": "application/xml",
        "multipart": "multipart/form-data; boundary=conformance",
    }
)
def wrong_content_type_is_415(client: ProbeClient, content_type: str) -> None:
    """A valid JSON body under another content-type is a 415 unsupported_media_type."""
    headers = client.headers(content_type=content_type)
    exchange = client.send(headers=headers, body=client.valid_body)
    expect_status(exchange, 415, "unsupported_media_type")
