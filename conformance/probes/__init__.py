"""Targeted probes: one request (or a few) per contract rule, each a function named for it.

Generated requests find what nobody thought of; probes make sure the rules somebody did think
of are tested on every run, whatever the generator draws. Every answer a probe receives is also
judged by all of `conformance.rules`. How a probe is written and registered: `conformance.probing`.

One module per family of rules, reported in the order of `FAMILIES` (within a module, in the
order of its functions); a new probe goes into the module of its family, a new family is a new
module named in `FAMILIES`:

- `success`: the 200 path
- `auth`: 401, the bearer token
- `tenant`: 403, the tenant
- `validation`: 422, fields and headers
- `framing`: 400, 413, 415, the body as sent
- `routing`: 404, 405, before any token
- `browsers`: CORS
- `order`: the order of checks, one probe per ordered pair
- `secrets`: the api_token never comes back
- `scenarios`: mock mode's documented scenarios
"""

import importlib

from conformance.probing import REGISTRY, Probe

__all__ = ["FAMILIES", "PROBES"]

FAMILIES = (
    "success",
    "auth",
    "tenant",
    "validation",
    "framing",
    "routing",
    "browsers",
    "order",
    "secrets",
    "scenarios",
)

for _family in FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")


def _family_of(probe: Probe) -> int:
    return FAMILIES.index(probe.function.__module__.rpartition(".")[2])


PROBES: list[Probe] = sorted(REGISTRY, key=_family_of)
