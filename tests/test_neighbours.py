"""Nearest training samples and near-duplicates (ev.nearest_training, ev.near_duplicates,
ev.without, ev.leakage_report) on the demo digits CNN: a held-out-style test set with planted
near-copies of training images (a little pixel noise), evaluated with the real model. Neighbour
lists are checked against scikit-learn's exact NearestNeighbors on the same embeddings, the
approximate search (pynndescent) against it by recall, and the planted copies must be found at
the default threshold. Plus the errors for a training set that does not fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score
from sklearn.neighbors import NearestNeighbors

from h5eval_widgets.core import Evaluation, load_model
from h5eval_widgets.core.errors import EmbeddingError, LabelError
from h5eval_widgets.core.insight import neighbours as N

#: pixel noise of a planted copy (pixels are in [0, 1]) and how many copies are planted
NOISE, N_PLANTED, N_GENUINE = 0.02, 60, 300


@pytest.fixture(scope="module")
def digits(demo):
    train = np.load(demo.datasets["digits_train"])
    test = np.load(demo.datasets["digits_test"])
    model = load_model(demo.models["digits_cnn"], name="digits_cnn")
    return model, train, test


@pytest.fixture(scope="module")
def planted(digits):
    """(test evaluation, training evaluation, training rows copied): the first 300 test images,
    then 60 training images with Gaussian pixel noise (sd 0.02), clipped to [0, 1]."""
    model, train, test = digits
    rng = np.random.default_rng(7)
    src = rng.choice(len(train["x"]), N_PLANTED, replace=False)
    copies = np.clip(train["x"][src] + rng.normal(0, NOISE, train["x"][src].shape), 0, 1).astype(np.float32)
    X = np.concatenate([test["x_test"][:N_GENUINE], copies])
    y = np.concatenate([test["y_test"][:N_GENUINE], train["y"][src]])
    names = list(train["class_names"])
    ev = Evaluation.from_model(model, X, y, classes=names, progress=False, dataset_name="held-out")
    tr = Evaluation.from_model(model, train["x"], train["y"], classes=names, progress=False, dataset_name="train")
    return ev, tr, src


def _exact(train_vectors, queries, k):
    return NearestNeighbors(n_neighbors=k).fit(train_vectors).kneighbors(queries)


def test_neighbour_lists_equal_sklearn_exact_nearest_neighbors(planted):
    ev, tr, _ = planted
    frame = ev.nearest_training(None, tr, k=5)
    dist, idx = _exact(tr.embedding, ev.embedding, 5)
    assert frame.attrs["method"] == "exact"
    assert list(frame.columns) == ["test_index", "rank", "train_index", "distance", "train_label", "train_prediction"]
    np.testing.assert_array_equal(
        frame["test_index"].to_numpy().reshape(-1, 5), np.repeat(np.arange(ev.n_samples), 5).reshape(-1, 5)
    )
    np.testing.assert_array_equal(frame["rank"].to_numpy().reshape(-1, 5), np.tile(np.arange(1, 6), (ev.n_samples, 1)))
    np.testing.assert_array_equal(frame["train_index"].to_numpy().reshape(-1, 5), idx)
    np.testing.assert_allclose(frame["distance"].to_numpy().reshape(-1, 5), dist, rtol=1e-6, atol=1e-6)
    names = np.asarray(tr.classes, dtype=object)
    np.testing.assert_array_equal(frame["train_label"].to_numpy(), names[np.asarray(tr.y_true)[idx.ravel()]])
    np.testing.assert_array_equal(frame["train_prediction"].to_numpy(), names[np.asarray(tr.y_pred)[idx.ravel()]])
    # some samples, by index or mask: the same rows of the same lists
    some = ev.nearest_training([3, 310], tr, k=2)
    np.testing.assert_array_equal(some["train_index"].to_numpy(), idx[[3, 310], :2].ravel())
    np.testing.assert_array_equal(some["test_index"].to_numpy(), [3, 3, 310, 310])
    one = ev.nearest_training(5, tr, k=3)
    np.testing.assert_array_equal(one["train_index"].to_numpy(), idx[5, :3])


def test_the_index_is_built_once_per_training_evaluation(planted):
    ev, tr, _ = planted
    ev.nearest_training([0], tr)
    index = tr._neighbour_index()
    ev.nearest_training([1, 2], tr)
    ev.near_duplicates(tr)
    assert tr._neighbour_index() is index


def test_approximate_search_recall_against_exact(planted, monkeypatch):
    """Past the budget the search is pynndescent's; recall@5 against exact search >= 0.95."""
    ev, tr, _ = planted
    monkeypatch.setattr(N, "EXACT_BUDGET", 0)
    index = N.NeighbourIndex(tr.embedding)
    dist, idx = index.query(ev.embedding, k=5)
    assert index.last_method == "approximate" and index.approximate_built
    _, exact = _exact(tr.embedding, ev.embedding, 5)
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(idx, exact)])
    assert recall >= 0.95, recall
    # distances are the true distances of the rows returned, nearest first
    true = np.linalg.norm(tr.embedding[idx] - ev.embedding[:, None, :], axis=2)
    np.testing.assert_allclose(dist, true, rtol=1e-4, atol=1e-4)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_planted_copies_are_found_at_the_default_threshold(planted):
    ev, tr, src = planted
    dups = ev.near_duplicates(tr)
    assert list(dups.columns) == ["test_index", "train_index", "distance", "labels_agree"]
    # the default threshold: 0.3 of the median distance of a training sample to its nearest other
    dist, _ = NearestNeighbors(n_neighbors=2).fit(tr.embedding).kneighbors(tr.embedding)
    typical = np.median(dist[:, 1])
    assert dups.attrs["typical_distance"] == pytest.approx(typical, rel=1e-5)
    assert dups.attrs["threshold"] == pytest.approx(0.3 * typical, rel=1e-5)
    planted_rows = set(range(N_GENUINE, N_GENUINE + N_PLANTED))
    found = set(dups["test_index"]) & planted_rows
    recall, precision = len(found) / N_PLANTED, len(found) / max(len(dups), 1)
    assert recall >= 0.95 and precision >= 0.9, (recall, precision)
    # each copy is matched to the training image it was made from, and their labels agree
    hits = dups[dups["test_index"] >= N_GENUINE]
    np.testing.assert_array_equal(hits["train_index"].to_numpy(), src[hits["test_index"].to_numpy() - N_GENUINE])
    assert hits["labels_agree"].all()
    assert (dups["distance"] < dups.attrs["threshold"]).all() and dups["distance"].is_monotonic_increasing
    # a threshold given is used as it is
    assert len(ev.near_duplicates(tr, threshold=0.0)) == 0
    assert len(ev.near_duplicates(tr, threshold=1e9)) == ev.n_samples


