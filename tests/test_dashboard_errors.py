"""Bad input in the dashboard: the error shows in the status area, the last good views stay usable."""

from __future__ import annotations

import numpy as np
import pytest

from h5eval_widgets import Dashboard
from tests.helpers import digests


@pytest.fixture()
def bad_files(tmp_path, multiclass_h5, lambda_model_files, weights_only_h5, blobs):
    _, _, X, y = blobs
    good = tmp_path / "good_test.npz"
    np.savez(good, x=X, y=y)
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    nan = tmp_path / "nan_test.npz"
    Xn = X.copy()
    Xn[5, 1] = np.nan
    np.savez(nan, x=Xn, y=y)
    wide = tmp_path / "wide_test.npz"
    np.savez(wide, x=np.zeros((4, 9), "float32"), y=np.zeros(4, int))
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(multiclass_h5.read_bytes()[:5000])
    models = {
        "good": multiclass_h5,
        "lambda": lambda_model_files["h5"],
        "weights": weights_only_h5,
        "truncated": truncated,
    }
    datasets = {"good_test": good, "pickled": pickled, "nan_test": nan, "wide_test": wide}
    return models, datasets


@pytest.mark.parametrize(
    "trait,value,pattern",
    [
        ("model_name", "lambda", "Lambda.*trust_code=True"),
        ("model_name", "weights", "weights only"),
        ("model_name", "truncated", "truncated or corrupt"),
        ("dataset_name", "pickled", "unpickl"),
        ("dataset_name", "nan_test", "NaN or infinite.*row 5"),
        ("dataset_name", "wide_test", r"expects \(4,\)"),
    ],
)
def test_bad_choice_shows_the_error_and_keeps_the_views(bad_files, trait, value, pattern):
    """Check that choosing a bad model or dataset reports it and leaves the last good views working."""
    models, datasets = bad_files
    hashes = digests([*models.values(), *datasets.values()])
    dash = Dashboard(models=models, datasets=datasets, progress=False)
    st = dash.state
    assert st.model_name == "good" and st.dataset_name == "good_test" and st.evaluation is not None
    good_eval = st.evaluation
    matrix = np.array(dash.confusion.heatmap.color)
    setattr(st, trait, value)
    assert st.status_level == "error"
    assert __import__("re").search(pattern, st.status), st.status
    assert "⚠" in dash.status.value
    assert st.evaluation is good_eval
    np.testing.assert_array_equal(dash.confusion.heatmap.color, matrix)
    dash.confusion.click_cell(0, 0)  # the old views still answer
    expected = np.flatnonzero((good_eval.y_true == 0) & (good_eval.y_pred == 0))
    assert sorted(st.selected_indices.tolist()) == expected.tolist()
    assert digests(hashes) == hashes
