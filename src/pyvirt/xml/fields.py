"""Declarative XML field descriptions for the model dataclasses.

Every model field says where it lives in XML with one line (virtinst's idea):
``type: str | None = attr("@type", Enum("file", "block"))``.  The generic reader/writer in
:mod:`pyvirt.xml.mapping` walks these declarations, so the set of supported attributes and
child elements of every element is known exactly: whatever a document holds beyond it is
refused, never silently dropped, and the field order fixes the output order.

Paths are tiny relative XPaths: ``@a`` (own attribute), ``x/@a`` (attribute of a child),
``x`` (text of a child), ``.`` (own text); a step may carry one of the :data:`NAMESPACES`
prefixes (``fs:mount_opts``).  Intermediate elements are created on output in the order their
first field is written.  Output order is declaration order unless the class names another
with ``xml_order`` (a tuple of field names): shared field groups can then be declared once
and still be written where libvirt writes them.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import re
import reprlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .cnumbers import c_strtol
from .errors import XMLConfigError, XMLError, XMLUnsupportedError

#: Set while reading for a formatter that must keep what the model does not declare (the test
#: driver returns every domain formatted the way libvirt's generic parser would, whatever it
#: holds).  Never set on the QEMU driver's path: there, what is not declared is refused.
_KEEP_UNKNOWN: contextvars.ContextVar[str] = contextvars.ContextVar("keep_unknown", default="")


@contextlib.contextmanager
def keeping_unknown(*, any_value: bool = False, verbatim: bool = False) -> Iterator[None]:
    """Within this block, undeclared attributes/elements and values libvirt knows but pyvirt
    does not implement are kept on the objects read (``_xml_extra``) and written back by
    :func:`pyvirt.xml.mapping.build`, instead of being refused.  ``any_value`` (formatting
    only) also keeps enumerated values the model does not list at all; ``verbatim`` keeps
    any value its type refuses as a :class:`Verbatim` string (virt-install writes what it is
    given and leaves judging it to libvirt's define)."""
    token = _KEEP_UNKNOWN.set("verbatim" if verbatim else "any" if any_value else "known")
    try:
        yield
    finally:
        _KEEP_UNKNOWN.reset(token)


#: Set while reading a document whose libvirt parser reads attributes with virXPathString
#: ("string(./@x)"), which answers NULL for an empty string: networks and storage pools.  There
#: an empty attribute is absent (``<forward dev=''>``, ``<portgroup name=''>``); the domain
#: parser reads most attributes with virXMLPropString, where '' stays a (usually bad) value.
_EMPTY_ATTR_ABSENT: contextvars.ContextVar[bool] = contextvars.ContextVar("empty_attr_absent", default=False)


@contextlib.contextmanager
def empty_attributes_absent() -> Iterator[None]:
    """Within this block the XML engine reads ``attr=''`` as no attribute (see above)."""
    token = _EMPTY_ATTR_ABSENT.set(True)
    try:
        yield
    finally:
        _EMPTY_ATTR_ABSENT.reset(token)


def empty_attribute_absent() -> bool:
    """Whether :func:`empty_attributes_absent` is in effect."""
    return _EMPTY_ATTR_ABSENT.get()


def keep_verbatim_active() -> bool:
    """Whether ``keeping_unknown(verbatim=True)`` is in effect: the document is rewritten for a
    tool that keeps everything it was given (virt-install), repeated elements included."""
    return _KEEP_UNKNOWN.get() == "verbatim"


def keep_unknown_active() -> bool:
    """Whether :func:`keeping_unknown` is in effect (for converters and post-parse checks)."""
    return bool(_KEEP_UNKNOWN.get())


class Verbatim(str):
    """A value kept exactly as written because its field's type refuses it (only read inside
    ``keeping_unknown(verbatim=True)``); the writer puts it back unchanged."""


#: a tristate feature kept bare (``<hap/>``, which means on): read inside
#: ``keeping_unknown(verbatim=True)``, or set as virt-install sets a boolean property
BARE_STATE = Verbatim("")


class VerbatimSize(Verbatim):
    """A size kept as written (inside ``keeping_unknown(verbatim=True)``): its text and its
    ``unit`` attribute (None: none was written).  virt-install sets a size's text and leaves
    whatever unit the element had, so the writer puts both back as they are."""

    unit: str | None

    def __new__(cls, text: str, unit: str | None = None) -> VerbatimSize:
        obj = super().__new__(cls, text)
        obj.unit = unit
        return obj


#: per model class: the names of its fields that take part in ``==`` and in ``repr()``
_COMPARED: dict[type, tuple[str, ...]] = {}
_SHOWN: dict[type, tuple[str, ...]] = {}


def _field_names(cache: dict[type, tuple[str, ...]], cls: type, flag: str) -> tuple[str, ...]:
    names = cache.get(cls)
    if names is None:
        names = cache[cls] = tuple(f.name for f in dataclasses.fields(cls) if getattr(f, flag))
    return names


def _model_eq(self: Any, other: Any) -> Any:
    """dataclass's ``__eq__``: same class and equal compared fields, in declaration order."""
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = _field_names(_COMPARED, self.__class__, "compare")
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


@reprlib.recursive_repr()
def _model_repr(self: Any) -> str:
    """dataclass's ``__repr__``: ``Name(field=value, ...)`` over the fields shown."""
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _field_names(_SHOWN, self.__class__, "repr"))
    return f"{self.__class__.__qualname__}({shown})"


