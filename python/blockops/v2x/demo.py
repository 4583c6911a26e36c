"""``python -m blockops demo``: synthesize a BSM file, run the whole pipeline, print a summary."""
from __future__ import annotations

import os
import time

#: The demo's centre: where :func:`blockops.synth.write_bsm_csv` puts its roads.
DEMO_CENTER = (41.25, -105.93)

DEMO_TOML = """\
# blockops demo pipeline (written by `python -m blockops demo`; run it again with
# `python -m blockops v2x run {config}`)
[input]
path = "{csv}"
on_bad_lines = "skip"
memory_budget = "1GiB"      # block size from blockops.resources.plan()
stage_memory = "auto"       # between the two passes: in memory up to budget/4, then on disk

[clean]
dropna = true
timestamps = true

[filter]
kind = "radius"
center_lat = {lat}
center_lon = {lon}
radius_m = {radius}

[project]
origin_lat = {lat}
origin_lon = {lon}

[attackers]
ratio = 0.3
seed = 42
method = "exact"

[attack]
kind = "positional_offset_const_per_id_with_random_direction"
coords = "xy"
min_dist = 25.0
max_dist = 250.0
seed = 42

[output]
dir = "{out}"
{classifier}"""

CLASSIFIER_TOML = """
[classifier]
feature_set = "xy_elev"
test_size = 0.2
seed = 42
max_train_rows = {max_train}
results = "{results}"
"""


def write_demo_config(path: str, *, csv: str, out: str, radius_m: float = 10_000.0,
                      classifier: bool = True, max_train_rows: int = 200_000) -> str:
    """Write the demo's TOML config to ``path`` and return it."""
    clf = CLASSIFIER_TOML.format(max_train=max_train_rows,
                                 results=os.path.join(out, "classifier_results.csv")) \
        if classifier else ""
    text = DEMO_TOML.format(config=path, csv=csv, out=os.path.join(out, "parquet"),
                            lat=DEMO_CENTER[0], lon=DEMO_CENTER[1], radius=radius_m,
                            classifier=clf)
    with open(path, "w") as f:
        f.write(text)
    return path


def main(*, rows: int = 2_000_000, out: str = "blockops-demo", seed: int = 42,
         classifier: bool = True, progress: bool = True) -> int:
    from ..synth import write_bsm_csv
    from .pipeline import Pipeline, PipelineConfig

    if classifier:
        try:
            import sklearn  # noqa: F401
        except ImportError:
            print("scikit-learn is not installed (pip install 'blockops[bench]'): "
                  "skipping the classifier stage")
            classifier = False
    os.makedirs(out, exist_ok=True)
    csv = os.path.join(out, f"bsm_{rows}_{seed}.csv")
    t0 = time.perf_counter()
    if not os.path.exists(csv):
        r = write_bsm_csv(csv + ".tmp", rows=rows, seed=seed, progress=progress)
        os.replace(csv + ".tmp", csv)
        print(f"synthesized {r.rows:,} rows ({r.nbytes / 1e6:,.0f} MB, {r.vehicles:,} vehicles) "
              f"in {time.perf_counter() - t0:.1f} s -> {csv}")
    else:
        print(f"reusing {csv}")
    cfg_path = write_demo_config(os.path.join(out, "pipeline.toml"), csv=os.path.abspath(csv),
                                 out=os.path.abspath(out), classifier=classifier)
    print(f"config: {cfg_path}")
    res = Pipeline(PipelineConfig.from_toml(cfg_path)).run(progress=progress)
    print(res.summary())
    if res.metrics is not None:
        cols = ["Model", "train_accuracy", "test_accuracy", "test_precision", "test_recall",
                "test_f1", "test_specificity"]
        print(res.metrics[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0
