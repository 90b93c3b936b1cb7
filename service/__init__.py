"""spacegate: lists the Confluence spaces a user can see, behind a contract-first API."""

import warnings

# connexion imports starlette's test client at start-up, which warns on every start unless
# httpx2 is installed; an operator can do nothing about it, so it is not shown.
warnings.filterwarnings(
    "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
)

# The one place the version is written: the package metadata reads it from here (pyproject.toml).
__version__ = "0.1.0"
