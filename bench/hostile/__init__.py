"""The hostile-input harness (``python -m xxgk.bench.hostile``): bad files and a hostile server.

``files`` generates bad documents (bombs, truncated/encrypted/cyclic PDFs, deep HTML, huge
tables, bad encodings, odd and long names); ``server`` is a loopback HTTP server of every trick a
server can play on the harvester. ``__main__`` runs each case in a child process under a memory
and time limit and prints a table of case → outcome, seconds, peak RSS.
"""
