"""Requests whose header lines repeat a name, which `requests`' header dict cannot express."""

from __future__ import annotations

from collections.abc import Sequence

import requests
from urllib3 import HTTPHeaderDict


def post_with_header_lines(
    url: str, body: bytes, lines: Sequence[tuple[str, str]], *, timeout: float = 20
) -> requests.Response:
    """POST `body` with exactly these header lines, in order, repeats included.

    urllib3 writes one line per value of an HTTPHeaderDict; the prepared request keeps that
    dict, so the answer's `.request` still describes what was sent.
    """
    prepared = requests.Request("POST", url, data=body).prepare()
    headers = HTTPHeaderDict()
    for name, value in lines:
        headers.add(name, value)
    headers["Content-Length"] = str(len(body))
    prepared.headers = headers  # type: ignore[assignment]
    with requests.Session() as session:
        return session.send(prepared, timeout=timeout)
