"""pyvirt.xml imports nothing of pyvirt but itself and pyvirt.api (its package docstring): the
load indexes (pyvirt.textindex) fingerprint pyvirt/xml's files as all a stored text's parse
depends on, and the XML model serves the CLI, the test driver and the daemon alike."""

from __future__ import annotations

import ast
from pathlib import Path

import pyvirt.xml


def test_the_xml_package_imports_only_itself_and_the_api() -> None:
    outside = []
    for path in sorted(Path(pyvirt.xml.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):  # function-level imports too
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            outside += [f"{path.name}:{node.lineno}: {n}" for n in names
                        if n.startswith("pyvirt") and n != "pyvirt.api" and not n.startswith("pyvirt.xml")]
    assert outside == []
