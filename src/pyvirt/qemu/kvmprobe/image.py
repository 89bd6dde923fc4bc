"""The KVM probe's firmware image: a 64 KiB flat "BIOS" that walks real -> protected -> long mode.

Why a hand-assembled image: a real-mode loop runs under almost any KVM backend (kvm_pvm
included), yet a standard guest kernel needs protected mode, PAE paging and long mode. This
image exercises exactly those transitions and reports each one, so a host whose KVM cannot
run unmodified guests is caught in milliseconds instead of by a hanging guest. No assembler
is needed at runtime: the bytes below are x86 machine code written out by hand, one
instruction per entry, and a tiny label table fills in the few addresses.

Progress is reported on the Bochs/QEMU debug console (port 0xE9): ``R`` (executing in real
mode), ``P`` (protected mode), ``L`` (long mode with paging, EFER.LMA checked). The final
verdict is a write to ``isa-debug-exit`` (port 0xF4), which makes QEMU exit with status
``(value << 1) | 1``: SUCCESS_EXIT on success, FAILURE_EXIT when EFER.LMA is clear.

Memory map used by the program (all identity-mapped by one 2 MiB page):
  0x1000 PML4, 0x2000 PDPT, 0x3000 page directory, stack top 0x8000,
  0xF0000-0xFFFFF this image (QEMU maps the last 64 KiB of -bios below 1 MiB).
"""

from __future__ import annotations

import struct

IMAGE_SIZE = 0x10000
IMAGE_BASE = 0xF0000  # where the image appears below 1 MiB (and CS=0xF000 covers it)
RESET_OFFSET = 0xFFF0  # reset vector: physical 0xFFFFFFF0 aliases image offset 0xFFF0
DEBUGCON_PORT = 0xE9
EXIT_PORT = 0xF4
SUCCESS_VALUE = 0x31
FAILURE_VALUE = 0x01
SUCCESS_EXIT = (SUCCESS_VALUE << 1) | 1  # 99
FAILURE_EXIT = (FAILURE_VALUE << 1) | 1  # 3

_SEL_CODE32 = 0x08
_SEL_DATA = 0x10
_SEL_CODE64 = 0x18
_IDT_VECTORS = 32  # exceptions 0-31: #3 returns, any other one reports failure


class _Asm:
    """Collects hand-written instruction bytes; resolves labels for the few absolute addresses."""

    def __init__(self) -> None:
        self.code = bytearray()
        self.labels: dict[str, int] = {}
        self.fixups: list[tuple[int, str, str]] = []  # (offset, label, kind)

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def emit(self, raw: bytes, _comment: str = "") -> None:
        self.code += raw

    def emit_ref(self, raw: bytes, label: str, kind: str, tail: bytes = b"", _comment: str = "") -> None:
        """Emit ``raw``, then a placeholder for ``label`` (kind: abs16 / lin32 / rel8), then ``tail``."""
        self.code += raw
        size = {"abs16": 2, "lin32": 4, "rel8": 1, "gate64": 16}[kind]
        self.fixups.append((len(self.code), label, kind))
        self.code += b"\0" * size
        self.code += tail

    def resolve(self) -> bytes:
        for off, label, kind in self.fixups:
            target = self.labels[label]
            if kind == "abs16":  # offset within CS=0xF000 (real mode)
                self.code[off : off + 2] = struct.pack("<H", target)
            elif kind == "lin32":  # linear address (flat segments, identity paging)
                self.code[off : off + 4] = struct.pack("<I", IMAGE_BASE + target)
            elif kind == "gate64":  # 64-bit interrupt gate: selector 0x18, present, DPL0, type 0xE
                lin = IMAGE_BASE + target
                self.code[off : off + 16] = struct.pack(
                    "<HHBBHII", lin & 0xFFFF, _SEL_CODE64, 0, 0x8E, (lin >> 16) & 0xFFFF, lin >> 32, 0
                )
            else:  # rel8: relative to the end of the 1-byte displacement
                rel = target - (off + 1)
                if not -128 <= rel <= 127:
                    raise ValueError(f"rel8 jump to {label} out of range")
                self.code[off] = rel & 0xFF
        return bytes(self.code)


