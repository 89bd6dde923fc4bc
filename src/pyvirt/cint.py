"""How libvirt's and virsh's C code print a number it holds in a 32-bit int.

Their messages format unsigned values with %d (a vCPU or IOThread id, a vCPU count): a number
past INT_MAX that reached them as an unsigned int is printed negative.  Shared by the CLI and
both drivers so that such a message reads as libvirt's.
"""


def as_c_int(n: int) -> int:
    """`n` as C's %d prints it from a 32-bit int (4294967295 -> -1, 2147483648 -> -2147483648)."""
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n >= 1 << 31 else n
