"""Conformal prediction sets and intervals (ev.conformal) against independent references: crepes'
conformal classifier and regressor, MAPIE's LAC and APS sets and size-stratified coverage, and
plain numpy counts of the sets; plus the errors for bad calibration data.

Conventions checked here (and said in docs/trust.md):
- a label is in the set when its non-smoothed p-value is above alpha, as MAPIE and the split
  conformal quantile; crepes' ``predict_set`` keeps ``p >= 1 - confidence`` and so also the
  labels whose p-value equals alpha exactly, possible only when ``(n + 1) * alpha`` is a whole
  number (the test data avoid it except in the test of that case);
- APS is the non-randomised score (MAPIE's with ``u = 0``); MAPIE's ``include_last_label=False``
  then gives the same sets except that it keeps the most probable class in a set that would be
  empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from h5eval_widgets.core import Evaluation
from h5eval_widgets.core.errors import DatasetError, LabelError
from tests.helpers import require

crepes = require("crepes")
require("mapie")


def _softmax_data(n: int, k: int, seed: int, dtype=np.float64):
    """Labels and probabilities leaning to the truth (no ties: continuous draws)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.5
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    return y, p.astype(dtype)


@pytest.fixture(scope="module")
def pair():
    """A 5-class calibration evaluation of 1000 samples (1001 * 0.1 is not whole) and a test one of 400."""
    yc, pc = _softmax_data(1000, 5, 0)
    yt, pt = _softmax_data(400, 5, 1)
    group = np.random.default_rng(2).choice(["north", "south", "east"], 400)
    cal = Evaluation.from_predictions(yc, pc)
    ev = Evaluation.from_predictions(yt, pt, metadata={"region": group})
    return cal, ev


def _aps(proba):
    """APS scores computed here: each label's cumulated probability in descending order."""
    order = np.argsort(-proba, axis=1, kind="stable")
    cums = np.cumsum(np.take_along_axis(proba, order, axis=1), axis=1)
    return np.take_along_axis(cums, np.argsort(order, axis=1), axis=1)


def _crepes_reference(cal, ev, method, mondrian):
    """crepes fitted on calibration scores computed here (crepes' hinge for LAC), and the test
    scores computed the same way, not taken from the result."""
    from crepes.extras import hinge

    k = cal.n_classes
    if method == "lac":
        cal_scores, test_scores = hinge(cal.y_proba, np.arange(k), cal.y_true), hinge(ev.y_proba)
    else:
        cal_scores, test_scores = _aps(cal.y_proba)[np.arange(cal.n_samples), cal.y_true], _aps(ev.y_proba)
    cc = crepes.ConformalClassifier().fit(cal_scores, bins=cal.y_true if mondrian else None)
    return cc, test_scores


def _crepes_sets(cc, scores, mondrian, alpha):
    """crepes' non-smoothed p-values and sets (class-conditional: one call per class with that
    class as every sample's Mondrian category, as crepes' WrapClassifier does)."""
    if not mondrian:
        p = cc.predict_p(scores, smoothing=False)
        sets = cc.predict_set(scores, confidence=1 - alpha, smoothing=False)
    else:
        k, n = scores.shape[1], len(scores)
        p = np.array([cc.predict_p(scores, np.full(n, c), smoothing=False)[:, c] for c in range(k)]).T
        sets = np.array(
            [cc.predict_set(scores, np.full(n, c), confidence=1 - alpha, smoothing=False)[:, c] for c in range(k)]
        ).T
    return p, sets.astype(bool)


@pytest.mark.parametrize("method", ["lac", "aps"])
@pytest.mark.parametrize("mondrian", [False, True])
def test_sets_and_p_values_equal_crepes_non_smoothed(pair, method, mondrian):
    """Check that the p-values and sets equal crepes' non-smoothed ones (marginal and
    class-conditional) at four alphas, crepes fitted on scores computed apart; and that
    to_crepes() gives crepes the same calibration."""
    cal, ev = pair
    res = ev.conformal(cal, alpha=0.1, method=method, mondrian=mondrian)
    cc, scores = _crepes_reference(cal, ev, method, mondrian)
    np.testing.assert_array_equal(res.scores, scores)
    np.testing.assert_array_equal(np.sort(res.to_crepes().alphas), np.sort(cc.alphas))
    # calibration sizes (plus one): 1001, or per class 196, 181, 206, 210, 212
    sizes = np.bincount(cal.y_true) + 1 if mondrian else np.array([cal.n_samples + 1])
    checked = 0
    for alpha in (0.1, 0.05, 0.23, 0.13):
        res.alpha = alpha
        p, sets = _crepes_sets(cc, scores, mondrian, alpha)
        np.testing.assert_array_equal(res.p_values, p)
        np.testing.assert_array_equal(res.sets, p > alpha)
        if not np.any(np.isclose(sizes * alpha, np.round(sizes * alpha))):
            # crepes' predict_set keeps p == alpha too (see test_a_p_value_equal_to_alpha_...)
            np.testing.assert_array_equal(res.sets, sets)
            checked += 1
    assert checked >= 2


