"""Reading YAML text with libyaml when PyYAML has it (the same safe constructors as ``yaml.safe_load``).

A registry of 10,000 sources is ~5 MB of YAML, which the pure-Python loader takes seconds of
every nightly run to read (``bench.scale``); libyaml reads it in a fraction of that.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

#: ``yaml.CSafeLoader`` when PyYAML was built with libyaml, else the pure-Python ``SafeLoader``.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, with libyaml when available."""
    return yaml.load(text, Loader=SAFE_LOADER)  # a safe loader: CSafeLoader or SafeLoader


def load_yaml_file(path: str | Path) -> Any:
    """The YAML of a file (UTF-8, a BOM allowed), parsed once while the file is unchanged.

    A run reads its registry twice (is it a registry? then its sources); the second read costs
    a ``stat``. The parsed object is shared: read it, never change it.
    """
    resolved = Path(path).resolve()
    st = os.stat(resolved)
    return _parsed(str(resolved), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=4)
def _parsed(path: str, _mtime_ns: int, _size: int) -> Any:
    return safe_load_yaml(Path(path).read_text(encoding="utf-8-sig"))
