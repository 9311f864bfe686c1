"""A real KerasHub detector (a ``keras_hub.models.RetinaNetObjectDetector`` on a tiny ResNet, built
from its classes with random weights and no download, saved to a .keras file) evaluated on an image
folder gives the 12 COCO numbers of its own ``model.predict`` outputs written to a COCO results file,
scored by ``Evaluation.from_detections`` and by pycocotools' ``COCOeval`` itself.

KerasHub's detector states its own ``bounding_box_format`` (``yxyx`` here), resizes images in its
preprocessor (an image converter with ``image_size``; the backbone takes any size), and pads its
``boxes``, ``labels`` and ``confidence`` with -1 past ``num_detections``: the engine reads all
three from the model.
"""

from __future__ import annotations

import keras
import keras_hub  # a plain import: the [test] extra installs keras-hub, a skip would hide a broken install
import numpy as np
import pytest
from PIL import Image

from h5eval_widgets.core import DetectionEvaluation, Evaluation
from h5eval_widgets.core.metrics.coco import COCO_METRICS
from tests.detection_data import make_coco, pycocotools_stats, write_json

SIZE, BATCH, FORMAT, CONFIDENCE, SLOTS = 64, 4, "yxyx", 0.5, 300


def _retinanet(n_classes: int) -> keras.Model:
    """A RetinaNet with random weights on a tiny ResNet (no preset, nothing downloaded).

    The backbone takes images of any size; the preprocessor's image converter resizes them to
    ``SIZE`` x ``SIZE`` and scales pixels to 0..1, as KerasHub's presets do at 800 x 800. A prior
    probability of 0.5 leaves the box head's bias at 0 (the default 0.01 pushes every random box
    delta to exp(-4.6) and off the image); the decoder keeps up to SLOTS boxes of confidence over 0.5.
    """
    encoder = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 16, 16, 16],
        stackwise_num_blocks=[1, 1, 1, 1],
        stackwise_num_strides=[1, 2, 2, 2],
        block_type="basic_block",
        use_pre_activation=False,
        image_shape=(None, None, 3),
    )
    backbone = keras_hub.models.RetinaNetBackbone(
        image_encoder=encoder, min_level=3, max_level=5, use_p5=False, image_shape=(None, None, 3)
    )
    converter = keras_hub.layers.RetinaNetImageConverter(image_size=(SIZE, SIZE), scale=1 / 255.0)
    model = keras_hub.models.RetinaNetObjectDetector(
        backbone=backbone,
        num_classes=n_classes,
        bounding_box_format=FORMAT,
        preprocessor=keras_hub.models.RetinaNetObjectDetectorPreprocessor(image_converter=converter),
        anchor_generator=keras_hub.layers.AnchorGenerator(
            FORMAT, min_level=3, max_level=5, num_scales=3, aspect_ratios=[0.5, 1.0, 2.0], anchor_size=1
        ),
        pre_logits_num_conv_layers=1,
        classification_head_prior_probability=0.5,
        prediction_decoder=keras_hub.layers.NonMaxSuppression(
            bounding_box_format=FORMAT, from_logits=True, confidence_threshold=CONFIDENCE, max_detections=SLOTS
        ),
    )
    kernel = model.box_head.prediction_layer.kernel
    kernel.assign(kernel * 0.05)  # small random box deltas: boxes near their anchors, inside the image
    return model


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Images of several sizes with COCO annotations, and the RetinaNet saved to a .keras file."""
    root = tmp_path_factory.mktemp("kerashub")
    gt, _ = make_coco(10, seed=5, boxes_per_image=5.0)
    rng = np.random.default_rng(1)
    images = root / "images"
    images.mkdir()
    for im in gt["images"]:
        im["file_name"] = im["file_name"].replace(".jpg", ".png")
        pixels = rng.integers(0, 255, (im["height"], im["width"], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / im["file_name"])
    keras.utils.set_random_seed(0)
    _retinanet(len(gt["categories"])).save(root / "retinanet.keras")
    return root, images, write_json(root / "instances.json", gt), gt


def _predict_to_coco_results(model, images, gt) -> tuple[list[dict], int]:
    """The test's own path: the images in batches of ``BATCH`` (the last one short, 10 = 4 + 4 + 2)
    resized to the converter's size,
    ``model.predict``, the first ``num_detections`` yxyx boxes scaled to each image; and the
    number of -1 padded slots seen."""
    cats = [c["id"] for c in gt["categories"]]
    out, padded = [], 0
    for s in range(0, len(gt["images"]), BATCH):
        ims = gt["images"][s : s + BATCH]
        batch = []
        for im in ims:
            with Image.open(images / im["file_name"]) as f:
                batch.append(np.asarray(f.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR), np.float32))
        # a fresh trace per batch: KerasHub's NonMaxSuppression fails in the one Keras makes for
        # an unknown batch size at a second size (the engine pads its short last batch instead)
        model.make_predict_function(force=True)
        p = model.predict(np.stack(batch), verbose=0)
        assert p["labels"].shape[1] == SLOTS and "classes" not in p  # KerasHub's NonMaxSuppression keys
        for i, im in enumerate(ims):
            n = int(p["num_detections"][i])
            padded += int((p["labels"][i, n:] == -1).sum())
            sx, sy = im["width"] / SIZE, im["height"] / SIZE
            for j in range(n):
                y1, x1, y2, x2 = (float(v) for v in p["boxes"][i, j])
                out.append(
                    {
                        "image_id": im["id"],
                        "category_id": cats[int(p["labels"][i, j])],
                        "bbox": [x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy],
                        "score": float(p["confidence"][i, j]),
                    }
                )
    return out, padded


@pytest.fixture(scope="module")
def evaluated(folder, tmp_path_factory):
    """The engine's evaluation of the .keras file, and the test's own COCO results file."""
    root, images, instances, gt = folder
    ev = Evaluation.from_model(root / "retinanet.keras", images, annotations=instances, batch_size=BATCH)
    model = keras.saving.load_model(root / "retinanet.keras", compile=False)
    results, padded = _predict_to_coco_results(model, images, gt)
    path = write_json(tmp_path_factory.mktemp("results") / "results.json", results)
    return ev, results, path, padded, model


def test_retinanet_on_an_image_folder_equals_its_predict_outputs_in_a_coco_results_file(folder, evaluated):
    """Check from_model(retinanet.keras, folder, annotations=) against model.predict written as COCO
    results: the 12 numbers equal from_detections' and COCOeval.stats to 1e-6, and are not all 0/-1."""
    root, images, instances, gt = folder
    ev, results, path, padded, _ = evaluated
    assert isinstance(ev, DetectionEvaluation)
    assert len(results) > 0 and padded > 0  # some boxes survive the decoder, some slots are -1 padding
    assert len(ev.detections) == len(results)
    ref = Evaluation.from_detections(instances, path)
    stats, _ = pycocotools_stats(gt, results)
    for k, name in enumerate(COCO_METRICS):
        assert abs(ev.scores[name] - ref.scores[name]) < 1e-6, name
        assert abs(ev.scores[name] - stats[k]) < 1e-6, name
    assert max(ev.scores.values()) > 0  # random weights, but numbers the comparison can fail on
    np.testing.assert_allclose(
        ev.detections[["x", "y", "w", "h"]], ref.detections[["x", "y", "w", "h"]], rtol=1e-4, atol=1e-3
    )
    np.testing.assert_array_equal(ev.confusion_matrix(0.5, 0.3), ref.confusion_matrix(0.5, 0.3))