def test_a_p_value_equal_to_alpha_is_left_out_where_crepes_keeps_it():
    """Check the one convention that differs from crepes' predict_set: with 9 calibration scores
    and alpha=0.1 the smallest p-value is exactly 0.1; the label scoring above every calibration
    score is out of our set (p > alpha, as MAPIE) and in crepes' (p >= 1 - confidence)."""
    yc, pc = _softmax_data(9, 3, 3)
    yt, pt = _softmax_data(50, 3, 4)
    res = Evaluation.from_predictions(yt, pt).conformal(Evaluation.from_predictions(yc, pc), alpha=0.1)
    cc = crepes.ConformalClassifier().fit(1 - pc[np.arange(9), yc])
    p = cc.predict_p(1 - pt, smoothing=False)
    crepes_sets = cc.predict_set(1 - pt, confidence=0.9, smoothing=False).astype(bool)
    tie = p == 0.1
    assert tie.any()
    np.testing.assert_array_equal(res.sets, p > 0.1)
    np.testing.assert_array_equal(res.sets | tie, crepes_sets)


class _Lookup:
    """A prefit "estimator" for MAPIE: predict_proba(X) returns the rows X[:, 0] of fixed probabilities."""

    def __init__(self, proba):
        self.proba = proba
        self.classes_ = np.arange(proba.shape[1])
        self.n_features_in_ = 1

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        return self.proba[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        return self.predict_proba(X).argmax(1)

    def get_params(self, deep=True):
        return {"proba": self.proba}


def _as_estimator(proba):
    from sklearn.base import BaseEstimator, ClassifierMixin

    cls = type("Lookup", (ClassifierMixin, BaseEstimator), dict(_Lookup.__dict__))
    return cls(proba)


@pytest.mark.parametrize("alpha", [0.1, 0.2])
def test_lac_sets_equal_mapies_split_conformal_classifier(pair, alpha):
    """Check that LAC sets equal MAPIE's SplitConformalClassifier(conformity_score='lac',
    prefit=True) conformalized on the same calibration probabilities."""
    from mapie.classification import SplitConformalClassifier

    cal, ev = pair
    est = _as_estimator(np.vstack([cal.y_proba, ev.y_proba]))
    mapie = SplitConformalClassifier(est, confidence_level=1 - alpha, conformity_score="lac", prefit=True)
    mapie.conformalize(np.arange(cal.n_samples)[:, None], cal.y_true)
    _, sets = mapie.predict_set(np.arange(cal.n_samples, cal.n_samples + ev.n_samples)[:, None])
    np.testing.assert_array_equal(ev.conformal(cal, alpha=alpha).sets, sets[:, :, 0])


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2, 0.3])
def test_aps_sets_equal_mapies_on_the_same_scores(pair, alpha):
    """Check that APS scores equal MAPIE's cumulated probability of the true label and the sets
    equal MAPIE's APS sets (quantile and sets by MAPIE, include_last_label=False) on them, where
    MAPIE keeps the most probable class in a set that would be empty."""
    from mapie.conformity_scores.sets.aps import APSConformityScore

    cal, ev = pair
    aps = APSConformityScore()
    cal_scores, _ = aps.get_true_label_cumsum_proba(cal.y_true, cal.y_proba, np.arange(cal.n_classes))
    mapie_sets = aps.get_sets(None, np.array([alpha]), ev.y_proba, "prefit", cal_scores, include_last_label=False)
    res = ev.conformal(cal, alpha=alpha, method="aps")
    np.testing.assert_allclose(res.calibrator.sorted, np.sort(cal_scores[:, 0]), rtol=0, atol=1e-12)
    ours = res.sets.copy()
    empty = np.flatnonzero(ours.sum(1) == 0)
    ours[empty, ev.y_proba[empty].argmax(1)] = True
    np.testing.assert_array_equal(ours, mapie_sets[:, :, 0])


