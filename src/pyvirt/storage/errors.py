"""Storage errors: :class:`pyvirt.api.PyvirtError` with libvirt's codes and the STORAGE domain."""

from __future__ import annotations

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

#: libvirt's virErrorMsg() prefixes: virsh prints "error: <prefix><detail>", and users (and
#: scripts) match on that whole line, so a storage error carries the prefix its code gets in
#: libvirt.  A message that already starts with it is left alone.
PREFIXES: dict[int, str] = {
    ErrorCode.INTERNAL_ERROR: "internal error: ",
    ErrorCode.OPERATION_INVALID: "Requested operation is not valid: ",
    ErrorCode.OPERATION_FAILED: "operation failed: ",
    ErrorCode.INVALID_ARG: "invalid argument: ",
    ErrorCode.OPERATION_UNSUPPORTED: "Operation not supported: ",
    ErrorCode.CONFIG_UNSUPPORTED: "unsupported configuration: ",
    ErrorCode.XML_ERROR: "XML error: ",
}


def storage_error(message: str, code: int = ErrorCode.INTERNAL_ERROR) -> PyvirtError:
    prefix = PREFIXES.get(int(code), "")
    if prefix and not message.startswith(prefix):
        message = prefix + message
    return PyvirtError(message, code, ErrorDomain.STORAGE)


def invalid_arg(message: str) -> PyvirtError:
    return storage_error(message, ErrorCode.INVALID_ARG)


def op_invalid(message: str) -> PyvirtError:
    return storage_error(message, ErrorCode.OPERATION_INVALID)


def op_failed(message: str) -> PyvirtError:
    return storage_error(message, ErrorCode.OPERATION_FAILED)


def unsupported(message: str) -> PyvirtError:
    return storage_error(message, ErrorCode.OPERATION_UNSUPPORTED)


def no_pool(name: str) -> PyvirtError:
    return storage_error(f"Storage pool not found: no storage pool with matching name '{name}'",
                         ErrorCode.NO_STORAGE_POOL)


def no_vol(desc: str) -> PyvirtError:
    return storage_error(f"Storage volume not found: {desc}", ErrorCode.NO_STORAGE_VOL)
