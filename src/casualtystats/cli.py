"""Command line: `casualtystats validate | report | brief`.

The CLI only composes the public API; it holds no statistics. Expected user
errors (unreadable files, bad arguments) print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import CasualtyStatsError
from .outputs import write_table

EXIT_USER_ERROR = 2
ACTOR_HELP = "actor to analyse, any spelling of the alias table (default: %(default)s)"


class OutputError(CasualtyStatsError):
    """An output path that cannot be written."""


def writable(path: str | Path) -> Path:
    """`path`, its folder created, checked writable before any work is done (so a long run does
    not end in a traceback)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with open(path, "a"):
            pass
        if not existed:
            path.unlink()
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
    return path


def _validate(args: argparse.Namespace) -> int:
    from .sources import load_incidents

    # default: beside where the command runs, never into the (possibly read-only) data folder
    named = Path(Path(args.files[0]).name).with_suffix(".quarantine.csv") if len(args.files) == 1 else None
    out = writable(args.output or named or "quarantine.csv")
    result = load_incidents(args.files, source=args.source, columns=dict(args.columns or ()))
    print(result.summary())
    if result.quarantine.empty and not args.output:
        print("quarantine: 0 rows, nothing written")
        return 0
    csv, raw = write_table(out, result.quarantine)
    print(f"quarantine: {len(result.quarantine)} rows written to {csv} (raw cells exactly: {raw})")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import build_report

    writable(args.output)
    # build_report shows a progress bar and ends with a summary line naming the file
    build_report(
        args.files,
        args.output,
        actor=args.actor,
        start=args.date_from,
        end=args.date_to,
        merge=args.merge,
        columns=dict(args.columns or ()),
    )
    return 0


def _brief(args: argparse.Namespace) -> int:
    from .briefing import briefing

    brief = briefing(
        args.files, args.month, actor=args.actor, merge=args.merge, columns=dict(args.columns or ())
    )
    # JSON per the shipped schema (casualtystats/data/briefing.schema.json); arrows kept as characters
    print(json.dumps(brief.to_dict(), indent=2, ensure_ascii=False) if args.json else brief.to_markdown())
    return 0


def _merge_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-merge",
        dest="merge",
        action="store_const",
        const=False,
        default="auto",
        help="stack several sources instead of merging reports of the same incident",
    )


def _column(text: str) -> tuple[str, str]:
    name, sep, canonical = text.partition("=")
    if not sep or not name.strip() or not canonical.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected YOUR_COLUMN=CANONICAL, e.g. Killed=fatalities")
    return name, canonical


def _columns_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--column",
        dest="columns",
        type=_column,
        action="append",
        metavar="YOURS=CANONICAL",
        help="name a column of your own table after a canonical one (repeat it), e.g. --column Killed=fatalities",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casualtystats", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="load files, print what was accepted and quarantined")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--source", choices=["native", "ucdp", "gtd", "acled"], help="force the format")
    _columns_flag(p)
    p.add_argument(
        "-o",
        "--output",
        help="quarantine CSV (default: NAME.quarantine.csv in the current folder, quarantine.csv for several "
        "files, written only if rows were quarantined); formula-like cells neutralised, raw cells in .parquet beside it",
    )
    p.set_defaults(run=_validate)

    p = sub.add_parser("report", help="build the self-contained HTML trend report")
    p.add_argument("files", nargs="+")
    p.add_argument("-o", "--output", default="reports/report.html", help="HTML file (default: %(default)s)")
    p.add_argument("--actor", default="ISIS", help=ACTOR_HELP)
    p.add_argument("--from", dest="date_from", help="first date (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", help="last date (YYYY-MM-DD)")
    _merge_flag(p)
    _columns_flag(p)
    p.set_defaults(run=_report)

    p = sub.add_parser("brief", help="monthly briefing in markdown (or JSON)")
    p.add_argument("files", nargs="+")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--actor", default="ISIS", help=ACTOR_HELP)
    p.add_argument("--json", action="store_true", help="structured output instead of markdown")
    _merge_flag(p)
    _columns_flag(p)
    p.set_defaults(run=_brief)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except CasualtyStatsError as err:
        print(f"casualtystats {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
