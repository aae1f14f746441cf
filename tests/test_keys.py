"""The keys table (warehouse/keys.py) against the contract, ../shared/spec/keys.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xxgk.warehouse.keys import key_rows

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "spec" / "keys.yaml"


@pytest.fixture(scope="module")
def spec() -> dict:
    if not SPEC.is_file():
        pytest.skip("../shared/spec/keys.yaml not present")
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))["tables"]


def _keys() -> dict[tuple[str, str, str], dict]:
    return {(k["table"], k["row_key"], k["column_key"]): k for k in key_rows()}


def _label(text: str | None) -> str:
    return "".join((text or "").split())


def test_every_printed_cell_of_the_spec_is_a_key_with_its_printed_labels(spec: dict) -> None:
    keys = _keys()
    expected: set[tuple[str, str, str]] = set()
    pro = spec["proactive"]
    for version, blocks in pro["cells"].items():
        for row, rdef in pro["rows"].items():
            for col in blocks.get(rdef["block"], []):
                if version not in rdef:
                    continue
                expected.add(("proactive", row, col))
                k = keys[("proactive", row, col)]
                assert k[f"in_{version}"] == "printed"
                assert k[f"label_zh_{version}"] == f"{rdef[version]} / {pro['columns'][col][version]}"
                assert k["unit"] == pro["columns"][col]["unit"] and k["parent_key"] == rdef["block"]
    req = spec["requests"]
    for row, label in req["rows"].items():
        for col, col_label in req["columns"].items():
            expected.add(("requests", row, col))
            k = keys[("requests", row, col)]
            printed = [v for v in ("v2019", "v2021") if k[f"in_{v}"] == "printed"]
            assert printed, (row, col)
            for v in printed:
                assert _label(k[f"label_zh_{v}"]) == _label(f"{label} / {col_label}")
            assert k["unit"] == "件"
    rev = spec["review_litigation"]
    for row, label in rev["rows"].items():
        for col, col_label in rev["columns"].items():
            expected.add(("review_litigation", row, col))
            k = keys[("review_litigation", row, col)]
            assert k["in_v2019"] == k["in_v2021"] == "printed" and k["label_zh"] == f"{label} / {col_label}"
    printed_keys = {key for key, k in keys.items() if not k["derived"]}
    assert printed_keys == expected


def test_derived_keys_are_the_specs_derived_subtotals(spec: dict) -> None:
    keys = _keys()
    derived_rows = {r for r in spec["requests"]["derived"] if r != "legal_subtotal"}
    for row in derived_rows:
        for col in spec["requests"]["columns"]:
            k = keys[("requests", row, col)]
            assert "derived" in (k["in_v2019"], k["in_v2021"]), (row, col)
    assert all(k["derived"] for key, k in keys.items() if key[2] == "legal_subtotal")
    other = keys[("requests", "other", "total")]
    assert (other["in_v2019"], other["in_v2021"], other["derived"]) == ("printed", "derived", False)


def test_every_key_has_a_chinese_label_an_english_name_and_its_identities(spec: dict) -> None:
    for k in key_rows():
        assert k["label_zh"] and k["name_en"] and k["unit"], k
        for v in ("v2019", "v2021"):
            assert (k[f"in_{v}"] is None) == (k[f"label_zh_{v}"] is None), k
    keys = _keys()
    assert "requests.balance" in keys[("requests", "carried_over", "total")]["identities"]
    assert "requests.outcomes" in keys[("requests", "denied.state_secret", "natural_person")]["identities"]
    assert "review_litigation.row_total" in keys[("review_litigation", "admin_review", "upheld")]["identities"]
    assert keys[("requests", "carried_over", "total")]["soft_checks"] == "requests.carry_continuity"
    checks = set(yaml.safe_load(SPEC.read_text(encoding="utf-8"))["checks"])
    named = {c.strip() for k in key_rows() for c in k["identities"].split(",")}
    assert named == checks