@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")  # MAPIE's empty sizes
def test_coverage_sizes_and_tables_equal_the_sets(pair):
    """Check that coverage, mean size, empty and singleton rates, the per-class table, the table
    by slice and the size-stratified coverage (MAPIE's classification_ssc) equal counts of .sets."""
    from mapie.metrics.classification import classification_coverage_score, classification_ssc

    cal, ev = pair
    res = ev.conformal(cal, alpha=0.1, method="aps", mondrian=True)
    sets, y = res.sets, ev.y_true
    hit = sets[np.arange(len(y)), y]
    size = sets.sum(1)
    assert res.coverage == pytest.approx(hit.mean())
    assert res.coverage == pytest.approx(classification_coverage_score(y, sets[:, :, None])[0])
    assert res.mean_set_size == pytest.approx(size.mean())
    assert res.empty_rate == pytest.approx((size == 0).mean())
    assert res.singleton_rate == pytest.approx((size == 1).mean())
    table = res.per_class
    for c, name in enumerate(ev.classes):
        rows = y == c
        assert table.loc[name, "n"] == rows.sum()
        assert table.loc[name, "coverage"] == pytest.approx(hit[rows].mean())
        assert table.loc[name, "mean_set_size"] == pytest.approx(size[rows].mean())
    by_size = res.coverage_by_size()
    ssc = classification_ssc(y, sets[:, :, None])[0]
    seen = by_size["n"].to_numpy() > 0
    np.testing.assert_allclose(by_size["coverage"].to_numpy()[seen], ssc[seen])
    region = ev.metadata["region"].to_numpy()
    sliced = res.by_slice("region")
    for value in ("north", "south", "east"):
        rows = region == value
        assert sliced.loc[f"region = {value}", "coverage"] == pytest.approx(hit[rows].mean())
        assert sliced.loc[f"region = {value}", "n"] == rows.sum()
    assert list(sliced["coverage"]) == sorted(sliced["coverage"])
    np.testing.assert_array_equal(res.uncovered(ev.classes[2]), np.flatnonzero(~hit & (y == 2)))
    np.testing.assert_array_equal(res.with_size(2), np.flatnonzero(size == 2))
    i = res.with_size(2)[0]
    assert res.set_labels([i]) == ["{" + ", ".join(ev.classes[j] for j in np.flatnonzero(sets[i])) + "}"]


def test_moving_alpha_gives_the_sets_of_a_fresh_result(pair):
    """Check that setting .alpha gives the same sets and coverage as calling conformal at that alpha."""
    cal, ev = pair
    res = ev.conformal(cal, alpha=0.1)
    first = res.sets.copy()
    res.alpha = 0.3
    fresh = ev.conformal(cal, alpha=0.3)
    np.testing.assert_array_equal(res.sets, fresh.sets)
    assert res.coverage == fresh.coverage
    assert res.mean_set_size < first.sum(1).mean()
    res.alpha = 0.1
    np.testing.assert_array_equal(res.sets, first)


def test_the_guarantee_holds_on_average_over_random_splits():
    """Check that over 200 random calibration/test splits of exchangeable data the mean coverage
    is at least 1 - alpha (up to the simulation's error) and below 1 - alpha + 1/(n + 1) + error."""
    y, p = _softmax_data(2000, 4, 5)
    ev = Evaluation.from_predictions(y, p)
    covs = [ev.conformal(0.25, alpha=0.1, seed=s).coverage for s in range(200)]
    se = np.std(covs) / np.sqrt(len(covs))
    assert 0.9 - 3 * se <= np.mean(covs) <= 0.9 + 1 / 501 + 3 * se


def test_a_fraction_splits_the_test_set_by_seed_and_says_so(pair):
    """Check that calibration=0.5 calibrates on a seeded half and gives sets for the other half,
    the same as passing those halves as evaluations, and says so in .notes."""
    _, ev = pair
    res = ev.conformal(0.5, alpha=0.1, seed=3)
    perm = np.random.default_rng(3).permutation(ev.n_samples)
    cal_rows, rows = np.sort(perm[:200]), np.sort(perm[200:])
    np.testing.assert_array_equal(res.rows, rows)
    ref = ev.subset(rows).conformal(ev.subset(cal_rows), alpha=0.1)
    np.testing.assert_array_equal(res.sets, ref.sets)
    assert res.n_calibration == 200 and res.n_samples == 200
    assert any("random 50%" in n and "seed 3" in n for n in res.notes)
    assert not np.array_equal(ev.conformal(0.5, seed=4).rows, rows)


