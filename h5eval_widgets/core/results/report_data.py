"""What the interactive HTML report shows of each task, as plain data (JSON-ready).

The result classes call these from their ``report_views`` method: a single-label classifier
gives its confusion matrix with each cell's most confident samples, a binary one also the
matrix at every threshold of a fine grid, a multi-label one a 2x2 matrix per label, a
regression a scatter of predictions and its largest errors. The page itself is built by
:mod:`.html_report`. Sample records (thumbnails, table rows, text) are made by
:func:`sample_records` from the test set when one is given.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import numpy as np

from .names import fmt

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = [
    "PER_CELL",
    "MAX_SAMPLES",
    "THUMB_PX",
    "GRID",
    "matrix_view",
    "threshold_view",
    "label_matrices",
    "regression_view",
    "class_curves",
    "reliability_curve",
    "sample_records",
    "thumbnail_uri",
]

#: Samples listed per matrix cell (the most confident), stated on the page.
PER_CELL = 48
#: At most this many samples in one page: with many non-empty cells each cell lists fewer.
MAX_SAMPLES = 3000
#: Largest side of a thumbnail in pixels (smaller images stay at their size, drawn pixelated);
#: SMALL_THUMB_PX when a page lists more than 1,000 samples.
THUMB_PX = 64
SMALL_THUMB_PX = 40
#: Thresholds of the binary slider: this many evenly spaced in [0, 1], plus the model's own and
#: the best-F1 and best-Youden thresholds.
GRID = 1001
#: Points kept per curve (evenly spaced along it) and in a regression scatter.
CURVE_POINTS = 400
SCATTER_POINTS = 3000


def _cap(n_cells: int, per_cell: int) -> int:
    """Samples listed per cell: ``per_cell``, fewer when the cells would pass MAX_SAMPLES."""
    return int(min(per_cell, max(4, MAX_SAMPLES // max(n_cells, 1))))


def matrix_view(ev: "Evaluation", per_cell: int = PER_CELL, *, max_classes: int = 30) -> dict:
    """The confusion matrix with each non-empty cell's most confident samples.

    Above ``max_classes`` classes the matrix keeps the classes of the most confused pairs (at
    most ``max_classes`` of them), as the dashboard does.
    """
    cm = np.asarray(ev.confusion_matrix())
    k = len(cm)
    keep = np.arange(k)
    title = "Confusion matrix (rows: true, columns: predicted)"
    if k > max_classes:
        off = cm.astype(np.float64).copy()
        np.fill_diagonal(off, 0)
        chosen: list[int] = []
        for flat in np.argsort(-off, axis=None, kind="stable"):
            i, j = divmod(int(flat), k)
            if off[i, j] <= 0:
                break
            new = [c for c in (i, j) if c not in chosen]
            if len(chosen) + len(new) > max_classes:
                break
            chosen += new
        keep = np.array(sorted(chosen or range(max_classes)))
        title = (
            f"Confusion matrix of the {len(keep)} classes of the most confused pairs "
            f"(of {k}; rows: true, columns: predicted)"
        )
    sub = cm[np.ix_(keep, keep)]
    nonzero = np.argwhere(sub > 0)
    cap = _cap(len(nonzero), per_cell)
    cells = {f"{i},{j}": ev.cell_indices(int(keep[i]), int(keep[j]))[:cap].tolist() for i, j in nonzero}
    names = [str(ev.classes[c]) for c in keep]
    return {"title": title, "rows": names, "cols": names, "counts": sub.tolist(), "cells": cells, "cap": cap}


def threshold_view(ev: "Evaluation", per_cell: int = PER_CELL, *, grid: int = GRID) -> dict:
    """The binary matrix at every threshold of a grid, and the samples any cell can list.

    Cell (true c, predicted positive) at threshold t lists class c's samples with the highest
    scores >= t, and (true c, predicted negative) those with the lowest scores < t: so the
    ``per_cell`` highest and lowest scores of each class hold every cell's list at every
    threshold, and the page filters them as the slider moves.
    """
    p1 = np.asarray(ev.y_proba[:, 1], dtype=np.float64)
    truth = np.asarray(ev.y_true)
    extra = [ev.threshold] + [ev.best_threshold(b) for b in ("f1", "youden")]
    ts = np.unique(np.r_[np.linspace(0.0, 1.0, grid), [t for t in extra if np.isfinite(t)]])
    counts = np.zeros((len(ts), 2, 2), dtype=np.int64)
    low, high = [], []
    for c in (0, 1):
        rows = np.flatnonzero(truth == c)
        order = rows[np.argsort(p1[rows], kind="stable")]
        s = p1[order]
        above = len(s) - np.searchsorted(s, ts, side="left")  # scores >= t: predicted positive
        counts[:, c, 1], counts[:, c, 0] = above, len(s) - above
        low.append(order[:per_cell].tolist())
        high.append(order[::-1][:per_cell].tolist())
    pool = sorted({i for ids in low + high for i in ids})
    return {
        "thresholds": ts.tolist(),
        "counts": counts.tolist(),
        "low": low,
        "high": high,
        "scores": {str(i): float(p1[i]) for i in pool},
        "start": int(np.argmin(np.abs(ts - ev.threshold))),
        "grid": grid,
        "names": [str(c) for c in ev.classes],
        "cap": per_cell,
    }


def label_matrices(ev: "Evaluation", per_cell: int = PER_CELL, *, max_labels: int = 30) -> list[dict]:
    """A 2x2 matrix per label (up to ``max_labels``), each cell with its most confident samples
    (the label's probability for "predicted on", one minus it for "off")."""
    cms = np.asarray(ev.confusion_matrix())
    proba = np.asarray(ev.y_proba, dtype=np.float64)
    truth, pred = np.asarray(ev.y_true, bool), np.asarray(ev.y_pred, bool)
    n = min(len(cms), max_labels)
    cap = _cap(4 * n, per_cell)
    out = []
    for j in range(n):
        name = str(ev.classes[j])
        conf = np.where(pred[:, j], proba[:, j], 1 - proba[:, j])
        cells = {}
        for a in (0, 1):
            for b in (0, 1):
                rows = np.flatnonzero((truth[:, j] == a) & (pred[:, j] == b))
                if len(rows):
                    cells[f"{a},{b}"] = rows[np.argsort(-conf[rows], kind="stable")][:cap].tolist()
        labels = [f"not {name}", name]
        out.append(
            {
                "title": f"Label {name}",
                "rows": labels,
                "cols": labels,
                "counts": cms[j].tolist(),
                "cells": cells,
                "cap": cap,
            }
        )
    return out


def regression_view(ev: "Evaluation", per_cell: int = PER_CELL) -> dict:
    """Predicted against true values (at most SCATTER_POINTS, seeded), and the largest errors."""
    true = np.asarray(ev.y_true, dtype=np.float64).reshape(ev.n_samples, -1)[:, 0]
    pred = np.asarray(ev.y_pred, dtype=np.float64).reshape(ev.n_samples, -1)[:, 0]
    rows = np.arange(ev.n_samples)
    if len(rows) > SCATTER_POINTS:
        rows = np.sort(np.random.default_rng(0).choice(rows, SCATTER_POINTS, replace=False))
    err = np.abs(pred - true)
    worst = np.argsort(-err, kind="stable")[:per_cell]
    best = np.argsort(err, kind="stable")[:per_cell]
    lo, hi = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
    scatter = {
        "title": f"Predicted against true ({len(rows)} of {ev.n_samples} points)",
        "series": [("samples", true[rows].tolist(), pred[rows].tolist())],
        "x": "true",
        "y": "predicted",
        "diagonal": [lo, hi],
        "diagonal_name": "predicted = true",
        "dots": True,
    }
    lists = [
        {"title": f"The {len(worst)} largest errors", "ids": worst.tolist()},
        {"title": f"The {len(best)} smallest errors", "ids": best.tolist()},
    ]
    return {"curves": [scatter], "lists": lists}


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    if len(x) > CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, CURVE_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return np.round(x, 5).tolist(), np.round(y, 5).tolist()


def class_curves(ev: "Evaluation", *, max_classes: int = 10) -> list[dict]:
    """ROC and PR curves: of the positive class (binary), else of the first ``max_classes``
    classes, one against the rest."""
    classes = [ev.positive_class] if ev.positive_class is not None else list(range(min(ev.n_classes, max_classes)))
    roc, pr = [], []
    for c in classes:
        name = str(ev.classes[c])
        r = ev.roc_curve(c)
        roc.append((name, *_thin(r["fpr"].to_numpy(), r["tpr"].to_numpy())))
        p = ev.pr_curve(c)
        pr.append((name, *_thin(p["recall"].to_numpy(), p["precision"].to_numpy())))
    more = (
        ""
        if len(classes) == ev.n_classes or ev.positive_class is not None
        else f" (the first {len(classes)} of {ev.n_classes} classes)"
    )
    return [
        {
            "title": "ROC curve" + more,
            "series": roc,
            "x": "false positive rate",
            "y": "true positive rate",
            "diagonal": [0, 1],
            "diagonal_name": "chance",
        },
        {"title": "Precision-recall curve" + more, "series": pr, "x": "recall", "y": "precision", "diagonal": None},
    ]


def reliability_curve(ev: "Evaluation") -> dict:
    """The reliability diagram (10 equal-width bins) of :meth:`calibration`."""
    cal = ev.calibration()
    what = "positive class probability" if ev.positive_class is not None else "confidence"
    return {
        "title": f"Reliability (ECE {fmt(float(ev.ece))})",
        "x": what,
        "y": "observed frequency",
        "series": [("10 bins", cal["prob_pred"].round(5).tolist(), cal["prob_true"].round(5).tolist())],
        "diagonal": [0, 1],
        "diagonal_name": "perfectly calibrated",
        "dots": True,
    }


# ---------------------------------------------------------------------- samples
def thumbnail_uri(x: Any = None, *, path: Any = None, size: int = THUMB_PX) -> str:
    """A PNG data URI of one image: a file shrunk to ``size`` pixels, or an array scaled to
    0-255 (kept at its own size when smaller: the page draws it pixelated)."""
    from PIL import Image

    if path is not None:
        with Image.open(path) as im:
            img = im.convert("RGB")
    else:
        a = np.squeeze(np.asarray(x, dtype=np.float64))
        if a.ndim == 1:
            side = int(round(np.sqrt(a.size)))
            a = a.reshape(side, side)
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        a = (a - lo) * (255.0 / (hi - lo) if hi > lo else 0.0)
        img = Image.fromarray(a.astype(np.uint8))
        if img.mode != "L" and a.ndim == 3 and a.shape[-1] not in (3, 4):
            img = img.convert("L")
    if max(img.size) > size:
        img.thumbnail((size, size), Image.BILINEAR)
    if img.mode == "RGB":  # 256 colours: a third of the bytes, alike at this size
        img = img.quantize(256, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        return round(float(v), 4) if np.isfinite(v) else None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    return str(v)


def _shown(v: Any) -> Any:
    """A feature's value as the page writes it: numbers by :func:`~.names.fmt`."""
    if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return fmt(v)
    return _fmt(v)


def sample_records(
    ev: "Evaluation", ids, data=None, *, size: int = THUMB_PX, max_features: int = 12
) -> dict[str, dict]:
    """What the page shows of samples ``ids``: the result's own columns (true, predicted,
    confidence, top-3... from ``ev.sample_columns``), and with ``data`` (the test set, a
    :class:`~h5eval_widgets.core.Dataset`) a thumbnail, the first ``max_features`` features
    or the text (thumbnails of at most SMALL_THUMB_PX pixels past 1,000 samples). Without
    data, the columns only."""
    ids = np.unique(np.asarray(list(ids), dtype=np.int64))
    if not len(ids):
        return {}
    cols = ev.sample_columns(ids)
    if len(ids) > 1000:
        size = min(size, SMALL_THUMB_PX)
    rows = ev.dataset_rows(ids) if data is not None else ids
    kind = getattr(data, "kind", None)
    out = {}
    for n, (i, row) in enumerate(zip(ids.tolist(), np.asarray(rows).tolist())):
        rec: dict[str, Any] = {k: _fmt(np.asarray(v, dtype=object)[n]) for k, v in cols.items()}
        if data is not None:
            if kind == "image":
                rec["img"] = thumbnail_uri(
                    None if data.file_path(row) else data.sample(row), path=data.file_path(row), size=size
                )
                if data.file_path(row) is not None:
                    rec["file"] = data.file_path(row).name
            elif kind == "text":
                rec["text"] = str(np.asarray(data.sample(row)).ravel()[0])[:400]
            else:
                rec["row"] = [[str(k), _shown(v)] for k, v in data.features(row)[:max_features]]
        out[str(i)] = rec
    return out