def model(cls: Any = None, /, **options: Any) -> Any:
    """``@dataclass`` for the XML model's classes, cheaper to create.

    The model has over a hundred classes and every CLI run that reads XML imports them:
    ``dataclasses`` compiles an ``__init__``, ``__repr__`` and ``__eq__`` per class with one
    ``exec`` each, most of the import's cost.  Here only ``__init__`` is compiled; ``==`` and
    ``repr()`` are shared functions that behave as the generated ones do (same class, fields
    with ``compare``/``repr`` in declaration order; ``__hash__`` is None as for a mutable
    dataclass).  Frozen classes, or ones that set ``eq``/``repr``, get plain ``dataclass``.
    """
    def wrap(c: Any) -> Any:
        if options:
            return dataclass(c, **options)
        own_eq = "__eq__" in c.__dict__
        class_hash = c.__dict__.get("__hash__", dataclasses.MISSING)
        explicit_hash = not (class_hash is dataclasses.MISSING or (class_hash is None and own_eq))
        c = dataclass(c, repr=False, eq=False)
        if "__repr__" not in c.__dict__:
            c.__repr__ = _model_repr
        if not own_eq:
            c.__eq__ = _model_eq
            if not explicit_hash:
                c.__hash__ = None
        return c
    return wrap if cls is None else wrap(cls)


def convert(conv: Conv, text: str, where: str, line: int | None) -> Any:
    """``conv.parse``, or inside ``keeping_unknown(verbatim=True)`` the text itself, as it was
    written (virt-install keeps a value it did not set exactly as it found it)."""
    if _KEEP_UNKNOWN.get() == "verbatim":  # rewritten for a tool that keeps what it was given
        return Verbatim(text)
    return conv.parse(text, where, line)


def format_value(conv: Conv, value: Any) -> str:
    """``conv.format``; a :class:`Verbatim` value is written as it was read."""
    return str(value) if isinstance(value, Verbatim) else conv.format(value)


class Conv:
    """Converts one XML string to a Python value and back; raises XMLError on bad input."""

    name = "string"
    #: whether an element with no text is read (as "") rather than left out (see :class:`Present`)
    keep_empty = False

    def parse(self, text: str, where: str, line: int | None) -> Any:
        return text

    def format(self, value: Any) -> str:
        return str(value)


class Str(Conv):
    """Any string, kept as is."""


class Present(Conv):
    """Element text where the element's presence with no text means something (libvirt reads
    the node, not only its string: ``<genid/>`` asks for a generated ID, an empty ``<vcpu/>`` is
    not a number), read through ``inner`` (the text as is by default) even when empty; any other
    empty element text is read as absent, as virXPathString reads it."""

    keep_empty = True

    def __init__(self, inner: Conv | None = None) -> None:
        self.inner = inner if inner is not None else Conv()
        self.name = self.inner.name

    def parse(self, text: str, where: str, line: int | None) -> Any:
        return self.inner.parse(text, where, line)

    def format(self, value: Any) -> str:
        return self.inner.format(value)


