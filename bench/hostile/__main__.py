"""``python -m xxgk.bench.hostile``: every hostile case under its limits, as a table.

Three parts: each bad file alone through ``extract_document`` (a forked child, 1 GiB address
space, 60 s); all of them with one good report in one real ``xxgk extract`` (its summary, and
the good report's facts compared with a run of it alone); each hostile-server trick fetched
alone. ``--scale full`` builds the bombs at the issue's sizes (1 GiB inflated).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from xxgk.bench.hostile.files import bad_files
from xxgk.bench.hostile.run import MEMORY_LIMIT, TIME_LIMIT, mixed_run, run_files, run_server, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xxgk.bench.hostile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=("small", "full"), default="small", help="bomb sizes (default: small)")
    parser.add_argument("--only", nargs="*", default=(), help="case names to run (default: all)")
    parser.add_argument("--no-cli", action="store_true", help="skip the mixed xxgk extract run")
    parser.add_argument("--no-server", action="store_true", help="skip the hostile-server cases")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)

    cases = bad_files(args.scale, tuple(args.only))
    outcomes = run_files(cases)
    if not args.no_cli:
        with tempfile.TemporaryDirectory(prefix="xxgk-hostile-") as tmp:
            outcomes.append(mixed_run(cases, Path(tmp)).outcome(len(cases)))
    if not args.no_server:
        outcomes.extend(run_server())
    limits = (
        f"limits per case: {MEMORY_LIMIT >> 20} MiB address space, {TIME_LIMIT} s; scale {args.scale}. "
        "File cases run in a child forked from a warmed-up parent (its ~80 MB count in the peak RSS); "
        "the xxgk extract run and each server fetch are fresh interpreters (seconds include start-up), "
        "peak RSS read from VmHWM."
    )
    text = f"{limits}\n\n{table(outcomes)}\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0 if all(o.within_limits() for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
