"""virt-install's CPU mitigation flags (added to named CPU models such as --cpu host-copy)
and its --seclabel model guess, checked without a connection."""

from __future__ import annotations

import pytest

from pyvirt.install.caps import Capabilities, DomCaps
from pyvirt.install.opts.domain import _guess_secmodel

_DOMCAPS = """<domainCapabilities><cpu>
<mode name='host-model' supported='{supported}'>
  <model fallback='forbid'>{model}</model>
  <feature policy='require' name='md-clear'/>
  <feature policy='require' name='ibpb'/>
  <feature policy='require' name='ibrs'/>
  <feature policy='disable' name='ssbd'/>
</mode></cpu></domainCapabilities>"""


@pytest.mark.parametrize(("model", "supported", "expected"), [
    # Cooperlake brings spec-ctrl and ssbd, but ssbd is disabled here
    ("Cooperlake", "yes", ["ibpb", "md-clear", "spec-ctrl"]),
    ("Skylake-Client-IBRS", "yes", ["ibpb", "md-clear", "spec-ctrl"]),
    ("qemu64", "yes", ["ibpb", "md-clear"]),
    ("Cooperlake", "no", []),
])
def test_cpu_security_features(model: str, supported: str, expected: list[str]) -> None:
    dc = DomCaps.parse(_DOMCAPS.format(model=model, supported=supported))
    assert dc.cpu_security_features == expected


def test_host_cpu_model_from_caps() -> None:
    caps = Capabilities.parse("<capabilities><host><cpu><arch>x86_64</arch>"
                              "<model>Skylake-Client-noTSX-IBRS</model></cpu></host>"
                              "</capabilities>")
    assert caps.host_cpu_model == "Skylake-Client-noTSX-IBRS"


@pytest.mark.parametrize(("models", "label", "expected"), [
    (["selinux", "dac"], None, "selinux"),
    (["selinux", "dac"], "system_u:system_r:svirt_t:s0", "selinux"),
    (["selinux", "dac"], "107:107", "dac"),
    (["testSecurity", "selinux"], "107:107", "testSecurity"),
    ([], None, None),
])
def test_guess_secmodel(models: list[str], label: str | None, expected: str | None) -> None:
    assert _guess_secmodel(models, label) == expected
