"""Issue 35, item 3, headless: the dashboard's Trust tab. Choosing a calibration set (a held-out
half of the test set, or another dataset), moving alpha, clicking a class's coverage bar or a
set size's bar (the message a browser click sends), and the sets on the sample cards.

The sets are checked against crepes' definition written out here: a label is in a sample's set
when its non-smoothed p-value, ``(#calibration scores >= s + 1) / (n + 1)`` with the LAC score
``s = 1 - p``, is above alpha.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from h5eval_widgets.views._base import owned_widgets


def reference_sets(ev, cal_rows, test_rows, alpha: float) -> np.ndarray:
    """LAC sets of ``test_rows`` calibrated on ``cal_rows`` of ``ev`` (crepes' p-values)."""
    p, y = np.asarray(ev.y_proba, dtype=np.float64), np.asarray(ev.y_true)
    cal = np.sort(1 - p[cal_rows, y[cal_rows]])
    scores = 1 - p[test_rows]
    at_least = len(cal) - np.searchsorted(cal, scores, side="left")  # calibration scores >= s
    return (at_least + 1) / (len(cal) + 1) > alpha


def open_trust(dash):
    dash.tabs.selected_index = dash.tab_views.index(dash.trust)
    return dash.trust


def split_rows(dash) -> tuple[np.ndarray, np.ndarray]:
    """(calibration rows, evaluated rows) of the split, as the shown result names them."""
    rows = np.asarray(dash.state.conformal().rows)
    return np.setdiff1d(np.arange(dash.state.evaluation.n_samples), rows), rows


def shown_card_lines(dash) -> dict[int, str]:
    """Each shown card's sample number and the line under its caption (its set)."""
    out = {}
    for card in dash.samples._card_pool[: len(dash.samples.cards)]:
        text = re.sub(r"<[^>]+>", "\n", card.caption.value)
        out[card.index] = [t for t in text.split("\n") if t.strip()][-1]
    return out


def set_text(ev, row) -> str:
    return "set {" + ", ".join(ev.classes[j] for j in np.flatnonzero(row)) + "}"


def test_the_tab_explains_itself_until_a_calibration_set_is_chosen_and_offers_the_split(dash):
    """Check that the tab shows its explanation and no chart before a choice, offers the split of
    this test set and digits_train labelled as training data (not exchangeable), draws the
    charts once the split is chosen and takes them away when "none" is chosen again."""
    view = open_trust(dash)
    assert dash.state.calibration is None
    assert "exchangeable" in view.intro.value and view.body.children == ()
    labels = dict((v, k) for k, v in view.choice.options)
    assert "split" in labels and "digits_train" in labels
    assert "not exchangeable" in labels["digits_train"] and "digits_test" not in labels
    view.choice.value = "split"
    assert dash.state.calibration == "split"
    assert view.coverage_fig in owned_widgets(view.body) and view.after_fig in owned_widgets(view.body)
    assert "Calibrated on a random 50% of this test set" in view.message.value
    view.choice.value = None  # back to no calibration: the charts leave, the cards' sets too
    assert dash.state.calibration is None and view.body.children == () and view.message.value == ""


@pytest.mark.parametrize("alpha", [0.1, 0.02, 0.005])
def test_coverage_bars_target_and_sizes_equal_the_sets_at_each_alpha(dash, alpha):
    """Check after moving the slider that every class's bar is the fraction of its evaluated
    samples whose reference set holds the true class, the dashed line sits at 1 - alpha, and
    the size bars count the reference sets of each size."""
    view = open_trust(dash)
    view.choice.value = "split"
    view.alpha.value = alpha
    assert dash.state.alpha == alpha and dash.state.conformal().alpha == alpha
    ev = dash.state.evaluation
    cal, test = split_rows(dash)
    sets = reference_sets(ev, cal, test, alpha)
    y = np.asarray(ev.y_true)[test]
    covered = sets[np.arange(len(test)), y]
    expected = [covered[y == c].mean() for c in range(ev.n_classes)]
    np.testing.assert_allclose(view.coverage_bars.y, expected)
    assert list(view.coverage_bars.x) == list(ev.classes)
    np.testing.assert_allclose(view.target_line.y, [1 - alpha, 1 - alpha])
    sizes = sets.sum(axis=1)
    np.testing.assert_array_equal(view.size_bars.y, np.bincount(sizes, minlength=ev.n_classes + 1))
    assert f"{covered.mean():.1%}" in view.summary.value


def test_a_class_bar_click_shows_exactly_its_uncovered_samples_and_follows_alpha(dash):
    """Check that clicking a class's bar shows, in the test set's own numbering, exactly the
    evaluated samples of that class whose reference set misses it (none of the calibration
    half), and that moving alpha shows that class's uncovered samples at the new alpha."""
    view = open_trust(dash)
    view.choice.value = "split"
    view.alpha.value = 0.05
    ev = dash.state.evaluation
    cal, test = split_rows(dash)
    y = np.asarray(ev.y_true)

    def uncovered(cls, alpha):
        sets = reference_sets(ev, cal, test, alpha)
        miss = ~sets[np.arange(len(test)), y[test]]
        return test[miss & (y[test] == cls)]

    cls = max(range(ev.n_classes), key=lambda c: len(uncovered(c, 0.05)))
    assert len(uncovered(cls, 0.05)) > 0
    view.click(view.coverage_bars, index=int(np.flatnonzero(np.asarray(view.coverage_bars.x) == ev.classes[cls])[0]))
    np.testing.assert_array_equal(dash.state.selected_indices, uncovered(cls, 0.05))
    assert not np.isin(dash.state.selected_indices, cal).any()
    assert f"true {ev.classes[cls]}" in dash.state.selection_label and dash.state.selected_cell is None
    view.alpha.value = 0.01
    np.testing.assert_array_equal(dash.state.selected_indices, uncovered(cls, 0.01))
    assert "alpha 0.01" in dash.state.selection_label


def test_a_size_bar_click_shows_the_samples_with_sets_of_that_size(dash):
    """Check that clicking the bar of size 2 at a small alpha, then of size 0 at alpha 0.1, shows
    exactly the evaluated samples whose reference sets have that size."""
    view = open_trust(dash)
    view.choice.value = "split"
    ev = dash.state.evaluation
    cal, test = split_rows(dash)
    for alpha, size in [(0.005, 2), (0.1, 0)]:
        view.alpha.value = alpha
        expected = test[reference_sets(ev, cal, test, alpha).sum(axis=1) == size]
        assert len(expected) > 0
        view.click(view.size_bars, index=size)
        np.testing.assert_array_equal(dash.state.selected_indices, expected)


def test_the_cards_show_each_samples_set_and_the_calibration_samples_say_so(dash):
    """Check that with the split chosen every card on the page shows its sample's reference set
    (or 'calibration sample' for the half calibrated on), that moving alpha changes the lines,
    and that without a calibration the cards have no such line."""
    view = open_trust(dash)
    ev = dash.state.evaluation
    dash.state.selected_cell = (8, 8)  # a cell holding samples of both halves
    assert all(not line.startswith("set {") for line in shown_card_lines(dash).values())
    view.choice.value = "split"
    cal, test = split_rows(dash)
    for alpha in (0.1, 0.005):
        view.alpha.value = alpha
        sets = reference_sets(ev, cal, test, alpha)
        lines = shown_card_lines(dash)
        assert set(lines) == set(dash.samples.shown_indices.tolist()) and len(lines) >= 6
        assert {i for i in lines if i in set(cal.tolist())} and {i for i in lines if i in set(test.tolist())}
        for i, line in lines.items():
            at = np.flatnonzero(test == i)
            assert line == (set_text(ev, sets[at[0]]) if len(at) else "calibration sample (no set)"), i


def test_another_dataset_calibrates_and_the_test_set_itself_is_refused(dash):
    """Check that choosing digits_train calibrates on the same model's cached evaluation of it
    (sets equal the reference calibrated on its scores), says it is training data, and that
    calibrating on the test set itself is refused in the tab with the fix named."""
    view = open_trust(dash)
    dash.state.calibration = "digits_train"
    res = dash.state.conformal()
    train = dash.session.evaluate("digits_cnn", "digits_train")
    ev = dash.state.evaluation
    assert res.rows is None and res.n_calibration == train.n_samples
    p = np.asarray(ev.y_proba, dtype=np.float64)
    cal = np.sort(1 - np.asarray(train.y_proba, dtype=np.float64)[np.arange(train.n_samples), train.y_true])
    at_least = len(cal) - np.searchsorted(cal, 1 - p, side="left")
    np.testing.assert_array_equal(res.sets, (at_least + 1) / (len(cal) + 1) > dash.state.alpha)
    assert "training data" in view.message.value
    assert view.body.children  # drawn
    dash.state.calibration = "digits_test"
    assert "is the test set itself" in view.message.value and view.body.children == ()
    assert all(not line.startswith("set {") for line in shown_card_lines(dash).values())


def test_temperature_scaled_reliability_is_drawn_beside_the_original(dash):
    """Check that the two reliability diagrams show the evaluated half's calibration curve before
    and after scaling by the temperature minimising the calibration half's log loss, and that
    the table's accuracy is unchanged."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    from h5eval_widgets.core import Evaluation

    view = open_trust(dash)
    view.choice.value = "split"
    ev = dash.state.evaluation
    cal, test = split_rows(dash)
    logp = np.log(np.clip(np.asarray(ev.y_proba, dtype=np.float64), 1e-12, None))
    y = np.asarray(ev.y_true)

    def nll(t):
        return -log_softmax(logp[cal] / t, axis=1)[np.arange(len(cal)), y[cal]].mean()

    t = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x
    assert f"T = {t:.3g}" in view.after_fig.title
    before = ev.subset(test).calibration(10)
    np.testing.assert_allclose(view.before_curve.x, before["prob_pred"])
    np.testing.assert_allclose(view.before_curve.y, before["prob_true"])
    scaled = np.exp(log_softmax(logp[test] / t, axis=1))
    after = Evaluation.from_predictions(y[test], scaled, classes=ev.classes).calibration(10)
    np.testing.assert_allclose(view.after_curve.x, after["prob_pred"], atol=1e-3)
    np.testing.assert_allclose(view.after_curve.y, after["prob_true"], atol=1e-3)
    assert np.max(np.abs(np.asarray(view.after_curve.x) - np.asarray(view.before_curve.x))) > 1e-3
    acc = re.search(r"accuracy</td><td>([\d.]+)</td><td>([\d.]+)", view.change.value)
    assert acc and acc.group(1) == acc.group(2)


def test_the_show_samples_box_reaches_every_bar_from_the_keyboard(dash):
    """Check that "show samples" lists each class with its number of uncovered samples and each
    size that has sets, and that choosing an entry shows what a click on that bar shows."""
    view = open_trust(dash)
    view.choice.value = "split"
    view.alpha.value = 0.01
    ev = dash.state.evaluation
    cal, test = split_rows(dash)
    sets = reference_sets(ev, cal, test, 0.01)
    y = np.asarray(ev.y_true)[test]
    miss = ~sets[np.arange(len(test)), y]
    options = dict(view.pick.options)
    for c in range(ev.n_classes):
        label = f"true {ev.classes[c]}: {int(np.sum(miss & (y == c)))} uncovered"
        assert label in options
        view.pick.value = options[label]
        np.testing.assert_array_equal(dash.state.selected_indices, test[miss & (y == c)])
    sizes = sets.sum(axis=1)
    for s in np.unique(sizes):
        view.pick.value = options[f"sets of {s} classes: {np.sum(sizes == s)} samples"]
        np.testing.assert_array_equal(dash.state.selected_indices, test[sizes == s])
    assert len(options) == 1 + ev.n_classes + len(np.unique(sizes))
