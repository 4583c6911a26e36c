"""blockops.v2x.ml: feature matrices, binary metrics (against scikit-learn) and the classifier
stage's results frame."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blockops.v2x import ml
from blockops.v2x.ml import (FEATURE_SETS, RESULT_COLUMNS, classification_metrics, features,
                             train_classifiers, write_results)

from csv_util import BSM_SAMPLE  # noqa: E402  (shared sample or the shipped copy)

TS_FORMAT = "%m/%d/%Y %I:%M:%S %p"


@pytest.fixture(scope="module")
def sample_frame():
    """The shared BSM sample as the v2x operators leave it, built with plain pandas: integer
    ids, x_pos/y_pos from the POINT text, timestamp parts. A non-default index and a nullable
    column, as pandas users have them."""
    raw = pd.read_csv(BSM_SAMPLE, dtype={"coreData_id": str, "coreData_position": str,
                                         "metadata_generatedAt": str})
    df = raw.copy()
    df["coreData_id"] = df["coreData_id"].map(lambda s: int(s, 16)).astype(np.int64)
    lonlat = df["coreData_position"].str.slice(7, -1).str.split(" ", expand=True)
    df["x_pos"] = lonlat[0].astype(np.float64)
    df["y_pos"] = lonlat[1].astype(np.float64)
    ts = pd.to_datetime(df["metadata_generatedAt"], format=TS_FORMAT)
    for part in ("month", "day", "year", "hour", "minute", "second"):
        df[part] = getattr(ts.dt, part).astype(np.int16 if part == "year" else np.int8)
    df["pm"] = (ts.dt.hour >= 12).astype(np.int8)
    df["coreData_secMark"] = df["coreData_secMark"].astype("Int64")
    df.index = df.index * 3 + 7
    return df.drop(columns=["coreData_position"])


def test_feature_sets_are_the_domain_sets():
    assert FEATURE_SETS["timestamps"] == [
        "coreData_id", "coreData_secMark", "coreData_accuracy_semiMajor",
        "coreData_accuracy_semiMinor", "month", "day", "year", "hour", "minute", "second", "pm",
        "coreData_elevation", "coreData_accelset_accelYaw", "coreData_speed", "coreData_heading",
        "x_pos", "y_pos"]
    assert FEATURE_SETS["xy_elev"] == ["x_pos", "y_pos", "coreData_elevation"]
    assert FEATURE_SETS["xy_elev_heading_speed"] == [
        "x_pos", "y_pos", "coreData_elevation", "coreData_heading", "coreData_speed"]
    assert RESULT_COLUMNS[:7] == [
        "Model", "Total_Train_Time", "Total_Train_Sample_Size", "Total_Test_Sample_Size",
        "Train_Time_Per_Sample", "Prediction_Train_Set_Time_Per_Sample",
        "Prediction_Test_Set_Time_Per_Sample"]
    assert RESULT_COLUMNS[7:] == [f"{s}_{m}" for s in ("train", "test") for m in
                                  ("accuracy", "precision", "recall", "f1", "specificity")]


@pytest.mark.parametrize("name", list(FEATURE_SETS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_features_on_the_sample(sample_frame, name, dtype):
    df = sample_frame
    X = features(df, name, dtype=dtype)
    cols = FEATURE_SETS[name]
    assert X.shape == (len(df), len(cols)) and X.dtype == dtype and X.flags.c_contiguous
    ref = np.column_stack([df[c].astype(np.float64).to_numpy() for c in cols]).astype(dtype)
    np.testing.assert_array_equal(X, ref)
    # rows follow the frame's order, whatever its index
    perm = np.random.default_rng(3).permutation(len(df))
    np.testing.assert_array_equal(features(df.iloc[perm], name, dtype=dtype), ref[perm])


def test_features_values_spot_check(sample_frame):
    df = sample_frame
    row = df.iloc[1]
    X = features(df, "timestamps", dtype=np.float64)
    cols = FEATURE_SETS["timestamps"]
    # 04/06/2021 10:00:01 AM, id 00000001, POINT (-105.92899565239667 41.251009864216286)
    expect = {"coreData_id": 1.0, "month": 4.0, "day": 6.0, "year": 2021.0, "hour": 10.0,
              "minute": 0.0, "second": 1.0, "pm": 0.0, "x_pos": -105.92899565239667,
              "y_pos": 41.251009864216286, "coreData_elevation": row["coreData_elevation"]}
    for c, v in expect.items():
        assert X[1, cols.index(c)] == v, c


def test_features_custom_list_empty_frame_and_nulls(sample_frame):
    df = sample_frame.iloc[:5].copy()
    X = features(df, ["coreData_speed", "x_pos"], dtype=np.float64)
    np.testing.assert_array_equal(X, df[["coreData_speed", "x_pos"]].to_numpy())
    assert features(df.iloc[:0], "xy_elev").shape == (0, 3)
    df["coreData_secMark"] = pd.array([1, None, 3, 4, 5], dtype="Int64")
    X = features(df, "timestamps")
    assert np.isnan(X[1, 1]) and X[0, 1] == 1.0 and X[2, 1] == 3.0


def test_features_errors(sample_frame):
    df = sample_frame.iloc[:10]
    with pytest.raises(KeyError, match=r"xy_elev_heading_speed.*coreData_heading"):
        features(df.drop(columns=["coreData_heading"]), "xy_elev_heading_speed")
    with pytest.raises(KeyError, match=r"'timestamps'.*\['month', 'pm'\]"):
        features(df.drop(columns=["month", "pm"]), "timestamps")
    hexed = df.assign(coreData_id=df["coreData_id"].map(lambda v: f"{v:08x}"))
    with pytest.raises(TypeError, match="coreData_id.*hex_to_int"):
        features(hexed, "timestamps")
    with pytest.raises(TypeError, match="coreData_id.*integer"):
        features(df.assign(coreData_id=df["coreData_id"].astype(float)), "timestamps")
    with pytest.raises(TypeError, match="x_pos.*not numeric"):
        features(df.assign(x_pos=df["x_pos"].astype(str)), "xy_elev")
    for bad in (np.int32, np.float16, "object"):
        with pytest.raises(ValueError, match="float32 or float64"):
            features(df, "xy_elev", dtype=bad)
    with pytest.raises(ValueError, match="unknown feature_set 'xy'"):
        features(df, "xy")


# --------------------------------------------------------------------------- metrics

def _sk_metrics(t, p):
    from sklearn import metrics as skm

    cm = skm.confusion_matrix(t, p, labels=[0, 1])
    tn, fp = cm[0]
    return {
        "accuracy": skm.accuracy_score(t, p),
        "precision": skm.precision_score(t, p, pos_label=1, zero_division=0),
        "recall": skm.recall_score(t, p, pos_label=1, zero_division=0),
        "f1": skm.f1_score(t, p, pos_label=1, zero_division=0),
        "specificity": tn / (tn + fp) if tn + fp else 0.0,
        "confusion_matrix": skm.confusion_matrix(t, p, labels=[0, 1], normalize="all"),
    }


def test_metrics_hand_computed():
    t = [1, 1, 0, 0, 1, 0, 0, 0]
    p = [1, 0, 1, 0, 1, 0, 0, 0]
    m = classification_metrics(t, p)  # tp 2, fn 1, fp 1, tn 4
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (2, 1, 1, 4)
    assert m["accuracy"] == 6 / 8
    assert m["precision"] == 2 / 3 and m["recall"] == 2 / 3 and m["f1"] == 2 / 3
    assert m["specificity"] == 4 / 5
    np.testing.assert_array_equal(m["confusion_matrix"], np.array([[4, 1], [1, 2]]) / 8)
    # no positive predictions and no negatives at all: the zero-division cases are 0
    m = classification_metrics([1, 1, 1], [0, 0, 0])
    assert m["precision"] == m["recall"] == m["f1"] == m["specificity"] == 0.0
    assert m["accuracy"] == 0.0
    m = classification_metrics(np.array([False, True]), np.array([False, True]))
    assert m["accuracy"] == m["precision"] == m["recall"] == m["f1"] == m["specificity"] == 1.0


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 33, 1000])
def test_metrics_against_sklearn(n):
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(n)
    for trial in range(20):
        pt, pp = rng.random(2)  # skewed and single-class label sets included
        t = (rng.random(n) < pt).astype(np.int64)
        p = (rng.random(n) < pp).astype(np.int8)
        if trial == 0:
            p = np.zeros(n, np.int8)
        if trial == 1:
            t = np.ones(n, np.int64)
        got = classification_metrics(pd.Series(t), p.astype(float))
        want = _sk_metrics(t, p)
        for k in ("accuracy", "precision", "recall", "f1", "specificity"):
            assert got[k] == pytest.approx(want[k], abs=1e-15), (n, trial, k)
        np.testing.assert_allclose(got["confusion_matrix"], want["confusion_matrix"], atol=1e-15)


def test_metrics_errors():
    with pytest.raises(ValueError, match="length"):
        classification_metrics([0, 1], [0])
    with pytest.raises(ValueError, match=r"only 0 and 1.*\[2\]"):
        classification_metrics([0, 2], [0, 1])
    with pytest.raises(ValueError, match="y_pred.*only 0 and 1"):
        classification_metrics([0, 1], [0.0, np.nan])
    with pytest.raises(ValueError, match="missing"):
        classification_metrics(pd.Series([0, None], dtype="Int8"), [0, 1])
    with pytest.raises(ValueError, match="empty"):
        classification_metrics([], [])
    with pytest.raises(TypeError, match="binary"):
        classification_metrics(["a", "b"], [0, 1])


# --------------------------------------------------------------------------- classifiers

def _toy(n=300, seed=0):
    """Separable: attackers sit at x_pos > 10, regular rows at x_pos < -10."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int8)
    x = np.where(y == 1, rng.uniform(10, 50, n), rng.uniform(-50, -10, n))
    return pd.DataFrame({
        "x_pos": x, "y_pos": rng.normal(0, 100, n), "coreData_elevation": rng.normal(1500, 20, n),
        "isAttacker": y,
    }, index=np.arange(n)[::-1])


