"""Embeddings kept from the one inference pass, their 2-D projections, and map selections."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from h5eval_widgets.core import Evaluation, load_model
from h5eval_widgets.core.cache import PredictionCache
from h5eval_widgets.core.inference.embeddings import MAX_DIMS, projection_matrix
from h5eval_widgets.core.errors import EmbeddingError, MissingDependencyError
from h5eval_widgets.core.inference.projection import points_in_box, points_in_polygon, project, project_in_background
from tests.helpers import record_calls, require


# ------------------------------------------------------------------ small real models
@pytest.fixture(scope="session")
def images():
    """60 random 8x8x1 images with 3 classes (what the models were trained on does not matter)."""
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (60, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 60)


@pytest.fixture(scope="session")
def cnn_h5(models_dir, images):
    """A Sequential CNN trained one epoch, saved by Keras 3 as .h5 (read back as Sequential)."""
    import keras

    X, y = images
    keras.utils.set_random_seed(5)
    m = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(12, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(X, y, epochs=1, verbose=0)
    path = models_dir / "embed_cnn.h5"
    m.save(path)
    return path


@pytest.fixture(scope="session")
def wide_functional_keras(models_dir):
    """A functional CNN whose last Dense layer takes 300 values (wider than MAX_DIMS), then a
    separate softmax layer."""
    import keras

    keras.utils.set_random_seed(6)
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(300, 3, name="conv")(inp)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Softmax(name="soft")(keras.layers.Dense(3, name="logits")(h))
    path = models_dir / "embed_wide.keras"
    keras.Model(inp, out).save(path)
    return path


def _ev(path, X, y, tmp_path, **kw):
    kw.setdefault("cache", PredictionCache(tmp_path / "c"))
    return Evaluation.from_model(path, X, y, progress=False, **kw)


# ------------------------------------------------------------------ which activations
def test_cnn_embedding_is_the_last_dense_input_in_the_same_pass(tmp_path, cnn_h5, images, inference_passes):
    """Check that a CNN's default embedding equals the input of its last Dense layer computed by
    hand with Keras (layer by layer), from one inference pass, with outputs identical to a run
    without embeddings."""
    import keras

    X, y = images
    ev = _ev(cnn_h5, X, y, tmp_path)
    fp = load_model(cnn_h5).fingerprint
    assert inference_passes[fp] == 1
    m = keras.saving.load_model(cnn_h5, compile=False)
    h = X
    for layer in m.layers[:-1]:
        h = layer(h)
    assert ev.embedding.dtype == np.float32 and ev.embedding.shape == (60, 12)
    np.testing.assert_allclose(ev.embedding, np.asarray(h), rtol=1e-5, atol=1e-6)
    assert (ev.embeddings.source, ev.embeddings.layer) == ("penultimate", "out")
    plain = _ev(cnn_h5, X, y, tmp_path, embeddings=False, cache=False)
    assert plain.embedding is None and plain.embeddings is None
    np.testing.assert_array_equal(ev.y_proba, plain.y_proba)
    np.testing.assert_allclose(ev.y_proba, m.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


def test_named_feature_map_layer_is_pooled(tmp_path, cnn_h5, images):
    """Check that a named convolutional layer gives its output averaged over height and width."""
    import keras

    X, y = images
    ev = _ev(cnn_h5, X, y, tmp_path, embeddings="conv", cache=False)
    m = keras.saving.load_model(cnn_h5, compile=False)
    expected = np.asarray(m.get_layer("conv")(X)).mean(axis=(1, 2))
    np.testing.assert_allclose(ev.embedding, expected, rtol=1e-5, atol=1e-6)
    assert ev.embeddings.layer == "conv" and "output of layer 'conv'" in ev.embeddings.description


def test_keras2_h5_penultimate_equals_tf_keras_submodel(tmp_path, keras2_h5, blobs):
    """Check on a file written by Keras 2 (Sequential; its layer outputs are not wired to its
    outputs once read by Keras 3) that the penultimate embedding and a named layer both equal
    the hidden layer's output computed by tf_keras itself."""
    tf_keras = require("tf_keras")
    _, _, Xte, yte = blobs
    ref_model = tf_keras.models.load_model(keras2_h5)
    hidden = ref_model.layers[0]
    expected = tf_keras.Model(ref_model.input, hidden.output).predict(Xte, verbose=0)
    pen = _ev(keras2_h5, Xte, yte, tmp_path, embeddings="penultimate")
    named = _ev(keras2_h5, Xte, yte, tmp_path, embeddings=hidden.name)
    np.testing.assert_allclose(pen.embedding, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(named.embedding, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pen.y_proba, ref_model.predict(Xte, verbose=0), rtol=1e-5, atol=1e-6)


def test_tabular_model_embeds_its_input_features_without_caching_them(tmp_path, multiclass_h5, blobs, inference_passes):
    """Check that a 4-feature MLP's default embedding is its input features; they add no cache
    entry, and reopening reads them again without inference."""
    _, _, Xte, yte = blobs
    cache = PredictionCache(tmp_path / "c")
    ev = _ev(multiclass_h5, Xte, yte, tmp_path, cache=cache)
    np.testing.assert_array_equal(ev.embedding, Xte)
    assert ev.embeddings.source == "input" and len(cache.entries()) == 1
    again = _ev(multiclass_h5, Xte, yte, tmp_path, cache=cache)
    assert inference_passes[load_model(multiclass_h5).fingerprint] == 1
    np.testing.assert_array_equal(again.embedding, Xte)


def test_wide_layer_is_randomly_projected_to_max_dims(tmp_path, wide_functional_keras, images):
    """Check that a 300-value penultimate layer of a functional model is kept as 256 values: the
    layer's input times the model's fixed random projection."""
    import keras

    X, y = images
    model = load_model(wide_functional_keras)
    first = _ev(model, X, y, tmp_path, cache=False)
    ev = _ev(model, X, y, tmp_path, cache=False)  # the same model again: its plan is reused
    np.testing.assert_array_equal(ev.embedding, first.embedding)
    m = keras.saving.load_model(wide_functional_keras, compile=False)
    act = keras.Model(m.inputs, m.get_layer("logits").input).predict(X, verbose=0)
    proj = projection_matrix(load_model(wide_functional_keras).fingerprint, 300)
    assert ev.embedding.shape == (60, MAX_DIMS) and ev.embeddings.width == 300
    assert ev.embeddings.randomly_projected and "randomly projected to 256" in ev.embeddings.description
    np.testing.assert_allclose(ev.embedding, act @ proj, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ev.y_proba, m.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


def test_unknown_layer_and_layerless_model_are_refused_or_noted(tmp_path, cnn_h5, images, multiclass_savedmodel, blobs):
    """Check that a wrong layer name fails naming the layers; a SavedModel endpoint refuses
    'penultimate' (it has no layers) but a tabular one still embeds its input features."""
    X, y = images
    with pytest.raises(EmbeddingError, match=r"no top-level layer 'nope'.*'hidden'"):
        _ev(cnn_h5, X, y, tmp_path, embeddings="nope")
    _, _, Xte, yte = blobs
    with pytest.raises(EmbeddingError, match="no Keras layers"):
        _ev(multiclass_savedmodel, Xte, yte, tmp_path, embeddings="penultimate")
    ev = _ev(multiclass_savedmodel, Xte, yte, tmp_path)
    np.testing.assert_array_equal(ev.embedding, Xte)
    with pytest.raises(EmbeddingError, match="embeddings=True"):
        _ev(cnn_h5, X, y, tmp_path, embeddings=False).projection()


def test_streamed_dataset_gets_its_embedding_uncached(tmp_path, cnn_h5, images):
    """Check that a tf.data.Dataset gets the same embedding as the arrays, without a cache key."""
    import tensorflow as tf

    X, y = images
    arrays = _ev(cnn_h5, X, y, tmp_path, cache=False)
    streamed = Evaluation.from_model(cnn_h5, tf.data.Dataset.from_tensor_slices((X, y)).batch(7), progress=False)
    assert streamed.embeddings.key is None
    np.testing.assert_allclose(streamed.embedding, arrays.embedding, rtol=1e-6, atol=1e-7)
    assert streamed.projection().shape == (60, 2)


# ------------------------------------------------------------------ the cache
def test_reopening_reads_embedding_and_projection_from_the_cache(
    tmp_path, cnn_h5, images, inference_passes, monkeypatch
):
    """Check that a second evaluation of the same (model, data) runs no inference and no
    projection: embedding and PCA map come from the cache; a second call is served from memory."""
    from h5eval_widgets.core.inference import projection

    calls = record_calls(monkeypatch, projection, "project")
    X, y = images
    cache = PredictionCache(tmp_path / "c")
    a = _ev(cnn_h5, X, y, tmp_path, cache=cache)
    xy = a.projection("pca")
    assert a.projection("pca") is xy and len(calls) == 1
    model = load_model(cnn_h5, cache=cache)  # its facts are remembered: Keras waits
    b = _ev(model, X, y, tmp_path, cache=cache)
    assert inference_passes[model.fingerprint] == 1 and not model.is_loaded
    assert any("embedding read from the prediction cache" in n for n in b.notes)
    np.testing.assert_array_equal(b.embedding, a.embedding)
    np.testing.assert_array_equal(b.projection("pca"), xy)
    assert len(calls) == 1, "the cached projection was computed again"
    assert b.embeddings.layer == "out" and b.embeddings.width == 12


def test_outputs_cached_without_embedding_take_one_pass_and_stay_the_same(tmp_path, cnn_h5, images, inference_passes):
    """Check that outputs cached by a run without embeddings are kept when the embedding is asked
    for later (one more pass, for the embedding), and that a third run needs none."""
    X, y = images
    cache = PredictionCache(tmp_path / "c")
    a = _ev(cnn_h5, X, y, tmp_path, cache=cache, embeddings=False)
    b = _ev(cnn_h5, X, y, tmp_path, cache=cache)
    _ev(cnn_h5, X, y, tmp_path, cache=cache)
    assert inference_passes[load_model(cnn_h5).fingerprint] == 2
    np.testing.assert_array_equal(a.y_proba, b.y_proba)
    assert b.embedding.shape == (60, 12)


def test_a_subset_takes_rows_and_the_whole_map(tmp_path, cnn_h5, images, monkeypatch):
    """Check that the embedding of some samples holds their rows, and that its map is those rows
    of the whole embedding's map (projected once, for the whole), also for a subset of a subset."""
    from h5eval_widgets.core.inference import projection

    calls = record_calls(monkeypatch, projection, "project")
    X, y = images
    ev = _ev(cnn_h5, X, y, tmp_path)
    part = ev.embeddings.take(np.arange(60) % 3 == 0)
    np.testing.assert_array_equal(part.vectors, ev.embedding[::3])
    np.testing.assert_array_equal(part.projection("pca"), ev.projection("pca")[::3])
    inner = part.take([1, 2])
    np.testing.assert_array_equal(inner.projection("pca"), ev.projection("pca")[[3, 6]])
    assert len(calls) == 1 and inner.layer == "out"


# ------------------------------------------------------------------ projections
def test_pca_equals_sklearn_up_to_sign():
    """Check PCA against scikit-learn's on the same data, column by column up to sign."""
    from sklearn.decomposition import PCA

    x = np.random.default_rng(1).normal(size=(500, 20)).astype("float32") * np.arange(1, 21)
    xy = project(x, "pca")
    ref = PCA(n_components=2).fit_transform(x)
    assert xy.dtype == np.float32 and xy.shape == (500, 2)
    for j in range(2):
        sign = np.sign(xy[:, j] @ ref[:, j])
        np.testing.assert_allclose(xy[:, j] * sign, ref[:, j], rtol=1e-3, atol=1e-3)
    z = project(x, "pca", standardize=True)
    ref_z = PCA(n_components=2).fit_transform((x - x.mean(0)) / x.std(0))
    np.testing.assert_allclose(np.abs(z), np.abs(ref_z), rtol=1e-3, atol=1e-3)


def test_degenerate_embeddings_and_bad_input():
    """Check one-column and one-row embeddings, NaN values and an unknown method."""
    np.testing.assert_allclose(project(np.array([[1.0], [3.0]]), "pca"), [[-1, 0], [1, 0]])
    assert project(np.ones((1, 5)), "pca").shape == (1, 2)
    with pytest.raises(EmbeddingError, match="NaN"):
        project(np.array([[np.nan, 1.0]] * 5))
    with pytest.raises(EmbeddingError, match="method"):
        project(np.ones((5, 3)), "tsne")


def test_umap_and_background_projection(tmp_path, cnn_h5, images):
    """Check that UMAP gives a finite (n, 2) map, and that the background projection calls back
    with what ev.projection then returns from memory."""
    require("umap")
    import threading

    X, y = images
    ev = _ev(cnn_h5, X, y, tmp_path)
    got, done = [], threading.Event()
    future = project_in_background(
        ev, lambda xy: (got.append(xy), done.set()), method="umap", n_epochs=20, n_neighbors=5
    )
    xy = future.result(timeout=300)
    assert done.wait(10) and got[0] is xy
    assert xy.shape == (60, 2) and xy.dtype == np.float32 and np.isfinite(xy).all()
    assert ev.projection("umap", n_epochs=20, n_neighbors=5) is xy
    errors = []
    bad = project_in_background(ev, lambda xy: None, method="tsne", on_error=errors.append)
    with pytest.raises(EmbeddingError):
        bad.result(timeout=10)
    assert isinstance(errors[0], EmbeddingError)


def test_pca_is_not_kept_waiting_by_a_umap_running(tmp_path, cnn_h5, images, monkeypatch):
    """Check that the map's PCA is served while a slow UMAP of the same embedding runs."""
    import threading

    from h5eval_widgets.core.inference import projection

    release, real = threading.Event(), projection.project

    def slow(x, method="pca", **kw):
        if method == "umap":
            release.wait(30)
            return np.zeros((len(x), 2), np.float32)
        return real(x, method, **kw)

    monkeypatch.setattr(projection, "project", slow)
    X, y = images
    ev = _ev(cnn_h5, X, y, tmp_path)
    future = project_in_background(ev, lambda xy: None, method="umap")
    assert ev.projection("pca").shape == (60, 2) and not future.done()
    release.set()
    assert future.result(timeout=30).shape == (60, 2)


def test_missing_umap_names_the_extra(monkeypatch):
    """Check that UMAP without umap-learn says which pip install brings it."""
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(MissingDependencyError, match=r"h5eval-widgets\[insight\]"):
        project(np.random.default_rng(0).normal(size=(20, 3)), "umap")


# ------------------------------------------------------------------ selections on the map
GRID = np.array([(x, y) for y in range(5) for x in range(5)], dtype=float)  # index = 5*y + x


def test_points_in_box_are_exactly_those_inside():
    """Check a brush over a grid: edges included, corners in any order, NaN points never inside."""
    want = [5 * y + x for y in (1, 2) for x in (1, 2, 3)]
    np.testing.assert_array_equal(points_in_box(GRID, 1, 3, 1, 2), want)
    np.testing.assert_array_equal(points_in_box(GRID, 3, 1, 2, 1), want)
    np.testing.assert_array_equal(points_in_box(GRID, 0.5, 0.9, 0, 4), [])
    pts = np.vstack([GRID, [[np.nan, 2.0]]])
    assert 25 not in points_in_box(pts, -10, 10, -10, 10)
    assert len(points_in_box(pts, -10, 10, -10, 10)) == 25


def test_points_in_polygon_are_exactly_those_inside():
    """Check a lasso: a triangle and a concave L shape over the grid (no point on an edge), and
    random points against a plain point-by-point ray cast."""
    triangle = [(0.5, 0.5), (3.5, 0.5), (0.5, 3.5)]  # x + y < 4 with x, y >= 1
    want = [5 * y + x for y in range(1, 4) for x in range(1, 4) if x + y < 4]
    np.testing.assert_array_equal(points_in_polygon(GRID, triangle), want)
    ell = [(-0.5, -0.5), (4.5, -0.5), (4.5, 1.5), (1.5, 1.5), (1.5, 4.5), (-0.5, 4.5)]
    want = sorted({5 * y + x for y in range(5) for x in range(5) if y <= 1 or x <= 1})
    np.testing.assert_array_equal(points_in_polygon(GRID, ell), want)
    assert len(points_in_polygon(GRID, [(0, 0), (1, 1)])) == 0

    rng = np.random.default_rng(3)
    pts = rng.uniform(-1, 1, (2000, 2))
    angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
    poly = np.c_[np.cos(angles), np.sin(angles)] * rng.uniform(0.3, 1, (12, 1))

    def inside(p):
        c = False
        for (ax, ay), (bx, by) in zip(poly, np.roll(poly, -1, 0)):
            if (ay > p[1]) != (by > p[1]) and p[0] < ax + (p[1] - ay) * (bx - ax) / (by - ay):
                c = not c
        return c

    np.testing.assert_array_equal(points_in_polygon(pts, poly), [i for i, p in enumerate(pts) if inside(p)])