def test_near_duplicates_within_the_test_set(digits):
    """Without ``train``: test samples with another test sample closer than the threshold."""
    model, _, test = digits
    rng = np.random.default_rng(3)
    base = test["x_test"][:200]
    copied = np.arange(0, 40, 2)
    X = np.concatenate([base, np.clip(base[copied] + rng.normal(0, NOISE, base[copied].shape), 0, 1)])
    y = np.concatenate([test["y_test"][:200], test["y_test"][copied]])
    ev = Evaluation.from_model(model, X.astype(np.float32), y, progress=False)
    dups = ev.near_duplicates()
    assert list(dups.columns) == ["test_index", "other_index", "distance", "labels_agree"]
    pairs = {(i, 200 + j) for j, i in enumerate(copied)} | {(200 + j, i) for j, i in enumerate(copied)}
    got = set(zip(dups["test_index"], dups["other_index"]))
    assert len(got & pairs) >= 0.95 * len(pairs) and len(got & pairs) >= 0.9 * len(got)
    assert (dups["test_index"] != dups["other_index"]).all()


def test_a_training_dataset_is_evaluated_once_with_this_model(planted, digits):
    from h5eval_widgets.core import load_dataset

    ev, tr, _ = planted
    _, train, _ = digits
    data = load_dataset(train["x"], train["y"], class_names=list(train["class_names"]))
    frame = ev.nearest_training([0, 301], data, k=5)
    pd.testing.assert_frame_equal(frame, ev.nearest_training([0, 301], tr, k=5))
    kept = ev._training(data)
    assert kept is ev._training(data)
    np.testing.assert_array_equal(kept.embedding, tr.embedding)


