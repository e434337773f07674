"""Command line: ``cmclassify analyse|report|summary|train|info|evaluate|annotations``.

Exit codes: 0 done, 1 runtime error, 2 usage."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from . import __version__
from .errors import InputError, ModelError, RulesError
from .output import FORMATS


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
    analyse.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                         help="worker processes for the local engine (-1: one per core; default 1)")
    analyse.add_argument("--engine", choices=("local", "dask"), default="local",
                         help="local: stream through this process (default); dask: partitioned Parquet via Dask")
    analyse.add_argument("--scheduler", metavar="ADDRESS",
                         help="Dask scheduler address (default with --engine dask: a local cluster)")

    report = commands.add_parser("report", help="analyse ads and write a self-contained HTML report")
    report.add_argument("input", help="CSV, JSON, JSONL, Parquet or .txt file, or a folder of .txt files")
    report.add_argument("-o", "--output", required=True, help="the HTML file to write")
    report.add_argument("--text-col", default="description", help="column holding the ad text (default: description)")
    report.add_argument("--title-col", default="title", help="column holding the title (default: title)")
    report.add_argument("--id-col", default="ad_id", help="column holding the ad id (default: ad_id)")
    report.add_argument("--lang", choices=("es", "en", "both"), default="es", help="language of the report (default: es)")
    report.add_argument("--max-cards", type=int, default=500, help="ads shown as full cards, highest score first (default: 500)")
    report.add_argument("--no-progress", action="store_true", help="no progress bar")
    report.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes (-1: one per core; default 1)")

    summary = commands.add_parser("summary", help="summarise a folder of results (from analyse) overall and per group, "
                                                  "with intervals and corrected rates; writes them with a data dictionary")
    summary.add_argument("results", nargs="?", help="folder written by cmclassify analyse")
    summary.add_argument("-o", "--output", help="folder for the summaries (default: the results folder)")
    summary.add_argument("--by", action="append", default=[], metavar="COLUMNS",
                         help="group by these columns of the ads, comma-separated (month, year: from the date); "
                              "repeatable, one file each")
    summary.add_argument("--format", choices=FORMATS, default="csv", help="file format (default: csv)")
    summary.add_argument("--min-n", type=int, default=30, help="withhold figures over fewer ads (default: 30)")
    summary.add_argument("--no-correction", action="store_true",
                         help="no rates corrected for the tool's error (e.g. for results of other models)")
    summary.add_argument("--dictionary", action="store_true", help="print the data dictionary as Markdown and stop")

    review = commands.add_parser("review", help="review one ad for HR: verdict, score explained, what to fix first "
                                                "and how (plain text here; -o for the HTML page)")
    review.add_argument("input", nargs="?", default="-", help="the ad as a text file (default: standard input)")
    review.add_argument("--title", help="the ad's title (default: the first line of the text)")
    review.add_argument("-o", "--output", help="also write the review as one self-contained HTML file")
    review.add_argument("--lang", choices=("es", "en"), default="es", help="language of the review (default: es)")

    serve = commands.add_parser("serve", help="the review page on a local web server: paste, fix, re-score, print")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    serve.add_argument("--lang", choices=("es", "en"), default="es", help="language of the page (default: es)")

    train = commands.add_parser("train", help="train the duty models (reproduces the shipped models from data/ and the annotations)")
    train.add_argument("data", nargs="?", help="labelled duties: JSONL/CSV file or folder (default: the bundled data/duties)")
    train.add_argument("-o", "--output", required=True, help="folder for the model and its card")
    train.add_argument("--extra", action="append", default=[], metavar="FILE",
                       help="more labelled duties (columns text, label) to train on; repeatable")
    train.add_argument("--gold", help="gold ads JSONL to measure the new model on (recorded in its card)")
    train.add_argument("--cv", type=int, default=5, help="cross-validation folds for the card (0 to skip; default 5)")
    train.add_argument("--part", choices=("all", "labels", "extraction", "detector", "functions", "cm_role"), default="all",
                       help="which models: all (default; the duty labels from DATA and the annotated duties, the "
                            "extraction, the sentence detector, the function tagger and the CM role from the "
                            "annotations: needs the corpus), the duty labels from DATA only, or one of the others only")
    train.add_argument("--annotations", help="annotations JSONL (default: data/annotations/ads.jsonl)")
    train.add_argument("--corpus", help="corpus Parquet the annotations refer to (default: ../shared/corpus/ads.parquet)")

    info = commands.add_parser("info", help="print the model card")
    info.add_argument("--model", help="model folder (default: the shipped model)")

    evaluate = commands.add_parser("evaluate", help="score the tool on gold ads, or by grouped cross-validation on "
                                                    "the project's annotations (--cv)")
    evaluate.add_argument("gold", nargs="?", help="gold JSONL file (the format of shared/eval/dev.jsonl)")
    evaluate.add_argument("--cv", type=int, metavar="K",
                          help="K-fold grouped cross-validation on the annotations, retraining the learned parts per fold")
    evaluate.add_argument("--annotations", help="annotations JSONL (default: data/annotations/ads.jsonl)")
    evaluate.add_argument("--corpus", help="corpus Parquet the annotations refer to (default: ../shared/corpus/ads.parquet)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--out", help="also write the scores as JSON to this file")
    evaluate.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the intervals (default 1000)")
    evaluate.add_argument("--model", help="model folder whose models replace the shipped ones (needs --trust)")
    evaluate.add_argument("--trust", action="store_true",
                          help="load --model although model files can run code when loaded (only for models you trust)")

    annotations = commands.add_parser("annotations", help="make the project's annotations of real corpus ads")
    steps = annotations.add_subparsers(dest="step", required=True, metavar="STEP")
    sample = steps.add_parser("sample", help="draw the seeded stratified sample (data/annotations/sampling.yaml)")
    sample.add_argument("-o", "--output", required=True, help="CSV of ad_id, stratum, title_family")
    sample.add_argument("--corpus", help="corpus Parquet (default: ../shared/corpus/ads.parquet)")
    sample.add_argument("--exclude", action="append", default=[], metavar="GOLD.jsonl",
                        help="gold ads whose near-duplicates are never drawn (default: ../shared/eval/dev.jsonl)")
    export = steps.add_parser("export", help="write sampled ads as batches for annotators (corpus text: keep them outside the project)")
    export.add_argument("sample", help="CSV from `annotations sample` (rows in the order to annotate)")
    export.add_argument("-o", "--output", required=True, help="folder for the batch files")
    export.add_argument("--batch-size", type=int, default=60)
    export.add_argument("--prefix", default="batch")
    export.add_argument("--corpus", help="corpus Parquet (default: ../shared/corpus/ads.parquet)")
    check = steps.add_parser("check", help="list what does not fit in an annotator's answers")
    check.add_argument("answers", help="answers JSONL (duties and evidence quoted from the ads)")
    check.add_argument("batch", help="the batch file the answers are for")
    imports = steps.add_parser("import", help="turn checked answers into reference records (offsets, sha1, no text)")
    imports.add_argument("pairs", nargs="+", metavar="ANSWERS=BATCH", help="answers file and its batch file")
    imports.add_argument("--pass", dest="pass_", choices=("1", "2"), required=True)
    imports.add_argument("--sample", required=True, help="CSV from `annotations sample` (gives each ad its stratum)")
    imports.add_argument("-o", "--output", required=True,
                         help="reference JSONL to add to (a record replaces the one of the same ad and pass)")
    summary = steps.add_parser("summary", help="the data card's counts (Markdown): strata, sources, countries, labels, flags")
    summary.add_argument("--annotations", help="annotations JSONL (default: data/annotations/ads.jsonl)")
    summary.add_argument("--corpus", help="corpus Parquet (default: ../shared/corpus/ads.parquet)")
    agree = steps.add_parser("agreement", help="agreement of the two passes, field by field, and the ads to adjudicate")
    agree.add_argument("--annotations", help="annotations JSONL (default: data/annotations/ads.jsonl)")
    agree.add_argument("--corpus", help="corpus Parquet (default: ../shared/corpus/ads.parquet)")
    agree.add_argument("-o", "--output", help="write the agreement as JSON (e.g. data/annotations/agreement.json)")
    agree.add_argument("--disagreements", help="write the ads whose passes differ, one JSON line each")
    return parser


def _run_agreement(args: argparse.Namespace) -> int:
    from .annotation_workflow import agreement, disagreements
    from .annotations import load_annotations

    both = load_annotations(args.annotations, args.corpus, pass_=None)
    first, second = [a for a in both if a.pass_ == "1"], [a for a in both if a.pass_ == "2"]
    result = agreement(first, second)
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        from .output import write_atomically

        write_atomically(args.output, text)
    else:
        print(text, end="")
    found = disagreements(first, second)
    if args.disagreements:
        from .output import write_atomically

        write_atomically(args.disagreements, "".join(json.dumps(d) + "\n" for d in found))
    print(f"{result['n_ads']} ads read twice; {len(found)} to adjudicate", file=sys.stderr)
    return 0


def _run_annotations(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import annotation_workflow as workflow
    from .annotations import read_corpus
    from .resources import shared_dir

    if args.step == "agreement":
        return _run_agreement(args)
    if args.step == "summary":
        from .annotations import load_annotations

        print(workflow.summary_tables(load_annotations(args.annotations, args.corpus)), end="")
        return 0
    if args.step == "check":
        problems = workflow.check_answers(args.answers, args.batch)
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s)" if problems else "all answers fit")
        return 1 if problems else 0
    if args.step == "import":
        pairs = [tuple(Path(p) for p in pair.split("=", 1)) for pair in args.pairs]
        import pandas as pd

        sample = pd.read_csv(args.sample, dtype=str)
        records = workflow.import_answers(pairs, args.pass_, dict(zip(sample["ad_id"], sample["stratum"])))  # type: ignore[arg-type]
        kept = workflow.merge_records(workflow.read_jsonl(args.output) if Path(args.output).exists() else [], records)
        workflow.write_records(kept, args.output)
        print(f"{len(records)} records imported, {len(kept)} in {args.output}")
        return 0
    import pandas as pd

    corpus = read_corpus(args.corpus)
    if args.step == "sample":
        from .annotations import draw_sample

        excluded = args.exclude or [str(shared_dir() / "eval" / "dev.jsonl")]
        texts = [row["description"] for path in excluded for row in workflow.read_jsonl(path)]
        sample = draw_sample(corpus, texts)
        sample.to_csv(args.output, index=False)
        print(f"{len(sample)} ads -> {args.output}: " + ", ".join(f"{k} {v}" for k, v in sample["stratum"].value_counts().items()))
        return 0
    paths = workflow.export_batches(pd.read_csv(args.sample, dtype=str), corpus, args.output, args.batch_size, args.prefix)
    print(f"{len(paths)} batches -> {args.output}")
    return 0


def _run_analyse(args: argparse.Namespace) -> int:
    if args.engine == "dask":
        from .distributed import analyse_files_dask

        done = analyse_files_dask(args.input, args.output, scheduler=args.scheduler, text_col=args.text_col,
                                  title_col=args.title_col, id_col=args.id_col)
    else:
        from .pipeline import analyse_to_files

        done = analyse_to_files(args.input, args.output, args.format, text_col=args.text_col, title_col=args.title_col,
                                id_col=args.id_col, progress=not args.no_progress, n_process=args.jobs)
    summary = ", ".join(f"{n} {status}" for status, n in done["statuses"].items())
    print(f"{done['n_ads']} ads ({summary}), {done['n_duties']} duties -> {', '.join(map(str, done['paths']))}")
    return 0


def _run_summary(args: argparse.Namespace) -> int:
    from .export import dictionary_markdown

    if args.dictionary:
        print(dictionary_markdown(), end="")
        return 0
    if args.results is None:
        raise ValueError("give the folder of results to summarise (or --dictionary)")
    from .analysis import Analysis
    from .export import export_summaries

    analysis = Analysis.load(args.results)
    groupings = [[c.strip() for c in by.split(",") if c.strip()] for by in args.by]
    paths = export_summaries(analysis, args.output or args.results, groupings, args.format, min_n=args.min_n,
                             correct=not args.no_correction)
    overall = analysis.summary(min_n=args.min_n, correct=not args.no_correction)
    print(overall[["metric", "value", "ci_low", "ci_high", "n", "corrected"]].to_string(index=False, float_format="%.3f"))
    print(f"-> {', '.join(map(str, paths))}")
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from .api import analyse

    result = analyse(args.input, text_col=args.text_col, title_col=args.title_col, id_col=args.id_col,
                     progress=not args.no_progress, n_process=args.jobs)
    html = result.to_html(args.output, lang=args.lang, max_cards=args.max_cards)
    print(f"{len(result.ads)} ads -> {args.output} ({len(html.encode()) / 1e6:.1f} MB)")
    return 0


def _run_review(args: argparse.Namespace) -> int:
    from .read import decode, split_title
    from .review import review_ad

    raw = sys.stdin.buffer.read() if args.input == "-" else open(args.input, "rb").read()
    text = decode(raw)
    title = args.title
    if title is None:
        title, text = split_title(text)
    if not text.strip():
        raise ValueError(f"{'standard input' if args.input == '-' else args.input}: the ad is empty")
    review = review_ad(text, title, args.lang)
    if review.ad.get("warning"):
        print(f"cmclassify: note: {review.ad['warning']}", file=sys.stderr)
    print(review.to_text())
    if args.output:
        from .output import write_atomically

        write_atomically(args.output, review.to_html())
        print(f"-> {args.output}", file=sys.stderr)
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    serve(args.host, args.port, args.lang)
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from .train import train_cm_role, train_detector, train_extraction, train_functions, train_model

    annotations, source = None, None
    if args.part != "labels":
        from .annotations import default_annotations_path, load_annotations

        source = args.annotations or default_annotations_path()
        annotations = [a.as_gold() for a in load_annotations(source, args.corpus)]
    if args.part in ("all", "labels"):
        card = train_model(args.output, data=args.data, extra=args.extra, gold=args.gold, cv_folds=args.cv,
                           annotations=annotations, annotations_source=source)
        print(f"duty labels: trained on {card['training_data']['rows']} duties -> {args.output}")
        for name, scores in card["metrics"].items():
            print(f"  {name}: macro-F1 {scores['macro_f1']:.3f}, accuracy {scores['accuracy']:.3f}")
    if args.part in ("all", "extraction"):
        card = train_extraction(args.output, annotations, str(source))
        data = card["training_data"]
        print(f"duty extraction: trained on {data['candidates']} candidates of {data['ads']} annotated ads "
              f"({data['duties']} duties) -> {args.output}")
    if args.part in ("all", "detector"):
        card = train_detector(args.output, annotations, str(source))
        print(f"sentence detector: trained on {card['training_data']['items']} items of {card['training_data']['ads']} "
              f"annotated ads ({', '.join(card['kinds'])}) -> {args.output}")
    if args.part in ("all", "functions"):
        card = train_functions(args.output, annotations, str(source))
        print(f"function tagger: trained on {card['training_data']['duties']} duties of {card['training_data']['ads']} "
              f"annotated ads ({len(card['functions'])} functions) -> {args.output}")
    if args.part in ("all", "cm_role"):
        from .estimators import DutyCandidateClassifier, DutyClassifier, FunctionTagger, Models, SentenceDetector
        from .model_files import EXTRACTION_MODEL, FINDINGS_MODEL, FUNCTIONS_MODEL, load_model

        # The CM model reads what the other models find: the ones this run just trained, or the shipped ones.
        models = Models()
        if args.part == "all":
            models = Models(duty_labels=load_model(args.output, trusted=True, expected=DutyClassifier),
                            duty_extraction=load_model(args.output, trusted=True, expected=DutyCandidateClassifier,
                                                       name=EXTRACTION_MODEL),
                            findings=load_model(args.output, trusted=True, expected=SentenceDetector,
                                                name=FINDINGS_MODEL),
                            functions=load_model(args.output, trusted=True, expected=FunctionTagger,
                                                 name=FUNCTIONS_MODEL))
        card = train_cm_role(args.output, annotations, str(source), models)
        print(f"CM role: trained on {card['training_data']['ads']} annotated ads "
              f"({card['training_data']['cm_roles']} CM roles) -> {args.output}")
    return 0


def _run_info(args: argparse.Namespace) -> int:
    from .model_files import read_card

    card = read_card(args.model)
    data = card["training_data"]
    print(f"{card['model_version']} (format {card['format_version']}, created {card['created']})")
    print(f"labels: {', '.join(card['labels'])}")
    print(f"trained on {data['rows']} duties, sha256 {data['sha256'][:16]}…  {data['label_counts']}")
    print(f"params: {card['params']}")
    for name, scores in card["metrics"].items():
        per_label = ", ".join(f"{k} {v:.3f}" for k, v in scores["f1"].items())
        print(f"{name}: macro-F1 {scores['macro_f1']:.3f}, accuracy {scores['accuracy']:.3f} ({per_label})")
    from .model_files import CM_ROLE_MODEL, EXTRACTION_MODEL, FINDINGS_MODEL, FUNCTIONS_MODEL, has_model

    for other in (EXTRACTION_MODEL, FINDINGS_MODEL, FUNCTIONS_MODEL, CM_ROLE_MODEL):
        if has_model(args.model, other):
            extra = read_card(args.model, other)
            facts = ", ".join(f"{k} {v}" for k, v in extra.get("training_data", {}).items() if isinstance(v, int))
            print(f"{extra['model_version']} (format {extra.get('format_version')}): {facts}")
    print("intended use: support for HR review and research, not automated screening (see models/MODEL_CARD.md)")
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import cross_validate, evaluate_file, format_report
    from .model_files import load_models

    if (args.gold is None) == (args.cv is None):
        raise ValueError("give either a gold file or --cv K")
    models = load_models(args.model, trusted=args.trust) if args.model else None
    if args.cv is not None:
        from .annotations import cv_groups, load_annotations

        annotations = load_annotations(args.annotations, args.corpus)
        gold = [a.as_gold() for a in annotations]
        scores = cross_validate(gold, cv_groups([a.description for a in annotations]), folds=args.cv,
                                n_boot=args.n_boot)
    else:
        scores = evaluate_file(args.gold, n_boot=args.n_boot, models=models)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(json.dumps(scores, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(scores, indent=2, ensure_ascii=False) if args.json else format_report(scores), end="")
    return 0


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that output files are closed and left marked partial (a
    BaseException, like KeyboardInterrupt, so that no per-row error handler swallows it)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    runner = {"evaluate": _run_evaluate, "train": _run_train, "info": _run_info, "report": _run_report,
              "review": _run_review, "serve": _run_serve,
              "annotations": _run_annotations, "summary": _run_summary}.get(args.command, _run_analyse)
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = _show_warning
            return runner(args)
    except BrokenPipeError:
        # The reader went away (`cmclassify info | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (InputError, ModelError, RulesError, OSError, ValueError, RuntimeError) as exc:
        print(f"cmclassify: error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Terminated):
        print("cmclassify: interrupted; earlier results are untouched, this run's files are named *.partial",
              file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    print(f"cmclassify: note: {message}", file=sys.stderr)