def test_bootstrap_summary_and_html(pair):
    """Check the bootstrap table's values are the point estimates inside their intervals, the
    summary's numbers and that the HTML names the coverage and target."""
    cal, ev = pair
    res = ev.conformal(cal, alpha=0.1)
    boot = res.bootstrap(300, seed=1)
    assert boot.loc["coverage", "value"] == pytest.approx(res.coverage)
    assert (boot["low"] <= boot["value"]).all() and (boot["value"] <= boot["high"]).all()
    assert boot.loc["coverage", "high"] - boot.loc["coverage", "low"] > 0
    s = res.summary()["value"]
    assert s["target_coverage"] == pytest.approx(0.9) and s["n_calibration"] == 1000
    html = res._repr_html_()
    assert f"{res.coverage:.1%}" in html and "target of 90%" in html


def test_binary_evaluation_gets_sets_equal_to_crepes():
    """Check a binary evaluation (one sigmoid column) gets two-label sets equal to crepes'."""
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 900)
    p1 = 1 / (1 + np.exp(-(2 * y - 1) * 1.2 - rng.normal(size=900)))
    cal = Evaluation.from_predictions(y[:500], p1[:500])
    ev = Evaluation.from_predictions(y[500:], p1[500:])
    res = ev.conformal(cal, alpha=0.15)
    cc = crepes.ConformalClassifier().fit(1 - cal.y_proba[np.arange(500), cal.y_true])
    for alpha in (0.15, 0.05, 0.3, 0.45):  # 501 * alpha is not whole
        res.alpha = alpha
        ref = cc.predict_set(1 - ev.y_proba, confidence=1 - alpha, smoothing=False) == 1
        np.testing.assert_array_equal(res.sets, ref)


# ---------------------------------------------------------------------------------- regression
def _regression(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 3, n)
    y = 2 * x + rng.normal(0, 0.2 + x, n)
    meta = pd.DataFrame({"sigma": 0.2 + x, "site": rng.choice(["a", "b"], n)})
    return Evaluation.from_predictions(y, 2 * x, task="regression", metadata=meta)


@pytest.mark.parametrize("alpha", [0.1, 0.05, 0.37])
@pytest.mark.parametrize("normalised", [False, True])
def test_regression_intervals_equal_crepes_conformal_regressor(alpha, normalised):
    """Check intervals (plain and normalised by a difficulty column) equal crepes'
    ConformalRegressor.predict_int, and coverage, mean width and by_slice equal their counts."""
    cal, ev = _regression(999, 0), _regression(500, 1)
    res = ev.conformal(cal, alpha=0.1, difficulty="sigma" if normalised else None)
    res.alpha = alpha
    sig_cal, sig = cal.metadata["sigma"].to_numpy(), ev.metadata["sigma"].to_numpy()
    ref = crepes.ConformalRegressor().fit(cal.y_true - cal.y_pred, sigmas=sig_cal if normalised else None)
    bounds = ref.predict_int(ev.y_pred, sigmas=sig if normalised else None, confidence=1 - alpha)
    np.testing.assert_array_equal(res.intervals, bounds)
    inside = (bounds[:, 0] <= ev.y_true) & (ev.y_true <= bounds[:, 1])
    assert res.coverage == pytest.approx(inside.mean())
    assert res.mean_width == pytest.approx(np.mean(bounds[:, 1] - bounds[:, 0]))
    site = ev.metadata["site"].to_numpy()
    table = res.by_slice("site")
    assert table.loc["site = a", "coverage"] == pytest.approx(inside[site == "a"].mean())


def test_multilabel_and_multi_output_say_what_works():
    """Check multi-label conformal sets and multi-output intervals raise NotImplementedError
    naming the way that works."""
    rng = np.random.default_rng(7)
    ml = Evaluation.from_predictions(rng.random((50, 3)) > 0.5, rng.random((50, 3)), task="multilabel")
    with pytest.raises(NotImplementedError, match=r"binary.*y_proba\[:, j\]"):
        ml.conformal(0.5)
    mo = Evaluation.from_predictions(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)), task="regression")
    with pytest.raises(NotImplementedError, match=r"y_pred\[:, j\]"):
        mo.conformal(0.5)