class NonEmpty(Conv):
    """A string read as libvirt's virXPathString reads one: an empty text is no value."""

    def parse(self, text: str, where: str, line: int | None) -> str | None:
        return text or None


class Int(Conv):
    """A (by default non-negative) decimal integer; ``base0`` also accepts 0x-prefixed hex."""

    name = "integer"

    def __init__(self, minimum: int | None = 0, maximum: int | None = None, base0: bool = False,
                 hex_width: int | None = None, base16: bool = False, words: str | None = None,
                 words_error: type[XMLError] = XMLError, signed: bool = False) -> None:
        self.minimum, self.maximum, self.base0, self.hex_width = minimum, maximum, base0, hex_width
        self.base = 16 if base16 else 0 if base0 else 10
        #: libvirt's own message for any value it cannot read (its virXPath*LongLong callers'
        #: "can't parse ... value"), an XML error
        self.words, self.words_error = words, words_error
        #: libvirt reads it as a signed int refusing negatives (virXMLPropInt with
        #: VIR_XML_PROP_NONNEGATIVE), which words its refusal differently
        self.signed = signed

    def parse(self, text: str, where: str, line: int | None) -> int:
        if self.words is not None:
            value = c_strtol(text, self.base)
            if value is None or (self.minimum is not None and value < self.minimum) \
                    or (self.maximum is not None and value > self.maximum):
                raise self.words_error(self.words.format(text), line, libvirt_words=True)
            return value
        value = c_strtol(text, self.base)
        if value is None:
            raise self._prop_error(f"invalid integer {text!r} for {where}", where, line, text)
        if self.minimum is not None and value < self.minimum:
            raise self._prop_error(f"value {value} for {where} is below {self.minimum}", where, line, text,
                                   zero=value == 0 and self.minimum == 1)
        if self.maximum is not None and value > self.maximum:
            raise self._prop_error(f"value {value} for {where} is above {self.maximum}", where, line, text,
                                   overflow=self.maximum in (_UINT_MAX, _INT_MAX))
        return value

    def _prop_error(self, message: str, where: str, line: int | None, text: str, *,
                    zero: bool = False, overflow: bool = False) -> XMLError:
        """pyvirt's words, carrying virXMLPropUInt/virXMLPropInt's for an attribute, which the
        test driver reports as libvirt does: a value that does not read as the C type (not a
        number, a sign on an unsigned one, past its range) or a 0 refused as non-zero."""
        error = XMLError(message, line)
        named = _ATTRIBUTE_WHERE.fullmatch(where)
        unsigned = self.minimum is not None and self.minimum >= 0
        if self.signed and named and re.fullmatch(r"\s*-\d+", text):
            error.libvirt_prop_message = (f"Invalid value for attribute '{named[1]}' in element "  # type: ignore[attr-defined]
                                          f"'{named[2]}': '{text}'. Expected non-negative value")
            return error
        bad_type = not zero and (overflow or not re.fullmatch(r"\s*\+?\d+", text)
                                 if unsigned and not self.signed else not re.fullmatch(r"\s*[-+]?\d+", text))
        if named and (zero or bad_type):
            head = f"Invalid value for attribute '{named[1]}' in element '{named[2]}': "
            error.libvirt_prop_message = head + ("Zero is not permitted" if zero else  # type: ignore[attr-defined]
                                                 f"'{text}'. Expected {'non-negative ' if unsigned and not self.signed else ''}integer value")
        return error

    def format(self, value: Any) -> str:
        if self.hex_width is not None:
            return f"0x{value:0{self.hex_width}x}"
        return str(value)


