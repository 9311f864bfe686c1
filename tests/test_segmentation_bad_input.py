"""Bad segmentation input: each a clear error naming the file and the fix, and no file changed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from h5eval_widgets.core import Evaluation
from h5eval_widgets.core.errors import DatasetError, LabelError
from tests.helpers import digests
from tests.segmentation_fixtures import CLASSES, scaled, write_folders


@pytest.fixture
def folders(tmp_path, seg_data):
    """24 test images and their masks written as PNG files."""
    _, _, X, y = seg_data
    return write_folders(tmp_path, X, y)


def _all_files(*folders):
    return sorted(p for f in folders for p in f.iterdir())


def _evaluate(model, images, masks, **options):
    return Evaluation.from_model(model, images, masks=masks, progress=False, cache=False, **options)


def test_a_missing_mask_is_named_with_the_first_few(seg_models, folders):
    """Check that images without a mask of their name raise an error listing the first names."""
    images, masks = folders
    for i in (3, 7, 8, 9, 10, 11, 12):
        (masks / f"img_{i:03d}.png").unlink()
    before = digests(_all_files(images, masks))
    with pytest.raises(
        DatasetError,
        match=r"No mask in .*masks for 7 of 24 images: img_003.png, "
        r"img_007.png, img_008.png, img_009.png, img_010.png and 2 more",
    ):
        _evaluate(seg_models["softmax"], images, masks)
    assert digests(_all_files(images, masks)) == before


def test_a_mask_of_another_size_than_its_image_is_refused(seg_models, folders):
    """Check that a 16x16 mask for a 32x32 image raises an error naming both sizes."""
    images, masks = folders
    Image.fromarray(np.zeros((16, 16), np.uint8), mode="L").save(masks / "img_005.png")
    before = digests(_all_files(images, masks))
    with pytest.raises(DatasetError, match=r"Mask .*img_005.png is 16x16 but its image .*img_005.png is 32x32"):
        _evaluate(seg_models["softmax"], images, masks)
    assert digests(_all_files(images, masks)) == before


def test_a_mask_value_neither_a_class_nor_ignored_names_the_file_and_values(seg_models, folders, seg_data):
    """Check that mask values 7 and 9 (3 classes, ignore_index 255) are named with their file."""
    images, masks = folders
    m = seg_data[3][5].copy()
    m[0, :3] = [7, 9, 255]
    Image.fromarray(m, mode="L").save(masks / "img_005.png")
    before = digests(_all_files(images, masks))
    with pytest.raises(
        LabelError,
        match=r"Mask .*img_005.png holds values \[7, 9\] that are neither "
        r"a class index \(0..2\) nor ignore_index=255",
    ):
        _evaluate(seg_models["softmax"], images, masks)
    assert digests(_all_files(images, masks)) == before


def test_colour_masks_need_a_palette_and_work_with_one(seg_models, seg_data, tmp_path):
    """Check that RGB colour masks without palette= are refused with how to give one, and that
    with palette= they give the same matrix as the class-index masks."""
    _, _, X, y = seg_data
    images, masks = write_folders(tmp_path, X, y)
    colours = {(0, 0, 0): 0, (128, 0, 0): 1, (0, 128, 0): 2}
    lut = np.array(list(colours), np.uint8)
    rgb = tmp_path / "rgb_masks"
    rgb.mkdir()
    for i, m in enumerate(y):
        Image.fromarray(lut[m], mode="RGB").save(rgb / f"img_{i:03d}.png")
    before = digests(_all_files(images, rgb))
    with pytest.raises(
        DatasetError,
        match=r"img_000.png is a colour image, not class indices; "
        r"pass palette=\{\(r, g, b\): class_index",
    ):
        _evaluate(seg_models["softmax"], images, rgb)
    with pytest.raises(LabelError, match=r"colours \[\(0, 128, 0\)\] that palette= does not name"):
        _evaluate(seg_models["softmax"], images, rgb, palette={(0, 0, 0): 0, (128, 0, 0): 1})
    assert digests(_all_files(images, rgb)) == before
    ev = _evaluate(seg_models["softmax"], images, rgb, palette=colours, classes=CLASSES)
    plain = _evaluate(seg_models["softmax"], images, masks, classes=CLASSES)
    np.testing.assert_array_equal(ev.confusion_matrix(), plain.confusion_matrix())


def test_masks_of_another_size_than_the_images_as_arrays_are_refused(seg_models, seg_data):
    """Check that arrays whose masks differ in size from their images raise a shape error."""
    _, _, X, y = seg_data
    with pytest.raises(LabelError, match=r"The masks are 16x16 but the images 32x32"):
        Evaluation.from_model(seg_models["softmax"], scaled(X), y[:, ::2, ::2], progress=False)


def test_a_segmentation_model_without_masks_says_how_to_give_them(seg_models, seg_data, tmp_path):
    """Check that a per-pixel model on a folder of images without masks= asks for the masks."""
    images, _ = write_folders(tmp_path, seg_data[2], seg_data[3])
    with pytest.raises(LabelError, match=r"per-pixel outputs .*masks='folder/'"):
        Evaluation.from_model(seg_models["softmax"], images, progress=False)


def test_masks_of_0_and_255_say_that_every_foreground_pixel_was_ignored(seg_models, seg_data):
    """Check that binary masks stored as 0/255 (255 being ignore_index) leave a note saying the
    foreground counted nowhere and how to give the masks."""
    _, _, X, y = seg_data
    fg = np.where(y > 0, 255, 0).astype(np.uint8)
    from h5eval_widgets.core.errors import DataWarning

    with pytest.warns(DataWarning, match="look like 0/255 binary masks"):
        ev = Evaluation.from_model(seg_models["sigmoid"], scaled(X), fg, progress=False)
    assert ev.confusion_matrix()[1].sum() == 0
    assert any("pixels equal ignore_index=255 and count nowhere" in n and "0/255" in n for n in ev.notes)
