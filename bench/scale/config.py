"""What a scale benchmark runs: the steps, the issue targets, ``ScaleConfig``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STEPS = (
    "first",
    "settle",
    "nightly",
    "nightly_ephemeral",
    "nightly_plain",
    "nightly_defaults",
    "changes",
    "due",
    "grow",
    "backfill",
    "backfill_serial",
    "backfill_plain",
)
#: Targets of issues 5 and 15: a no-change night takes at most 6 ms per source (60 s for 10,000
#: sources), and never more than 10 s for 1,000 or fewer; at most 2.5 requests per source.
TARGET_NIGHTLY_S_PER_SOURCE = 0.006
TARGET_NIGHTLY_S_MIN = 10.0
TARGET_REQUESTS_PER_SOURCE = 2.5
TARGET_BACKFILL_S = 15 * 60.0
TARGET_OVERHEAD = 0.10
TARGET_RSS_MB = 1024.0
SERVER_PORT = 28642


@dataclass
class ScaleConfig:
    """What to run: sizes, politeness, concurrency, where, which steps."""

    sources: int = 1000
    years: int = 5
    backfill_sources: int = 2000
    seed: int = 0
    delay: float = 0.1
    workers: int = 2
    #: documents per extraction task; None: the pipeline's own sizing (``extraction_batch_size``)
    batch_size: int | None = None
    runner: str = "auto"
    backfill_runner: str = "processes"
    source_threads: int | None = None
    source_batch: int | None = None
    #: worker processes of the harvest (``HarvestPlan.processes``); None: the pipeline decides
    harvest_processes: int | None = None
    portal_port: int = 28765
    server_port: int = SERVER_PORT
    hosts: str | None = None
    work_dir: Path = Path("data/bench/scale")
    out: Path = Path("data/bench")
    steps: tuple[str, ...] = STEPS
    fresh: bool = True
    sample_interval: float = 0.2
    #: ``server``: orchestrated runs use a Prefect server started for the benchmark (as under
    #: ``xxgk serve``); ``ephemeral``: each run starts its temporary API; ``none``: every run
    #: in-process without Prefect (``orchestrate=False``; the tests' tiny runs).
    prefect: str = "server"
    #: False: a what-if without the per-source Prefect artifacts (to isolate their cost).
    artifacts: bool = True
    #: sites the portal serves, when not derived from the steps: ``--keep`` keeps the portal the data
    #: directory was harvested from (a portal of another size is another corpus, not a prefix of it)
    portal_size: int | None = None
    #: sites per kind of change (added, relisted, removed, silent) of the ``changes`` step
    changes: int = 3
    #: which known documents the nightly runs ask about (``--revalidate``; None: the pipeline's default)
    revalidate: str | None = None
    #: shares of HTML, PDF and text reports on the portal (``demo.scale.SCALE_MIX`` by default)
    mix: tuple[float, float, float] = (0.6, 0.3, 0.1)

    @property
    def portal_sources(self) -> int:
        if self.portal_size:
            return self.portal_size
        return max(self.sources, self.backfill_sources if self._grows else self.sources)

    @property
    def _grows(self) -> bool:
        return any(s in self.steps for s in ("grow", "backfill", "backfill_serial", "backfill_plain"))


def nightly_target_s(sources: int) -> float:
    """The wall-time target of a no-change night over ``sources`` sources."""
    return max(TARGET_NIGHTLY_S_MIN, TARGET_NIGHTLY_S_PER_SOURCE * sources)