class Bool(Conv):
    """A yes/no (or on/off) attribute stored as ``bool``."""

    name = "boolean"

    def __init__(self, true: str = "yes", false: str = "no") -> None:
        self.true, self.false = true, false

    def parse(self, text: str, where: str, line: int | None) -> bool:
        if text == self.true:
            return True
        if text == self.false:
            return False
        error = XMLError(f"invalid value {text!r} for {where} (expected '{self.true}' or '{self.false}')", line)
        named = _ATTRIBUTE_WHERE.fullmatch(where)
        if named:  # virXMLPropTristateBool/virXMLPropTristateSwitch's words
            error.libvirt_prop_message = (f"Invalid value for attribute '{named[1]}' in element "  # type: ignore[attr-defined]
                                          f"'{named[2]}': '{text}'.")
        raise error

    def format(self, value: Any) -> str:
        return self.true if value else self.false


class Enum(Conv):
    """One of a fixed set.  ``known`` lists values libvirt accepts but pyvirt does not implement;
    ``why`` says, for some of them, why (added to the refusal).  ``unknown``: the words libvirt's
    parser refuses any other value with where it does not use virXMLPropEnum's (its older
    per-element ``VIR_ERR_CONFIG_UNSUPPORTED`` checks, ``{}`` the value), so every driver says
    the same as libvirt."""

    name = "enum"

    def __init__(self, *values: str, known: tuple[str, ...] = (), why: dict[str, str] | None = None,
                 unknown: str | None = None, unknown_error: type[XMLError] = XMLConfigError) -> None:
        self.values, self.known, self.why, self.unknown = values, known, why or {}, unknown
        self.unknown_error = unknown_error

    def parse(self, text: str, where: str, line: int | None) -> str:
        if text in self.values:
            return text
        if text in self.known or _KEEP_UNKNOWN.get() in ("any", "verbatim"):
            if keep_unknown_active():
                return text
            reason = f": {self.why[text]}" if text in self.why else ""
            raise XMLUnsupportedError(f"unsupported value {text!r} for {where}{reason}", line)
        if self.unknown:
            raise self.unknown_error(self.unknown.format(text), line, libvirt_words=True)
        error = XMLError(f"invalid value {text!r} for {where} (expected one of {', '.join(self.values)})", line)
        named = _ATTRIBUTE_WHERE.fullmatch(where)
        if named:  # libvirt's generic parser (virXMLPropEnum) words the same refusal its own way
            error.libvirt_prop_message = (f"Invalid value for attribute '{named[1]}' in element "
                                          f"'{named[2]}': '{text}'.")
        raise error


#: the C types' limits virXMLPropUInt/virXMLPropInt read into
_UINT_MAX, _INT_MAX = 2**32 - 1, 2**31 - 1

#: ``where`` of an attribute value: "attribute 'type' of <disk>" or "... of <disk/target>"
_ATTRIBUTE_WHERE = re.compile(r"attribute '([^']+)' of <(?:[^>]*/)?([^>/]+)>")


class Pattern(Conv):
    """A string matching one of libvirt's schema patterns (``featureName``, ``aliasName``...).

    Name-like values end up in QEMU options and file names; checking them where they are read
    keeps a name such as ``sse2,model-id=x`` from ever reaching the command line builder.
    """

    def __init__(self, pattern: str, schema_name: str, octal_uint: bool = False) -> None:
        self.regex, self.name = re.compile(pattern), schema_name
        #: libvirt's parser reads it with virXMLPropUInt base 8: a value that is not one is
        #: refused in that function's words
        self.octal_uint = octal_uint

    def parse(self, text: str, where: str, line: int | None) -> str:
        if self.regex.fullmatch(text):
            return text
        error = XMLError(f"invalid value {text!r} for {where} (libvirt's {self.name} pattern is "
                         f"{self.regex.pattern})", line)
        named = _ATTRIBUTE_WHERE.fullmatch(where)
        if self.octal_uint and named and not re.fullmatch(r"\s*\+?[0-7]+", text):
            error.libvirt_prop_message = (f"Invalid value for attribute '{named[1]}' in element "  # type: ignore[attr-defined]
                                          f"'{named[2]}': '{text}'. Expected non-negative integer value")
        raise error


