"""The ``h5eval`` command line over the engine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _report_one(ev, fmt: str, data=None) -> str:
    if fmt == "json":
        return ev.to_json() + "\n"
    if fmt == "html":
        return ev.to_html(data=data)
    return ev.to_text()


def _cmd_report(args: argparse.Namespace) -> int:
    from .core import Evaluation, H5EvalError, load_dataset, load_demo

    outputs: list[str] = []
    names: list[str] = []  # the demo's models, one page each with --format html -o
    try:
        if args.predictions:
            options = _predictions_options(args)
            if options is None:
                return 2
            if args.model or args.demo:
                print(
                    "h5eval report: give MODEL and DATA, --predictions FILE, or --demo (one of them)", file=sys.stderr
                )
                return 2
            try:
                ev = Evaluation.from_predictions_file(args.predictions, **options)
            except ValueError as exc:  # conflicting options; H5EvalError is handled below
                if isinstance(exc, H5EvalError):
                    raise
                print(f"h5eval: error: {exc}", file=sys.stderr)
                return 2
            outputs.append(_report_one(ev, args.format))
        elif args.demo:
            demo = load_demo()
            for name in demo.models:
                ev = demo.evaluate(name, progress=not args.quiet, cache=not args.no_cache)
                outputs.append(_report_one(ev, args.format, demo.dataset(name)))
                names.append(name)
        else:
            if not args.model or not args.data:
                print("h5eval report: give MODEL and DATA, --predictions FILE, or --demo", file=sys.stderr)
                return 2
            if args.masks:  # a segmentation model on a folder of images and one of masks
                ev = Evaluation.from_model(
                    args.model,
                    args.data,
                    masks=args.masks,
                    ignore_index=args.ignore_index,
                    classes=_class_names(args.class_names),
                    threshold=args.threshold,
                    trust_code=args.trust_code,
                    progress=not args.quiet,
                    **({"preprocess": _number_or_name(args.preprocess)} if args.preprocess else {}),
                )
                outputs.append(_report_one(ev, args.format))
                return _write(args, outputs, names)
            data = load_dataset(
                args.data,
                args.labels,
                x_key=args.x_key,
                y_key=args.y_key,
                class_names=args.class_names,
                **_dataset_options(args),
            )
            ev = Evaluation.from_model(
                args.model,
                data,
                threshold=args.threshold,
                task=args.task,
                trust_code=args.trust_code,
                output=args.output,
                progress=not args.quiet,
                cache=not args.no_cache,
            )
            outputs.append(_report_one(ev, args.format, data))
    except H5EvalError as exc:
        print(f"h5eval: error: {exc}", file=sys.stderr)
        return 1
    return _write(args, outputs, names)


def _class_names(given: list[str] | None) -> tuple[str, ...] | None:
    """``--class-names``: the names, or one file of them (a name per line, or JSON)."""
    from .core.data.datasets import _read_class_names

    one_file = given is not None and len(given) == 1 and Path(given[0]).is_file()
    return _read_class_names(given[0] if one_file else given)


def _write(args: argparse.Namespace, outputs: list[str], names: list[str]) -> int:
    """Print the reports, or write them to ``--output-file`` (one page per model for html)."""
    if args.format == "json" and len(outputs) > 1:
        text = "[\n" + ",\n".join(o.rstrip() for o in outputs) + "\n]\n"
    else:
        text = ("\n" if args.format == "text" else "").join(outputs)
    if args.format == "html" and args.output_file and len(outputs) > 1:
        out = Path(args.output_file)  # one self-contained page per model: out-<model>.html
        for name, page in zip(names, outputs):
            target = out.with_name(f"{out.stem}-{name}{out.suffix or '.html'}")
            target.write_text(page, encoding="utf-8")
            print(f"wrote {target}", file=sys.stderr)
    elif args.output_file:
        Path(args.output_file).write_text(text, encoding="utf-8")
        print(f"wrote {args.output_file}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from .serve import serve

    if args.predictions:
        options = _predictions_options(args)
        if options is None:
            return 2
        if args.models or args.demo:
            print(
                "h5eval dashboard: give MODEL... --data DATA..., --predictions FILE [--data TEST], "
                "or --demo (one of them)",
                file=sys.stderr,
            )
            return 2
        from .core import H5EvalError
        from .core.scale.predictions_file import check_columns

        try:  # the files and their columns, before a server starts (no row is read here)
            check_columns(
                args.predictions,
                **{
                    k: v
                    for k, v in options.items()
                    if k in ("label_column", "proba_columns", "proba_prefix", "pred_column", "id_column")
                },
            )
        except H5EvalError as exc:
            print(f"h5eval: error: {exc}", file=sys.stderr)
            return 1
        if args.data:
            if len(args.data) > 1 or not Path(args.data[0]).exists():
                print(
                    "h5eval: error: with --predictions, --data names the one existing test set they were made on",
                    file=sys.stderr,
                )
                return 1
            options.update(data=str(Path(args.data[0]).resolve()))
            if args.data_id_column:
                options["data_id_column"] = args.data_id_column
            data_options = {k: v for k, v in _dataset_options(args).items() if k != "label_column"}
            if data_options:
                options["dataset_options"] = data_options
        return serve(
            [],
            [],
            demo=False,
            port=args.port,
            trust_code=False,
            predictions=dict(options, path_or_glob=_absolute(args.predictions)),
        )
    if not args.demo and (not args.models or not args.data):
        print("h5eval dashboard: give MODEL... and --data DATA..., or --demo", file=sys.stderr)
        return 2
    if args.scheduler and args.demo:
        print(
            "h5eval dashboard: --scheduler runs your MODEL... --data DATA... on a Dask cluster; the demo runs here",
            file=sys.stderr,
        )
        return 2
    for p in list(args.models or []) + list(args.data or []):
        remote = args.scheduler and p in (args.data or []) and "://" in p  # read by the workers
        if not remote and not Path(p).exists():
            print(f"h5eval: error: {p!r} does not exist", file=sys.stderr)
            return 1
    return serve(
        args.models or [],
        args.data or [],
        demo=args.demo,
        port=args.port,
        trust_code=args.trust_code,
        dataset_options=_dataset_options(args),
        scheduler=args.scheduler,
    )


def _predictions_options(args: argparse.Namespace) -> dict | None:
    """Keyword arguments of ``Evaluation.from_predictions_file`` from the command line (None,
    after saying why, when they do not go together)."""
    if not args.label_column:
        print("h5eval: --predictions needs --label-column (the true labels' column)", file=sys.stderr)
        return None
    if args.proba_columns and args.proba_prefix:
        print("h5eval: give --proba-columns or --proba-prefix, not both", file=sys.stderr)
        return None
    names = getattr(args, "class_names", None)
    if isinstance(names, str):  # one value: a file of names (as for models)
        from .core.data.datasets import _read_class_names

        names = list(_read_class_names(names))
    options = {
        "label_column": args.label_column,
        "proba_columns": (
            [c.strip() for c in args.proba_columns.split(",") if c.strip()] if args.proba_columns else None
        ),
        "proba_prefix": args.proba_prefix,
        "pred_column": args.pred_column,
        "id_column": args.id_column,
        "classes": names,
        "task": getattr(args, "task", None),
        "threshold": getattr(args, "threshold", 0.5),
    }
    return {k: v for k, v in options.items() if v is not None}


def _absolute(paths: list[str]) -> list[str]:
    """Paths (and globs) made absolute: the dashboard's kernel runs in another folder."""
    return [str(Path(p).expanduser().absolute()) for p in paths]


