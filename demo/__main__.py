"""``python -m xxgk.demo``: see ``demo.cli``."""

from xxgk.demo.cli import main

main()
