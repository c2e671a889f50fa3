"""Bad input gets a clear error naming the stage, and leaves a fitted chain as it was."""

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import build_network_a
from scipy import sparse
from sklearn.exceptions import NotFittedError

from skchain import ChainRegressor, KerasTransformer, make_chain

A_COLUMNS = [f"a{i}" for i in range(6)]


@pytest.fixture
def unchanged(fitted_chain, dataset_b):
    """Fails the test if the chain's predictions moved during it."""
    df, _ = dataset_b
    before = fitted_chain.predict(df)
    yield
    np.testing.assert_array_equal(fitted_chain.predict(df), before)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_in_network_a_columns_are_named(
    fitted_chain, dataset_b, unchanged, value
):
    df, _ = dataset_b
    bad = df.copy()
    bad.loc[3, "a2"] = value
    with pytest.raises(ValueError, match=r"FrozenTransformer.*NaN or infinity in \['a2'\]"):
        fitted_chain.predict(bad)


def test_strings_in_network_a_columns_are_named(fitted_chain, dataset_b, unchanged):
    df, _ = dataset_b
    bad = df.astype({"a4": object})
    bad.loc[0, "a4"] = "twelve"
    with pytest.raises(TypeError, match=r"FrozenTransformer.*\['a4'\] are not numeric"):
        fitted_chain.predict(bad)


def test_object_columns_holding_numbers_are_accepted(fitted_chain, dataset_b):
    df, _ = dataset_b
    as_object = df.astype({"a4": object, "a5": object})
    np.testing.assert_array_equal(fitted_chain.predict(as_object), fitted_chain.predict(df))


def test_strings_in_numeric_columns(fitted_chain, dataset_b, unchanged):
    df, _ = dataset_b
    bad = df.astype({"age": object})
    bad.loc[0, "age"] = "old"
    with pytest.raises(
        TypeError,
        match=(
            "Chain predict \\(numeric columns\\): "
            "column 'age' holds non-numeric values such as 'old'"
        ),
    ):
        fitted_chain.predict(bad)
    with pytest.raises(TypeError, match="Chain fit \\(numeric columns\\): column 'age'"):
        fitted_chain.fit(bad, np.zeros(len(bad)))


def test_empty_input(fitted_chain, dataset_b, unchanged):
    df, _ = dataset_b
    with pytest.raises(ValueError, match="0 sample"):
        fitted_chain.predict(df.iloc[:0])


def test_one_and_three_dimensional_input(fitted_pre):
    with pytest.raises(ValueError, match="KerasTransformer.*Expected 2D array, got 1D"):
        fitted_pre.transform(np.zeros(6))
    with pytest.raises(ValueError, match="KerasTransformer.*dim 3"):
        fitted_pre.transform(np.zeros((2, 6, 1)))
    with pytest.raises(ValueError, match="ChainRegressor.*Expected 2D array, got 1D"):
        ChainRegressor(epochs=1).fit(np.zeros(6), np.zeros(6))


def test_sparse_input_is_refused_with_a_type_error(fitted_pre):
    with pytest.raises(TypeError, match="KerasTransformer.*sparse matrix.*dense"):
        fitted_pre.transform(sparse.csr_matrix(np.zeros((2, 6))))
    with pytest.raises(TypeError, match="ChainRegressor.*sparse matrix"):
        ChainRegressor(epochs=1).fit(sparse.csr_matrix(np.ones((4, 2))), np.ones(4))


def test_wrong_length_or_nan_target_leave_the_chain_unchanged(fitted_chain, dataset_b, unchanged):
    df, y = dataset_b
    with pytest.raises(
        ValueError, match="Chain fit.*inconsistent numbers of samples: \\[180, 179\\]"
    ):
        fitted_chain.fit(df, y[:-1])
    y_nan = y.copy()
    y_nan[7] = np.nan
    with pytest.raises(ValueError, match="Chain fit.*y contains NaN"):
        fitted_chain.fit(df, y_nan)


