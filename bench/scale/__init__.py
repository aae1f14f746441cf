"""Scale benchmark (issues 5 and 15): N sources × Y years harvested from the local portal.

``python -m bench.scale`` serves ``demo.scale.scale_spec`` (default 2,000 sources × 5 years:
60% HTML pages with tables, 30% PDF attachments, 10% text exports; every source on a loopback
address of its own, so per-host politeness applies per source as between real sites) from a
separate process, then runs the pipeline in fresh child processes (as ``xxgk serve`` runs each
flow run) and measures each run's wall time, the CPU of its whole process tree (the child and
every descendant: process-pool workers, a temporary Prefect API), the peak RSS of that tree
(summed over its processes, sampled), and the CPU of the Prefect server and of the portal.

Runs (``--steps``, in this order):

- ``first``: the first full harvest + extract + publish over the first ``--sources`` sources;
- ``settle``: a nightly run not judged (e.g. the first night over an archive made by older code,
  whose documents have no revisit schedule yet and are all asked about once);
- ``nightly``: the same again with nothing changed on the portal (listings asked conditionally,
  known reports not due under the revisit policy, nothing extracted) against an already running
  Prefect server, as ``xxgk serve`` runs it: requests and CPU per source, wall, peak RSS;
- ``nightly_ephemeral``: the same with a temporary Prefect API started by the run itself;
- ``nightly_plain``: the same without Prefect (``orchestrate=False``), for reference;
- ``nightly_defaults``: the nightly run with the pipeline's own harvest concurrency, when
  ``--source-threads``/``--source-batch`` tune it for the other runs;
- ``changes``: the portal restarted with ``--changes`` sites per kind of change (a report added,
  one re-listed with a new date and new values, one removed, one changed with its listing entry
  unchanged: ``demo.scale.apply_scale_changes``), then a night: the first three must be found;
- ``due``: a night as if the longest revisit interval had passed: the silent change must be found
  (``correctness`` in the results, ``changes_found`` in the verdict);
- ``grow``: a run over all ``--backfill-sources`` sources, so the raw archive holds their reports;
- ``backfill``: ``xxgk backfill`` (``flows.backfill.run_backfill``) with the staging cleared first,
  as after an extractor version bump: every report of the raw archive replayed, parsed again and
  republished, under Prefect with the process runner;
- ``backfill_serial``: the same with ``orchestrate=False`` (the same task functions, in-process);
- ``backfill_plain``: the backfill's functions with extraction on a plain pool of ``--workers``
  processes, no Prefect: with ``backfill`` it gives the Prefect overhead share.

Modules: ``config`` (steps, targets, ``ScaleConfig``), ``measure`` (process-tree sampling, the
helper processes, one measured child run), ``child`` (the run inside the child), ``report``
(targets, correctness, markdown), ``runner`` (the whole benchmark and its command line).

Results go to ``<out>/scale.json`` and ``<out>/scale.md``. The politeness delay is per source
(``delay_seconds`` in the generated registry, default 0.1 s: a tenth of the production default).
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use (PEP 562): a measured child run imports ``child`` only, not the
# benchmark's own machinery (portal, sampling, reports), which no real run pays for.
_HOMES = {
    "STEPS": "config",
    "ScaleConfig": "config",
    "TreeSampler": "measure",
    "tree_cpu_seconds": "measure",
    "to_markdown": "report",
    "verdict": "report",
    "child_main": "child",
    "_same_portal": "runner",
    "cli": "runner",
    "main": "runner",
    "run": "runner",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
