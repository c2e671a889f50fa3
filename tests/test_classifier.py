"""ChainClassifier alone and at the end of a chain: labels of every type, probabilities,
class weights, scikit-learn's classifier machinery, fine-tuning, persistence."""

import json
import os
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import N_A_FEATURES
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    check_cv,
    cross_val_score,
    cross_validate,
)

from skchain import ChainClassifier, ChainRegressor, FineTune, make_chain

COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]


def _blobs(n_rows=160, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n_rows)
    centres = rng.normal(scale=3.0, size=(n_classes, 4))
    X = (centres[labels] + rng.normal(size=(n_rows, 4))).astype(np.float32)
    return X, labels


def _small(**kwargs):
    params = dict(
        hidden_units=(16,), branch_units=16, epochs=30, learning_rate=0.01, random_state=0
    )
    params.update(kwargs)
    return ChainClassifier(**params)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["no", "yes"]),
        np.array([3, 7]),
        np.array([False, True]),
    ],
    ids=["str", "int", "bool"],
)
def test_binary_labels_of_any_type(labels):
    X, codes = _blobs()
    y = labels[codes]
    clf = _small().fit(X, y)
    assert list(clf.classes_) == sorted(labels.tolist())
    assert clf.model_.layers[-1].units == 1 and clf.model_.loss == "binary_crossentropy"
    pred = clf.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= set(labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # Columns follow classes_: the predicted label is the most probable column.
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    assert clf.score(X, y) > 0.9  # it learned (the classes are well apart)
    assert clf.predict_proba(X[:1]).shape == (1, 2)
    decision = clf.decision_function(X)
    assert decision.shape == (len(X),)
    np.testing.assert_array_equal(decision > 0, pred == clf.classes_[1])


def test_multiclass_softmax_and_sparse_loss():
    X, codes = _blobs(240, n_classes=4)
    y = np.array(["a", "b", "c", "d"])[codes]
    clf = _small().fit(X, y)
    assert clf.model_.layers[-1].units == 4
    assert clf.model_.loss == "sparse_categorical_crossentropy"
    proba = clf.predict_proba(X)
    assert proba.shape == (240, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert clf.score(X, y) > 0.8
    assert clf.decision_function(X).shape == (240, 4)


def test_multilabel_indicator():
    X, codes = _blobs(200, n_classes=3)
    Y = np.stack([codes == 0, codes == 1, X[:, 0] > 0], axis=1).astype(int)
    clf = _small(epochs=40).fit(X, Y)
    assert clf.model_.layers[-1].units == 3 and clf.target_type_ == "multilabel-indicator"
    pred = clf.predict(X)
    assert pred.shape == Y.shape and set(np.unique(pred)) <= {0, 1}
    assert (pred == Y).mean() > 0.8
    assert clf.predict_proba(X).shape == (200, 3)


def test_continuous_target_is_refused_with_the_alternative():
    X, _ = _blobs()
    with pytest.raises(ValueError, match=r"ChainClassifier .*'continuous'.*ChainRegressor"):
        _small().fit(X, X[:, 0] * 1.5)


def test_scikit_learn_sees_a_classifier():
    X, codes = _blobs(120)
    y = np.array(["neg", "pos"])[codes]
    clf = _small(epochs=10)
    assert is_classifier(clf)
    assert isinstance(check_cv(3, y, classifier=is_classifier(clf)), StratifiedKFold)
    scores = cross_validate(clf, X, y, cv=3, scoring=["roc_auc", "neg_log_loss", "accuracy"])
    for scoring in ("roc_auc", "neg_log_loss", "accuracy"):
        assert np.isfinite(scores[f"test_{scoring}"]).all(), scoring
    assert scores["test_roc_auc"].mean() > 0.9
    calibrated = CalibratedClassifierCV(clf, cv=2).fit(X, y)
    assert calibrated.predict_proba(X).shape == (120, 2)
    tuned = TunedThresholdClassifierCV(clf, cv=2).fit(X, y)
    assert set(tuned.predict(X)) <= {"neg", "pos"}


def test_class_weight_fixes_an_imbalance():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4)).astype(np.float32)
    y = (X[:, 0] + 1.0 * rng.normal(size=400) > 2.0).astype(int)  # a few % positives
    assert 0.02 < y.mean() < 0.12
    plain = _small(epochs=8).fit(X, y)
    balanced = _small(epochs=8, class_weight="balanced").fit(X, y)
    recall = lambda clf: (clf.predict(X)[y == 1] == 1).mean()  # noqa: E731
    assert recall(balanced) >= 0.8 and recall(balanced) > recall(plain) + 0.2
    heavy = _small(epochs=8, class_weight={0: 1.0, 1: 20.0}).fit(X, y)
    assert recall(heavy) > recall(plain)


