"""KerasTransformer: network A trained on dataset A, transform to a layer."""

import keras
import numpy as np
import pytest
from conftest import build_network_a, make_dataset_a, record_filter_calls
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skchain import DataShiftWarning, KerasTransformer


def test_transform_is_float32_activations_of_the_named_layer(fitted_pre, dataset_a):
    X, _ = dataset_a
    Z = fitted_pre.transform(X)
    assert Z.dtype == np.float32
    assert Z.shape == (X.shape[0], 8)
    # Same numbers as Keras' own submodel on the scaled inputs.
    sub = keras.Model(fitted_pre.model_.inputs[0], fitted_pre.model_.get_layer("embedding").output)
    expected = sub(fitted_pre.scaler_.transform(X).astype(np.float32), training=False).numpy()
    np.testing.assert_allclose(Z, expected, rtol=1e-5, atol=1e-6)
    assert list(fitted_pre.get_feature_names_out()[:2]) == ["embedding0", "embedding1"]
    assert len(fitted_pre.get_feature_names_out()) == 8


def test_network_a_actually_learns(fitted_pre, dataset_a):
    X, y = dataset_a
    history = fitted_pre.history_["loss"]
    assert len(history) == 15
    assert history[-1] < 0.5 * history[0]
    residual = np.mean((fitted_pre.predict(X) - y) ** 2)
    assert residual < np.var(y)


def test_scaler_is_fitted_on_dataset_a_only(fitted_pre, dataset_a, dataset_b):
    X, _ = dataset_a
    np.testing.assert_allclose(fitted_pre.scaler_.mean_, X.mean(axis=0), rtol=1e-5)
    before = fitted_pre.scaler_.mean_.copy()
    df_b, _ = dataset_b
    with pytest.warns(DataShiftWarning):
        fitted_pre.transform(df_b.iloc[:, :6].to_numpy() * 10)
    np.testing.assert_array_equal(fitted_pre.scaler_.mean_, before)


def test_default_layer_is_the_one_before_the_head(dataset_a):
    X, y = dataset_a
    pre = KerasTransformer(build_network_a, loss="mse", epochs=1, random_state=0).fit(X, y)
    assert pre.output_layer_ == "embedding"
    assert pre.transform(X).shape == (len(X), 8)


def test_other_layer_and_scalers(dataset_a):
    X, y = dataset_a
    pre = KerasTransformer(
        build_network_a,
        output_layer="hidden",
        scaler=MinMaxScaler(),
        loss="mse",
        epochs=1,
        random_state=0,
    ).fit(X, y)
    assert pre.transform(X).shape == (len(X), 16)
    assert isinstance(pre.scaler_, MinMaxScaler)
    raw = KerasTransformer(build_network_a, scaler=None, loss="mse", epochs=1, random_state=0)
    assert raw.fit(X, y).scaler_ is None


def test_bad_layer_name_lists_the_layers_before_training(dataset_a):
    X, y = dataset_a
    pre = KerasTransformer(build_network_a, output_layer="embeding", loss="mse", epochs=50)
    with pytest.raises(
        ValueError, match=r"'embeding' is not a layer.*'hidden', 'embedding', 'head'"
    ):
        pre.fit(X, y)
    assert not hasattr(pre, "history_")  # refused before any training


def test_bad_scaler_and_missing_y(dataset_a):
    X, y = dataset_a
    # scikit-learn's parameter validation: the parameter, the estimator, what is allowed.
    allowed = (
        r"The 'scaler' parameter of KerasTransformer must be a str among \{'standard'\},"
        r" None or an object implementing 'fit' and 'transform'. Got "
    )
    with pytest.raises(ValueError, match=allowed + "'minmax' instead"):
        KerasTransformer(build_network_a, scaler="minmax", loss="mse").fit(X, y)
    with pytest.raises(TypeError, match=allowed + "3 instead"):
        KerasTransformer(build_network_a, scaler=3, loss="mse").fit(X, y)
    with pytest.raises(ValueError, match="target y is None"):
        KerasTransformer(build_network_a, loss="mse").fit(X, None)


def test_float64_and_int_inputs_are_cast_once(fitted_pre, dataset_a):
    X, _ = dataset_a
    np.testing.assert_array_equal(
        fitted_pre.transform(X.astype(np.float64)), fitted_pre.transform(X)
    )
    Xi = np.round(X).astype(np.int64)
    np.testing.assert_array_equal(
        fitted_pre.transform(Xi), fitted_pre.transform(Xi.astype(np.float32))
    )


def test_wrong_width_and_unfitted(fitted_pre):
    with pytest.raises(ValueError, match="KerasTransformer.*X has 5 features.*expecting 6"):
        fitted_pre.transform(np.zeros((3, 5)))
    with pytest.raises(NotFittedError, match="network A"):
        KerasTransformer(build_network_a).transform(np.zeros((3, 6)))


def test_same_random_state_same_network(dataset_a):
    X, y = dataset_a

    def make():
        return KerasTransformer(build_network_a, loss="mse", epochs=3, random_state=7)

    np.testing.assert_array_equal(make().fit(X, y).transform(X), make().fit(X, y).transform(X))


def test_clone_is_unfitted_with_same_params(fitted_pre):
    copy = clone(fitted_pre)
    assert not hasattr(copy, "model_")
    assert copy.get_params()["output_layer"] == "embedding"
    assert copy.get_params()["epochs"] == 15


