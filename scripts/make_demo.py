"""Regenerate the bundled demo: small Keras models trained on datasets that ship with scikit-learn.

Run from the repository root:  python scripts/make_demo.py
Writes h5eval_widgets/demo_data/*.h5 (legacy HDF5 model files) and *_test.npz (test splits).
Seeds are fixed, but TensorFlow's CPU kernels may still differ in the last digits between
machines, so the committed files are the reference.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.model_selection import train_test_split

OUT = Path(__file__).resolve().parent.parent / "h5eval_widgets" / "demo_data"


def main() -> None:
    import keras

    OUT.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    meta: dict = {"models": {}, "datasets": {}}

    # digits: 8x8 grayscale images, 10 classes
    d = load_digits()
    X = (d.images / 16.0).astype("float32")
    Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=0.4, random_state=0, stratify=d.target)
    names = [str(c) for c in d.target_names]
    # meta_ink: how much ink each digit has (its mean pixel value), a column the model does not
    # take, to slice the metrics by (thin or heavy strokes)
    np.savez(
        OUT / "digits_test.npz",
        x_test=Xte,
        y_test=yte,
        class_names=np.array(names),
        meta_ink=Xte.reshape(len(Xte), -1).mean(axis=1).astype("float32"),
    )
    np.savez(OUT / "digits_train.npz", x=Xtr, y=ytr, class_names=np.array(names))
    meta["datasets"]["digits_test"] = {"file": "digits_test.npz", "task": "multiclass"}
    meta["datasets"]["digits_train"] = {"file": "digits_train.npz", "task": "multiclass"}
    meta["histories"] = {}

    cnn = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, activation="relu", padding="same"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="digits_cnn",
    )
    cnn.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    keras.utils.set_random_seed(0)
    # a CSVLogger history, as training scripts often leave next to the model
    logger = keras.callbacks.CSVLogger(str(OUT / "digits_cnn_history.csv"))
    cnn.fit(Xtr[..., None], ytr, epochs=40, batch_size=32, verbose=0, validation_split=0.2, callbacks=[logger])
    cnn.save(OUT / "digits_cnn.h5")
    meta["histories"]["digits_cnn"] = "digits_cnn_history.csv"

    # a deliberately weaker model: a 4-unit bottleneck, briefly trained
    keras.utils.set_random_seed(0)
    weak = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="digits_weak_mlp",
    )
    weak.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = weak.fit(Xtr.reshape(len(Xtr), -1), ytr, epochs=10, batch_size=32, verbose=0, validation_split=0.2)
    weak.save(OUT / "digits_weak_mlp.h5")
    (OUT / "digits_weak_mlp_history.json").write_text(
        json.dumps({k: [float(v) for v in vals] for k, vals in hist.history.items()}, indent=1) + "\n"
    )
    meta["histories"]["digits_weak_mlp"] = "digits_weak_mlp_history.json"
    meta["models"]["digits_cnn"] = {"file": "digits_cnn.h5", "dataset": "digits_test"}
    meta["models"]["digits_weak_mlp"] = {"file": "digits_weak_mlp.h5", "dataset": "digits_test"}

    # breast cancer: binary tabular; positive class = malignant
    bc = load_breast_cancer()
    yb = 1 - bc.target  # sklearn codes malignant as 0
    Xtr, Xte, ytr, yte = train_test_split(bc.data.astype("float32"), yb, test_size=0.4, random_state=0, stratify=yb)
    np.savez(
        OUT / "breast_cancer_test.npz",
        x_test=Xte,
        y_test=yte,
        class_names=np.array(["benign", "malignant"]),
        feature_names=np.array([str(f) for f in bc.feature_names]),
    )
    norm = keras.layers.Normalization()
    norm.adapt(Xtr)
    clf = keras.Sequential(
        [
            keras.Input((Xtr.shape[1],)),
            norm,
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ],
        name="breast_cancer_mlp",
    )
    clf.compile("adam", "binary_crossentropy")
    clf.fit(Xtr, ytr, epochs=60, batch_size=32, verbose=0)
    clf.save(OUT / "breast_cancer_mlp.h5")
    meta["datasets"]["breast_cancer_test"] = {"file": "breast_cancer_test.npz", "task": "binary"}
    meta["models"]["breast_cancer_mlp"] = {"file": "breast_cancer_mlp.h5", "dataset": "breast_cancer_test"}

    # diabetes: regression
    db = load_diabetes()
    Xtr, Xte, ytr, yte = train_test_split(
        db.data.astype("float32"), db.target.astype("float32"), test_size=0.4, random_state=0
    )
    np.savez(
        OUT / "diabetes_test.npz", x_test=Xte, y_test=yte, feature_names=np.array([str(f) for f in db.feature_names])
    )
    norm = keras.layers.Normalization()
    norm.adapt(Xtr)
    reg = keras.Sequential(
        [
            keras.Input((Xtr.shape[1],)),
            norm,
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ],
        name="diabetes_mlp",
    )
    reg.compile(keras.optimizers.Adam(0.01), "mse")
    mean, std = float(ytr.mean()), float(ytr.std())
    reg.fit(Xtr, (ytr - mean) / std, epochs=60, batch_size=32, verbose=0)
    # fold the target standardization into the last layer so it predicts in the data's units
    w, b = reg.layers[-1].get_weights()
    reg.layers[-1].set_weights([w * std, b * std + mean])
    reg.save(OUT / "diabetes_mlp.h5")
    meta["datasets"]["diabetes_test"] = {"file": "diabetes_test.npz", "task": "regression"}
    meta["models"]["diabetes_mlp"] = {"file": "diabetes_mlp.h5", "dataset": "diabetes_test"}

    (OUT / "demo.json").write_text(json.dumps(meta, indent=2) + "\n")
    print("wrote", sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
