"""The small committed sample set in ``data/sample``: what ``xxgk run`` reads by default.

A dozen documents from a few synthetic sources and years, in every text form (plus HTML and
PDF when their renderers are present), one legacy report, one page that is not a report and one
report whose printed total does not add up. ``write_sample_set`` regenerates the set byte for
byte from fixed seeds, so a test can prove the committed files never drift from the generator;
``sample_documents`` gives the objects behind each file (and so the expected facts).
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xxgk.synth.generate import (
    PrintedDocument,
    generate_legacy,
    generate_not_a_report,
    generate_report,
    source_id_for,
)
from xxgk.synth.report import SyntheticReport
from xxgk.synth.text import render_text

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
MANIFEST = "manifest.yaml"


@dataclass(frozen=True)
class SampleSpec:
    """One sample document: how to generate it and how to render it."""

    file: str
    build: Callable[[], SyntheticReport | PrintedDocument]
    fmt: str  # txt | md | html | pdf
    form: str = ""  # text form (cells, layout, markdown, runs) for txt/md
    options: dict[str, Any] = field(default_factory=dict)


def _report(seed: int, **kwargs: Any) -> Callable[[], SyntheticReport]:
    return lambda: generate_report(seed, **kwargs)


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def sample_specs() -> list[SampleSpec]:
    """The documents of the sample set, in manifest order."""
    specs = [
        SampleSpec(
            "changsha-chengdong_2020.txt",
            _report(
                101,
                year=2020,
                versions="v2019",
                defects=("label_whitespace", "stray_header_zero"),
                publisher="长沙市城东区人民政府",
                scale="medium",
                title_style=0,
            ),
            "txt",
            "cells",
        ),
        SampleSpec(
            "changsha-chengdong_2021.txt",
            _report(
                102,
                year=2021,
                versions="v2021",
                defects=("wrong_total",),
                publisher="长沙市城东区人民政府",
                scale="medium",
                title_style=0,
            ),
            "txt",
            "cells",
        ),
        SampleSpec(
            "hangzhou-xincheng_2023.txt",
            _report(
                103,
                year=2023,
                versions="v2021",
                requests_layout="v2021",
                defects=("thousands_sep",),
                publisher="杭州市新城区人民政府",
                scale="large",
                title_style=1,
            ),
            "txt",
            "layout",
            {"lines_per_page": 64},
        ),
        SampleSpec(
            "jinan-nanshan_2022.txt",
            _report(
                104,
                year=2022,
                versions="v2019",
                defects=("blank_zeros", "money_yuan"),
                publisher="济南市南山区人民政府",
                scale="small",
                title_style=0,
            ),
            "txt",
            "layout",
            {"valign": "middle"},
        ),
        SampleSpec(
            "huaian-hexi_2024.md",
            _report(
                105,
                year=2024,
                versions="v2021",
                requests_layout="v2019",
                defects=("label_typos",),
                publisher="淮安市河西区人民政府",
                scale="small",
                title_style=0,
            ),
            "md",
            "markdown",
            {"merged": "empty", "split": {"requests": 14}},
        ),
        SampleSpec(
            "chengdu-sci_2021.md",
            _report(
                106,
                year=2021,
                versions="v2021",
                defects=("glosses", "punct_width", "fullwidth_digits"),
                publisher="成都市科学技术局",
                scale="small",
                title_style=2,
            ),
            "md",
            "markdown",
        ),
        SampleSpec(
            "fuzhou-gaoxin_2019.txt",
            _report(
                107,
                year=2019,
                versions="v2019",
                defects=(),
                publisher="福州市高新区人民政府",
                scale="small",
                title_style=2,
            ),
            "txt",
            "runs",
        ),
        SampleSpec(
            "fuzhou-gaoxin_2024.txt",
            _report(
                108,
                year=2024,
                versions="v2021",
                defects=("label_whitespace",),
                publisher="福州市高新区人民政府",
                scale="small",
                title_style=2,
            ),
            "txt",
            "runs",
            {"spaces": 0.05},
        ),
        SampleSpec(
            "fuzhou-gaoxin_2016.txt",
            lambda: generate_legacy(109, year=2016, publisher="福州市高新区人民政府"),
            "txt",
            "runs",
        ),
        SampleSpec(
            "suzhou-office_notice.txt",
            lambda: generate_not_a_report(110, publisher="苏州市人民政府办公室", year=2023),
            "txt",
            "layout",
        ),
    ]
    if _has("xxgk.synth.html"):
        specs.append(
            SampleSpec(
                "nanning-jiangnan_2022.html",
                _report(
                    111,
                    year=2022,
                    versions="v2021",
                    defects=("blank_zeros",),
                    publisher="南宁市江南区人民政府",
                    scale="medium",
                    title_style=0,
                ),
                "html",
                options={"encoding": "gb18030"},
            )
        )
    if _has("xxgk.synth.pdf"):
        specs.append(
            SampleSpec(
                "kunming-gaoxin_2020.pdf",
                _report(
                    112,
                    year=2020,
                    versions="v2019",
                    defects=("label_whitespace",),
                    publisher="昆明市高新区人民政府",
                    scale="small",
                    title_style=0,
                ),
                "pdf",
            )
        )
    return specs


def _render(spec: SampleSpec, doc: SyntheticReport | PrintedDocument) -> bytes:
    if spec.fmt in ("txt", "md"):
        return render_text(doc, spec.form, **spec.options)
    if spec.fmt == "html":
        from xxgk.synth.html import render_html

        return render_html(doc, **spec.options)
    if spec.fmt == "pdf":
        from xxgk.synth.pdf import render_pdf  # type: ignore[import-not-found]

        return render_pdf(doc, **spec.options)
    raise ValueError(f"unknown sample format {spec.fmt!r}")


def sample_documents() -> dict[str, SyntheticReport | PrintedDocument]:
    """The object behind each sample file, by file name (reports give ``expected_facts()``)."""
    return {spec.file: spec.build() for spec in sample_specs()}


def _entry(spec: SampleSpec, doc: SyntheticReport | PrintedDocument, data: bytes) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "file": spec.file,
        "source_id": source_id_for(doc.publisher),
        "publisher": doc.publisher,
        "year": doc.year,
        "format": spec.fmt,
    }
    if spec.form:
        entry["text_form"] = spec.form
    if isinstance(doc, SyntheticReport):
        entry.update(
            {
                "kind": "report",
                "title": doc.title,
                "expected_status": "ok",
                "template_versions": dict(doc.versions),
                "requests_layout": doc.requests_layout,
                "defects": list(doc.defects),
                "failing_checks": list(doc.failing_checks),
                "facts": len(doc.expected_facts()),
            }
        )
    else:
        entry.update({"kind": doc.kind, "title": doc.title, "expected_status": doc.expected_status})
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    entry["bytes"] = len(data)
    return entry


def write_sample_set(dest: Path = SAMPLE_DIR) -> list[Path]:
    """Write every sample document and ``manifest.yaml`` into ``dest``; return the paths written.

    Deterministic: the same code writes the same bytes. Files of earlier sets that are no longer
    in the manifest are left alone (the caller owns the directory).
    """
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    entries = []
    for spec in sample_specs():
        doc = spec.build()
        data = _render(spec, doc)
        path = dest / spec.file
        path.write_bytes(data)
        written.append(path)
        entries.append(_entry(spec, doc, data))
    manifest = {
        "description": "Synthetic 政府信息公开工作年度报告 sample set, generated by synth.sample.write_sample_set; "
        "do not edit by hand (python -m synth.sample regenerates it).",
        "documents": entries,
    }
    path = dest / MANIFEST
    path.write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    written.append(path)
    return written


def load_manifest(directory: Path = SAMPLE_DIR) -> list[dict[str, Any]]:
    """The manifest entries of a sample directory (file, source_id, publisher, year, format ...)."""
    data = yaml.safe_load((directory / MANIFEST).read_text(encoding="utf-8"))
    return list(data["documents"])


if __name__ == "__main__":
    for p in write_sample_set():
        print(p)