def test_without_and_the_leakage_report(planted):
    ev, tr, _ = planted
    dups = ev.near_duplicates(tr)
    rest = ev.without(dups["test_index"])
    keep = np.setdiff1d(np.arange(ev.n_samples), dups["test_index"])
    np.testing.assert_array_equal(rest.source_rows, keep)
    assert rest.scores["accuracy"] == pytest.approx(
        accuracy_score(np.asarray(ev.y_true)[keep], np.asarray(ev.y_pred)[keep])
    )
    report = ev.leakage_report(tr, n_boot=200)
    assert list(report.columns) == [
        "all",
        "all_low",
        "all_high",
        "without",
        "without_low",
        "without_high",
        "difference",
    ]
    a, b = ev.bootstrap(200), rest.bootstrap(200)
    np.testing.assert_allclose(report["all"], a["value"])
    np.testing.assert_allclose(report[["without_low", "without_high"]].to_numpy(), b[["low", "high"]].to_numpy())
    assert report.at["accuracy", "without"] == pytest.approx(rest.scores["accuracy"])
    assert report.attrs["n_without"] == ev.n_samples - len(dups) and len(report.attrs["duplicates"]) == len(dups)
    assert ((report["all_low"] <= report["all"]) & (report["all"] <= report["all_high"])).all()


def test_a_training_set_with_other_classes_is_refused(planted, digits):
    ev, _, _ = planted
    model, train, _ = digits
    other = Evaluation.from_model(model, train["x"], train["y"], classes=list("abcdefghij"), progress=False)
    with pytest.raises(LabelError, match=r"classes.*same model and the same classes"):
        ev.nearest_training([0], other)


def test_another_models_embedding_is_refused(planted, demo, digits):
    ev, _, _ = planted
    _, train, _ = digits
    mlp = load_model(demo.models["digits_weak_mlp"], name="digits_weak_mlp")
    other = Evaluation.from_model(mlp, train["x"], train["y"], classes=list(train["class_names"]), progress=False)
    assert other.embedding.shape[1] != ev.embedding.shape[1]
    with pytest.raises(EmbeddingError, match=r"another model or layer.*64 values per sample, not 32.*with this model"):
        ev.near_duplicates(other)


def test_no_embedding_for_this_model_is_refused(planted, digits):
    ev, tr, _ = planted
    model, train, _ = digits
    bare = Evaluation.from_model(
        model, train["x"], train["y"], classes=list(train["class_names"]), embeddings=False, progress=False
    )
    with pytest.raises(EmbeddingError, match=r"training evaluation has no embedding.*embeddings=True"):
        ev.nearest_training([0], bare)
    predicted = Evaluation.from_predictions(ev.y_true, ev.y_proba, classes=ev.classes)
    with pytest.raises(EmbeddingError, match=r"This evaluation has no embedding.*embeddings=True"):
        predicted.near_duplicates()


def test_index_drops_each_row_itself_even_among_exact_duplicates():
    x = np.array([[0.0, 0], [0, 0], [3, 0], [0, 4], [10, 10]], dtype=np.float32)
    index = N.NeighbourIndex(x)
    dist, idx = index.query(x, k=2, exclude_self=True)
    assert (idx != np.arange(5)[:, None]).all()
    np.testing.assert_allclose(dist[:, 0], [0, 0, 3, 4, np.hypot(10, 6)])
    assert N.typical_distance(index) == pytest.approx(3.0)
    # three copies of one row, one neighbour each: the row itself may be ranked after both others
    triple = N.NeighbourIndex(np.zeros((3, 2), dtype=np.float32))
    dist, idx = triple.query(triple.vectors, k=1, exclude_self=True)
    assert (idx[:, 0] != np.arange(3)).all() and (dist == 0).all()
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 4\]"):
        index.query(x, k=5, exclude_self=True)
    with pytest.raises(EmbeddingError, match="same model and layer"):
        index.query(np.zeros((1, 3)), k=1)