@pytest.mark.parametrize("column", ["a1", "age", "store", "not_read"])
def test_duplicated_column_names_are_refused(
    fitted_chain, fitted_pre, dataset_b, unchanged, column
):
    """Named for every column: a numeric one raised an AttributeError in the compiled
    predict, an extra one scikit-learn's (narwhals') error that names no stage."""
    df, y = dataset_b
    df = df.assign(not_read=1.0)
    dup = pd.concat([df, df[[column]]], axis=1)
    with pytest.raises(ValueError, match=rf"Chain predict: the columns \['{column}'\] appear"):
        fitted_chain.predict(dup)
    with pytest.raises(ValueError, match=rf"Chain score: the columns \['{column}'\] appear"):
        fitted_chain.score(dup, y)
    with pytest.raises(ValueError, match=rf"Chain fit: the columns \['{column}'\] appear more"):
        fitted_chain.fit(dup, y)
    # ... and skchain's own estimators do the same on their own.
    with pytest.raises(ValueError, match=r"KerasTransformer.*\['a1'\]"):
        fitted_pre.transform(pd.concat([df[["a0", "a1", "a2", "a3", "a4"]], df[["a1"]]], axis=1))


def test_missing_column_is_named(fitted_chain, dataset_b, unchanged):
    df, _ = dataset_b
    with pytest.raises(ValueError, match="a3"):
        fitted_chain.predict(df.drop(columns="a3"))


def test_failed_set_params_leaves_the_chain_unchanged(fitted_chain, unchanged):
    with pytest.raises(ValueError, match="frozen"):
        fitted_chain.set_params(features__representation__estimator__epochs=99)
    with pytest.raises(ValueError, match="Invalid parameter"):
        fitted_chain.set_params(regressor__no_such_thing=1)


def test_predict_before_fit(fitted_pre, dataset_b):
    df, _ = dataset_b
    chain = make_chain(fitted_pre, representation_columns=A_COLUMNS)
    with pytest.raises(NotFittedError):
        chain.predict(df)
    with pytest.raises(NotFittedError, match="ChainRegressor"):
        ChainRegressor().predict(np.zeros((2, 3)))


