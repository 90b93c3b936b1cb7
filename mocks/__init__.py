"""Mock mode: the real handler over recorded Confluence traffic.

    scenarios.py   cassettes (vcrpy's format) loaded once into `Scenario`s
    prefer.py      the `Prefer` header (`example=…` / `code=…`), parsed as Prism reads it
    adapter.py     `CassetteAdapter`, the `requests` adapter below the client: a cursor per listing
    web.py         `mock_mode`: the scenario of each request, its 422, /mock/*, the mode header
    token_endpoint.py  `POST /mock/token`: a token for a browser, minted as the CLI mints it
    swagger_ui.py  Swagger UI already authorized, every scenario in its `prefer` drop-down
    record.py      `python -m mocks record`: the live client through vcrpy, secrets scrubbed
    secret_forms.py  every form a credential can take in recorded text, to replace or find it
"""
