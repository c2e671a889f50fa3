"""Importing and using skchain leaves how Keras objects pickle and copy as Keras has it.

scikeras, which skchain's estimators subclass, replaces ``keras.Model.__reduce__``
(and adds ``__deepcopy__``; and replaces ``__reduce__`` of losses, metrics and
optimizers) for the whole process when it is imported, and its pickling
registers every pickled model's class in Keras' registry of custom objects.
The process-wide checks run in fresh Python processes, as a user's script
starts: the first import of skchain is the one that loads scikeras.
"""

import json
import pickle
import random
import textwrap
import warnings

import keras
import numpy as np
import pytest
from conftest import run_fresh
from sklearn.base import clone

from skchain import ChainRegressor, KerasTransformer
from skchain._base import copy_network

# Each class and attribute scikeras replaces, as "Class.attribute" → where it comes from.
SNAPSHOT = textwrap.dedent("""
    import json
    import keras

    def pickling_methods():
        out = {}
        for kind in (keras.Model, keras.losses.Loss, keras.metrics.Metric,
                     keras.optimizers.Optimizer):
            for name in ("__reduce__", "__deepcopy__"):
                value = getattr(kind, name, None)
                out[f"{kind.__name__}.{name}"] = (
                    None if value is None else f"{value.__module__}.{value.__qualname__}")
        return out

    def users_saved_registered_names():
        import io, zipfile
        inputs = keras.Input((3,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.save("user.keras")
        config = json.loads(zipfile.ZipFile("user.keras").read("config.json"))
        names = []  # every registered_name Keras wrote (layer names vary with counters)
        def walk(value):
            if isinstance(value, dict):
                if "class_name" in value:
                    names.append([value["class_name"], value.get("registered_name")])
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)
        walk(config)
        return names
""")


def _run(script, tmp_path):
    """Run the snapshot helpers and ``script`` in a fresh process; its last line as JSON."""
    out = run_fresh(SNAPSHOT + textwrap.dedent(script), cwd=tmp_path)
    return json.loads(out.strip().splitlines()[-1])


def test_importing_and_using_skchain_leaves_keras_pickling_alone(tmp_path):
    out = _run(
        """
        import copy, pickle
        keras_own = pickling_methods()
        saved_before = users_saved_registered_names()
        import joblib, skchain
        from sklearn.base import clone
        from conftest import build_network_a, make_dataset_a, make_dataset_b
        from skchain import ChainClassifier, ChainRegressor, KerasTransformer, make_chain
        after_import = pickling_methods()
        registry = sorted(keras.saving.get_custom_objects())

        X, y = make_dataset_a(120)
        df, y_b = make_dataset_b(90)
        pre = KerasTransformer(build_network_a, output_layer="embedding", loss="mse",
                               epochs=1, random_state=0).fit(X, y)
        chain = make_chain(pre, representation_columns=[f"a{i}" for i in range(6)],
                           categorical_columns=["store"], numeric_columns=["age"],
                           regressor=ChainRegressor(epochs=1, random_state=0)).fit(df, y_b)
        ChainClassifier(epochs=1, random_state=0).fit(X, y > 0)
        joblib.dump(chain, "chain.joblib")
        same = bool((joblib.load("chain.joblib").predict(df) == chain.predict(df)).all())
        pickle.loads(pickle.dumps(pre)); copy.deepcopy(chain); clone(chain).fit(df, y_b)
        network = build_network_a({"n_features_in_": 6})
        KerasTransformer(model=network, output_layer="embedding", loss="mse",
                         epochs=1).fit(X, y)
        skchain.save(chain, "chain.skchain")

        print(json.dumps({
            "keras_own": keras_own, "after_import": after_import, "after_use": pickling_methods(),
            "registry_added": sorted(set(keras.saving.get_custom_objects()) - set(registry)),
            "saved_same": users_saved_registered_names() == saved_before, "reloaded_same": same,
        }))
    """,
        tmp_path,
    )
    assert out["keras_own"]["Model.__deepcopy__"] is None
    assert out["keras_own"]["Model.__reduce__"].startswith("keras.")
    assert out["after_import"] == out["keras_own"], "importing skchain replaced Keras' methods"
    assert out["after_use"] == out["keras_own"]
    assert out["registry_added"] == [], "pickling registered classes with Keras"
    assert out["saved_same"], "a model the user saves is written differently after skchain ran"
    assert out["reloaded_same"]


