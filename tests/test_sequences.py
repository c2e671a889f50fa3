"""Variable-length sequences: padding, masking, a recurrent network A inside the chain."""

import io

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import skchain
from skchain import ChainRegressor, KerasTransformer, SequencePadder, make_chain

MAXLEN = 10
VOCABULARY = 20


def _token_lists(rng, n_rows, longest=9):
    return [list(rng.integers(1, VOCABULARY, rng.integers(1, longest + 1))) for _ in range(n_rows)]


def _count_threes(sequences):
    return np.array([sum(t == 3 for t in s) for s in sequences], dtype=np.float32)


def build_sequence_network_a(meta):
    """Token ids -> Embedding(mask_zero) -> LSTM ("embedding") -> Dense(1)."""
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Embedding(
        VOCABULARY + 1,
        8,
        mask_zero=True,
        name="tokens",
        embeddings_initializer=keras.initializers.RandomUniform(seed=1),
    )(inputs)
    x = keras.layers.LSTM(
        8,
        name="embedding",
        kernel_initializer=keras.initializers.GlorotUniform(seed=2),
        recurrent_initializer=keras.initializers.Orthogonal(seed=3),
    )(x)
    outputs = keras.layers.Dense(
        1, name="head", kernel_initializer=keras.initializers.GlorotUniform(seed=4)
    )(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def sequence_pre():
    """Network A trained on dataset A's padded token sequences (counts the 3s)."""
    rng = np.random.default_rng(0)
    tokens = _token_lists(rng, 400)
    X_a = SequencePadder(maxlen=MAXLEN).fit_transform(pd.DataFrame({"tokens": tokens}))
    pre = KerasTransformer(
        build_sequence_network_a,
        scaler=None,
        output_layer="embedding",
        loss="mse",
        epochs=15,
        batch_size=32,
        optimizer__learning_rate=0.02,
        random_state=0,
        shift_check="off",
        leakage_check="off",
    )
    return pre.fit(X_a, _count_threes(tokens))


def _dataset_b(n_rows=240, seed=1):
    rng = np.random.default_rng(seed)
    tokens = _token_lists(rng, n_rows)
    events = [list(rng.normal(size=rng.integers(1, 6)).round(3) + 0.5) for _ in range(n_rows)]
    df = pd.DataFrame(
        {"tokens": tokens, "events": events, "store": rng.choice(list("abc"), n_rows)}
    )
    y = 2 * _count_threes(tokens) + np.array([sum(e) for e in events]) + (df["store"] == "a")
    return df, y.astype(np.float64)


def test_padder_pads_and_truncates_as_keras_does():
    sequences = [[1, 2, 3, 4, 5], [6], [], None]
    df = pd.DataFrame({"s": sequences})
    expected_inputs = [s if s is not None else [] for s in sequences]
    for padding in ("pre", "post"):
        for truncating in ("pre", "post"):
            padder = SequencePadder(maxlen=3, padding=padding, truncating=truncating, value=0)
            out = padder.fit_transform(df)
            expected = keras.utils.pad_sequences(
                expected_inputs, maxlen=3, padding=padding, truncating=truncating
            )
            np.testing.assert_array_equal(out, expected)
            assert out.dtype == np.int32
    longest = SequencePadder().fit(df)
    assert longest.maxlen_ == 5
    assert longest.transform(pd.DataFrame({"s": [[1] * 9]})).shape == (1, 5)


def test_padder_values_names_pandas_output_and_clone():
    df = pd.DataFrame({"a": [[0.5, -1.0], [2.0]], "b": [[1.0], np.array([3.0, 4.0, 5.0])]})
    padder = SequencePadder(maxlen=2, dtype="float32", padding="post").set_output(
        transform="pandas"
    )
    out = padder.fit_transform(df)
    assert list(out.columns) == ["a_0", "a_1", "b_0", "b_1"]
    assert out.dtypes.eq(np.float32).all()
    np.testing.assert_array_equal(out.to_numpy(), [[0.5, -1.0, 1.0, 0.0], [2.0, 0.0, 4.0, 5.0]])
    assert clone(padder).get_params() == padder.get_params()
    assert not hasattr(clone(padder), "maxlen_")


@pytest.mark.parametrize(
    "cell, error, match",
    [
        ("abc", TypeError, "column 's', row 1 holds 'abc'; expected a list"),
        (5, TypeError, "column 's', row 1 holds 5"),
        ([1, "x"], TypeError, "non-numeric steps"),
        ([1.5], ValueError, "token ids must be non-negative integers"),
        ([-2], ValueError, "token ids must be non-negative integers"),
        ([[1, 2]], ValueError, "expected a 1-D sequence"),
        ([1, float("nan")], ValueError, "NaN or infinity"),
    ],
)
def test_padder_names_the_bad_cell(cell, error, match):
    df = pd.DataFrame({"s": [[1, 2], cell]})
    with pytest.raises(error, match=match):
        SequencePadder(maxlen=3).fit(df)


def test_padder_rejects_bad_parameters():
    for params, match in [
        ({"maxlen": 0}, "maxlen"),
        ({"padding": "mid"}, "padding"),
        ({"dtype": "int64"}, "dtype"),
    ]:
        with pytest.raises(ValueError, match=rf"The '{match}' parameter of SequencePadder must be"):
            SequencePadder(**params).fit(pd.DataFrame({"s": [[1]]}))
    # Declared once, for every parameter (scikit-learn's own check skips this
    # estimator: its cells are sequences, which the check cannot generate).
    assert set(SequencePadder._parameter_constraints) == set(SequencePadder().get_params())


def test_masking_makes_padding_side_irrelevant_for_network_a(sequence_pre):
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"tokens": _token_lists(rng, 50)})
    pre_padded = SequencePadder(maxlen=MAXLEN, padding="pre").fit_transform(df)
    post_padded = SequencePadder(maxlen=MAXLEN, padding="post").fit_transform(df)
    assert not np.array_equal(pre_padded, post_padded)
    np.testing.assert_allclose(
        sequence_pre.transform(pre_padded), sequence_pre.transform(post_padded), atol=1e-6
    )


