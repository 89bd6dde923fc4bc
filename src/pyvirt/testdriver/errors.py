"""libvirt test-driver error wording (VIR_FROM_TEST), in one place."""

from __future__ import annotations

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError


def err(message: str, code: int) -> PyvirtError:
    return PyvirtError(message, code, ErrorDomain.TEST)


def no_domain(ref: str, by: str = "name") -> PyvirtError:
    return err(f"Domain not found: no domain with matching {by} '{ref}'", ErrorCode.NO_DOMAIN)


def lookup_failed() -> PyvirtError:
    """testDomainLookupByName/UUID/ID: VIR_ERR_NO_DOMAIN with no detail of its own."""
    return err("Domain not found", ErrorCode.NO_DOMAIN)


def invalid(message: str) -> PyvirtError:
    """VIR_ERR_OPERATION_INVALID: 'Requested operation is not valid: …'."""
    return err(f"Requested operation is not valid: {message}", ErrorCode.OPERATION_INVALID)


def internal(message: str) -> PyvirtError:
    return err(f"internal error: {message}", ErrorCode.INTERNAL_ERROR)


def failed(message: str) -> PyvirtError:
    return err(f"operation failed: {message}", ErrorCode.OPERATION_FAILED)


def invalid_arg(message: str) -> PyvirtError:
    return err(f"invalid argument: {message}", ErrorCode.INVALID_ARG)


def unsupported_flags(flags: int, function: str) -> PyvirtError:
    return err(f"unsupported flags (0x{flags:x}) in function {function}", ErrorCode.INVALID_ARG)




def denied(function: str) -> PyvirtError:
    return PyvirtError(f"operation forbidden: read only access prevents {function}",
                       ErrorCode.OPERATION_DENIED, ErrorDomain.NONE)
