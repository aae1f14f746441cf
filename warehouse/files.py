"""Moved to ``xxgk.storage.files`` (harvesting writes files too, and must not depend on the warehouse).

Kept as a re-export so existing ``from xxgk.warehouse.files import ...`` lines keep working.
"""

from xxgk.storage.files import atomic_write_bytes, commit_temp, file_lock, fsync_dir, write_if_changed, write_temp

__all__ = ["atomic_write_bytes", "commit_temp", "file_lock", "fsync_dir", "write_if_changed", "write_temp"]