@pytest.fixture(scope="module")
def labelled_b(dataset_b):
    df, y = dataset_b
    labels = np.where(y > np.median(y), "high", "low")
    return df, labels


def _chain(pre, **kwargs):
    return make_chain(
        pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        classifier=_small(epochs=20),
        **kwargs,
    )


def test_chain_with_a_classifier_is_a_classifier(fitted_pre, labelled_b):
    df, y = labelled_b
    chain = _chain(fitted_pre).fit(df, y)
    assert chain.steps[-1][0] == "classifier" and is_classifier(chain)
    assert list(chain.classes_) == ["high", "low"]
    step_by_step = chain.named_steps["classifier"].predict_proba(
        chain.named_steps["features"].transform(df)
    )
    np.testing.assert_allclose(chain.predict_proba(df), step_by_step, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(chain.predict(df), chain.classes_[step_by_step.argmax(1)])
    assert chain.score(df, y) > 0.7
    assert chain.predict(df.iloc[[4]]).shape == (1,)
    scores = cross_val_score(chain, df, y, cv=3, scoring="roc_auc")
    assert np.isfinite(scores).all()
    search = GridSearchCV(clone(chain), {"classifier__hidden_units": [(4,), (8,)]}, cv=2)
    assert search.fit(df, y).best_params_["classifier__hidden_units"] in [(4,), (8,)]


def test_regressor_and_classifier_at_once_is_an_error(fitted_pre):
    with pytest.raises(ValueError, match="not both"):
        make_chain(
            fitted_pre,
            representation_columns=COLUMNS,
            regressor=ChainRegressor(),
            classifier=ChainClassifier(),
        )


def test_fine_tuning_uses_the_classifiers_loss_and_weights(fitted_pre, labelled_b):
    df, y = labelled_b
    weight = np.where(np.arange(len(y)) % 2 == 0, 0.0, 1.0)

    def chain():  # no numeric column: its scaler is fitted on all rows, weighted or not
        return make_chain(
            fitted_pre,
            representation_columns=COLUMNS,
            categorical_columns=["store"],
            classifier=_small(epochs=10),
            fine_tune=FineTune(epochs=3, learning_rate=1e-3),
        )

    weighted = chain().fit(df, y, classifier__sample_weight=weight)
    assert weighted.fine_tuned_["epochs"] == 3
    keep = weight > 0
    dropped = chain().fit(df[keep].reset_index(drop=True), y[keep])
    unweighted = chain().fit(df, y)
    assert np.abs(unweighted.predict_proba(df) - dropped.predict_proba(df)).max() > 1e-3
    np.testing.assert_allclose(
        weighted.predict_proba(df), dropped.predict_proba(df), rtol=1e-5, atol=1e-6
    )
    balanced = make_chain(
        fitted_pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        classifier=_small(epochs=5, class_weight="balanced"),
        fine_tune=FineTune(epochs=2),
    ).fit(df, y)
    assert balanced.predict_proba(df).shape == (len(df), 2)


def test_round_trips_are_bit_exact_in_a_fresh_process(fitted_pre, labelled_b, tmp_path):
    import skchain

    df, y = labelled_b
    chain = _chain(fitted_pre).fit(df, y)
    joblib.dump(chain, tmp_path / "chain.joblib")
    skchain.save(chain, tmp_path / "chain.skchain")
    df.to_pickle(tmp_path / "rows.pkl")
    np.save(tmp_path / "expected.npy", chain.predict_proba(df))
    code = f"""
import json, sys, joblib, numpy as np, pandas as pd
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import skchain
rows = pd.read_pickle({str(tmp_path / "rows.pkl")!r})
expected = np.load({str(tmp_path / "expected.npy")!r})
a = joblib.load({str(tmp_path / "chain.joblib")!r})
b = skchain.load({str(tmp_path / "chain.skchain")!r}, trusted=["conftest.build_network_a"])
print(json.dumps([bool((a.predict_proba(rows) == expected).all()),
                  bool((b.predict_proba(rows) == expected).all()),
                  a.predict(rows[:3]).tolist()]))
"""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    joblib_exact, skchain_exact, labels = json.loads(out.stdout.strip().splitlines()[-1])
    assert joblib_exact and skchain_exact
    assert labels == chain.predict(df[:3]).tolist()


def test_plain_pipeline_of_the_same_steps(fitted_pre, labelled_b):
    from sklearn.pipeline import Pipeline

    df, y = labelled_b
    chain = _chain(fitted_pre).fit(df, y)
    plain = Pipeline(chain.steps)
    assert is_classifier(plain)
    np.testing.assert_allclose(plain.predict_proba(df), chain.predict_proba(df), atol=1e-6)
    assert isinstance(pd.Series(plain.predict(df)).iloc[0], str)