def test_final_network_that_does_not_fit_the_features_is_named(dataset_b, fitted_pre):
    df, y = dataset_b

    def too_narrow(compile_kwargs):
        inputs = keras.Input((3,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile(**compile_kwargs)
        return model

    # 8 outputs of network A, its 6 scaled inputs (representation_passthrough), age
    chain = make_chain(
        fitted_pre,
        representation_columns=A_COLUMNS,
        numeric_columns=["age"],
        regressor=ChainRegressor(model=too_narrow, epochs=1),
    )
    with pytest.raises(
        ValueError, match="ChainRegressor.*network takes 3 input columns, the features have 15"
    ):
        chain.fit(df, y)


# --- the README's promise: stage and column named -----------------------------------------


def test_infinity_in_a_numeric_column_names_it(fitted_chain, dataset_b):
    df, y = dataset_b
    bad = df.astype({"age": float})
    bad.loc[3, "age"] = np.inf
    before = fitted_chain.predict(df)
    for call in (lambda: fitted_chain.predict(bad), lambda: fitted_chain.fit(bad, y)):
        with pytest.raises(ValueError, match=r"numeric columns\): column 'age' holds 1 infinite"):
            call()
    np.testing.assert_array_equal(fitted_chain.predict(df), before)


@pytest.mark.parametrize(
    "column, block", [("age", "numeric"), ("a2", "representation"), ("store", "onehot")]
)
def test_a_missing_column_names_the_stage_and_the_column(fitted_chain, dataset_b, column, block):
    df, _ = dataset_b
    with pytest.raises(
        ValueError,
        match=rf"Chain predict \(features step, '{block}' block\):"
        rf" column\(s\) \['{column}'\] missing",
    ):
        fitted_chain.predict(df.drop(columns=[column]))


@pytest.mark.parametrize(
    "param, value",
    [
        ("batch_size", -3),
        ("batch_size", 0),
        ("validation_batch_size", 0),
        ("validation_batch_size", -2),
        ("epochs", 0),
        ("epochs", -1),
        ("hidden_units", (0,)),
        ("hidden_units", -4),
        ("embedding_dim", 0),
    ],
)
def test_non_positive_sizes_are_refused_before_training(dataset_b, param, value):
    df, y = dataset_b
    regressor = ChainRegressor(**{param: value})
    with pytest.raises(ValueError, match=rf"ChainRegressor \(final network\): {param}="):
        regressor.fit(df[["age"]], y)
    assert not hasattr(regressor, "model_")


@pytest.mark.parametrize(
    "param, value, expected",
    [
        ("fit__batch_size", 0, r"a positive int, None, or -1"),
        ("fit__validation_batch_size", 0, r"a positive int, None, or -1"),
        ("fit__validation_batch_size", 1.5, r"a positive int, None, or -1"),
        ("fit__steps_per_epoch", 0, r"a positive int or None"),
        ("fit__validation_steps", -1, r"a positive int or None"),
        ("fit__epochs", True, r"a positive int$"),
        ("fit__validation_freq", 0, r"a positive int$"),
    ],
)
@pytest.mark.parametrize("kind", ["final network", "network A"])
def test_counts_routed_to_keras_fit_are_checked_before_training(
    dataset_a, dataset_b, kind, param, value, expected
):
    # scikeras routes fit__<name>= to keras.Model.fit; Keras would fall back to its
    # default for some of these zeros without a word.
    if kind == "final network":
        (df, y), estimator = dataset_b, ChainRegressor(epochs=1, **{param: value})
        rows, stage = df[["age"]], r"ChainRegressor \(final network\) fit"
    else:
        (rows, y), estimator = (
            dataset_a,
            KerasTransformer(build_network_a, loss="mse", epochs=1, **{param: value}),
        )
        stage = r"KerasTransformer \(network A\) fit"
    with pytest.raises(ValueError, match=rf"{stage}: {param}={value!r}; expected {expected}"):
        estimator.fit(rows, y)
    assert not hasattr(estimator, "model_")


def test_routed_counts_that_keras_takes_still_work(dataset_b):
    df, y = dataset_b
    steps = []

    class Steps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    ChainRegressor(epochs=2, batch_size=4, fit__steps_per_epoch=3, callbacks=[Steps()]).fit(
        df[["age"]], y
    )
    assert steps == [0, 1, 2, 0, 1, 2]  # Keras' meaning of steps_per_epoch
    steps.clear()
    ChainRegressor(epochs=2, batch_size=4, fit__batch_size=-1, callbacks=[Steps()]).fit(
        df[["age"]], y
    )
    assert steps == [0, 0]  # all rows in one batch


def test_rows_without_column_names_are_refused_by_block(fitted_chain, dataset_b, unchanged):
    df, y = dataset_b
    for method in ("predict", "score", "fit"):
        args = (df.to_numpy(),) if method == "predict" else (df.to_numpy(), y)
        with pytest.raises(
            ValueError,
            match=rf"Chain {'predict' if method == 'score' else method} \(features step,"
            r" '\w+' block\): got a numpy.ndarray without column names; this block"
            r" reads the columns \['a0', .*\]( \.\.\.)? by name: pass a DataFrame",
        ):
            getattr(fitted_chain, method)(*args)


@pytest.mark.parametrize("empty", ["both", "X_val", "y_val"])
def test_empty_validation_rows_are_named_as_validation_rows(dataset_b, fitted_pre, empty):
    df, y = dataset_b
    chain = make_chain(fitted_pre, representation_columns=A_COLUMNS, numeric_columns=["age"])
    X_val = df.iloc[:0] if empty in ("both", "X_val") else df.iloc[:5]
    y_val = y[:0] if empty in ("both", "y_val") else y[:5]
    with pytest.raises(ValueError, match=r"Chain fit \(validation rows, y_val\): ") as error:
        chain.fit(df, y, X_val=X_val, y_val=y_val)
    assert "target y" not in str(error.value)
    assert not hasattr(chain, "n_features_in_")


@pytest.mark.parametrize(
    "param, value",
    [("batch_size", -3), ("epochs", 0), ("batch_size", True), ("epochs", True)],
)
def test_non_positive_sizes_of_network_a_are_refused(dataset_a, param, value):
    X, y = dataset_a
    with pytest.raises(
        ValueError,
        match=rf"The '{param}' parameter of KerasTransformer must be"
        rf" .* Got {value} instead",
    ):
        KerasTransformer(build_network_a, loss="mse", **{param: value}).fit(X, y)


def test_fine_tune_batch_size_is_checked(fitted_pre, dataset_b):
    from skchain import FineTune

    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=[f"a{i}" for i in range(6)],
        regressor=ChainRegressor(epochs=1),
        fine_tune=FineTune(batch_size=-3),
    )
    with pytest.raises(ValueError, match=r"'batch_size' parameter of FineTune must be .*Got -3"):
        chain.fit(df, y)


def test_token_id_zero_is_refused_as_the_padding_id():
    from skchain import SequencePadder

    df = pd.DataFrame({"clicks": [[3, 1], [0, 2], [4]]})
    with pytest.raises(ValueError, match=r"column 'clicks', row 1 .*padding value.*start ids at 1"):
        SequencePadder().fit(df)
    fitted = SequencePadder().fit(df.iloc[[0, 2]])
    with pytest.raises(ValueError, match="padding value"):
        fitted.transform(df)
    # Values (dtype float32) may be 0: Masking(0.0) is documented for them.
    SequencePadder(dtype="float32").fit_transform(df)
