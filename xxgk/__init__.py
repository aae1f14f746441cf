"""xxgk: annual Open Government Information reports (政府信息公开工作年度报告) as canonical tables.

The installed product lives under this one namespace: ``xxgk.flows``, ``xxgk.extractors``,
``xxgk.schemas``, ``xxgk.warehouse``, ``xxgk.harvest``, ``xxgk.storage`` (and the scaffolding
``xxgk.synth``, ``xxgk.bench``, ``xxgk.demo``). In the wheel they are sub-packages of this folder; in a source checkout they are the
top-level folders beside it, which the lines below add to this package's search path.
"""

from __future__ import annotations

from pathlib import Path as _Path
from typing import TYPE_CHECKING

_checkout = _Path(__file__).resolve().parent.parent
if (_checkout / "pyproject.toml").is_file() and (_checkout / "schemas" / "__init__.py").is_file():
    __path__.append(str(_checkout))  # a source checkout: xxgk.schemas is <checkout>/schemas

__version__ = "0.1.0"


def open(data_dir: str | _Path = "data") -> Warehouse:
    """The warehouse published under ``data_dir``: facts, reports, checks, keys, wide views (pandas).

    Needs no Prefect: ``import xxgk; wh = xxgk.open("data"); wh.wide("requests")``. See
    ``xxgk.warehouse.analysis`` and docs/analysts.md.
    """
    from xxgk.warehouse.analysis import Warehouse

    return Warehouse(data_dir)


def __getattr__(name: str) -> object:
    if name == "Warehouse":
        from xxgk.warehouse.analysis import Warehouse

        return Warehouse
    raise AttributeError(f"module 'xxgk' has no attribute {name!r}")


if TYPE_CHECKING:
    from xxgk.warehouse.analysis import Warehouse

__all__ = ["Warehouse", "__version__", "open"]