def _gdt_entry(access: int, flags: int) -> bytes:
    """A flat 4 GiB descriptor; access bytes keep the 'accessed' bit set so the CPU never writes ROM."""
    return struct.pack("<HHBBBB", 0xFFFF, 0, 0, access, (flags << 4) | 0xF, 0)


def build_image() -> bytes:
    """Return the 64 KiB probe image (deterministic bytes)."""
    a = _Asm()
    # ---- 16-bit real mode, entered from the reset vector with CS=0xF000 ----
    a.label("start16")
    a.emit(b"\xfa", "cli")
    a.emit(b"\xb0\x52", "mov al, 'R'")
    a.emit(b"\xe6\xe9", "out 0xE9, al")
    a.emit_ref(b"\x66\x2e\x0f\x01\x16", "gdtr", "abs16", _comment="o32 lgdt cs:[gdtr]")
    a.emit(b"\x0f\x20\xc0", "mov eax, cr0")
    a.emit(b"\x0c\x01", "or al, 1  (CR0.PE)")
    a.emit(b"\x0f\x22\xc0", "mov cr0, eax")
    a.emit_ref(b"\x66\xea", "start32", "lin32", struct.pack("<H", _SEL_CODE32), "o32 jmp far 0x08:start32")
    # ---- 32-bit protected mode, flat segments ----
    a.label("start32")
    a.emit(b"\x66\xb8" + struct.pack("<H", _SEL_DATA), "mov ax, 0x10")
    a.emit(b"\x8e\xd8", "mov ds, ax")
    a.emit(b"\x8e\xc0", "mov es, ax")
    a.emit(b"\x8e\xd0", "mov ss, ax")
    a.emit(b"\xb0\x50", "mov al, 'P'")
    a.emit(b"\xe6\xe9", "out 0xE9, al")
    a.emit(b"\xbf\x00\x10\x00\x00", "mov edi, 0x1000")
    a.emit(b"\x31\xc0", "xor eax, eax")
    a.emit(b"\xb9\x00\x0c\x00\x00", "mov ecx, 0xC00  (3 pages of dwords)")
    a.emit(b"\xfc", "cld")
    a.emit(b"\xf3\xab", "rep stosd")
    a.emit(b"\xc7\x05\x00\x10\x00\x00\x03\x20\x00\x00", "mov dword [0x1000], 0x2003  PML4[0] -> PDPT")
    a.emit(b"\xc7\x05\x00\x20\x00\x00\x03\x30\x00\x00", "mov dword [0x2000], 0x3003  PDPT[0] -> PD")
    a.emit(b"\xc7\x05\x00\x30\x00\x00\x83\x00\x00\x00", "mov dword [0x3000], 0x83    PD[0]: 2 MiB page at 0")
    a.emit(b"\x0f\x20\xe0", "mov eax, cr4")
    a.emit(b"\x83\xc8\x20", "or eax, 0x20  (CR4.PAE)")
    a.emit(b"\x0f\x22\xe0", "mov cr4, eax")
    a.emit(b"\xb8\x00\x10\x00\x00", "mov eax, 0x1000")
    a.emit(b"\x0f\x22\xd8", "mov cr3, eax")
    a.emit(b"\xb9\x80\x00\x00\xc0", "mov ecx, 0xC0000080  (EFER)")
    a.emit(b"\x0f\x32", "rdmsr")
    a.emit(b"\x0d\x00\x01\x00\x00", "or eax, 0x100  (EFER.LME)")
    a.emit(b"\x0f\x30", "wrmsr")
    a.emit(b"\x0f\x20\xc0", "mov eax, cr0")
    a.emit(b"\x0d\x00\x00\x00\x80", "or eax, 0x80000000  (CR0.PG)")
    a.emit(b"\x0f\x22\xc0", "mov cr0, eax")
    a.emit_ref(b"\xea", "start64", "lin32", struct.pack("<H", _SEL_CODE64), "jmp far 0x18:start64")
    # ---- 64-bit long mode ----
    a.label("start64")
    a.emit(b"\xbc\x00\x80\x00\x00", "mov esp, 0x8000  (zero-extends into rsp)")
    a.emit(b"\xb9\x80\x00\x00\xc0", "mov ecx, 0xC0000080")
    a.emit(b"\x0f\x32", "rdmsr")
    a.emit(b"\xa9\x00\x04\x00\x00", "test eax, 0x400  (EFER.LMA)")
    a.emit_ref(b"\x74", "fail", "rel8", _comment="jz fail")
    a.emit(b"\xb0\x4c", "mov al, 'L'")
    a.emit(b"\xe6\xe9", "out 0xE9, al")
    a.emit_ref(b"\x0f\x01\x1c\x25", "idtr", "lin32", _comment="lidt [idtr]  (SIB absolute form)")
    a.emit(b"\xcc", "int3  -> vector 3 through the IDT, handler returns with iretq")
    a.emit(b"\xb0\x49", "mov al, 'I'  (exception delivered and returned)")
    a.emit(b"\xe6\xe9", "out 0xE9, al")
    a.emit(b"\x6a" + bytes([SUCCESS_VALUE]), "push SUCCESS_VALUE  (uses the stack through paging)")
    a.emit(b"\x58", "pop rax")
    a.emit(b"\xe6\xf4", "out 0xF4, al  -> QEMU exits with SUCCESS_EXIT")
    a.label("halt")
    a.emit(b"\xf4", "hlt")
    a.emit_ref(b"\xeb", "halt", "rel8", _comment="jmp halt")
    a.label("int3_handler")
    a.emit(b"\x48\xcf", "iretq")
    a.label("fail")
    a.emit(b"\xb0" + bytes([FAILURE_VALUE]), "mov al, FAILURE_VALUE")
    a.emit(b"\xe6\xf4", "out 0xF4, al  -> QEMU exits with FAILURE_EXIT")
    a.emit_ref(b"\xeb", "halt", "rel8", _comment="jmp halt")
    # ---- data: GDT and its pseudo-descriptor ----
    while len(a.code) % 8:
        a.emit(b"\x90", "pad")
    a.label("gdt")
    a.emit(b"\0" * 8, "null descriptor")
    a.emit(_gdt_entry(0x9B, 0xC), "0x08: 32-bit code, G=1 D=1")
    a.emit(_gdt_entry(0x93, 0xC), "0x10: data, G=1 B=1")
    a.emit(_gdt_entry(0x9B, 0xA), "0x18: 64-bit code, G=1 L=1")
    a.label("gdtr")
    a.emit(struct.pack("<H", 4 * 8 - 1), "GDT limit")
    a.emit_ref(b"", "gdt", "lin32", _comment="GDT linear base")
    a.emit(b"\0" * 2, "pad so the IDT is 8-aligned")
    a.label("idt")
    for vector in range(_IDT_VECTORS):
        a.emit_ref(b"", "int3_handler" if vector == 3 else "fail", "gate64", _comment=f"vector {vector}")
    a.label("idtr")
    a.emit(struct.pack("<H", _IDT_VECTORS * 16 - 1), "IDT limit")
    a.emit_ref(b"", "idt", "lin32", b"\0" * 4, _comment="IDT linear base (64-bit)")
    code = a.resolve()

    image = bytearray(b"\xf4" * IMAGE_SIZE)  # hlt everywhere else
    image[: len(code)] = code
    # reset vector: jmp far 0xF000:start16 (CS base becomes 0xF0000)
    image[RESET_OFFSET : RESET_OFFSET + 5] = b"\xea" + struct.pack("<HH", a.labels["start16"], 0xF000)
    return bytes(image)
