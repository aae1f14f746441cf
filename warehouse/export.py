"""``xxgk export``: the warehouse as files an analyst opens anywhere (CSV, Excel, DuckDB).

What is exported (primary copies only, derived rows apart, as ``xxgk.open(d)`` gives them):

* ``wide_proactive``, ``wide_requests``, ``wide_review_litigation``: the wide views, keys and
  Chinese/English row labels side by side (``warehouse.wide``);
* ``reports``: every document, primary or not (``is_primary`` says which counts), with status,
  reason and consistency;
* ``failed_checks``: every check that failed, of every primary report;
* ``keys``: every key with its printed Chinese labels per format version and its English name.

Formats: ``csv`` (a directory of UTF-8 CSV files with a BOM, so Excel reads the Chinese),
``xlsx`` (one workbook, one sheet per table; needs openpyxl), ``duckdb`` (one database file with
those tables plus the long ``facts``, ``checks`` and ``unmapped`` as published; needs duckdb).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xxgk.warehouse.analysis import Warehouse, _optional
from xxgk.warehouse.wide import WIDE_TABLES

FORMATS = ("csv", "xlsx", "duckdb")


def export_frames(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """The exported tables by name, in export order."""
    frames = {f"wide_{t}": wh.wide(t) for t in WIDE_TABLES}
    frames["reports"] = wh.reports(primary_only=False)
    frames["failed_checks"] = wh.checks(failed_only=True)
    frames["keys"] = wh.keys()
    return frames


def _excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Excel has no timezones, lists or nullable extension types: plain values it can store."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_convert("UTC").dt.tz_localize(None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple)) or hasattr(v, "tolist")).any():
            out[col] = s.map(lambda v: "; ".join(map(str, list(v))) if v is not None and not isinstance(v, str) else v)
    return out


def export_warehouse(data_dir: Path | str, fmt: str, out: Path | str) -> list[Path]:
    """Write the export of ``data_dir`` as ``fmt`` to ``out``; returns the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    wh = Warehouse(data_dir)
    out = Path(out)
    frames = export_frames(wh)
    if fmt == "csv":
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in frames.items():
            path = out / f"{name}.csv"
            frame.to_csv(path, index=False, encoding="utf-8-sig")
            written.append(path)
        return written
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        _optional("openpyxl")
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            for name, frame in frames.items():
                _excel_safe(frame).to_excel(writer, sheet_name=name[:31], index=False)
        return [out]
    duckdb = _optional("duckdb")
    if out.exists():
        out.unlink()
    con = duckdb.connect(str(out))
    try:
        for name in ("facts", "checks", "unmapped"):
            con.register(f"_{name}", wh.arrow(name))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
        for name, frame in frames.items():
            con.register(f"_{name}", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
    finally:
        con.close()
    return [out]
