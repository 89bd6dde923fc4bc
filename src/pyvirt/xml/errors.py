"""Errors raised while reading libvirt XML documents.

Three kinds, so callers (virsh ``define``, the daemon) can tell the user *why* a document was
refused: it is broken (:class:`XMLError`), it is valid libvirt that pyvirt cannot honour
(:class:`XMLUnsupportedError`: refusing beats building a different machine), or it is well
formed but inconsistent (:class:`XMLValidationError`).
"""

from __future__ import annotations


class XMLError(ValueError):
    """Malformed XML, a value of the wrong type, a bad unit, an element libvirt does not allow."""

    #: the message is libvirt's own text: reported with libvirt's prefix for its kind ("XML
    #: error: ", "unsupported configuration: ") by every driver
    libvirt_prefix = False

    def __init__(self, message: str, line: int | None = None, *, libvirt_words: bool = False) -> None:
        self.line = line
        if libvirt_words:
            self.libvirt_prefix = True
        self.message = message
        if line is not None and f"line {line}" not in message:
            message = f"{message} at line {line}"
        super().__init__(message)


class XMLUnsupportedError(XMLError):
    """Valid libvirt XML that pyvirt does not implement (refused rather than silently dropped)."""


class XMLConfigError(XMLError):
    """A configuration libvirt's own parser refuses as unsupported (VIR_ERR_CONFIG_UNSUPPORTED,
    "unsupported configuration: …") for every driver, unlike :class:`XMLUnsupportedError`,
    which only pyvirt's QEMU driver refuses."""

    libvirt_prefix = True


class XMLNoTargetError(XMLError):
    """A disk without a target name: libvirt's VIR_ERR_NO_TARGET, whose message is the error
    code's own text ("missing target information for device SRC"), with no prefix."""

    libvirt_prefix = True


class XMLNoSourceError(XMLError):
    """A device without its source: libvirt's VIR_ERR_NO_SOURCE, whose message is the error
    code's own text ("missing source information for device X"), with no prefix."""

    libvirt_prefix = True


class XMLInvalidArgError(XMLError):
    """A refusal libvirt's parser reports as VIR_ERR_INVALID_ARG ("invalid argument: …"), e.g. a
    size with an unknown unit suffix (virScaleInteger)."""

    libvirt_prefix = True


class XMLInternalError(XMLError):
    """A refusal libvirt's generic parser reports as VIR_ERR_INTERNAL_ERROR ("internal error: …",
    e.g. a second watchdog or balloon), so every driver words it that way."""

    libvirt_prefix = True


class XMLDriverError(XMLUnsupportedError):
    """A refusal of libvirt's QEMU driver (qemu_validate.c), in its words: generic drivers
    (the test driver) accept the document, as they accept what pyvirt leaves unsupported."""

    libvirt_prefix = True


class XMLValidationError(XMLError):
    """Semantically invalid: duplicate target dev, duplicate PCI address, bad name, ..."""


class XMLDetailError(XMLValidationError):
    """A rule libvirt reports as VIR_ERR_XML_DETAIL: virterror.c prints that code's message bare
    ("%s", no "XML error: " prefix), e.g. the firmware autoselection rules of <loader>/<nvram>,
    virtio-mem's block sizes, a memory device's NUMA node."""

    libvirt_prefix = True


class XMLMalformedError(XMLError):
    """Not well-formed XML.  `report` is libvirt's whole message for it (virxml.c's
    catchXMLError: the document's name, the line, libxml2's words, the input line and a
    pointer); drivers give it as VIR_ERR_XML_DETAIL, without the "XML error: " prefix."""

    def __init__(self, message: str, line: int | None, report: str) -> None:
        super().__init__(message, line)
        self.report = report
