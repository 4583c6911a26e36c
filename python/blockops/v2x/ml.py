"""Features and the classifier stage of the connected-vehicle pipeline (DOMAIN.md, step 6).

The original pipeline trains scikit-learn's RandomForest, DecisionTree and KNeighbors
classifiers (defaults) on one of three feature sets and writes one results row per model:
fit time, sample sizes, prediction time per sample, and accuracy / precision / recall / F1 /
specificity on the train and the test rows. This module does the same on a pandas frame
that has been through the v2x operators (``coreData_id`` already an integer, ``x_pos`` /
``y_pos`` present, the timestamp parts added when the ``"timestamps"`` set is used):

* :func:`features` builds the C-contiguous feature matrix, one column at a time (no
  intermediate copy of the whole frame), in float32 by default;
* :func:`classification_metrics` computes the binary metrics from the four confusion counts;
* :func:`train_classifiers` fits and scores the models on a row mask and returns the results
  frame with exactly the columns of the original results CSV (:data:`RESULT_COLUMNS`);
* :func:`write_results` writes that frame.

Differences from the original, on purpose:

* the train/test split is a boolean ``test_mask`` given by the caller (the pipeline derives it
  from a keyed hash of each row's key, so it does not depend on partitioning or row order);
  the original split rows 80/20 by position (``head`` / ``tail``);
* models that take a ``random_state`` get one (default 42), so a run is reproducible; the
  original used unseeded defaults;
* the metrics are computed in NumPy from the confusion counts (they equal
  ``sklearn.metrics`` with ``pos_label=1, zero_division=0``; the tests check this).

scikit-learn is needed by :func:`train_classifiers` only, and imported when it is called.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any, Union

import numpy as np
import pandas as pd

__all__ = [
    "FEATURE_SETS",
    "MODELS",
    "RESULT_COLUMNS",
    "features",
    "classification_metrics",
    "train_classifiers",
    "write_results",
]

_log = logging.getLogger("blockops.v2x")

#: The three feature sets of DOMAIN.md step 6, columns in the original's order.
FEATURE_SETS: dict[str, list[str]] = {
    "timestamps": [
        "coreData_id", "coreData_secMark", "coreData_accuracy_semiMajor",
        "coreData_accuracy_semiMinor", "month", "day", "year", "hour", "minute", "second", "pm",
        "coreData_elevation", "coreData_accelset_accelYaw", "coreData_speed", "coreData_heading",
        "x_pos", "y_pos",
    ],
    "xy_elev": ["x_pos", "y_pos", "coreData_elevation"],
    "xy_elev_heading_speed": ["x_pos", "y_pos", "coreData_elevation", "coreData_heading",
                              "coreData_speed"],
}

#: Model names accepted by :func:`train_classifiers` -> scikit-learn class (module, name).
_MODEL_CLASSES: dict[str, tuple[str, str]] = {
    "RandomForest": ("sklearn.ensemble", "RandomForestClassifier"),
    "DecisionTree": ("sklearn.tree", "DecisionTreeClassifier"),
    "KNeighbors": ("sklearn.neighbors", "KNeighborsClassifier"),
}
#: The models of the original pipeline, in its order.
MODELS: tuple[str, ...] = tuple(_MODEL_CLASSES)

#: Columns of the results CSV, exactly as the original writes them.
RESULT_COLUMNS: list[str] = [
    "Model", "Total_Train_Time", "Total_Train_Sample_Size", "Total_Test_Sample_Size",
    "Train_Time_Per_Sample", "Prediction_Train_Set_Time_Per_Sample",
    "Prediction_Test_Set_Time_Per_Sample",
    "train_accuracy", "train_precision", "train_recall", "train_f1", "train_specificity",
    "test_accuracy", "test_precision", "test_recall", "test_f1", "test_specificity",
]

_METRICS = ("accuracy", "precision", "recall", "f1", "specificity")
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _resolve_feature_set(feature_set: Union[str, Sequence[str]]) -> tuple[str, list[str]]:
    if isinstance(feature_set, str):
        try:
            return feature_set, list(FEATURE_SETS[feature_set])
        except KeyError:
            raise ValueError(
                f"unknown feature_set {feature_set!r}; choose one of "
                f"{', '.join(map(repr, FEATURE_SETS))} or pass a list of column names") from None
    cols = list(feature_set)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise TypeError("feature_set must be a feature set name or a non-empty list of column "
                        f"names, got {feature_set!r}")
    if len(set(cols)) != len(cols):
        raise ValueError(f"feature_set lists a column twice: {cols!r}")
    return "custom", cols


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in _FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt


def features(df: pd.DataFrame, feature_set: Union[str, Sequence[str]] = "xy_elev", *,
             dtype=np.float32) -> np.ndarray:
    """The feature matrix of one of the pipeline's feature sets.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows after the v2x operators. ``coreData_id`` (in the ``"timestamps"`` set) must already
        be an integer column: convert the hex text with :func:`blockops.v2x.hex_to_int` first.
    feature_set : str or list of str, default "xy_elev"
        A key of :data:`FEATURE_SETS` (``"timestamps"``, ``"xy_elev"``,
        ``"xy_elev_heading_speed"``) or an explicit list of column names.
    dtype : float32 or float64, default float32
        Type of the matrix. float32 halves the memory and is what scikit-learn's trees convert
        to internally anyway; it rounds integers above 2**24 (vehicle ids) and longitudes to
        ~0.6 m, so use float64 where that matters (KNeighbors on ids, degree coordinates).

    Returns
    -------
    numpy.ndarray
        C-contiguous, shape ``(len(df), n_features)``, columns in the feature set's order,
        rows in ``df``'s order. Missing values (nullable columns) become NaN.

    Raises
    ------
    KeyError
        If columns of the feature set are missing; the message names them and the set.
    TypeError
        If a column is not numeric, or ``coreData_id`` is not an integer column.
    ValueError
        If the feature set name is unknown or ``dtype`` is not float32/float64.
    """
    name, cols = _resolve_feature_set(feature_set)
    dt = _float_dtype(dtype)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"features: df must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"features: feature set {name!r} needs column(s) {missing} missing from "
                       f"the frame (feature set columns: {cols})")
    for c in cols:
        t = df[c].dtype
        if c == "coreData_id" and not pd.api.types.is_integer_dtype(t):
            raise TypeError(f"features: coreData_id must be an integer column (got {t}); convert "
                            "the hex text with blockops.v2x.hex_to_int first")
        if not (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)):
            raise TypeError(f"features: column {c!r} of feature set {name!r} is not numeric "
                            f"(dtype {t})")
    out = np.empty((len(df), len(cols)), dtype=dt)  # C order: one row per sample
    for j, c in enumerate(cols):
        out[:, j] = df[c].to_numpy(dtype=dt, na_value=np.nan)
    return out


def _binary(y, name: str) -> np.ndarray:
    """``y`` as an int8 vector of 0/1, or a ValueError naming ``name``."""
    if isinstance(y, (pd.Series, pd.Index)):
        if y.isna().any():
            raise ValueError(f"{name} has {int(y.isna().sum())} missing value(s)")
        y = y.to_numpy()
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.dtype == bool:
        return a.view(np.int8)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold the binary labels 0 and 1, got dtype {a.dtype}")
    ok = (a == 0) | (a == 1)
    if not ok.all():
        bad = np.unique(a[~ok])[:5].tolist()
        raise ValueError(f"{name} must hold only 0 and 1 (binary, positive = 1); found {bad}")
    return a.astype(np.int8, copy=False)


def classification_metrics(y_true, y_pred) -> dict:
    """Binary classification metrics with positive class 1, as the original pipeline reports.

    Parameters
    ----------
    y_true, y_pred : array_like of 0/1 (or bool)
        True and predicted labels, same length, at least one.

    Returns
    -------
    dict
        ``accuracy``, ``precision`` = tp / (tp + fp), ``recall`` = tp / (tp + fn), ``f1`` =
        2 tp / (2 tp + fp + fn), ``specificity`` = tn / (tn + fp), each a float and 0.0 when
        its denominator is 0 (scikit-learn's ``zero_division=0``); ``confusion_matrix``, a 2x2
        float64 array ``[[tn, fp], [fn, tp]] / n`` (normalised over all cells, scikit-learn's
        ``normalize="all"`` with labels ``[0, 1]``); and the counts ``tn, fp, fn, tp`` (int).

    Raises
    ------
    ValueError
        If the lengths differ, the inputs are empty, or a label is not 0 or 1.
    """
    t = _binary(y_true, "y_true")
    p = _binary(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} != {p.size}")
    n = t.size
    if n == 0:
        raise ValueError("classification_metrics: y_true and y_pred are empty")
    tb, pb = t.astype(bool), p.astype(bool)
    tp = int(np.count_nonzero(tb & pb))
    fp = int(np.count_nonzero(pb)) - tp
    fn = int(np.count_nonzero(tb)) - tp
    tn = n - tp - fp - fn

    def ratio(a: int, b: int) -> float:
        return a / b if b else 0.0

    return {
        "accuracy": (tp + tn) / n,
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "specificity": ratio(tn, tn + fp),
        "confusion_matrix": np.array([[tn, fp], [fn, tp]], dtype=np.float64) / n,
        "tn": tn, "fp": fp, "fn": fn, "tp": tp,
    }


def _make_models(models: Sequence[str], random_state, n_jobs) -> list[tuple[str, Any]]:
    if isinstance(models, str):
        models = (models,)
    unknown = [m for m in models if m not in _MODEL_CLASSES]
    if unknown or not models:
        raise ValueError(f"unknown model(s) {unknown or list(models)}; choose from "
                         f"{', '.join(MODELS)}")
    import importlib

    try:
        importlib.import_module("sklearn")
    except ImportError as exc:
        raise ImportError("train_classifiers needs scikit-learn (pip install scikit-learn, or "
                          "pip install 'blockops[bench]')") from exc
    out = []
    for m in models:
        mod, cls_name = _MODEL_CLASSES[m]
        cls = getattr(importlib.import_module(mod), cls_name)
        kw: dict[str, Any] = {}
        if m in ("RandomForest", "DecisionTree"):
            kw["random_state"] = random_state
        if m in ("RandomForest", "KNeighbors"):
            kw["n_jobs"] = n_jobs
        out.append((cls_name, cls(**kw)))
    return out


def _test_mask(test_mask, n: int) -> np.ndarray:
    if isinstance(test_mask, pd.Series):
        if test_mask.isna().any():
            raise ValueError("test_mask has missing values")
        test_mask = test_mask.to_numpy()
    m = np.asarray(test_mask)
    if m.dtype != bool:
        raise TypeError(f"test_mask must be a boolean array (True = test row), got dtype "
                        f"{m.dtype}; row positions are not accepted")
    if m.shape != (n,):
        raise ValueError(f"test_mask must have one entry per row: shape {m.shape} for {n} rows")
    return m


def train_classifiers(df: pd.DataFrame, *, feature_set: Union[str, Sequence[str]], test_mask,
                      label: str = "isAttacker", models: Sequence[str] = MODELS,
                      dtype=np.float32, random_state=42, n_jobs=None) -> pd.DataFrame:
    """Fit and score the pipeline's classifiers; one results row per model.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with the feature set's columns (see :func:`features`) and the label column.
    feature_set : str or list of str
        A key of :data:`FEATURE_SETS` or a list of column names.
    test_mask : array_like of bool, length ``len(df)``
        True for test rows, False for train rows. The pipeline derives it from a keyed hash of
        the row key, so the split does not depend on partitioning.
    label : str, default "isAttacker"
        The 0/1 label column (1 = attacker = positive class).
    models : sequence of str, default ("RandomForest", "DecisionTree", "KNeighbors")
        Names of :data:`MODELS`; each is the scikit-learn classifier with its default
        parameters, plus ``random_state`` for the two tree models and ``n_jobs`` for
        RandomForest and KNeighbors.
    dtype : float32 or float64, default float32
        Type of the feature matrix (see :func:`features`).
    random_state : int or None, default 42
        Seed of the tree models (the original left them unseeded).
    n_jobs : int or None
        scikit-learn's ``n_jobs`` for RandomForest and KNeighbors (None: one core).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`; ``Model`` is the scikit-learn class name (as the
        original writes it, e.g. ``RandomForestClassifier``). Times are wall-clock seconds of
        ``fit``, ``predict(train)`` and ``predict(test)``; "per sample" divides by the split's
        size. ``.attrs["confusion_matrices"]`` maps each model to ``{"train": 2x2, "test":
        2x2}`` arrays normalised over all cells.

    Raises
    ------
    ValueError
        If the train or the test split is empty (the message says which), a label is not
        0/1, a feature value is NaN or infinite, or a model name is unknown. A split holding a
        single class is allowed (its precision/recall may be 0 by the zero_division rule).
    KeyError
        If the label or feature columns are missing.
    TypeError
        If ``test_mask`` is not boolean.
    ImportError
        If scikit-learn is not installed.
    """
    name, cols = _resolve_feature_set(feature_set)
    estimators = _make_models(models, random_state, n_jobs)  # fail fast, before any work
    if label not in df.columns:
        raise KeyError(f"train_classifiers: label column {label!r} is missing from the frame")
    mask = _test_mask(test_mask, len(df))
    n_test = int(np.count_nonzero(mask))
    n_train = len(df) - n_test
    if n_train == 0:
        raise ValueError(f"train_classifiers: the train split is empty (test_mask is True on all "
                         f"{len(df)} rows)")
    if n_test == 0:
        raise ValueError(f"train_classifiers: the test split is empty (test_mask is False on all "
                         f"{len(df)} rows)")
    y = _binary(df[label], label)
    X = features(df, feature_set, dtype=dtype)
    finite = np.isfinite(X)
    if not finite.all():
        bad = {c: int(k) for c, k in zip(cols, (~finite).sum(axis=0)) if k}
        raise ValueError(f"train_classifiers: feature set {name!r} has NaN or infinite values "
                         f"(count per column: {bad}); drop or fill those rows first")
    del finite
    X_train, y_train = X[~mask], y[~mask]
    X_test, y_test = X[mask], y[mask]
    del X

    rows, cms = [], {}
    for model_name, est in estimators:
        t0 = time.perf_counter()
        est.fit(X_train, y_train)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        p_train = est.predict(X_train)
        t_ptrain = time.perf_counter() - t0
        t0 = time.perf_counter()
        p_test = est.predict(X_test)
        t_ptest = time.perf_counter() - t0
        m_train = classification_metrics(y_train, p_train)
        m_test = classification_metrics(y_test, p_test)
        row = {
            "Model": model_name,
            "Total_Train_Time": t_fit,
            "Total_Train_Sample_Size": n_train,
            "Total_Test_Sample_Size": n_test,
            "Train_Time_Per_Sample": t_fit / n_train,
            "Prediction_Train_Set_Time_Per_Sample": t_ptrain / n_train,
            "Prediction_Test_Set_Time_Per_Sample": t_ptest / n_test,
        }
        row.update({f"train_{k}": m_train[k] for k in _METRICS})
        row.update({f"test_{k}": m_test[k] for k in _METRICS})
        rows.append(row)
        cms[model_name] = {"train": m_train["confusion_matrix"],
                           "test": m_test["confusion_matrix"]}
        _log.info("v2x classifier %s on %r: fit %.3f s on %d rows, test accuracy %.4f, f1 %.4f",
                  model_name, name, t_fit, n_train, m_test["accuracy"], m_test["f1"])
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    out.attrs["confusion_matrices"] = cms
    return out


def write_results(results_df: pd.DataFrame, path: Union[str, os.PathLike], *,
                  storage_options: dict | None = None) -> str:
    """Write the results of :func:`train_classifiers` as CSV (no index); returns the path.

    The parent directory is created if needed. ``path`` may be an fsspec URL
    (``s3://bucket/run/results.csv``, with ``storage_options`` for its file system): the file
    is then written as one upload, so it appears whole or not at all.
    """
    if not isinstance(results_df, pd.DataFrame):
        raise TypeError(f"write_results: results_df must be a DataFrame, got "
                        f"{type(results_df).__name__}")
    path = os.fspath(path)
    from ..io._csv_sources import is_url, url_fs

    if is_url(path):
        fs, p = url_fs(path, storage_options)
        if fs is not None:
            fs.pipe(p, results_df.to_csv(index=False).encode())
            return path
        path = p  # file://: the local file
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    results_df.to_csv(path, index=False)
    return path