def test_train_classifiers_separable():
    pytest.importorskip("sklearn")
    df = _toy()
    mask = np.zeros(len(df), bool)
    mask[::4] = True
    res = train_classifiers(df, feature_set="xy_elev", test_mask=mask)
    assert list(res.columns) == RESULT_COLUMNS
    assert list(res["Model"]) == ["RandomForestClassifier", "DecisionTreeClassifier",
                                  "KNeighborsClassifier"]
    assert (res["Total_Train_Sample_Size"] == 225).all()
    assert (res["Total_Test_Sample_Size"] == 75).all()
    np.testing.assert_array_equal(res["Train_Time_Per_Sample"],
                                  res["Total_Train_Time"] / 225)
    tree = res.iloc[1]
    for split in ("train", "test"):
        for m in ("accuracy", "precision", "recall", "f1", "specificity"):
            assert tree[f"{split}_{m}"] == 1.0, (split, m)
    cm = res.attrs["confusion_matrices"]["DecisionTreeClassifier"]["test"]
    assert cm[0, 1] == cm[1, 0] == 0.0 and cm.sum() == pytest.approx(1.0)


def test_train_classifiers_matches_sklearn_and_is_deterministic():
    pytest.importorskip("sklearn")
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame({c: rng.normal(size=n) for c in FEATURE_SETS["xy_elev_heading_speed"]})
    df["isAttacker"] = (df["x_pos"] + rng.normal(0, 1, n) > 0.5).astype(np.int8)
    mask = rng.random(n) < 0.3
    a = train_classifiers(df, feature_set="xy_elev_heading_speed", test_mask=mask,
                          models=("DecisionTree", "RandomForest"))
    b = train_classifiers(df, feature_set="xy_elev_heading_speed", test_mask=mask,
                          models=("DecisionTree", "RandomForest"))
    metric_cols = RESULT_COLUMNS[7:]
    pd.testing.assert_frame_equal(a[metric_cols], b[metric_cols])
    X = df[FEATURE_SETS["xy_elev_heading_speed"]].to_numpy(np.float32)
    y = df["isAttacker"].to_numpy()
    est = DecisionTreeClassifier(random_state=42).fit(X[~mask], y[~mask])
    want = _sk_metrics(y[mask], est.predict(X[mask]))
    for m in ("accuracy", "precision", "recall", "f1", "specificity"):
        assert a.iloc[0][f"test_{m}"] == pytest.approx(want[m], abs=1e-15)
    assert a.iloc[0]["train_accuracy"] == 1.0  # distinct points: a full tree memorises them
    assert 0.5 < a.iloc[0]["test_accuracy"] < 1.0


