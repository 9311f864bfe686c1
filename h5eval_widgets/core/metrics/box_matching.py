"""Detections matched to true boxes across classes, as FiftyOne's COCO-style evaluation does with
``classwise=False``, and the detection confusion matrix answered for any confidence from a
sorted index.

Within an image, detections are matched highest confidence first; each takes the unmatched
non-crowd true box of highest IoU (>= the threshold) whatever its class, else a crowd box of its
own class (crowds may match many detections). A detection left over is a false box (true
background), a true box left over a missed object (predicted background). Because the matching
is greedy in confidence order, the detections kept at a confidence threshold are a prefix of that
order and match exactly as they did in the full run: matching runs once per IoU, and a threshold
is a ``searchsorted`` and a ``bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["box_ious", "BoxMatches", "match_boxes"]

_CROWD_EPS = 1e-10


def box_ious(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """IoU of every detection (rows) with every true box (columns), boxes ``[x, y, w, h]``; for a
    crowd box the union is the detection's own area (as COCO defines it)."""
    dx0, dy0 = dt[:, 0:1], dt[:, 1:2]
    dx1, dy1 = dx0 + dt[:, 2:3], dy0 + dt[:, 3:4]
    gx0, gy0 = gt[:, 0], gt[:, 1]
    gx1, gy1 = gx0 + gt[:, 2], gy0 + gt[:, 3]
    iw = np.clip(np.minimum(dx1, gx1) - np.maximum(dx0, gx0), 0, None)
    ih = np.clip(np.minimum(dy1, gy1) - np.maximum(dy0, gy0), 0, None)
    inter = iw * ih
    da = (dt[:, 2] * dt[:, 3])[:, None]
    union = np.where(crowd[None, :], da, da + (gt[:, 2] * gt[:, 3])[None, :] - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


@dataclass(frozen=True)
class BoxMatches:
    """One matching run at one IoU threshold.

    Attributes
    ----------
    iou : float
    dt_match : ndarray of int64, shape (n_detections,)
        The true box each detection matched (row of the true-box frame), -1 for none.
    dt_iou : ndarray of float64, shape (n_detections,)
        That match's IoU (nan for none).
    gt_first : ndarray of float64, shape (n_true,)
        The confidence of the first (highest-confidence) detection that matched each true
        box, -inf for none: the box is missed at any threshold above it.
    order : ndarray of int64
        Detections by confidence, highest first (stable); ``scores_desc`` their confidences.
    gt_order, gt_first_desc : ndarray
        True boxes by ``gt_first``, highest first, and those values.
    """

    iou: float
    n_classes: int
    dt_match: np.ndarray
    dt_iou: np.ndarray
    gt_first: np.ndarray
    dt_true: np.ndarray
    dt_pred: np.ndarray
    gt_class: np.ndarray
    order: np.ndarray
    scores_desc: np.ndarray
    gt_order: np.ndarray
    gt_first_desc: np.ndarray

    def n_kept(self, confidence: float) -> int:
        """How many detections have a confidence >= ``confidence``."""
        return int(np.searchsorted(-self.scores_desc, -confidence, side="right"))

    def n_found(self, confidence: float) -> int:
        """How many true boxes are matched by a detection of confidence >= ``confidence``."""
        return int(np.searchsorted(-self.gt_first_desc, -confidence, side="right"))

    def confusion_matrix(self, confidence: float = 0.0) -> np.ndarray:
        """(k+1) x (k+1) counts, rows = true, columns = predicted, the last row and column the
        background; detections of confidence >= ``confidence`` only."""
        k1 = self.n_classes + 1
        d = self.order[: self.n_kept(confidence)]
        cm = np.bincount(self.dt_true[d] * k1 + self.dt_pred[d], minlength=k1 * k1).reshape(k1, k1)
        missed = self.gt_order[self.n_found(confidence) :]
        cm[:, -1] += np.bincount(self.gt_class[missed], minlength=k1)
        return cm

    def cell(self, true: int, predicted: int, confidence: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """``(detections, true boxes)`` of a cell, as rows of their frames, paired (-1 where a
        side is background): a wrong class or a hit pairs a detection with the box it matched,
        a false box has no true box, a missed object no detection."""
        k = self.n_classes
        if predicted == k:  # missed objects
            g = self.gt_order[self.n_found(confidence) :]
            g = np.sort(g[self.gt_class[g] == true])
            return np.full(len(g), -1, dtype=np.int64), g
        d = self.order[: self.n_kept(confidence)]
        d = np.sort(d[(self.dt_true[d] == true) & (self.dt_pred[d] == predicted)])
        return d, self.dt_match[d]


def match_boxes(
    gt_image: np.ndarray,
    gt_box: np.ndarray,
    gt_class: np.ndarray,
    crowd: np.ndarray,
    dt_image: np.ndarray,
    dt_box: np.ndarray,
    dt_class: np.ndarray,
    score: np.ndarray,
    *,
    n_classes: int,
    iou: float = 0.5,
) -> BoxMatches:
    """Match detections to true boxes across classes (see the module's docstring).

    Parameters
    ----------
    gt_image, gt_class : array-like of int, shape (n_true,)
        Each true box's image and class index (0..n_classes-1).
    gt_box : array-like of shape (n_true, 4)
        ``[x, y, w, h]``.
    crowd : array-like of bool, shape (n_true,)
    dt_image, dt_class, score : array-like, shape (n_detections,)
    dt_box : array-like of shape (n_detections, 4)
    n_classes : int
    iou : float, default=0.5
        A pair matches at IoU >= ``iou``.

    Returns
    -------
    BoxMatches
    """
    gt_image, dt_image = np.asarray(gt_image, np.int64), np.asarray(dt_image, np.int64)
    gt_class, dt_class = np.asarray(gt_class, np.int64), np.asarray(dt_class, np.int64)
    gt_box, dt_box = np.asarray(gt_box, np.float64).reshape(-1, 4), np.asarray(dt_box, np.float64).reshape(-1, 4)
    crowd, score = np.asarray(crowd, bool), np.asarray(score, np.float64)
    thresh = min(float(iou), 1 - _CROWD_EPS)
    n_gt, n_dt = len(gt_image), len(dt_image)
    dt_match = np.full(n_dt, -1, np.int64)
    dt_iou = np.full(n_dt, np.nan)
    gt_first = np.full(n_gt, -np.inf)
    # true boxes by image, crowds last; detections by image, highest confidence first (stable)
    g_sorted = np.lexsort((np.arange(n_gt), crowd, gt_image))
    d_sorted = np.lexsort((np.arange(n_dt), -score, dt_image))
    g_img, d_img = gt_image[g_sorted], dt_image[d_sorted]
    for img in np.intersect1d(g_img, d_img):
        g = g_sorted[np.searchsorted(g_img, img, "left") : np.searchsorted(g_img, img, "right")]
        d = d_sorted[np.searchsorted(d_img, img, "left") : np.searchsorted(d_img, img, "right")]
        ious = box_ious(dt_box[d], gt_box[g], crowd[g])
        g_crowd, g_cls = crowd[g], gt_class[g]
        taken = np.zeros(len(g), bool)
        ok_iou = ious >= thresh
        for r, di in enumerate(d):
            row = ious[r]
            free = ok_iou[r] & ~taken & ~g_crowd
            if free.any():  # the highest IoU wins; of equals, the later box (as FiftyOne's scan)
                cand = np.flatnonzero(free)
                j = cand[len(cand) - 1 - int(np.argmax(row[cand][::-1]))]
            else:
                cand = np.flatnonzero(ok_iou[r] & g_crowd & (g_cls == dt_class[di]))
                if not len(cand):
                    continue
                j = cand[len(cand) - 1 - int(np.argmax(row[cand][::-1]))]
            gi = g[j]
            if not g_crowd[j]:
                taken[j] = True
            dt_match[di], dt_iou[di] = gi, row[j]
            if gt_first[gi] == -np.inf:
                gt_first[gi] = score[di]
    order = np.argsort(-score, kind="stable")
    gt_order = np.argsort(-gt_first, kind="stable")
    dt_true = np.where(dt_match >= 0, gt_class[np.maximum(dt_match, 0)] if n_gt else n_classes, n_classes)
    return BoxMatches(
        float(iou),
        int(n_classes),
        dt_match,
        dt_iou,
        gt_first,
        dt_true.astype(np.int64),
        dt_class,
        gt_class,
        order,
        score[order],
        gt_order,
        gt_first[gt_order],
    )
