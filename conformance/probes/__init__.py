"""Targeted probes: one request (or a few) per contract rule, each a function named for it.

Generated requests find what nobody thought of; probes make sure the rules somebody did think
of are tested on every run, whatever the generator draws. Every answer a probe receives is also
judged by all of `conformance.rules`. How a probe is written and registered: `conformance.probing`.

One module per family of rules, reported in the order of `FAMILIES` (within a module, in the
order of its functions); a new probe goes into the module of its family, a new family is a new
module named in `FAMILIES`, with the severity its probes have unless they say otherwise:

- `success`: the 200 path
- `auth`: 401, the bearer token
- `tenant`: 403, the tenant
- `validation`: 422, fields and headers
- `urls`: 422, the URL rules (scheme, literal addresses, hosts, web_url_instance's parts)
- `framing`: 400, 413, 415, the body as sent
- `routing`: 404, 405, before any token
- `browsers`: CORS
- `order`: the order of checks, one probe per ordered pair
- `secrets`: the api_token never comes back
- `scenarios`: mock mode's documented scenarios
"""

import dataclasses
import importlib

from conformance.probing import REGISTRY, Probe
from conformance.severity import Severity

__all__ = ["FAMILIES", "PROBES"]

FAMILIES: dict[str, Severity] = {
    "success": Severity.CRITICAL,
    "auth": Severity.CRITICAL,
    "tenant": Severity.CRITICAL,
    "validation": Severity.MAJOR,
    "urls": Severity.CRITICAL,  # the URL policy keeps callers out of internal networks
    "framing": Severity.MAJOR,
    "routing": Severity.MINOR,
    "browsers": Severity.MAJOR,
    "order": Severity.MAJOR,
    "secrets": Severity.CRITICAL,
    "scenarios": Severity.MINOR,
}

for _module in FAMILIES:
    importlib.import_module(f"{__name__}.{_module}")


def _family(probe: Probe) -> str:
    return probe.function.__module__.rpartition(".")[2]


PROBES: list[Probe] = [
    dataclasses.replace(probe, severity=probe.severity or FAMILIES[_family(probe)])
    for probe in sorted(REGISTRY, key=lambda probe: list(FAMILIES).index(_family(probe)))
]
