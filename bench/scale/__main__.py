"""``python -m bench.scale`` (or ``python -m xxgk.bench.scale``): the scale benchmark's command line.

A measured child run (``--child PARAMS``) imports only what a pipeline run imports.
"""

import sys
from pathlib import Path

if len(sys.argv) == 3 and sys.argv[1] == "--child":
    from xxgk.bench.scale.child import child_main

    raise SystemExit(child_main(Path(sys.argv[2])))

from xxgk.bench.scale.runner import cli

raise SystemExit(cli())