# ---------------------------------------------------------------------------------- bad input
def test_calibration_with_other_classes_is_refused(pair):
    """Check a calibration evaluation with other class names gets a LabelError naming classes=."""
    cal, ev = pair
    other = Evaluation.from_predictions(cal.y_true, cal.y_proba, classes=list("abcde"))
    with pytest.raises(LabelError, match=r"classes .*differ.*classes=\["):
        ev.conformal(other)
    with pytest.raises(LabelError, match="differ"):
        ev.temperature_scaled(other)


def test_calibration_too_small_for_alpha_is_refused():
    """Check fewer than 1/alpha - 1 calibration samples (of a class, class-conditional) get a
    DatasetError naming the samples needed and the smallest alpha, also when alpha is moved."""
    yc, pc = _softmax_data(18, 3, 8)
    yt, pt = _softmax_data(60, 3, 9)
    cal, ev = Evaluation.from_predictions(yc, pc), Evaluation.from_predictions(yt, pt)
    with pytest.raises(
        DatasetError, match=r"18 samples, too few for alpha=0.05: at least 19 .*alpha \(at least 0.0526"
    ):
        ev.conformal(cal, alpha=0.05)
    res = ev.conformal(cal, alpha=0.1)  # 18 >= 9
    with pytest.raises(DatasetError, match="too few for alpha=0.01"):
        res.alpha = 0.01
    assert res.alpha == 0.1
    with pytest.raises(DatasetError, match=r"every class.*mondrian=False"):
        ev.conformal(cal, alpha=0.1, mondrian=True)
    reg = _regression(15, 0)
    with pytest.raises(DatasetError, match="15 samples, too few for alpha=0.05"):
        _regression(40, 1).conformal(reg, alpha=0.05)


def test_calibration_from_another_model_is_refused(pair):
    """Check a calibration evaluation recorded as made by another model gets a DatasetError
    telling to evaluate the held-out data with this model."""
    cal, ev = pair
    a = Evaluation.from_predictions(ev.y_true, ev.y_proba, model_name="resnet.h5")
    b = Evaluation.from_predictions(cal.y_true, cal.y_proba, model_name="mobilenet.h5")
    with pytest.raises(DatasetError, match=r"another model .*'mobilenet.h5'.*Evaluation.from_model"):
        a.conformal(b)
    with pytest.raises(DatasetError, match="another model"):
        a.temperature_scaled(b)
    a.conformal(Evaluation.from_predictions(cal.y_true, cal.y_proba, model_name="resnet.h5"))


def test_bad_alpha_method_and_calibration_values(pair):
    """Check alpha outside (0, 1), an unknown method and a calibration of the wrong kind are refused."""
    cal, ev = pair
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        ev.conformal(cal, alpha=1.2)
    with pytest.raises(ValueError, match="'lac'"):
        ev.conformal(cal, method="raps")
    with pytest.raises(ValueError, match=r"fraction in \(0, 1\)"):
        ev.conformal(1.5)
    with pytest.raises(TypeError, match="Evaluation of held-out data"):
        ev.conformal("cal.csv")


def test_real_keras_model_sets_and_another_model_refused(multiclass_h5, keras2_h5, blobs, tmp_path):
    """Check ev.conformal on a real tiny Keras model's evaluations (calibration = the first 150
    test samples) equals crepes' sets, and that another model's evaluation is refused as
    calibration, also when its file has the same name."""
    _, _, Xte, yte = blobs
    cal = Evaluation.from_model(multiclass_h5, Xte[:150], yte[:150], progress=False)
    ev = Evaluation.from_model(multiclass_h5, Xte[150:], yte[150:], progress=False)
    res = ev.conformal(cal, alpha=0.1)
    cc = crepes.ConformalClassifier().fit(1 - cal.y_proba[np.arange(150), cal.y_true])
    np.testing.assert_array_equal(res.sets, cc.predict_p(1 - ev.y_proba, smoothing=False) > 0.1)
    other = Evaluation.from_model(keras2_h5, Xte[:150], yte[:150], progress=False)
    with pytest.raises(DatasetError, match="another model"):
        ev.conformal(other)
    (tmp_path / "other").mkdir()
    same_name = tmp_path / "other" / multiclass_h5.name
    same_name.write_bytes(keras2_h5.read_bytes())
    twin = Evaluation.from_model(same_name, Xte[:150], yte[:150], progress=False)
    assert twin.model_name == cal.model_name
    with pytest.raises(DatasetError, match="model files differ"):
        ev.temperature_scaled(twin)
