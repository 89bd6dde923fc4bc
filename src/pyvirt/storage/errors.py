"""Storage errors: :class:`pyvirt.api.PyvirtError` with libvirt's codes and the STORAGE domain."""

from __future__ import annotations

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError


def storage_error(message: str, code: int = ErrorCode.INTERNAL_ERROR) -> PyvirtError:
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
