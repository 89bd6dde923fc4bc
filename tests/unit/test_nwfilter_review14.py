"""Session 14's review of the nwfilter driver (failed before its fix): a redefinition whose file
could not be written (ENOSPC) was refused, but the ports using the filter kept the new rules."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.nwfilter import driver as driver_mod
from pyvirt.nwfilter import nft
from pyvirt.nwfilter.driver import NWFilterDriver

BINDING = """<filterbinding><owner><name>g</name><uuid>11111111-2222-3333-4444-555555555555</uuid></owner>
<portdev name='vnet7'/><mac address='52:54:00:00:00:07'/><filterref filter='f'/></filterbinding>"""


def test_a_redefinition_that_cannot_be_saved_leaves_the_rules_as_they_were(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    applied: dict[str, str] = {}
    monkeypatch.setattr(nft, "apply", lambda port, rules: applied.__setitem__(port, repr(rules)))
    monkeypatch.setattr(nft, "remove", lambda port: applied.pop(port, None))
    drv = NWFilterDriver(tmp_path / "nwfilter", tmp_path / "bindings")
    drv.load()
    drv.define_nwfilter("<filter name='f' chain='root'><rule action='accept' direction='in'/></filter>")
    drv.create_nwfilter_binding(BINDING)
    before, text = applied["vnet7"], (tmp_path / "nwfilter" / "f.xml").read_text()

    def enospc(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(driver_mod, "write_atomic", enospc)
    with pytest.raises(PyvirtError, match="No space left on device"):
        drv.define_nwfilter("<filter name='f' chain='root'><rule action='drop' direction='in'/></filter>")
    assert applied["vnet7"] == before  # the port runs the definition that is still the filter's
    assert (tmp_path / "nwfilter" / "f.xml").read_text() == text and "accept" in drv.get_nwfilter_xml("f")