def _sequence_chain(pre, epochs=25):
    return make_chain(
        pre,
        representation_columns=["tokens"],
        representation_padder=SequencePadder(maxlen=MAXLEN),
        categorical_columns=["store"],
        sequence_columns=["events"],
        sequence_padder=SequencePadder(dtype="float32"),
        regressor=ChainRegressor(
            epochs=epochs,
            random_state=0,
            hidden_units=(16,),
            branch_units=16,
            optimizer__learning_rate=0.01,
        ),
    )


def test_recurrent_network_a_inside_the_chain_end_to_end(sequence_pre, tmp_path):
    df, y = _dataset_b()
    train, test = slice(0, 180), slice(180, None)
    chain = _sequence_chain(sequence_pre).fit(df[train], y[train])
    regressor = chain.named_steps["regressor"]
    assert [name for name, _, _ in regressor.input_blocks_] == [
        "representation",
        "onehot",
        "sequence_events",
    ]
    assert regressor.sequence_blocks_["sequence_events"] == {
        "tokens": False,
        "steps": 5,
        "vocabulary": 0,
    }
    assert any(isinstance(layer, keras.layers.Masking) for layer in regressor.model_.layers)
    score = chain.score(df[test], y[test])
    baseline = 1 - np.var(y[test] - y[train].mean()) / np.var(y[test])
    assert score > baseline + 0.3, score
    # A sequence longer than any seen, and a missing one, are padded, not refused.
    new = df[test].head(3).copy()
    new.at[new.index[0], "events"] = list(np.ones(20))
    new.at[new.index[1], "tokens"] = None
    assert np.isfinite(chain.predict(new)).all()
    buffer = io.BytesIO()
    joblib.dump(chain, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict(new), chain.predict(new))
    skchain.save(chain, tmp_path / "sequences.skchain")
    loaded = skchain.load(
        tmp_path / "sequences.skchain", trusted=[f"{__name__}.build_sequence_network_a"]
    )
    np.testing.assert_array_equal(loaded.predict(new), chain.predict(new))


def _sequence_frame(sequences, padding, maxlen=6):
    padded = keras.utils.pad_sequences(sequences, maxlen=maxlen, padding=padding, dtype="int32")
    return pd.DataFrame(padded, columns=[f"sequence__s_{t}" for t in range(maxlen)]).astype(
        np.int32
    )


def test_final_network_token_branch_masks_padding():
    rng = np.random.default_rng(2)
    sequences = _token_lists(rng, 200, longest=6)
    y = _count_threes(sequences)
    regressor = ChainRegressor(
        epochs=30,
        random_state=0,
        branch_units=8,
        hidden_units=(8,),
        optimizer__learning_rate=0.02,
        token_embedding_dim=4,
    )
    regressor.fit(_sequence_frame(sequences, "pre"), y)
    info = regressor.sequence_blocks_["sequence"]
    assert info == {"tokens": True, "steps": 6, "vocabulary": VOCABULARY + 1}
    assert regressor.score(_sequence_frame(sequences, "pre"), y) > 0.5
    # Padding on the other side, or an id never seen, changes nothing / fails nothing.
    np.testing.assert_allclose(
        regressor.predict(_sequence_frame(sequences[:20], "post")),
        regressor.predict(_sequence_frame(sequences[:20], "pre")),
        atol=1e-5,
    )
    unseen = _sequence_frame([[1, 500, 2]], "pre")
    assert np.isfinite(regressor.predict(unseen)).all()


def test_sequence_chain_served_as_one_model(sequence_pre, tmp_path):
    """Padded sequences in, the recurrent network A and the masked GRU branch inside:
    to_keras and ONNX equal predict."""
    df, y = _dataset_b(n_rows=120)
    chain = _sequence_chain(sequence_pre, epochs=2).fit(df, y)
    new = df.head(12).copy()
    new.at[new.index[0], "events"] = list(np.ones(20))  # longer than any seen: truncated
    new.at[new.index[1], "tokens"] = None  # missing: all padding
    inputs = chain.serving_inputs(new)
    assert inputs["tokens"].shape == (12, MAXLEN) and inputs["events"].shape == (12, 5)
    expected = chain.predict(new)
    np.testing.assert_allclose(np.asarray(chain.to_keras()(inputs)), expected, rtol=1e-5, atol=1e-6)
    onnxruntime = pytest.importorskip("onnxruntime")
    path = chain.export(tmp_path / "sequences.onnx", format="onnx")
    served = onnxruntime.InferenceSession(str(path)).run(None, inputs)[0]
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-5)
