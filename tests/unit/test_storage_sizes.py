"""virsh-style size parsing."""

import pytest

from pyvirt.api import PyvirtError
from pyvirt.storage.names import check_name
from pyvirt.storage.sizes import parse_size


@pytest.mark.parametrize("text,value", [
    ("10G", 10 * 2**30), ("1024M", 2**30), ("512KiB", 512 * 1024), ("7", 7), ("3b", 3),
    ("1k", 1024), ("2MiB", 2 * 2**20), ("1GiB", 2**30), ("1T", 2**40), ("1TiB", 2**40),
    ("1KB", 1000), ("5MB", 5 * 10**6), ("2GB", 2 * 10**9), ("0", 0), (42, 42),
])
def test_parse(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["-1", "-1G", "1.5G", "G", "", "10X", "10 GiBs", "9" * 30, True])
def test_refused(text):
    with pytest.raises(ValueError):
        parse_size(text)


@pytest.mark.parametrize("name", ["a/b", "..", ".", "-rf", "", "x\0y", ".hidden", "a" * 256])
def test_bad_names(name):
    with pytest.raises(PyvirtError):
        check_name(name, "storage volume")


def test_bad_names_are_refused_in_clear_words() -> None:
    """A '/' in libvirt's words and code (virsh vol-create-as builds XML, which
    virStorageVolDefParseXML refuses); other refusals name the value once, not in doubled
    quotes (pyvirt said "name ''a/b'' must not contain '/' or NUL")."""
    from pyvirt.api import ErrorCode

    with pytest.raises(PyvirtError) as slash:
        check_name("../x", "storage volume")
    assert slash.value.message == "XML error: volume name '../x' cannot contain '/'"
    assert slash.value.code == ErrorCode.XML_ERROR
    with pytest.raises(PyvirtError) as pool:
        check_name("a/b", "storage pool")
    assert pool.value.message == "XML error: name a/b cannot contain '/'"
    with pytest.raises(PyvirtError) as control:
        check_name("a\tb", "storage volume")
    assert control.value.message == "invalid argument: storage volume name 'a\\tb' must not contain control characters"
