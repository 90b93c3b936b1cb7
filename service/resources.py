"""Where the contract and the cassettes are, from a checkout and from an installed wheel."""

from __future__ import annotations

from pathlib import Path

__all__ = ["default_cassettes_dir", "spec_path"]

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # An installed wheel carries the file inside the package (see pyproject's force-include);
    # a checkout keeps it at the top, beside the packages.
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} is neither in {_PACKAGE} nor in {_PACKAGE.parent}")


def spec_path() -> Path:
    """The OpenAPI document, the single source of truth for the operation."""
    return _find("openapi.yaml")


def default_cassettes_dir() -> Path:
    """The folder of shipped scenario cassettes."""
    try:
        return _find("cassettes")
    except FileNotFoundError:
        return _PACKAGE.parent / "cassettes"
