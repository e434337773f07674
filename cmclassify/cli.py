"""Command line: ``cmclassify analyse|evaluate``. Exit codes: 0 done, 1 runtime error, 2 usage."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from .analysis import FORMATS
from .read import InputError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cmclassify", description="What Spanish community-manager job ads really ask for.")
    parser.add_argument("--version", action="version", version=f"cmclassify {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyse = commands.add_parser("analyse", aliases=["analyze"], help="analyse ads and write ads.* and duties.* tables")
    analyse.add_argument("input", help="CSV, JSON, JSONL, Parquet or .txt file, or a folder of .txt files")
    analyse.add_argument("-o", "--output", required=True, help="output folder")
    analyse.add_argument("--format", choices=FORMATS, default="csv", help="table format (default: csv)")
    analyse.add_argument("--text-col", default="description", help="column holding the ad text (default: description)")
    analyse.add_argument("--title-col", default="title", help="column holding the title (default: title)")
    analyse.add_argument("--id-col", default="ad_id", help="column holding the ad id (default: ad_id)")
    analyse.add_argument("--no-progress", action="store_true", help="no progress bar")

    evaluate = commands.add_parser("evaluate", help="score the tool on gold ads labelled by the codebook")
    evaluate.add_argument("gold", help="gold JSONL file (the format of shared/eval/dev.jsonl)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    return parser


def _run_analyse(args: argparse.Namespace) -> int:
    from .pipeline import analyse

    result = analyse(args.input, text_col=args.text_col, title_col=args.title_col, id_col=args.id_col,
                     progress=not args.no_progress)
    paths = result.save(args.output, args.format)
    counts = result.ads["status"].value_counts().to_dict()
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    print(f"{len(result.ads)} ads ({summary}), {len(result.duties)} duties -> {', '.join(map(str, paths))}")
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_file, format_report

    scores = evaluate_file(args.gold)
    print(json.dumps(scores, indent=2, ensure_ascii=False) if args.json else format_report(scores))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "evaluate":
            return _run_evaluate(args)
        return _run_analyse(args)
    except (InputError, OSError, ValueError) as exc:
        print(f"cmclassify: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cmclassify: interrupted", file=sys.stderr)
        return 1
