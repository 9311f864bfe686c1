"""Live widgets and resident memory of a demo dashboard driven through seeded random actions.

    python benchmarks/lifecycle.py                     # 10,000 actions, a line every 1,000
    python benchmarks/lifecycle.py --actions 2000 --every 100

The actions are those of the lifecycle test (tests/random_actions.py): cell clicks, thresholds,
focus classes, details, page turns, model and dataset switches, tabs, tags, comparisons, slices...
set on ``dash.state`` and the dashboard's widgets as a browser click sets them. Then the
dashboard is closed, and the widgets left alive are counted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--actions", type=int, default=10_000)
    ap.add_argument("--every", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.environ.setdefault("H5EVAL_CACHE_DIR", tempfile.mkdtemp(prefix="h5eval-lifecycle-"))

    from h5eval_widgets import demo_dashboard
    from tests.random_actions import RandomActions, live_widget_types, live_widgets, rss_mb

    before = live_widgets()
    t0 = time.perf_counter()
    dash = demo_dashboard(progress=False, export_dir=tempfile.mkdtemp())
    print(
        f"built: {live_widgets() - before} widgets, RSS {rss_mb():.0f} MB ({time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    actions = RandomActions(dash, seed=args.seed)
    done = 0
    t0 = time.perf_counter()
    for n in [100] + list(range(args.every, args.actions + 1, args.every)):
        actions.run(n - done)
        done = n
        print(
            f"after {done:>6} actions: {live_widgets() - before:>7} widgets, RSS {rss_mb():6.0f} MB "
            f"({time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
    top = list(live_widget_types().items())[:8]
    print("most common:", ", ".join(f"{k} {v}" for k, v in top))
    print("actions:", actions.counts, "errors:", actions.errors)
    if hasattr(dash, "close"):
        dash.close()
        print(f"after dash.close(): {live_widgets() - before} widgets left")


if __name__ == "__main__":
    main()
