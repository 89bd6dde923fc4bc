"""JSON text judged as libvirt's virJSONValueFromString judges it (yajl 2, comments off), with
yajl's verbose error as libvirt reports it: ``cannot parse json TEXT: lexical error: ...`` or
``parse error: ...``, the text around the spot and yajl's ``(right here) ------^`` line.

Python's json module takes what yajl refuses (NaN, Infinity) and words its errors otherwise, so
virsh's qemu-monitor-command wrapping (cmdQemuMonitorCommandQMPWrap) is judged here.  The error
offsets are yajl's: a lexical error at the character that stopped the token (after it when the
character starts no token), a parse error after the token that does not fit (less its text
after a map's value: yajl's "restore error offset"), and "premature EOF" at 1 (yajl finishes by
parsing one blank of its own and reports against the caller's text).
"""

from __future__ import annotations

_BLANKS = " \t\n\v\f\r"
_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"


class _Error(Exception):
    def __init__(self, kind: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.kind, self.message, self.offset = kind, message, offset


def _lex(text: str, i: int) -> tuple[str, int, int]:
    """The next token from `i`: (kind, start, end); kind "eof" at the end (or inside a token)."""
    n = len(text)
    while i < n and text[i] in _BLANKS:
        i += 1
    if i >= n:
        return "eof", i, i
    start, c = i, text[i]
    if c in "{}[],:":
        return c, start, i + 1
    if c == '"':
        i += 1
        while True:
            if i >= n:
                return "eof", start, n
            c = text[i]
            if c == '"':
                return "string", start, i + 1
            if c == "\\":
                i += 1
                if i >= n:
                    return "eof", start, n
                if text[i] == "u":
                    for k in range(1, 5):
                        if i + k >= n:
                            return "eof", start, n
                        if text[i + k] not in _HEX:
                            raise _Error("lexical", "invalid (non-hex) character occurs after '\\u' inside "
                                         "string.", i + k)
                    i += 5
                    continue
                if text[i] not in '"\\/bfnrt':
                    raise _Error("lexical", "inside a string, '\\' occurs before a character which it may not.", i)
            elif ord(c) < 0x20:
                raise _Error("lexical", "invalid character inside string.", i)
            i += 1
    for word in ("true", "false", "null"):
        if c == word[0]:
            for k, want in enumerate(word[1:], start=1):
                if i + k >= n:
                    return "eof", start, n
                if text[i + k] != want:
                    raise _Error("lexical", "invalid string in json text.", i + k)
            return "literal", start, i + len(word)
    if c == "-" or c in _DIGITS:
        if c == "-":
            i += 1
        if text[i:i + 1] == "0":
            i += 1
        elif text[i:i + 1] and text[i] in _DIGITS:
            while i < n and text[i] in _DIGITS:
                i += 1
        else:
            raise _Error("lexical", "malformed number, a digit is required after the minus sign.", i)
        if text[i:i + 1] == ".":
            i += 1
            if not (text[i:i + 1] and text[i] in _DIGITS):
                raise _Error("lexical", "malformed number, a digit is required after the decimal point.", i)
            while i < n and text[i] in _DIGITS:
                i += 1
        if text[i:i + 1] in ("e", "E"):
            i += 1
            if text[i:i + 1] in ("+", "-"):
                i += 1
            if not (text[i:i + 1] and text[i] in _DIGITS):
                raise _Error("lexical", "malformed number, a digit is required after the exponent.", i)
            while i < n and text[i] in _DIGITS:
                i += 1
        return "number", start, i
    if c == "/":
        raise _Error("lexical", "probable comment found in input text, comments are not enabled.", i)
    raise _Error("lexical", "invalid char in json text.", i + 1)


_VALUE_STARTS = ("{", "[", "string", "number", "literal")


def _check(text: str) -> None:
    """yajl_parse + yajl_complete_parse of `text`; raises _Error."""
    stack: list[str] = []  # "map" / "array"
    state = "start"  # start, map_start, map_need_key, map_sep, map_need_val, map_got_val,
    pos = 0          # array_start, array_need_val, array_got_val, complete
    while True:
        kind, start, end = _lex(text, pos)
        if kind == "eof":
            if state != "complete":
                raise _Error("parse", "premature EOF", 1)
            return
        pos = end
        if state == "complete":
            raise _Error("parse", "trailing garbage", end)
        if state in ("map_start", "map_need_key"):
            if kind == "}" and state == "map_start":
                stack.pop()
            elif kind == "string":
                state = "map_sep"
                continue
            else:
                raise _Error("parse", "invalid object key (must be a string)", end)
        elif state == "map_sep":
            if kind != ":":
                raise _Error("parse", "object key and value must be separated by a colon (':')", end)
            state = "map_need_val"
            continue
        elif state == "map_got_val":
            if kind == ",":
                state = "map_need_key"
                continue
            if kind != "}":
                length = end - start - (2 if kind == "string" else 0)  # yajl's token text: a string's without quotes
                raise _Error("parse", "after key and value, inside map, I expect ',' or '}'", max(end - length, 0))
            stack.pop()
        elif state == "array_got_val":
            if kind == ",":
                state = "array_need_val"
                continue
            if kind != "]":
                raise _Error("parse", "after array element, I expect ',' or ']'", end)
            stack.pop()
        elif kind == "]" and state == "array_start":
            stack.pop()
        elif kind not in _VALUE_STARTS:  # start, map_need_val, array_start, array_need_val
            raise _Error("parse", "unallowed token at this point in JSON text", end)
        elif kind in ("{", "["):
            stack.append("map" if kind == "{" else "array")
            state = "map_start" if kind == "{" else "array_start"
            continue
        # a value is complete: the container it belongs to goes on
        state = "complete" if not stack else ("map_got_val" if stack[-1] == "map" else "array_got_val")


def parse_error(text: str) -> str | None:
    """libvirt's error for `text` that virJSONValueFromString refuses (None: it takes it)."""
    try:
        _check(text)
    except _Error as exc:
        offset = exc.offset
        start, end = (offset - 30 if offset >= 30 else 0), min(offset + 30, len(text))
        around = text[start:end].replace("\n", " ").replace("\r", " ")
        spaces = 40 - offset if offset < 30 else 10
        return (f"internal error: cannot parse json {text}: {exc.kind} error: {exc.message}\n"
                f"{' ' * spaces}{around}\n{' ' * 21}(right here) ------^\n")
    return None