def test_scikeras_imported_by_the_user_first_keeps_its_methods(tmp_path):
    out = _run(
        """
        import scikeras
        theirs = pickling_methods()
        import skchain
        from skchain import ChainRegressor, KerasTransformer
        print(json.dumps({"theirs": theirs, "after": pickling_methods()}))
    """,
        tmp_path,
    )
    assert out["theirs"]["Model.__reduce__"] == "scikeras._saving_utils.pack_keras_model"
    assert out["after"] == out["theirs"]


class _Subclassed(keras.Model):
    """A network of the user's own ``keras.Model`` subclass, not registered with Keras."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = keras.layers.Dense(units, activation="relu")
        self.head = keras.layers.Dense(1)

    def call(self, inputs):
        return self.head(self.hidden(inputs))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _subclassed_network():
    network = _Subclassed()
    network.compile(optimizer="adam", loss="mse")
    network(np.zeros((1, 6), np.float32))
    return network


def test_an_unregistered_subclass_copies_and_pickles_without_registering():
    network = _subclassed_network()
    registry = dict(keras.saving.get_custom_objects())
    X = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    pickled = pickle.loads(pickle.dumps(ChainRegressor(model=network))).model
    for copy in (copy_network(network), pickled):
        assert type(copy) is _Subclassed and copy is not network
        np.testing.assert_array_equal(copy(X), network(X))
    assert keras.saving.get_custom_objects() == registry


@pytest.mark.parametrize(
    "estimator, stage",
    [
        (KerasTransformer(loss="mse", epochs=1), r"KerasTransformer \(network A\)"),
        (ChainRegressor(epochs=1), r"ChainRegressor \(final network\)"),
    ],
)
def test_a_network_without_a_graph_of_layers_is_a_named_type_error(dataset_a, estimator, stage):
    X, y = dataset_a
    for network in (_subclassed_network(), keras.Sequential([keras.layers.Dense(1)])):
        with pytest.raises(TypeError, match=stage + r".*functional or Sequential.*no defined"):
            estimator.set_params(model=network).fit(X, y)


def test_from_model_of_a_subclassed_network_is_a_named_type_error(dataset_a):
    network = _subclassed_network()
    with pytest.raises(TypeError, match=r"KerasTransformer \(network A\).*no defined inputs"):
        KerasTransformer.from_model(network)


def _functional_network(compiled=True):
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(4, name="embedding")(inputs)
    network = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    if compiled:
        network.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return network


@pytest.mark.parametrize("trained", [False, True])
def test_clone_copies_a_network_parameter_without_drawing_or_warning(dataset_a, trained):
    """scikit-learn's clone deep-copies it: Keras' saving seeded the copy's layers from
    Python's global random and warned about an untrained optimizer's missing state."""
    X, y = dataset_a
    network = _functional_network()
    if trained:
        network.fit(X, y, epochs=1, verbose=0)
    estimator = KerasTransformer(model=network, output_layer="embedding", loss="mse", epochs=1)
    state = random.getstate()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copy = clone(estimator)
    assert random.getstate() == state, "clone drew from Python's global random"
    assert [str(w.message) for w in caught if issubclass(w.category, UserWarning)] == []
    assert copy.model is not network and copy.get_params()["output_layer"] == "embedding"
    for mine, theirs in zip(copy.model.get_weights(), network.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert copy.model.get_compile_config() == network.get_compile_config()
    assert int(copy.model.optimizer.iterations) == int(network.optimizer.iterations)
    # ... and the clone fits as the original does.
    np.testing.assert_array_equal(
        copy.set_params(random_state=0).fit(X, y).transform(X[:5]),
        clone(estimator).set_params(random_state=0).fit(X, y).transform(X[:5]),
    )


@keras.saving.register_keras_serializable(package="skchain_tests")
class _Registered(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


class _Unregistered(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


def _network_with(layer):
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(4, name="embedding")(layer()(inputs))
    network = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    network.compile(optimizer="adam", loss="mse")
    return network


def test_a_network_keras_cannot_reload_is_a_named_error(dataset_a):
    X, y = dataset_a
    pre = KerasTransformer(model=_network_with(_Registered), output_layer="embedding", epochs=1)
    assert pre.fit(X, y).transform(X[:2]).shape == (2, 4)  # registered: copied and trained
    unregistered = KerasTransformer(
        model=_network_with(_Unregistered), output_layer="embedding", epochs=1
    )
    with pytest.raises(
        TypeError, match=r"KerasTransformer \(network A\): model= could not be copied.*register"
    ):
        unregistered.fit(X, y)
