"""Clients generated from the contract by other people's tools, as a team using spacegate would.

- `generate_python_client(source, folder)`: openapi-python-client (a test extra of
  pyproject.toml) from a file or a URL, into an importable package.
- `generate_typescript_types(source, target)`: openapi-typescript (pinned in
  tools/package.json, installed by tox's `npm ci`).
- `node_tool(name)`: the path of a tool tools/package.json installs, or a failure saying how to
  install it.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "tools" / "node_modules" / ".bin"
PYTHON_PACKAGE = "spacegate_client"
# No post-generation hooks: the generator's default formats its output with ruff, a program
# the client does not need to work.
_PYTHON_CONFIG = f"package_name_override: {PYTHON_PACKAGE}\npost_hooks: []\n"


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def generate_python_client(source: str | Path, folder: Path) -> Path:
    """openapi-python-client's package for `source` (a path or an http URL) in `folder`."""
    config = folder / "openapi-python-client.yaml"
    config.write_text(_PYTHON_CONFIG)
    package = folder / PYTHON_PACKAGE
    generator = Path(sys.executable).with_name("openapi-python-client")
    where = ["--url", source] if str(source).startswith("http") else ["--path", str(source)]
    _run(
        [str(generator), "generate", *where, "--output-path", str(package), "--meta", "none",
         "--config", str(config), "--overwrite"],
        f"openapi-python-client on {source}",
    )  # fmt: skip
    return package


def model_names(package: Path) -> set[str]:
    """The model classes a generated Python package exports."""
    tree = ast.parse((package / "models" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{package}/models/__init__.py has no __all__")


def import_python_client(package: Path) -> ModuleType:
    """The generated package, imported (its folder's parent goes on sys.path once)."""
    parent = str(package.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    importlib.invalidate_caches()
    return importlib.import_module(package.name)


def node_tool(name: str) -> Path:
    path = NODE_BIN / name
    if not path.exists():
        pytest.fail(
            f"{path} is missing: tox installs the pinned tools of tools/package.json with "
            f"`npm ci` (by hand: `npm ci --prefix {ROOT / 'tools'}`)"
        )
    return path


def generate_typescript_types(source: str | Path, target: Path) -> Path:
    """openapi-typescript's declarations for `source` (a path or an http URL), in `target`."""
    _run(
        [str(node_tool("openapi-typescript")), str(source), "--output", str(target)],
        f"openapi-typescript on {source}",
    )
    return target
