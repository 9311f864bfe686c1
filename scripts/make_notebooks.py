"""Write the notebooks in notebooks/ (without outputs) from the cells below.

Run from the repository root:  python scripts/make_notebooks.py
The tests execute every notebook top to bottom (tests/test_notebooks.py).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent.parent / "notebooks"


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str):
    return new_code_cell(text.strip())


QUICKSTART = [
    md("""
# Quickstart

The dashboard on the bundled demo: two digit classifiers (8x8 images, 10 classes), a binary
breast-cancer classifier and a regression model, all real `.h5` files with their test sets.
Click a confusion-matrix cell to see its samples; move the threshold in *Curves & threshold*.
"""),
    code("""
from h5eval_widgets import Dashboard, load_demo
demo = load_demo()
Dashboard(models=demo.models, datasets=demo.datasets)
"""),
    md(
        "Your own model and test set work the same way: `Dashboard(models={'mine': 'model.h5'}, datasets={'test': 'test.npz'})`."
    ),
]

ERRORS = [
    md("""
# Error inspection

Which classes does the weaker digits model confuse, which mistakes is it most sure of, and what
do those samples look like? Every answer is a lookup in the evaluation, computed once.
"""),
    code("""
import tempfile
from pathlib import Path

import ipywidgets as W
import pandas as pd

from h5eval_widgets import Dashboard, load_demo
from h5eval_widgets.views.samples import image_png

demo = load_demo()
ev = demo.evaluate("digits_weak_mlp", progress=False)
data = demo.dataset("digits_test")
ev.most_confused_pairs(5)
"""),
    md("The mistakes the model is most confident about:"),
    code("""
idx = ev.most_confident_mistakes(12)
mistakes = pd.DataFrame({
    "sample": idx,
    "true": [ev.classes[i] for i in ev.y_true[idx]],
    "predicted": [ev.classes[i] for i in ev.y_pred[idx]],
    "confidence": ev.confidence[idx].round(3),
})
mistakes
"""),
    code("""
W.HBox([W.VBox([W.Image(value=image_png(data.sample(i)), format="png"),
                W.HTML(f"#{i}: {ev.classes[ev.y_true[i]]} → {ev.classes[ev.y_pred[i]]}")]) for i in idx[:8]])
"""),
    md("The samples of the most confused pair, by confidence, then exported as CSV:"),
    code("""
top = ev.most_confused_pairs(1).iloc[0]
cell = ev.cell_indices(top["true"], top["predicted"])
assert all(ev.y_true[cell] == ev.classes.index(top["true"]))
out = Path(tempfile.mkdtemp()) / "confused_samples.csv"
pd.DataFrame({"sample": cell, "confidence": ev.confidence[cell]}).to_csv(out, index=False)
print(f"{len(cell)} samples of {top['true']} → {top['predicted']} written to {out}")
"""),
    md("The same in the dashboard: selecting the cell shows its samples."),
    code("""
dash = Dashboard(models={"digits_weak_mlp": demo.models["digits_weak_mlp"]},
                 datasets={"digits_test": demo.datasets["digits_test"]}, progress=False)
dash.state.selected_cell = (ev.classes.index(top["true"]), ev.classes.index(top["predicted"]))
dash
"""),
]

TEACHING = [
    md("""
# Teaching classification metrics

Two concentric circles (`make_circles`, 1,000 samples, noise 0.1): the first 500 for training,
the rest for testing; a small MLP (one hidden layer of 100 ReLU units, a sigmoid output) trained
with Adam and binary cross-entropy, saved to a real `.h5` file and evaluated from it.
"""),
    code("""
import os, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import pandas as pd
import keras
from sklearn.datasets import make_circles
from sklearn import metrics as skm

from h5eval_widgets import Evaluation, Dashboard

X, y = make_circles(n_samples=1000, noise=0.1, random_state=1)
X = X.astype("float32")
X_train, X_test, y_train, y_test = X[:500], X[500:], y[:500], y[500:]

keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(100, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=300, verbose=0)
path = os.path.join(tempfile.mkdtemp(), "circles.h5")
model.save(path)
ev = Evaluation.from_model(path, X_test, y_test, classes=["outer", "inner"], progress=False)
ev.metrics().loc[["accuracy", "precision", "recall", "f1", "cohen_kappa", "roc_auc"]]
"""),
    md("## Every number comes from the four cells of the confusion matrix"),
    code("""
