"""Saliency for one gallery page, the engine against the plain way (run by hand).

    python benchmarks/saliency.py

Two cases: the demo's digits CNN on one page of 12 test digits, and keras.applications
MobileNetV2 (``weights=None``) on 4 random 224x224 images. For each, Grad-CAM and integrated
gradients (64 steps) of class 0:

- plain:  what the Keras examples do, one image at a time (a ``keras.Model`` from the input to
          the last convolution and the output for Grad-CAM; for integrated gradients the 65
          interpolated images of one image in one batch);
- engine: ``h5eval_widgets.core.insight.saliency.saliency_map`` (all images in passes sized for the
          model's memory).

Times are the best of 3 after one warm-up call. Each side of each case and method runs in a
fresh process, which reports its own peak RSS.

Then the dashboard: on the demo dashboard (digits CNN), the time from a click on "show saliency"
to a gallery page of 12 cards drawn with their maps (new maps; TensorFlow and the model already
warm from another page), and the same page drawn again from the kept maps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
import numpy as np, tensorflow as tf, keras
from h5eval_widgets.core.insight.saliency import saliency_map, last_conv_layer

case = sys.argv[1]
if case == "digits":
    from h5eval_widgets import load_demo
    from h5eval_widgets.core import load_dataset, load_model
    demo = load_demo()
    model = load_model(demo.models["digits_cnn"]).model
    x = np.asarray(load_dataset(demo.datasets["digits_test"]).X[:12], np.float32).reshape(12, 8, 8, 1)
else:
    model = keras.applications.MobileNetV2(weights=None, classes=5)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 224, 224, 3)).astype(np.float32)
classes = np.zeros(len(x), int)
conv = last_conv_layer(model)

def plain_gradcam():
    # the Keras example, image by image; a Sequential model runs layer by layer (see saliency.py)
    for img in x:
        with tf.GradientTape() as tape:
            h = tf.convert_to_tensor(img[None])
            fmap = None
            for layer in (model.layers if isinstance(model, keras.Sequential) else []):
                h = layer(h)
                if layer is conv:
                    fmap = h
            if fmap is None:
                fmap, h = keras.Model(model.inputs, [conv.output, model.outputs[0]])(h)
            score = h[:, 0]
        g = tape.gradient(score, fmap)
        tf.nn.relu(tf.reduce_sum(fmap * tf.reduce_mean(g, axis=(1, 2), keepdims=True), -1)).numpy()

def plain_ig(steps=64):
    for img in x:
        path = tf.convert_to_tensor(np.linspace(0, 1, steps + 1, dtype=np.float32).reshape(-1, 1, 1, 1) * img[None])
        with tf.GradientTape() as tape:
            tape.watch(path)
            score = model(path)[:, 0]
        g = tape.gradient(score, path).numpy()
        ((g[:-1] + g[1:]) / 2).mean(0) * img

def best(fn):
    fn()
    times = []
    for _ in range(3):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times)

method, side = sys.argv[3], sys.argv[4]
plain = {"gradcam": plain_gradcam, "integrated_gradients": plain_ig}[method]
t = best(plain if side == "plain" else lambda: saliency_map(model, x, classes, method=method))
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) // 1024
print("RESULT", len(x), t, hwm, flush=True)
"""


DASHBOARD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from h5eval_widgets import demo_dashboard

d = demo_dashboard(progress=False)
st, view = d.state, d.samples
ev = st.evaluation
for method in ("gradcam", "integrated_gradients"):
    st.saliency_method = method
    pages = [np.arange(s, s + 12) for s in range(0, 700, 12)]
    st.show_samples(pages[0], "warm-up")
    st.show_saliency = True  # TensorFlow, the model and the gradient pass warmed up
    st.show_saliency = False
    cold, warm = [], []
    for page in pages[1:4]:
        st.show_samples(page, "page")
        t = time.perf_counter(); st.show_saliency = True; cold.append(time.perf_counter() - t)
        assert sum("h5eval-saliency" in c.children[0]._dom_classes for c in view.cards) == 12
        st.show_saliency = False
        t = time.perf_counter(); st.show_saliency = True; warm.append(time.perf_counter() - t)
        st.show_saliency = False
    print("RESULT", method, min(cold), min(warm), flush=True)
"""


def dashboard() -> None:
    out = subprocess.run([sys.executable, "-c", DASHBOARD, str(ROOT)], capture_output=True, text=True)
    lines = [ln.split() for ln in out.stdout.splitlines() if ln.startswith("RESULT")]
    if out.returncode or len(lines) != 2:
        raise SystemExit(f"dashboard: failed\n{out.stderr[-2000:]}")
    print("\ndashboard, digits CNN: 'show saliency' to a page of 12 cards with maps (best of 3)")
    for _, method, cold, warm in lines:
        print(f"{method:>21}: {float(cold) * 1000:6.0f} ms new maps, {float(warm) * 1000:6.0f} ms kept maps")


def run(case: str, method: str, side: str) -> tuple[int, float, int]:
    out = subprocess.run([sys.executable, "-c", CHILD, case, str(ROOT), method, side], capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")]
    if out.returncode or not lines:
        raise SystemExit(f"{case} {method} {side}: failed\n{out.stderr[-2000:]}")
    _, n, t, rss = lines[-1].split()
    return int(n), float(t), int(rss)


def main() -> None:
    print(
        f"{'case':>12} {'n':>3} {'method':>21} {'plain ms':>9} {'engine ms':>9} {'ratio':>6} "
        f"{'plain RSS':>10} {'engine RSS':>10}"
    )
    for case in ("digits", "mobilenet_v2"):
        for method in ("gradcam", "integrated_gradients"):
            n, tp, rp = run(case, method, "plain")
            _, te, re_ = run(case, method, "engine")
            print(
                f"{case:>12} {n:>3} {method:>21} {tp * 1000:>9.0f} {te * 1000:>9.0f} {te / tp:>5.2f}x "
                f"{rp:>7} MB {re_:>7} MB",
                flush=True,
            )


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    dashboard()
    print(f"whole benchmark: {time.perf_counter() - t:.0f} s")
