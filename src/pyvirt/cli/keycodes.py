"""Symbolic key names for ``send-key`` (Linux input codes; the common subset)."""

from __future__ import annotations

_ROWS = {
    1: "ESC 1 2 3 4 5 6 7 8 9 0 MINUS EQUAL BACKSPACE TAB Q W E R T Y U I O P LEFTBRACE RIGHTBRACE ENTER "
       "LEFTCTRL A S D F G H J K L SEMICOLON APOSTROPHE GRAVE LEFTSHIFT BACKSLASH Z X C V B N M COMMA DOT "
       "SLASH RIGHTSHIFT KPASTERISK LEFTALT SPACE CAPSLOCK F1 F2 F3 F4 F5 F6 F7 F8 F9 F10",
}
LINUX: dict[str, int] = {f"KEY_{n}": i for i, n in enumerate(_ROWS[1].split(), start=1)}
LINUX.update({"KEY_F11": 87, "KEY_F12": 88, "KEY_RIGHTCTRL": 97, "KEY_SYSRQ": 99, "KEY_RIGHTALT": 100,
              "KEY_HOME": 102, "KEY_UP": 103, "KEY_PAGEUP": 104, "KEY_LEFT": 105, "KEY_RIGHT": 106,
              "KEY_END": 107, "KEY_DOWN": 108, "KEY_PAGEDOWN": 109, "KEY_INSERT": 110, "KEY_DELETE": 111,
              "KEY_POWER": 116, "KEY_LEFTMETA": 125, "KEY_RIGHTMETA": 126})


#: virKeycodeSet's names (rfb: qnum's older name), case as written
CODESETS = frozenset({"linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum", "rfb"})


def keycode(codeset: str, name: str) -> int | None:
    """An integer keycode, or a symbolic name in the linux codeset; None when unknown."""
    try:
        return int(name, 0)
    except ValueError:
        pass
    if codeset == "linux":
        return LINUX.get(name.upper() if name.upper().startswith("KEY_") else f"KEY_{name.upper()}")
    return None