(tn, fp), (fn, tp) = ev.confusion_matrix()
n = tn + fp + fn + tp
p_o = (tp + tn) / n
p_e = ((tp + fp) * (tp + fn) + (tn + fn) * (tn + fp)) / n**2
lines = [
    f"confusion matrix (rows = true, columns = predicted): [[{tn} {fp}] [{fn} {tp}]]",
    f"accuracy  = (TP + TN) / n        = ({tp} + {tn}) / {n} = {(tp + tn) / n:.4f}",
    f"precision = TP / (TP + FP)       = {tp} / ({tp} + {fp}) = {tp / (tp + fp):.4f}",
    f"recall    = TP / (TP + FN)       = {tp} / ({tp} + {fn}) = {tp / (tp + fn):.4f}",
    f"F1        = 2TP / (2TP + FP + FN) = {2 * tp} / ({2 * tp} + {fp} + {fn}) = {2 * tp / (2 * tp + fp + fn):.4f}",
    f"kappa     = (p_o - p_e) / (1 - p_e) = ({p_o:.4f} - {p_e:.4f}) / (1 - {p_e:.4f}) = {(p_o - p_e) / (1 - p_e):.4f}",
]
print("\\n".join(lines))
"""),
    md("The same numbers from `model.predict` and one scikit-learn call per metric, the usual way:"),
    code("""
proba = model.predict(X_test, verbose=0)[:, 0]
pred = (proba >= 0.5).astype(int)
by_hand = {
    "accuracy": skm.accuracy_score(y_test, pred), "precision": skm.precision_score(y_test, pred),
    "recall": skm.recall_score(y_test, pred), "f1": skm.f1_score(y_test, pred),
    "cohen_kappa": skm.cohen_kappa_score(y_test, pred), "roc_auc": skm.roc_auc_score(y_test, proba),
}
for name, value in by_hand.items():
    assert abs(ev.scores[name] - value) < 1e-9, (name, ev.scores[name], value)
assert (ev.confusion_matrix() == skm.confusion_matrix(y_test, pred)).all()
pd.DataFrame({"h5eval": {k: ev.scores[k] for k in by_hand}, "scikit-learn": by_hand})
"""),
    md(
        "## The precision / recall trade-off\nMoving the threshold changes the matrix; the engine answers each threshold from one sorted index."
    ),
    code("""
rows = [ev.at_threshold(t) for t in (0.1, 0.3, 0.5, 0.7, 0.9)]
pd.DataFrame([{"threshold": r.threshold, "precision": r.precision, "recall": r.recall, "f1": r.f1,
               "FP": r.confusion[0, 1], "FN": r.confusion[1, 0]} for r in rows])
"""),
    code("""
print("best F1 at", round(ev.best_threshold("f1"), 3), "· best Youden's J at", round(ev.best_threshold("youden"), 3))
Dashboard.from_evaluations({"circles MLP": ev}, progress=False)
"""),
    md("""
## The accuracy paradox
On imbalanced data a model can be very accurate and still miss most of the rare class. Take a
fraud-like test set: 2% positives, and a model whose scores only weakly separate them.
"""),
    code("""
rng = np.random.default_rng(0)
y_fraud = (rng.random(5000) < 0.02).astype(int)
score = np.clip(0.05 + 0.25 * y_fraud * rng.random(5000) + 0.2 * rng.random(5000), 0, 1)
fraud = Evaluation.from_predictions(y_fraud, score, classes=["ok", "fraud"], threshold=0.4)
print(f"accuracy {fraud.scores['accuracy']:.3f}, recall on fraud {fraud.scores['recall']:.3f}, "
      f"balanced accuracy {fraud.scores['balanced_accuracy']:.3f}, MCC {fraud.scores['mcc']:.3f}")
"""),
    md("""
## Why `model.evaluate` can disagree with metrics from `model.predict`
`model.evaluate` computes its metrics inside Keras: accuracy thresholds at 0.5 with `>`,
the loss clips probabilities with its own epsilon and is averaged over batches (weighted by batch
size), and labels are cast to float. Metrics computed from `model.predict` depend on the
threshold you choose. Side by side:
"""),
    code("""