def _add_predictions_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--predictions",
        nargs="+",
        metavar="FILE_OR_GLOB",
        help="predictions made elsewhere: Parquet/CSV file(s), a glob or a folder of "
        "part files (with --label-column, and --proba-prefix or --proba-columns)",
    )
    p.add_argument("--proba-prefix", help="the probability columns start with this (default: p_)")
    p.add_argument("--proba-columns", metavar="A,B,C", help="the probability columns, comma-separated, in class order")
    p.add_argument("--pred-column", help="predicted values of a regression (instead of probabilities)")
    p.add_argument("--id-column", help="sample ids: rows sorted by id, ids unique")


def _dataset_options(args: argparse.Namespace) -> dict:
    """The dataset options given on the command line (the ones left out keep their defaults)."""
    options = {
        "label_column": args.label_column,
        "image_size": tuple(args.image_size) if args.image_size else None,
        "color_mode": args.color_mode,
        "preprocess": _number_or_name(args.preprocess),
    }
    return {k: v for k, v in options.items() if v is not None}


def _number_or_name(value: str | None):
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _add_dataset_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label-column", help="label column of a CSV/Parquet file")
    p.add_argument(
        "--image-size",
        nargs=2,
        type=int,
        metavar=("W", "H"),
        help="resize images to W x H (default: the model's input size)",
    )
    p.add_argument(
        "--color-mode",
        choices=["grayscale", "rgb", "rgba"],
        help="convert images to this mode (default: the model's channel count)",
    )
    p.add_argument(
        "--preprocess",
        metavar="HOW",
        help="'auto' (default for images), a factor such as 0.00392, or a "
        "keras.applications family such as mobilenet_v2, resnet50, efficientnet",
    )


