"""The lexicon is the one home of printed words, and the one label fold handles every variant."""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest

from xxgk.schemas import lexicon as lx
from xxgk.schemas.labels import fold_label, match_proactive_column, match_proactive_row, match_requests_leaf
from xxgk.schemas.model import PROACTIVE_SPEC, REQUESTS_SPEC, V2019, V2021

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Modules allowed to spell printed words: the lexicon, and the model (the labels of keys.yaml).
WORD_HOMES = {"schemas/lexicon.py", "schemas/model.py"}
#: Not yet moved onto the lexicon (being split into a package): remove when it is.
PENDING: set[str] = {"extractors/pdf.py"}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            out.add(id(body[0].value))
    return out


def printed_words_outside_the_lexicon() -> list[str]:
    found = []
    for package in ("extractors", "schemas", "harvest"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in WORD_HOMES or any(rel.startswith(p.removesuffix(".py")) for p in PENDING):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docs = _docstrings(tree)
            for node in ast.walk(tree):
                printed = isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                if printed and CJK.search(node.value):
                    found.append(f"{rel}:{node.lineno}: {node.value[:40]!r}")
    return found


def test_no_printed_word_outside_the_lexicon() -> None:
    assert printed_words_outside_the_lexicon() == []


def test_lexicon_words_are_written_folded() -> None:
    """Cores are compared with folded labels, so a core that folding changes could never match."""
    tables = [lx.REQUEST_ROW_CORES, lx.REQUEST_GROUP_CORES, lx.PROACTIVE_ROW_CORES, lx.PROACTIVE_COLUMN_CORES]
    tables += [lx.REVIEW_GROUP_CORES, lx.REVIEW_COLUMN_CORES, lx.TABLE_HEADING_CORES, lx.TABLE_HEADING_ALL_OF]
    words = [w for t in tables for cores in t.values() for w in cores]
    words += [*lx.PROACTIVE_V2019_MARKERS, *lx.PROACTIVE_V2021_MARKERS, *lx.PRE2019_MARKERS]
    words += [*lx.REVIEW_HEADER_WORDS, *lx.CLOSING_HEADING_CORES, *lx.TABLE_ONLY_WORDS, *lx.REQUEST_TOTAL_CORES]
    assert [w for w in words if fold_label(w) != w] == []


def test_traditional_forms_are_opencc_t2s_of_the_vocabulary() -> None:
    opencc = pytest.importorskip("opencc")
    t2s = opencc.OpenCC("t2s")
    vocabulary = lx.vocabulary()
    fold = {}
    for cp in [*range(0x3400, 0xA000), *range(0xF900, 0xFB00)]:
        t = chr(cp)
        if unicodedata.normalize("NFKC", t) != t:
            continue  # a compatibility ideograph: NFKC folds it before the table is applied
        s = t2s.convert(t)
        if len(s) == 1 and s != t and s in vocabulary:
            fold[t] = s
    items = sorted(fold.items(), key=lambda kv: (kv[1], kv[0]))
    expected = ("".join(k for k, _ in items), "".join(v for _, v in items))
    assert expected == (lx.TRADITIONAL_FORMS, lx.SIMPLIFIED_FORMS), f"regenerate: {expected!r}"


def _variants(label: str) -> list[str]:
    """How real reports print one label: spaces, line breaks, brackets, 的, old fonts, OCR slips."""
    out = [label, " ".join(label), label[: len(label) // 2] + "\n" + label[len(label) // 2 :], label + "的"]
    out.append(label.replace("（", "(").replace("）", ")"))
    out.append(label.replace("（", "【").replace("）", "】"))
    out.append(re.sub(r"^(\d+)\.", r"(\1)", label))  # 1. → (1)
    out.append(re.sub(r"^(\d+)\.", r"\1、", label))  # 1. → 1、
    out.append(
        re.sub(r"^[（(][一二三四五六七八九十]+[）)]|^\d+\.|^[一二三四五六七八九十]+、", "", label)
    )  # no enumerator
    trad = str.maketrans(dict(zip(lx.SIMPLIFIED_FORMS, lx.TRADITIONAL_FORMS, strict=True)))
    out.append(label.translate(trad))
    out.append(label.replace("已", "己").replace("未", "末"))
    out.append(re.sub(r"^1\.", "l.", label))
    return out


@pytest.mark.parametrize("row", REQUESTS_SPEC.rows, ids=lambda r: r.key)
def test_every_requests_label_variant_maps_to_its_key(row) -> None:
    parent = row.key.split(".")[0] if "." in row.key else None
    for version in (V2019, V2021):
        label = row.labels.get(version)
        if label is None or row.key == "other":
            continue
        for variant in _variants(label):
            if row.key == "other.other" and not variant.lstrip("(l").startswith(("3", "其")):
                continue
            assert match_requests_leaf(fold_label(variant), parent) == row.key, variant


@pytest.mark.parametrize("row", PROACTIVE_SPEC.rows, ids=lambda r: r.key)
def test_every_proactive_row_label_variant_maps_to_its_key(row) -> None:
    for label in row.labels.values():
        for variant in _variants(label):
            assert match_proactive_row(fold_label(variant)) == row.key, variant


@pytest.mark.parametrize("column", PROACTIVE_SPEC.columns, ids=lambda c: c.key)
def test_every_proactive_header_variant_maps_to_its_column(column) -> None:
    for label in column.labels.values():
        for variant in _variants(label):
            assert match_proactive_column(fold_label(variant)) == column.key, variant


def test_header_variants_seen_in_real_reports() -> None:
    """本年公开数量 for 本年新公开数量; 本年增/减量; 增减; glosses in parentheses."""
    assert match_proactive_column(fold_label("本年公开数量")) == "new_published"
    assert match_proactive_column(fold_label("本年增／减量")) == "items_change"
    assert match_proactive_column(fold_label("本年增减(指2020年增加或减少的事项数)")) == "items_change"
    assert match_proactive_column(fold_label("现行有效件数（历史累计）")) == "in_force"
    assert match_proactive_column(fold_label("对外公开总数量")) == "published_total"


def test_the_drifted_core_is_reconciled() -> None:
    """denied.law_prohibited was 行政法规禁止 in the mapper and 法规禁止 in the text parser."""
    for label in ("2.其他法律行政法规禁止公开", "2.法律法规禁止公开的", "2.其他法律行政止公开", "法规禁止"):
        assert match_requests_leaf(fold_label(label)) == "denied.law_prohibited", label
