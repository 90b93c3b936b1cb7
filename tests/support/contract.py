"""The contract as a judge: every answer of the documented operation checked by openapi-core."""

from __future__ import annotations

from functools import lru_cache

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.exceptions import OpenAPIError

from service.resources import spec_path


@lru_cache(maxsize=1)
def _spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(spec_path()))


def assert_conforms(response: requests.Response) -> requests.Response:
    """Fail unless `response` is one the contract documents for its request."""
    try:
        _spec().validate_response(
            RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
        )
    except OpenAPIError as exc:
        raise AssertionError(
            f"{response.request.method} {response.request.url} -> {response.status_code} "
            f"breaks openapi.yaml: {exc!r}\nbody: {response.text[:500]}"
        ) from exc
    return response
