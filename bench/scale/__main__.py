"""``python -m bench.scale`` (or ``python -m xxgk.bench.scale``): the scale benchmark's command line."""

from xxgk.bench.scale.runner import cli

raise SystemExit(cli())