def test_the_model_states_its_box_format_and_input_size(folder, evaluated):
    """Check that the notes say the boxes were read in the model's own yxyx format, in its image
    converter's 64x64 pixels, and that a format other than the model's is refused."""
    root, images, instances, gt = folder
    ev = evaluated[0]
    assert any("yxyx (the model's own format)" in n and "image converter's image_size" in n for n in ev.notes)
    assert any(f"resized to {SIZE}x{SIZE} here" in n for n in ev.notes)
    with pytest.raises(ValueError, match=r"bounding_box_format='xyxy', but the detector gives its boxes as 'yxyx'"):
        Evaluation.from_model(root / "retinanet.keras", images, annotations=instances, bounding_box_format="xyxy")


def test_a_model_in_memory_last_traced_for_another_batch_size_gives_the_same_numbers(folder, evaluated):
    """Check the loaded model object, whose last predict ran on a batch of 2, evaluated in batches of
    4 (its predict function traced anew, every batch padded to 4) gives the .keras file's numbers."""
    root, images, instances, gt = folder
    ev, model = evaluated[0], evaluated[-1]
    again = Evaluation.from_model(model, images, annotations=instances, batch_size=BATCH)
    assert again.scores == pytest.approx(ev.scores, abs=1e-6)
    assert len(again.detections) == len(ev.detections)
