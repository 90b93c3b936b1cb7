"""Mock mode: the real handler over recorded Confluence traffic.

scenarios.py   cassettes (vcrpy's format) loaded once into `Scenario`s
prefer.py      which scenario a request asks for (`Prefer: example=…` / `code=…`)
adapter.py     a `requests` adapter answering from one scenario, a cursor per API request
transport.py   `CassetteTransport`, the `Transport` mock mode plugs in below the client
record.py      `python -m mocks record`: the live client through vcrpy, secrets scrubbed
secret_forms.py  every form a credential can take in recorded text, to replace or find it
"""
