"""Every event class the API defines can be asked for by its kind: the daemon refuses a
subscription naming a kind missing from EVENT_CLASSES, so one forgotten entry broke
`pyvirt event --all` (which asks for every kind) outright."""

from __future__ import annotations

from pyvirt import api


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_event_class_is_registered_under_its_kind() -> None:
    kinds = {sub.KIND: sub for sub in _subclasses(api.Event) if getattr(sub, "KIND", None)}
    assert kinds, "no event classes found"
    missing = sorted(k for k in kinds if k not in api.EVENT_CLASSES)
    assert missing == []
    for kind, cls in kinds.items():
        assert issubclass(cls, api.EVENT_CLASSES[kind]) or issubclass(api.EVENT_CLASSES[kind], cls)
