"""pyvirtd.conf (libvirtd.conf's syntax) and the DN rules of the TLS listener."""

from __future__ import annotations

import pytest

from pyvirt.daemon.config import ConfigError, parse
from pyvirt.pki import client_files, distinguished_name, dn_matches, server_files


def test_values_lists_and_comments() -> None:
    conf = parse('# c\nlisten_tls = 1  # on\ntls_port = "16600"\n'
                 'tls_allowed_dn_list = ["C=GB,O=a #1,CN=*",\n  "CN=x"]\n')
    assert conf.listen_tls == 1 and conf.tls_port == "16600"
    assert conf.tls_allowed_dn_list == ["C=GB,O=a #1,CN=*", "CN=x"]
    assert conf.listen_addr == "0.0.0.0" and conf.tls_readonly_dn_list == []  # defaults


@pytest.mark.parametrize("text, words", [
    ("auth_tls = 'none'\n", "pyvirtd.conf:1: unsupported setting 'auth_tls'"),
    ("listen_tls = \"yes\"\n", "listen_tls must be an integer"),
    ("tls_allowed_dn_list = [1]\n", "a list of strings"),
    ("\n\nlisten_tls\n", "pyvirtd.conf:3: expected 'name = value'"),
    ("tls_port = oops\n", "cannot read value"),
    ("tls_allowed_dn_list = [\"a\",\n", "unterminated list"),
])
def test_bad_settings_are_refused_with_file_and_line(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("[", r"\[")):
        parse(text)


def test_pki_layout_mirrors_libvirts() -> None:
    s = server_files("/etc/pyvirt")
    assert (s.ca, s.cert, s.key) == ("/etc/pyvirt/pki/CA/cacert.pem", "/etc/pyvirt/pki/pyvirt/servercert.pem",
                                     "/etc/pyvirt/pki/pyvirt/private/serverkey.pem")
    c = client_files("/etc/pyvirt")
    assert (c.cert, c.key) == ("/etc/pyvirt/pki/pyvirt/clientcert.pem", "/etc/pyvirt/pki/pyvirt/private/clientkey.pem")
    p = client_files("/etc/pyvirt", "/my/pki")
    assert (p.ca, p.cert, p.key) == ("/my/pki/cacert.pem", "/my/pki/clientcert.pem", "/my/pki/clientkey.pem")


def test_dn_written_and_matched_as_libvirt_documents() -> None:
    subject = ((("countryName", "GB"),), (("organizationName", "Red Hat, Inc"),), (("commonName", "c1"),))
    dn = distinguished_name(subject)
    assert dn == "C=GB,O=Red Hat\\, Inc,CN=c1"
    assert dn_matches(dn, ["C=GB,O=Red Hat\\, Inc,CN=*"])
    assert dn_matches(dn, ["CN=c1,O=Red Hat\\, Inc,C=GB"])  # RFC 4514 order
    assert not dn_matches(dn, ["C=GB,O=Red Hat\\, Inc,CN=c2", "CN=c1"])