class Octal(Conv):
    """A file mode written in octal with a leading zero (``<mode>0700</mode>``), as libvirt."""

    name = "octal mode"

    def parse(self, text: str, where: str, line: int | None) -> int | None:
        # virStorageDefParsePerms: strtol base 8 over the whole text (leading blanks and a sign
        # allowed), then no bit outside 0777 (so no setuid/setgid/sticky bit, no negative mode)
        if text == "":  # virXPathString reads an empty element as absent
            return None
        m = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?[0-7]+)", text)
        value = int(m[1], 8) if m else -1
        if value & ~0o777:
            raise XMLError(f"malformed octal mode {text!r} for {where}", line)
        return value

    def format(self, value: Any) -> str:
        return f"0{value:o}"


class OwnerId(Conv):
    """A uid/gid; -1 (or its unsigned 32-bit form) means "not given" and reads as ``None``.
    virStorageDefParsePerms looks for the node, so an empty ``<owner/>`` is malformed."""

    name = "id"
    keep_empty = True

    def parse(self, text: str, where: str, line: int | None) -> int | None:
        m = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", text)  # strtol's: blanks, a sign
        if not m:
            raise XMLError(f"malformed {where} {text!r}", line)
        value = int(m[1], 10)
        if value < -1 or value > 0xFFFFFFFF:
            raise XMLError(f"{where} {text!r} out of range", line)
        return None if value in (-1, 0xFFFFFFFF) else value


#: Namespace prefixes a field path may use; the root element declares the ones it writes.
NAMESPACES = {"fs": "http://libvirt.org/schemas/storagepool/fs/1.0",
              "rbd": "http://libvirt.org/schemas/storagepool/rbd/1.0",
              "qemu": "http://libvirt.org/schemas/domain/qemu/1.0",
              "dnsmasq": "http://libvirt.org/schemas/network/dnsmasq/1.0"}

STR = Str()
INT = Int()
YESNO = Bool()
ONOFF = Bool("on", "off")


class BadBool(str):
    """A yes/no attribute's value that is neither (LenientBool): false, for a rule to refuse."""

    def __bool__(self) -> bool:
        return False


class LenientBool(Bool):
    """yes/no where libvirt's parser ignores any other value for some owners (it does not check
    virStringParseYesNo's result): that value is kept as a :class:`BadBool`."""

    def parse(self, text: str, where: str, line: int | None) -> bool:
        if text in (self.true, self.false):
            return text == self.true
        return BadBool(text)  # type: ignore[return-value]


@dataclass(frozen=True)
class Spec:
    """Where one dataclass field lives in XML.

    kind: ``value`` (attribute or text), ``flag`` (presence of an empty element), ``child``
    (one nested model object), ``children`` (list of nested objects), ``values`` (list of one
    attribute of repeated elements, e.g. ``boot/@dev``), ``scaled`` (a size with a ``unit``
    attribute, stored in KiB), ``raw`` (the children of an element, kept verbatim).
    ``parse_only``: accepted on input, never written (facts libvirt reads and drops).

    Where a field is written, when not where it is declared (fields shared through a mixin
    class come first in declaration order): ``tail`` > 0 writes it after every other field,
    ranked by that number (libvirt's device info: acpi index, alias, address); ``late`` writes
    it right after the last other field of the same element (the virtio options libvirt puts
    after a ``<driver>``'s own attributes).
    """

    path: str
    kind: str = "value"
    conv: Conv = STR
    cls: Any = None
    live_only: bool = False
    #: a live-only value still written in the inactive XML when this says so (user aliases)
    inactive_if: Callable[[Any], bool] | None = None
    secret: bool = False
    unit: str = "KiB"
    unit_label: str | None = None
    #: a scaled value's path as libvirt's refusal names it (``./memtune/hard_limit[1]``)
    xpath: str | None = None
    #: ``values``: libvirt's words for a repeated element without the attribute
    missing: str | None = None
    parse_only: bool = False
    #: ``raw``: keep only namespaced children, the first of each namespace (virXMLNodeSanitizeNamespaces)
    namespaced: bool = False
    tail: int = 0
    late: bool = False
    #: libvirt's, not implemented by pyvirt: refused (as an undeclared node) when read for a
    #: driver, kept as a field for the formatters that read inside :func:`keeping_unknown`
    #: (the test driver, virt-install's option parsers, which name it by this declaration)
    unsupported: bool = False


