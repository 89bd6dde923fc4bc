"""pyvirt.xml.lazy_etree stands for lxml.etree: nothing is imported until a name is used, then
it answers with lxml's own objects and reads as a plain namespace."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_lxml_loads_on_first_use_and_answers_with_its_own_objects() -> None:
    code = textwrap.dedent("""
        import json, sys
        from pyvirt.xml.lazy_etree import etree
        from pyvirt.xml.safe import safe_parse
        before = "lxml.etree" in sys.modules
        root = safe_parse("<domain><name>x</name></domain>")
        from lxml import etree as real
        print(json.dumps({"before": before, "after": "lxml.etree" in sys.modules,
                          "same": etree.fromstring is real.fromstring and etree._Element is real._Element,
                          "element": isinstance(root, etree._Element), "hook": hasattr(type(etree), "__getattr__")}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert json.loads(out) == {"before": False, "after": True, "same": True, "element": True, "hook": False}