keras_loss, keras_acc = model.evaluate(X_test, y_test, verbose=0)
pd.DataFrame({"model.evaluate": {"loss": keras_loss, "accuracy": keras_acc},
              "h5eval (threshold 0.5)": {"loss": ev.scores["log_loss"], "accuracy": ev.scores["accuracy"]},
              "h5eval (best-F1 threshold)": {"loss": ev.scores["log_loss"],
                                             "accuracy": ev.at_threshold(ev.best_threshold("f1")).accuracy}})
"""),
    md("## Train versus test: the first overfitting check"),
    code("""
train = Evaluation.from_model(path, X_train, y_train, classes=["outer", "inner"], progress=False)
side = pd.DataFrame({"train": train.metrics()["value"], "test": ev.metrics()["value"]})
side["gap"] = side["train"] - side["test"]
side.loc[["accuracy", "f1", "roc_auc", "log_loss"]]
"""),
]

REGRESSION = [
    md("# Regression\nThe bundled diabetes model: errors, residuals, and brushing the scatter to see samples."),
    code("""
from h5eval_widgets import Dashboard, load_demo
demo = load_demo()
ev = demo.evaluate("diabetes_mlp", progress=False)
ev.metrics()
"""),
    code("""
import pandas as pd
pd.Series(ev.residuals).describe()
"""),
    code("""
dash = Dashboard(models={"diabetes_mlp": demo.models["diabetes_mlp"]},
                 datasets={"diabetes_test": demo.datasets["diabetes_test"]}, progress=False)
dash.regression.select_box(0, 400, 250, 400)  # what dragging a box over high predictions does
print(dash.state.selection_label)
dash
"""),
]

COMPARE = [
    md("""
# Comparing two models on the same test set

The two digits models of the demo: every metric side by side with a paired bootstrap interval of
the difference, McNemar's test, the samples on which they disagree, the train/test check and the
training histories.
"""),
    code("""
from h5eval_widgets import Dashboard, load_demo
from h5eval_widgets import Comparison, compare_splits

demo = load_demo()
a = demo.evaluate("digits_cnn", progress=False)
b = demo.evaluate("digits_weak_mlp", progress=False)
cmp_ = Comparison(a, b)
cmp_.metrics().loc[["accuracy", "balanced_accuracy", "f1_macro", "cohen_kappa", "mcc", "log_loss"]]
"""),
    code("""
print(cmp_.mcnemar())
cmp_.agreement()
"""),
    md("The samples only the CNN gets right, the weaker model's most confident mistakes first:"),
    code("""
import pandas as pd
only_a = cmp_.agreement_indices(a_right=True, b_right=False)
pd.DataFrame({"sample": only_a[:10], "true": [a.classes[i] for i in a.y_true[only_a[:10]]],
              "weak model said": [b.classes[i] for i in b.y_pred[only_a[:10]]],
              "its confidence": b.confidence[only_a[:10]].round(3)})
"""),
    code('cmp_.per_class()[["f1 digits_cnn", "f1 digits_weak_mlp", "f1 difference"]]'),
    md("## Does a model overfit? The same model on its training and test splits"),
    code("""
splits = {"digits_train": demo.datasets["digits_train"], "digits_test": demo.datasets["digits_test"]}
for name in ("digits_cnn", "digits_weak_mlp"):
    print(name, "·", compare_splits(demo.models[name], splits, progress=False).summary())
"""),
    code('demo.history("digits_cnn").tail()'),
    md("In the dashboard: *Compare models* (click a cell of the agreement table), *Splits*, and the history plots."),
    code("""
dash = Dashboard(models={k: demo.models[k] for k in ("digits_cnn", "digits_weak_mlp")},
                 datasets=splits, histories=demo.histories, progress=False)
dash.comparison.other.value = "digits_weak_mlp"
dash
"""),
]

NOTEBOOKS = {
    "quickstart.ipynb": QUICKSTART,
    "error_inspection.ipynb": ERRORS,
    "teaching_metrics.ipynb": TEACHING,
    "regression.ipynb": REGRESSION,
    "comparing_models.ipynb": COMPARE,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(
            cells=cells,
            metadata={
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
        )
        nbformat.write(nb, OUT / name)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