def test_train_classifiers_single_class_and_errors(tmp_path):
    pytest.importorskip("sklearn")
    df = _toy(60)
    mask = np.arange(60) % 3 == 0
    one = df.assign(isAttacker=np.int8(0))
    res = train_classifiers(one, feature_set="xy_elev", test_mask=mask, models=["DecisionTree"])
    r = res.iloc[0]
    assert r["test_accuracy"] == 1.0 and r["test_specificity"] == 1.0
    assert r["test_precision"] == r["test_recall"] == r["test_f1"] == 0.0

    with pytest.raises(ValueError, match="train split is empty"):
        train_classifiers(df, feature_set="xy_elev", test_mask=np.ones(60, bool))
    with pytest.raises(ValueError, match="test split is empty"):
        train_classifiers(df, feature_set="xy_elev", test_mask=np.zeros(60, bool))
    with pytest.raises(TypeError, match="boolean"):
        train_classifiers(df, feature_set="xy_elev", test_mask=mask.astype(int))
    with pytest.raises(ValueError, match="one entry per row"):
        train_classifiers(df, feature_set="xy_elev", test_mask=mask[:-1])
    with pytest.raises(ValueError, match="unknown model"):
        train_classifiers(df, feature_set="xy_elev", test_mask=mask, models=["SVC"])
    with pytest.raises(KeyError, match="isAttacker"):
        train_classifiers(df.drop(columns=["isAttacker"]), feature_set="xy_elev",
                          test_mask=mask)
    with pytest.raises(KeyError, match="'xy_elev_heading_speed'.*coreData_heading"):
        train_classifiers(df, feature_set="xy_elev_heading_speed", test_mask=mask)
    nan = df.copy()
    nan.iloc[3, nan.columns.get_loc("y_pos")] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite.*'y_pos': 1"):
        train_classifiers(nan, feature_set="xy_elev", test_mask=mask)
    with pytest.raises(ValueError, match="only 0 and 1"):
        train_classifiers(df.assign(isAttacker=2), feature_set="xy_elev", test_mask=mask)


def test_write_results_round_trip(tmp_path):
    pytest.importorskip("sklearn")
    df = _toy(80)
    res = train_classifiers(df, feature_set="xy_elev", test_mask=np.arange(80) % 5 == 0,
                            models=("DecisionTree", "KNeighbors"))
    path = write_results(res, tmp_path / "sub" / "results.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == RESULT_COLUMNS
    pd.testing.assert_frame_equal(back, res, check_exact=False, rtol=1e-12)
    with open(path, encoding="utf-8") as f:
        assert f.readline().startswith("Model,Total_Train_Time,")
    with pytest.raises(TypeError):
        write_results(res.to_dict(), tmp_path / "x.csv")


def test_module_exports():
    assert set(ml.__all__) >= {"FEATURE_SETS", "features", "classification_metrics",
                               "train_classifiers", "write_results"}
