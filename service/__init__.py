"""spacegate: lists the Confluence spaces a user can see, behind a contract-first API."""

__version__ = "0.1.0"
