"""Comparing two models, one model on several splits, and training histories."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from h5eval_widgets import Comparison, compare_splits, load_history
from h5eval_widgets.core import LabelError


@pytest.fixture(scope="module")
def pair(demo):
    return demo, Comparison(
        demo.evaluate("digits_cnn", progress=False), demo.evaluate("digits_weak_mlp", progress=False), n_boot=400
    )


def test_side_by_side_metrics_equal_sklearn(pair):
    """Check both columns and the difference against scikit-learn on each model's predictions."""
    demo, cmp_ = pair
    y = demo.dataset("digits_test").y
    df = cmp_.metrics()
    na, nb = cmp_.names
    for name, fn in (
        ("accuracy", skm.accuracy_score),
        ("cohen_kappa", skm.cohen_kappa_score),
        ("mcc", skm.matthews_corrcoef),
    ):
        a, b = fn(y, cmp_.a.y_pred), fn(y, cmp_.b.y_pred)
        assert df.loc[name, na] == pytest.approx(a)
        assert df.loc[name, nb] == pytest.approx(b)
        assert df.loc[name, "difference"] == pytest.approx(a - b)
    f1a = skm.f1_score(y, cmp_.a.y_pred, average=None)
    np.testing.assert_allclose(cmp_.per_class()[f"f1 {na}"], f1a)


def test_paired_interval_matches_resampling_samples_jointly(pair):
    """Check the paired bootstrap interval of the accuracy difference against naive paired resampling."""
    demo, cmp_ = pair
    y = cmp_.a.y_true
    rng = np.random.default_rng(1)
    diffs = []
    for _ in range(400):
        i = rng.integers(0, len(y), len(y))
        diffs.append(np.mean(cmp_.a.y_pred[i] == y[i]) - np.mean(cmp_.b.y_pred[i] == y[i]))
    row = cmp_.metrics().loc["accuracy"]
    assert row["low"] <= row["difference"] <= row["high"]
    assert row["low"] == pytest.approx(np.quantile(diffs, 0.025), abs=0.01)
    assert row["high"] == pytest.approx(np.quantile(diffs, 0.975), abs=0.01)


def test_mcnemar_equals_a_direct_computation(pair):
    """Check McNemar's statistic and p-values against scipy on the discordant counts."""
    _, cmp_ = pair
    b = int(np.sum(cmp_.a.correct & ~cmp_.b.correct))
    c = int(np.sum(~cmp_.a.correct & cmp_.b.correct))
    m = cmp_.mcnemar()
    assert (m["only_a"], m["only_b"]) == (b, c)
    chi2 = (abs(b - c) - 1) ** 2 / (b + c)
    assert m["statistic"] == pytest.approx(chi2)
    assert m["p_value"] == pytest.approx(stats.chi2.sf(chi2, 1))
    assert m["p_value_exact"] == pytest.approx(stats.binomtest(min(b, c), b + c, 0.5).pvalue)


@pytest.mark.parametrize("a_right,b_right", [(True, True), (True, False), (False, True), (False, False)])
def test_agreement_cells_hold_exactly_those_samples(pair, a_right, b_right):
    """Check each agreement cell against the samples where the models are right/wrong that way."""
    _, cmp_ = pair
    idx = cmp_.agreement_indices(a_right, b_right)
    expected = np.flatnonzero((cmp_.a.correct == a_right) & (cmp_.b.correct == b_right))
    assert sorted(idx.tolist()) == expected.tolist()
    table = cmp_.agreement()
    assert table.iloc[0 if a_right else 1, 0 if b_right else 1] == len(expected)


def test_comparison_refuses_different_samples(pair):
    """Check that evaluations of different datasets cannot be compared."""
    demo, cmp_ = pair
    other = demo.evaluate("breast_cancer_mlp", progress=False)
    with pytest.raises(LabelError, match="not of the same samples"):
        Comparison(cmp_.a, other)


def test_splits_side_by_side_and_overfitting_flag(demo):
    """Check one model on train and test splits, and the gap flag on both sides of the tolerance."""
    splits = {
        "digits_train": demo.datasets["digits_train"],
        "digits_test": demo.datasets["digits_test"],
        "breast_cancer_test": demo.datasets["breast_cancer_test"],
    }
    rep = compare_splits(demo.models["digits_weak_mlp"], splits, progress=False)
    y_tr = demo.dataset("digits_train").y
    assert rep.metrics().loc["accuracy", "digits_train"] == pytest.approx(
        skm.accuracy_score(y_tr, rep.evaluations["digits_train"].y_pred)
    )
    assert "breast_cancer_test" in rep.errors
    assert rep.gap == pytest.approx(
        rep.evaluations["digits_train"].scores["accuracy"] - rep.evaluations["digits_test"].scores["accuracy"]
    )
    strict = compare_splits(demo.models["digits_cnn"], splits, tolerance=-1.0, progress=False)
    lax = compare_splits(demo.models["digits_cnn"], splits, tolerance=1.0, progress=False)
    assert strict.overfitting and not lax.overfitting
    assert "possible overfitting" in strict.summary()


def test_history_from_csvlogger_json_dict_and_history(tmp_path, demo):
    """Check training histories from a CSVLogger file, a JSON file, a dict and a History object."""
    csv = load_history(demo.histories["digits_cnn"])
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(csv.columns) and len(csv) == 40
    js = load_history(demo.histories["digits_weak_mlp"])
    assert len(js) == 10 and js.index.name == "epoch"
    d = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    assert load_history(d)["val_loss"].tolist() == [1.1, 0.7]

    class History:  # what keras' fit returns: an object with a .history dict
        history = d

    assert load_history(History()).equals(load_history(d))
    p = tmp_path / "h.json"
    p.write_text(json.dumps(d))
    assert load_history(p).equals(load_history(d))


def test_dashboard_comparison_mode_history_and_splits(dash):
    """Check comparison mode (clicking an agreement cell), the per-class view of both, history and splits."""
    st = dash.state
    assert dash.history.layout.display is None and len(dash.history.figures.children) == 2
    dash.comparison.other.value = "digits_weak_mlp"
    cmp_ = st.comparison
    assert cmp_ is not None and dash.comparison.body.layout.display is None
    dash.comparison.cells[(True, False)].click()
    expected = np.flatnonzero(cmp_.a.correct & ~cmp_.b.correct)
    assert sorted(st.selected_indices.tolist()) == expected.tolist()
    assert f"({len(expected)})" in dash.samples.title.value
    np.testing.assert_allclose(np.array(dash.per_class.bars.y)[1], np.nan_to_num(cmp_.b.per_class()["f1"]))
    rep = dash.splits.compute()
    assert set(rep.evaluations) == {"digits_test", "digits_train"}
    assert "gap" in dash.splits.verdict.value
    st.model_name = "breast_cancer_mlp"
    assert dash.history.layout.display == "none"
    # digits_weak_mlp cannot run on breast_cancer_test: no comparison, its panel hidden, the
    # choice kept for when the data fits again
    assert st.comparison is None and dash.comparison.body.layout.display == "none"
    assert st.compare_model == "digits_weak_mlp"
    st.model_name = "digits_cnn"  # back on the digits: compared again, with the new evaluation
    assert st.dataset_name == "digits_test"
    assert st.comparison is not None and st.comparison.a is st.evaluation
    assert st.comparison.b.model_name == "digits_weak_mlp"
