"""Writing files safely: atomic replaces and cross-process locks (no knowledge of what is written).

The lowest layer of the product: the raw archive (``harvest``), the warehouse and the flows all
write through ``storage.files``, so harvesting does not depend on the warehouse to write a file.
"""
