"""libvirt's report of malformed XML (virxml.c catchXMLError), from libxml2's first fatal error.

libvirt does not print libxml2's message alone: it names the document (the file, or for a
string the name its parser gives that kind, e.g. ``(domain_definition)``), the line, libxml2's
message, then the line of input the parser stopped in and a ``---^`` pointer under the spot:

    (network_definition):2: Opening and ending tag mismatch: b line 2 and c
      <b>x</c>
    ----------^

Scripts and users see this text from virsh on every driver, so pyvirt words it the same.  This
module imports no lxml: it works on the input bytes and the error's line and column.
"""

from __future__ import annotations

#: the name libvirt's parser gives a string document of each root element (virXMLParse's url)
URLS = {
    "domain": "(domain_definition)", "network": "(network_definition)", "pool": "(storage_pool_definition)",
    "volume": "(storage_volume_definition)", "interface": "(interface_definition)",
    "device": "(node_device_definition)", "domainsnapshot": "(domain_snapshot)",
    "domaincheckpoint": "(domain_checkpoint)", "domainbackup": "(domain_backup)",
    "secret": "(definition_of_secret)", "filter": "(nwfilter_definition)",
    "filterbinding": "(nwfilterbinding_definition)", "networkport": "(networkport_definition)",
    "source": "(storage_source_specification)", "cpu": "(CPU_definition)",
    "disk": "(disk_definition)",  # virDomainDiskDefParse: a lone <disk>, as block copy's destination
}
#: the same by libvirt's schema name, where that differs from the root element
SCHEMA_URLS = {**URLS, "nodedev": URLS["device"], "nwfilter": URLS["filter"], "nwfilterbinding": URLS["filterbinding"],
               "storagepool": URLS["pool"], "storagevol": URLS["volume"]}
#: net-update's snippet (networkUpdate's virXMLParseStringCtxt name, without parentheses)
NETWORK_UPDATE = "network_update_xml"
_EOL = (0x0A, 0x0D)


def _offset(data: bytes, line: int, column: int) -> int:
    """The byte offset of libxml2's (line, column): its column counts characters from 1."""
    start = 0
    for _ in range(max(line, 1) - 1):
        nl = data.find(b"\n", start)
        if nl < 0:
            return len(data)
        start = nl + 1
    end = data.find(b"\n", start)
    text = data[start:len(data) if end < 0 else end].decode("utf-8", "surrogateescape")
    return min(start + len(text[:max(column, 1) - 1].encode("utf-8", "surrogateescape")), len(data))


def context(data: bytes, cur: int) -> tuple[str, str]:
    """catchXMLError's context line and pointer for the parser stopped at byte `cur`: back over
    line ends, back to the line's start, the line up to its end, then one '-' (a tab stays a
    tab) per byte before the spot.  An empty line is printed as C's "(null)"; bytes that are not
    UTF-8 become U+FFFD (the message travels as JSON text)."""
    at = lambda i: data[i] if i < len(data) else 0  # noqa: E731  (C's NUL past the end)
    pos = cur
    while pos > 0 and at(pos) in _EOL:
        pos -= 1
    while pos > 0 and at(pos) not in _EOL:
        pos -= 1
    if at(pos) in _EOL:
        pos += 1
    col = cur - pos
    end = pos
    while end < len(data) and data[end] not in _EOL and data[end] != 0:
        end += 1
    line = data[pos:end]
    pointer = "".join("\t" if b == 0x09 else "-" for b in line[:max(col, 0)]) + "^"
    return (line.decode("utf-8", "replace") if line else "(null)"), pointer


def libvirt_message(message: str, data: bytes, cur: int) -> str:
    """libxml2 2.9's words (the ones libvirt 9.0 links against) where newer libxml2 words an
    error differently: an encoding error names the four bytes at the spot."""
    if message == "Invalid bytes in character encoding":
        shown = data[cur:cur + 4] if len(data) - cur >= 4 else data[cur:cur + 1]
        return "Input is not proper UTF-8, indicate encoding !\nBytes: " + " ".join(f"0x{b:02X}" for b in shown)
    return message


def report(url: str | None, message: str, data: bytes, line: int, column: int) -> str:
    """The whole of libvirt's message for the first fatal error at (line, column) of `data`."""
    cur = _offset(data, line, column)
    text, pointer = context(data, cur)
    words = libvirt_message(message.rstrip("\n"), data, cur)
    where = f"{url}:{line}: " if url else f"at line {line}: "
    return f"{where}{words}\n{text}\n{pointer}"
