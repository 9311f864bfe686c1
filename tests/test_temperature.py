"""Temperature scaling (ev.temperature_scaled): the temperature against scipy's bounded minimiser
of scikit-learn's log loss, probabilities against scipy's softmax, decisions and accuracy kept,
and the before/after table against the metric functions of the new and old probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit, softmax
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss

from h5eval_widgets.core import Evaluation


def _overconfident(n: int, k: int, seed: int, sharpness: float = 3.0):
    """Labels and probabilities from logits scaled by ``sharpness`` (> 1: over-confident)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.0
    return y, softmax(sharpness * z, axis=1)


def _reference_temperature(y, proba, bounds=(0.05, 20.0)) -> float:
    """scipy's bounded minimiser of scikit-learn's log loss of softmax(log p / T)."""
    logp = np.log(proba)
    labels = np.arange(proba.shape[1])
    return minimize_scalar(
        lambda t: log_loss(y, softmax(logp / t, axis=1), labels=labels), bounds=bounds, method="bounded"
    ).x


@pytest.mark.parametrize("k", [3, 10])
def test_multiclass_temperature_equals_scipys_minimiser_and_keeps_accuracy(k):
    """Check T equals scipy's bounded minimiser of the calibration log loss (1e-3), the new
    probabilities are softmax(log p / T), the predictions and accuracy are unchanged and the
    calibration set's log loss is lower."""
    yc, pc = _overconfident(1500, k, 0)
    yt, pt = _overconfident(700, k, 1)
    cal, ev = Evaluation.from_predictions(yc, pc), Evaluation.from_predictions(yt, pt)
    scaled = ev.temperature_scaled(cal)
    t_ref = _reference_temperature(yc, pc)
    assert scaled.temperature == pytest.approx(t_ref, abs=1e-3)
    assert scaled.temperature > 1  # over-confident probabilities are softened
    np.testing.assert_allclose(scaled.y_proba, softmax(np.log(pt) / scaled.temperature, axis=1), atol=1e-12)
    np.testing.assert_array_equal(scaled.y_pred, ev.y_pred)
    np.testing.assert_array_equal(scaled.y_pred, scaled.y_proba.argmax(1))
    assert scaled.scores["accuracy"] == ev.scores["accuracy"] == accuracy_score(yt, pt.argmax(1))
    new_cal = softmax(np.log(pc) / scaled.temperature, axis=1)
    assert log_loss(yc, new_cal, labels=np.arange(k)) < log_loss(yc, pc, labels=np.arange(k))
    assert ev.temperature is None and ev.calibration_change is None


def test_the_before_after_table_equals_the_metric_functions():
    """Check the table's log loss, Brier score, accuracy and ECE before and after equal those
    computed by scikit-learn and by the evaluations' own ece, and that scaling lowers ECE here."""
    yc, pc = _overconfident(2000, 4, 2)
    yt, pt = _overconfident(1000, 4, 3)
    ev = Evaluation.from_predictions(yt, pt)
    scaled = ev.temperature_scaled(Evaluation.from_predictions(yc, pc))
    table = scaled.calibration_change
    assert list(table.columns) == ["before", "after"]
    for col, p, e in (("before", pt, ev), ("after", scaled.y_proba, scaled)):
        assert table.loc["log_loss", col] == pytest.approx(log_loss(yt, p, labels=np.arange(4)), rel=1e-6)
        onehot = np.eye(4)[yt]
        assert table.loc["brier_score", col] == pytest.approx(np.mean(np.sum((p - onehot) ** 2, axis=1)))
        assert table.loc["ece", col] == pytest.approx(e.ece)
        assert table.loc["accuracy", col] == pytest.approx(accuracy_score(yt, p.argmax(1)))
        assert table.loc["mce", col] >= table.loc["ece", col]
    assert table.loc["ece", "after"] < table.loc["ece", "before"]


def test_binary_temperature_is_a_sigmoid_of_the_scaled_logit_and_keeps_decisions():
    """Check a binary evaluation's T equals scipy's minimiser of the binary log loss of
    sigmoid(logit p / T), and its decisions at a threshold of 0.3 are kept (the threshold is moved)."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 1600)
    p1 = expit(4 * ((2 * y - 1) * 0.6 + rng.normal(size=1600)))
    cal = Evaluation.from_predictions(y[:900], p1[:900])
    ev = Evaluation.from_predictions(y[900:], p1[900:], threshold=0.3)
    scaled = ev.temperature_scaled(cal)
    ref = minimize_scalar(
        lambda t: log_loss(y[:900], expit(logit(p1[:900]) / t), labels=[0, 1]), bounds=(0.05, 20), method="bounded"
    ).x
    assert scaled.temperature == pytest.approx(ref, abs=1e-3)
    np.testing.assert_allclose(scaled.y_proba[:, 1], expit(logit(p1[900:]) / scaled.temperature), atol=1e-9)
    assert scaled.threshold == pytest.approx(expit(logit(0.3) / scaled.temperature))
    np.testing.assert_array_equal(scaled.y_pred, ev.y_pred)
    assert scaled.calibration_change.loc["accuracy"].nunique() == 1
    assert scaled.calibration_change.loc["brier_score", "after"] == pytest.approx(
        brier_score_loss(y[900:], scaled.y_proba[:, 1])
    )


def test_multilabel_gets_one_temperature_per_label():
    """Check each label's T equals scipy's minimiser of that label's log loss, and the decisions
    at 0.5 are unchanged."""
    rng = np.random.default_rng(5)
    y = rng.random((1200, 3)) < 0.4
    sharp = np.array([3.0, 1.0, 0.5])
    p = expit(sharp * ((2 * y - 1) * 0.8 + rng.normal(size=y.shape)))
    cal = Evaluation.from_predictions(y[:700], p[:700], task="multilabel")
    ev = Evaluation.from_predictions(y[700:], p[700:], task="multilabel")
    scaled = ev.temperature_scaled(cal)
    assert scaled.temperature.shape == (3,)
    for j in range(3):
        ref = minimize_scalar(
            lambda t: log_loss(y[:700, j], expit(logit(p[:700, j]) / t), labels=[False, True]),
            bounds=(0.05, 20),
            method="bounded",
        ).x
        assert scaled.temperature[j] == pytest.approx(ref, abs=1e-3)
    assert scaled.temperature[0] > 1 > scaled.temperature[2]
    np.testing.assert_array_equal(scaled.y_pred, ev.y_pred)


def test_a_fraction_scales_the_other_samples():
    """Check temperature_scaled(0.5) fits T on a seeded half and returns the other half, the same
    as passing the halves as evaluations."""
    y, p = _overconfident(800, 3, 6)
    ev = Evaluation.from_predictions(y, p)
    scaled = ev.temperature_scaled(0.5, seed=2)
    perm = np.random.default_rng(2).permutation(800)
    ref = ev.subset(np.sort(perm[400:])).temperature_scaled(ev.subset(np.sort(perm[:400])))
    assert scaled.n_samples == 400
    assert scaled.temperature == ref.temperature
    np.testing.assert_array_equal(scaled.y_proba, ref.y_proba)
    assert any("Temperature-scaled" in n for n in scaled.notes)