def _field(spec: Spec, default: Any = None, factory: Callable[[], Any] | None = None) -> Any:
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"xml": spec})
    return dataclasses.field(default=default, metadata={"xml": spec})


def attr(path: str, conv: Conv = STR, *, live_only: bool = False, secret: bool = False,
         tail: int = 0, late: bool = False, inactive_if: Callable[[Any], bool] | None = None,
         unsupported: bool = False) -> Any:
    """An attribute (``@a`` / ``x/@a``) or element text (``x`` / ``.``).  ``live_only`` values
    are left out of the inactive XML, unless ``inactive_if(value)`` is true; ``unsupported``
    ones are libvirt's but not pyvirt's (:attr:`Spec.unsupported`)."""
    return _field(Spec(path, "value", conv, live_only=live_only, secret=secret, tail=tail, late=late,
                       inactive_if=inactive_if, unsupported=unsupported))


def ignored(path: str) -> Any:
    """An element accepted with any content and dropped, as libvirt drops read-only facts
    (a volume's ``<timestamps>``) and creation hints (``<nocow/>``) from what it stores."""
    return _field(Spec(path, "raw", parse_only=True), default=None)


text = attr


def flag(path: str, *, unsupported: bool = False) -> Any:
    """``True`` when the empty element at ``path`` is present (``<readonly/>``)."""
    return _field(Spec(path, "flag", unsupported=unsupported), default=False)


def child(path: str, cls: Any, *, live_only: bool = False, required: bool = False, tail: int = 0,
          unsupported: bool = False) -> Any:
    """One nested model object, ``None`` when absent (an empty ``cls()`` when ``required``);
    ``unsupported``: libvirt's element, not pyvirt's (:attr:`Spec.unsupported`)."""
    spec = Spec(path, "child", cls=cls, live_only=live_only, tail=tail, unsupported=unsupported)
    return _field(spec, factory=cls) if required else _field(spec)


def state(path: str) -> Any:
    """A tristate feature ``<hap state='on|off'/>``; a bare ``<hap/>`` means on (libvirt's rule)."""
    return _field(Spec(path, "state", ONOFF))


def children(path: str, cls: Any, *, unsupported: bool = False) -> Any:
    """A list of nested model objects of repeated elements at ``path``."""
    return _field(Spec(path, "children", cls=cls, unsupported=unsupported), factory=list)


def values(path: str, conv: Conv = STR, *, unsupported: bool = False, missing: str | None = None) -> Any:
    """A list of one attribute of repeated elements: ``values("boot/@dev")``; ``unsupported``:
    libvirt's, not pyvirt's (:attr:`Spec.unsupported`); ``missing``: libvirt's own words (an
    internal error) for an element without the attribute, where its parser does not say
    virXMLPropEnum's "Missing required attribute"."""
    return _field(Spec(path, "values", conv, unsupported=unsupported, missing=missing), factory=list)


def scaled(path: str, unit: str = "KiB", label: str | None = None, *, unsupported: bool = False,
           xpath: str | None = None) -> Any:
    """A size with a ``unit`` attribute (``<memory unit='MiB'>4</memory>``), stored in KiB, or in
    bytes when ``unit='bytes'`` (where libvirt keeps bytes, e.g. a qcow2 metadata cache size).
    ``label``: the unit name written when libvirt spells it differently (``B``); ``unsupported``:
    libvirt's, not pyvirt's (:attr:`Spec.unsupported`); ``xpath``: the path libvirt's
    virDomainParseScaledValue names in its refusal of a value that is not a number."""
    return _field(Spec(path, "scaled", unit=unit, unit_label=label, unsupported=unsupported, xpath=xpath))


def raw(path: str, *, namespaced: bool = False) -> Any:
    """Children of the element at ``path`` kept verbatim as serialized XML strings;
    ``namespaced``: only those in a namespace, the first of each (libvirt's ``<metadata>``)."""
    return _field(Spec(path, "raw", namespaced=namespaced), default=None)


def line_field() -> Any:
    """Source line of the element this object came from (not compared, not serialized)."""
    return dataclasses.field(default=None, compare=False, repr=False)