def test_from_model_wraps_a_trained_network_without_training(fitted_pre, dataset_a):
    X, _ = dataset_a
    weights = [w.copy() for w in fitted_pre.model_.get_weights()]
    wrapped = KerasTransformer.from_model(
        fitted_pre.model_, output_layer="embedding", scaler=fitted_pre.scaler_
    )
    np.testing.assert_array_equal(wrapped.transform(X), fitted_pre.transform(X))
    for before, after in zip(weights, fitted_pre.model_.get_weights(), strict=False):
        np.testing.assert_array_equal(before, after)
    assert wrapped.n_features_in_ == 6


def test_from_model_checks_its_arguments(fitted_pre):
    with pytest.raises(TypeError, match="expects a keras.Model"):
        KerasTransformer.from_model("not a model")
    with pytest.raises(NotFittedError, match="scaler already fitted"):
        KerasTransformer.from_model(fitted_pre.model_, scaler=StandardScaler())
    with pytest.raises(ValueError, match="'nope' is not a layer"):
        KerasTransformer.from_model(fitted_pre.model_, output_layer="nope")


def test_layer_with_3d_output_is_refused():
    inputs = keras.Input((6,))
    seq = keras.layers.Reshape((3, 2), name="seq")(inputs)
    out = keras.layers.Dense(1)(keras.layers.Flatten()(seq))
    model = keras.Model(inputs, out)
    with pytest.raises(ValueError, match="outputs shape .*expected a 2-D output"):
        KerasTransformer.from_model(model, output_layer="seq")


def test_partial_fit_and_score_are_not_offered(fitted_pre):
    assert not hasattr(fitted_pre, "partial_fit")
    assert not hasattr(fitted_pre, "score")


def test_output_layer_is_resolved_once_per_fit_and_the_frozen_step_overrides_it(
    fitted_pre, dataset_a
):
    from skchain import FrozenTransformer

    X, y = dataset_a
    assert fitted_pre.output_layer_ == "embedding"
    assert fitted_pre.layer().name == "embedding" and fitted_pre.layer("hidden").name == "hidden"
    # The parameter takes effect at the next fit (scikit-learn's convention) ...
    pre = clone(fitted_pre).set_params(epochs=1, output_layer=None)
    pre.fit(X, y)
    assert pre.output_layer_ == "embedding"  # the default: the layer before the head
    pre.set_params(output_layer="hidden")
    assert pre.transform(X).shape == (len(X), 8)
    assert pre.fit(X, y).output_layer_ == "hidden" and pre.transform(X).shape == (len(X), 16)
    # ... while the frozen step's own output_layer is read at every call: searchable.
    X_b, _ = make_dataset_a(60, seed=3)
    frozen = FrozenTransformer(fitted_pre).fit(X_b)
    assert frozen.transform(X_b).shape == (len(X_b), 8)
    frozen.set_params(output_layer="hidden")
    assert frozen.transform(X_b).shape == (len(X_b), 16)
    assert frozen.get_feature_names_out()[0] == "hidden0"
    np.testing.assert_array_equal(frozen.transform(X_b), fitted_pre.representation(X_b, "hidden"))


def test_forward_passes_in_chunks_equal_one_pass(fitted_pre, dataset_a):
    from skchain._inference import CompiledForward, forward_in_chunks

    X, _ = dataset_a
    scaled = fitted_pre.scaled_inputs(X)
    whole = CompiledForward(fitted_pre.model_)([scaled])
    # Equal to float32 rounding, not bit for bit: oneDNN blocks a matrix product by the number
    # of rows, so on some CPUs (AMD EPYC here) a row's outputs differ in the last bits with the
    # chunk size (up to 3.6e-7 on values near 0.5). skchain's paths that must agree bit for bit
    # (the fused graph's cache and transform) use one chunk size.
    np.testing.assert_allclose(
        CompiledForward(fitted_pre.model_, chunk_rows=7)([scaled]), whole, rtol=1e-5, atol=1e-6
    )
    model = fitted_pre.model_
    multi = keras.Model(model.inputs[0], [model.get_layer("hidden").output, model.output])
    parts = forward_in_chunks(lambda x: multi(x, training=False), [scaled], 50)
    assert [p.shape for p in parts] == [(len(X), 16), (len(X), 1)]
    assert all(p.dtype == np.float32 for p in parts)
    np.testing.assert_allclose(parts[1], whole, rtol=1e-5, atol=1e-6)


def test_a_compiled_keras_model_as_model_trains_a_copy(dataset_a, monkeypatch):
    # The user's own compiled (never trained) network: each fit trains a copy that starts
    # from its weights, leaves it untouched, and copies it without Keras' "Skipping
    # variable loading for optimizer" warning and without touching warning filters.
    import warnings

    X, y = dataset_a
    inputs = keras.Input((X.shape[1],))
    hidden = keras.layers.Dense(8, activation="relu", name="embedding")(inputs)
    network = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    network.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    initial = [w.copy() for w in network.get_weights()]

    def make():
        return KerasTransformer(
            network, output_layer="embedding", loss="mse", epochs=2, random_state=0
        )

    pre = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        touched = record_filter_calls(monkeypatch)
        pre.fit(X, y)
        again = make().fit(X, y)
        monkeypatch.undo()
    # No filter that silences a UserWarning (pandas and scikit-learn set their own others).
    silencing = [
        (a, k)
        for a, k in touched
        if a[:1] == ("ignore",) and issubclass(UserWarning, k.get("category", Warning))
    ]
    assert not silencing
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    assert pre.model_ is not network
    for before, after in zip(initial, network.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(pre.model_.get_weights()[0], initial[0])  # the copy trained
    np.testing.assert_array_equal(pre.transform(X), again.transform(X))
