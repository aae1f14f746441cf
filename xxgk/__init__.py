"""xxgk: annual Open Government Information reports (政府信息公开工作年度报告) as canonical tables.

The installed product lives under this one namespace: ``xxgk.flows``, ``xxgk.extractors``,
``xxgk.schemas``, ``xxgk.warehouse``, ``xxgk.harvest``, ``xxgk.storage`` (and the scaffolding
``xxgk.synth``, ``xxgk.bench``, ``xxgk.demo``). In the wheel they are sub-packages of this folder; in a source checkout they are the
top-level folders beside it, which the lines below add to this package's search path.
"""

from __future__ import annotations

from pathlib import Path as _Path

_checkout = _Path(__file__).resolve().parent.parent
if (_checkout / "pyproject.toml").is_file() and (_checkout / "schemas" / "__init__.py").is_file():
    __path__.append(str(_checkout))  # a source checkout: xxgk.schemas is <checkout>/schemas

__version__ = "0.1.0"
