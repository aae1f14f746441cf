"""CMS families: one small adapter per family of sites that share listing/report page conventions.

``ADAPTERS`` maps the registry's ``adapter:`` value to an adapter instance. Adding a family is
adding a module here with a ``GenericAdapter`` subclass and one line below.
"""

from __future__ import annotations

from xxgk.harvest.adapters.hanweb import HanwebAdapter
from xxgk.harvest.adapters.trs import TrsAdapter
from xxgk.harvest.discovery import GenericAdapter

ADAPTERS: dict[str, GenericAdapter] = {
    "generic": GenericAdapter(),
    "trs": TrsAdapter(),
    "hanweb": HanwebAdapter(),
}


def adapter_for(name: str) -> GenericAdapter:
    """The adapter registered under ``name``; ``KeyError`` names the known ones."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise KeyError(f"unknown adapter {name!r}; known: {sorted(ADAPTERS)}") from None
