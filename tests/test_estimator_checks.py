"""scikit-learn's own estimator checks on every skchain estimator.

Each expected failure is listed with the reason it cannot hold for a neural
network (or for a frozen one); everything else must pass.
"""

import functools

import keras
import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skchain import (
    CategoricalLevels,
    ChainClassifier,
    ChainRegressor,
    FrozenTransformer,
    HashingEncoder,
    KerasTransformer,
    SequencePadder,
)
from skchain.passthrough import NetworkAInputs


def _build_tiny_network(meta):
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Dense(4, activation="relu", name="embedding")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


class _NamedBuilder(functools.partial):
    """A network builder whose repr, and so every check's test id, is the same in every
    process (a function's repr holds its address; pytest-xdist's workers must collect the
    same ids). A ``functools.partial``, which scikeras accepts as ``model``."""

    def __repr__(self):
        return self.func.__name__


_tiny_network = _NamedBuilder(_build_tiny_network)


def _frozen(wrapper=FrozenTransformer, **params):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 4)).astype(np.float32)
    pre = KerasTransformer(_tiny_network, loss="mse", epochs=1, random_state=0)
    return wrapper(pre.fit(X, X[:, 0]), **params)


# scikeras 0.13 defines ``_more_tags`` without ``__sklearn_tags__`` on its
# base class and places ``RegressorMixin`` after ``BaseEstimator``; our
# subclasses define ``__sklearn_tags__`` (tested in test_regressor.py), but the
# checks inspect the whole class hierarchy.
_SCIKERAS = {
    "check_estimator_tags_renamed": "scikeras' BaseWrapper defines _more_tags only;"
    " our subclasses define __sklearn_tags__, which scikit-learn uses",
    "check_sample_weight_equivalence_on_dense_data": "mini-batch SGD: weighting a row"
    " is not the same as repeating it in a shuffled epoch",
    "check_methods_sample_order_invariance": "float32 end to end: a row's outputs can"
    " differ in the last float32 bit with its position in the batch (oneDNN's blocked"
    " matrix products), above the check's rtol=1e-7",
    "check_methods_subset_invariance": "float32 end to end: a row's outputs can differ"
    " in the last float32 bit with the number of rows in the batch (oneDNN's blocked"
    " matrix products; 1.8e-7 on one of 60 rows), above the check's atol=1e-7",
}
_REGRESSOR = {
    **_SCIKERAS,
    "check_mixin_order": "inherited from scikeras' KerasRegressor(BaseWrapper,"
    " RegressorMixin); moving RegressorMixin first is an MRO conflict",
    "check_regressor_multioutput": "predictions are float32 end to end by design;"
    " the check asks for float64",
}
_CLASSIFIER = {
    **_SCIKERAS,
    "check_mixin_order": "inherited from scikeras' KerasClassifier(BaseWrapper,"
    " ClassifierMixin); moving ClassifierMixin first is an MRO conflict",
}

# The frozen network's input width is fixed by dataset A (4 columns here):
# every check that fits on data of another width must fail, by design.
_WIDTH = "network A's input width is fixed by dataset A; the check feeds other widths"
_FROZEN = {
    name: _WIDTH
    for name in [
        "check_fit_score_takes_y",
        "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
        "check_estimators_dtypes",
        "check_dtype_object",
        "check_pipeline_consistency",
        "check_estimators_nan_inf",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
        "check_transformers_unfitted_stateless",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit2d_1sample",
        "check_fit2d_1feature",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_n_features_in",
        "check_fit2d_predict1d",
    ]
}
# Adapted to the rows given to fit, a frozen step needs fit like any transformer
# (the check fits it on data of another width, which fails as above).
_ADAPTED = {**_FROZEN, "check_fit_check_is_fitted": _WIDTH}
_FROZEN["check_fit_check_is_fitted"] = (
    "a frozen estimator is fitted before fit, as sklearn.frozen.FrozenEstimator"
)


# CategoricalLevels outputs text: these checks compare two outputs with
# numeric tolerances (``a - b``), which strings do not support. Equality of
# its outputs is tested in test_categorical.py.
_TEXT_OUTPUT = {
    name: "outputs text levels; the check compares outputs numerically"
    for name in [
        "check_pipeline_consistency",
        "check_estimators_pickle",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit_idempotent",
    ]
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, CategoricalLevels):
        return _TEXT_OUTPUT
    if isinstance(estimator, FrozenTransformer) and estimator.adapt is not None:
        return _ADAPTED
    if isinstance(estimator, FrozenTransformer):
        return _FROZEN
    if isinstance(estimator, ChainRegressor):
        return _REGRESSOR
    if isinstance(estimator, ChainClassifier):
        return _CLASSIFIER
    if isinstance(estimator, KerasTransformer):
        return _SCIKERAS
    return {}


@parametrize_with_checks(
    [
        KerasTransformer(_tiny_network, loss="mse", epochs=1, random_state=0),
        ChainRegressor(
            hidden_units=(16,),
            branch_units=16,
            learning_rate=0.01,
            epochs=10,
            random_state=0,
        ),
        ChainClassifier(
            hidden_units=(16,),
            branch_units=16,
            learning_rate=0.01,
            epochs=10,
            random_state=0,
        ),
        _frozen(),
        # adapted to the rows fit gets: a transformer that needs fit
        _frozen(adapt="standardize"),
        _frozen(NetworkAInputs),
        HashingEncoder(n_features=8),
        CategoricalLevels(),
        # Cells must be sequences: scikit-learn's checks cannot generate
        # such data and skip it (tags: no 2-D array input); see test_sequences.py.
        SequencePadder(maxlen=4),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# scikit-learn's check that ``_parameter_constraints`` lists exactly the
# constructor parameters and that ``fit`` refuses a value outside them with
# an InvalidParameterError (not among the checks ``parametrize_with_checks``
# runs in scikit-learn 1.9, so run here on the estimators that declare them).
@pytest.mark.parametrize(
    "estimator",
    [
        KerasTransformer(_tiny_network, loss="mse", epochs=1, random_state=0),
        _frozen(),
        _frozen(adapt="coral"),
        _frozen(NetworkAInputs),
        HashingEncoder(n_features=8),
        SequencePadder(maxlen=4),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_parameter_constraints(estimator):
    from sklearn.utils.estimator_checks import check_param_validation

    check_param_validation(type(estimator).__name__, estimator)
