"""Mock mode: the real handler over Confluence answers that are recorded or written by hand.

scenarios.py        `Scenario`, `Interaction`; recorded cassettes (vcrpy's format) loaded
scenario_file.py    hand-written files: YAML with lines kept, checked against a JSON Schema
confluence_pages.py a hand-written listing as Confluence's pages, per flavour
outcome.py          the status a scenario yields: the real client played over it
scenario_folder.py  the scenarios folder: both kinds by name, sequences, refusals
template.py         `python -m mocks new NAME`: a commented file to start from
prefer.py           the `Prefer` header (`example=…` / `code=…` / `delay=…`), as Prism reads it
adapter.py          `CassetteAdapter`, the `requests` adapter below the client: a cursor
                    per listing
playback.py         what one request's Confluence did: the calls, the latency they took
latency.py          Confluence's latency per answer: `Prefer: delay=`, `latency_ms`, default
journal.py          `GET /mock/requests`: requests captured cheaply, written when read
masking.py          what the journal shows of a request: secrets by name become `***`
sequences.py        sequences played, one step per request
state.py            the state the worker processes share: SQLite in a folder of the server's
mock_api.py         /mock/requests, /mock/reset, and mock-api.yaml, the mock's own OpenAPI
web.py              `mock_mode`: the scenario of each request, its 422, /mock/*, the mode
                    header
token_endpoint.py   `POST /mock/token`: a token for a browser, minted as the CLI mints it
swagger_ui.py       Swagger UI already authorized, every scenario in its `prefer` drop-down
record.py           `python -m mocks record`: the live client through vcrpy, secrets scrubbed
secret_forms.py     every form a credential can take in recorded text, to replace or find it
"""