def _cmd_cache(args: argparse.Namespace) -> int:
    from .core.cache import PredictionCache

    cache = PredictionCache(args.dir)
    if args.clear:
        n = cache.clear()
        print(f"removed {n} cached prediction(s) from {cache.directory}")
    else:
        entries = cache.entries()
        print(
            f"{cache.directory}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, "
            f"{cache.size_bytes() / 1e6:.1f} MB (limit {cache.max_bytes / 1e9:.1f} GB)"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="h5eval", description="Evaluate saved Keras models on a test set.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="print or write an evaluation report")
    rep.add_argument("model", nargs="?", help="model file (.h5, .keras) or SavedModel directory")
    rep.add_argument("data", nargs="?", help="test set (.npz, .npy, .csv, .parquet, .h5, image folder)")
    rep.add_argument("--demo", action="store_true", help="report on the bundled demo models")
    rep.add_argument("--labels", help="labels file (.npy) when DATA holds inputs only")
    _add_dataset_options(rep)
    _add_predictions_options(rep)
    rep.add_argument("--x-key", help="name of the inputs array in .npz/.h5")
    rep.add_argument("--y-key", help="name of the labels array in .npz/.h5")
    rep.add_argument("--class-names", nargs="+", help="class names, or one file with a name per line")
    rep.add_argument(
        "--masks", metavar="FOLDER", help="segmentation: the masks' folder (PNG class indices, DATA's file names)"
    )
    rep.add_argument(
        "--ignore-index", type=int, default=255, help="segmentation: mask value counted nowhere (default 255)"
    )
    rep.add_argument("--task", choices=["binary", "multiclass", "multilabel", "regression"])
    rep.add_argument("--threshold", type=float, default=0.5, help="decision threshold (binary)")
    rep.add_argument("--output", help="which output of a multi-output model (index or name)")
    rep.add_argument(
        "--trust-code", action="store_true", help="allow models with Lambda layers (runs code stored in the file)"
    )
    rep.add_argument("--format", choices=["text", "json", "html"], default="text")
    rep.add_argument("-o", "--output-file", help="write the report here instead of stdout")
    rep.add_argument("--no-cache", action="store_true", help="do not read or write the prediction cache")
    rep.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    rep.set_defaults(func=_cmd_report)

    dash = sub.add_parser("dashboard", help="serve the dashboard as a page (Voila) on 127.0.0.1")
    dash.add_argument("models", nargs="*", help="model files (.h5, .keras) or SavedModel directories")
    dash.add_argument(
        "--data",
        nargs="+",
        help="test sets (with --predictions: the one test set they were made on, to show its samples)",
    )
    dash.add_argument("--demo", action="store_true", help="the bundled demo models and test sets")
    dash.add_argument("--port", type=int, help="port (default: a free one)")
    _add_dataset_options(dash)
    _add_predictions_options(dash)
    dash.add_argument(
        "--data-id-column", help="with --predictions and --data: the test set's id column (default: --id-column)"
    )
    dash.add_argument(
        "--trust-code", action="store_true", help="allow models with Lambda layers (runs code stored in the file)"
    )
    dash.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run inference on this Dask scheduler's workers (tcp://host:8786); "
        "tables and image folders (paths or fsspec URLs) are read there",
    )
    dash.set_defaults(func=_cmd_dashboard)

    cache = sub.add_parser("cache", help="show or clear the prediction cache")
    cache.add_argument("--clear", action="store_true", help="delete every cached prediction and remembered model facts")
    cache.add_argument("--dir", help="cache folder (default: $H5EVAL_CACHE_DIR or ~/.cache/h5eval-widgets)")
    cache.set_defaults(func=_cmd_cache)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "class_names", None) and len(args.class_names) == 1:
        args.class_names = args.class_names[0]
    if getattr(args, "output", None) is not None and str(args.output).isdigit():
        args.output = int(args.output)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
