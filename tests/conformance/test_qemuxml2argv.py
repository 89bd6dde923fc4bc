"""libvirt 9.0's qemuxml2argv cases: does pyvirt build the same machine libvirt builds?

For every case of ``index.json``'s ``qemuxml2argv_x86_64_latest``: parse the input XML, fill in
libvirt's define-time defaults, build the argv, and compare it with libvirt's expected ``.args``
through the shared ``argv_compare`` signature (same machine, runtime plumbing ignored).  A case
is ``same``, ``refused`` (pyvirt raised an XML error: unsupported or invalid) or ``different``.
``different`` must stay empty except for the cases listed in ``argv_known_differences.txt``, and
every case libvirt refuses must be refused by pyvirt too.  A JSON report goes to
``.cache/conformance-argv.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance.argv_normalise import normalise
from tests.conformance_data import LIBVIRT, REPO, load_tool

CASES_DIR = LIBVIRT / "qemuxml2argv"
KNOWN_FILE = Path(__file__).with_name("argv_known_differences.txt")

pytestmark = pytest.mark.skipif(not (LIBVIRT / "index.json").exists(), reason="conformance data not present")


def _load_compare():
    return load_tool("argv_compare")


def _cases() -> list[dict]:
    """The cases, each with a unique ``key`` (an input listed twice gets ``[kind]`` appended)."""
    if not (LIBVIRT / "index.json").exists():
        return []
    cases = json.loads((LIBVIRT / "index.json").read_text())["qemuxml2argv_x86_64_latest"]
    names = [c["name"] for c in cases]
    for c in cases:
        c["key"] = c["name"] if names.count(c["name"]) == 1 else f"{c['name']}[{c['kind']}]"
    return cases


def _known() -> dict[str, str]:
    known: dict[str, str] = {}
    if KNOWN_FILE.exists():
        for line in KNOWN_FILE.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                known[name] = reason.strip()
    return known


def _run_case(case: dict, compare) -> dict:
    from pyvirt.qemu.argv import build_argv
    from pyvirt.qemu.argv_format import format_args
    from pyvirt.xml import fill_defaults, parse_domain
    from pyvirt.xml.errors import XMLError

    xml = (CASES_DIR / case["input"]).read_text()
    try:
        dom = parse_domain(xml)
        dom = fill_defaults(dom) or dom
        argv = build_argv(dom)
    except XMLError as exc:  # XMLUnsupportedError is a subclass
        return {"status": "refused", "reason": f"{type(exc).__name__}: {exc}"}
    except Exception as exc:  # a crash is a bug: report it as different, never hide it
        return {"status": "different", "diff": [f"crash: {type(exc).__name__}: {exc}"]}
    if case["kind"] != "argv":
        return {"status": "different", "diff": ["libvirt refuses this XML, pyvirt built an argv"]}
    expected = (CASES_DIR / case["expected"]).read_text()
    lines = compare.diff(normalise(compare.signature(format_args(argv))), normalise(compare.signature(expected)))
    if lines:
        return {"status": "different", "diff": lines[:12]}
    return {"status": "same"}


@pytest.fixture(scope="module")
def results(request) -> dict[str, dict]:
    compare = _load_compare()
    out = {c["key"]: dict(_run_case(c, compare), kind=c["kind"]) for c in _cases()}
    counts = {k: sum(1 for r in out.values() if r["status"] == k) for k in ("same", "refused", "different")}
    report = REPO / ".cache" / "conformance-argv.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(json.dumps({"counts": counts, "cases": out}, indent=1, sort_keys=True))
    capman = request.config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled() if capman else _nullcontext():
        print(f"\nqemuxml2argv: same={counts['same']} refused={counts['refused']} "
              f"different={counts['different']} (report: {report})")
    return out


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("name", [c["key"] for c in _cases()])
def test_case(results: dict[str, dict], name: str) -> None:
    res = results[name]
    known = _known()
    if name in known and res["status"] == "different":
        pytest.xfail(known[name])
    if res["kind"] != "argv":
        assert res["status"] == "refused", f"libvirt refuses {name}; pyvirt must too"
        return
    assert res["status"] != "different", "\n".join(res.get("diff", []))


def test_known_list_is_current(results: dict[str, dict]) -> None:
    """A known difference that no longer differs must leave the list (keep it short)."""
    stale = [n for n in _known() if results.get(n, {}).get("status") != "different"]
    assert not stale, f"remove from argv_known_differences.txt: {stale}"


#: "same" may only grow: raise it when a change gains cases (docs/conformance.md has the figures).
SAME_FLOOR = 166


def test_same_floor_and_no_unexplained_difference(results: dict[str, dict]) -> None:
    """Floors like the virt-install ones: what is gained stays gained, and every "different"
    is a documented deliberate difference (argv_known_differences.txt), never an accident."""
    same = sum(1 for r in results.values() if r["status"] == "same")
    assert same >= SAME_FLOOR, f"qemuxml2argv same fell to {same} (floor {SAME_FLOOR})"
    unexplained = [n for n, r in results.items() if r["status"] == "different" and n not in _known()]
    assert unexplained == []


def test_refusals_say_what_and_where(results: dict[str, dict]) -> None:
    """A refused feature names the element/attribute (or the device) and its line."""
    for name, res in results.items():
        if res["status"] == "refused" and res["reason"].startswith("XMLUnsupportedError"):
            assert " at line " in res["reason"], (name, res["reason"])
            if "unsupported element" in res["reason"] or "unsupported attribute" in res["reason"]:
                assert "<" in res["reason"] and ">" in res["reason"], (name, res["reason"])
