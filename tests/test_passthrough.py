"""representation_passthrough: network A's scaled inputs as a block beside its representation."""

import numpy as np
import pandas as pd
import pytest
from conftest import build_network_a

from skchain import ChainRegressor, FineTune, KerasTransformer, SequencePadder, make_chain

COLUMNS = [f"a{i}" for i in range(6)]


@pytest.fixture(scope="module")
def named_pre(dataset_a):
    X, y = dataset_a
    return KerasTransformer(
        build_network_a, output_layer="embedding", loss="mse", epochs=2, random_state=0
    ).fit(pd.DataFrame(X, columns=COLUMNS), y)


@pytest.mark.parametrize("fine_tune", [None, FineTune(epochs=1)], ids=["frozen", "fine-tuned"])
def test_the_inputs_block_is_scaled_by_network_a_and_served(named_pre, dataset_b, fine_tune):
    df, y = dataset_b
    chain = make_chain(
        named_pre,
        representation_columns=COLUMNS[::-1],
        numeric_columns=["age"],
        representation_passthrough=True,
        fine_tune=fine_tune,
        regressor=ChainRegressor(epochs=2, random_state=0),
    ).fit(df, y)
    features = chain[:-1].transform(df)
    inputs = features.filter(like="representation_inputs__")
    assert list(inputs.columns) == [f"representation_inputs__{c}" for c in COLUMNS]  # A's order
    expected = named_pre.scaler_.transform(df[COLUMNS].to_numpy())
    np.testing.assert_allclose(inputs.to_numpy(), expected, rtol=1e-5, atol=1e-5)
    step_by_step = chain[-1].predict(features)
    np.testing.assert_allclose(chain.predict(df), step_by_step, rtol=1e-5, atol=1e-5)
    served = np.asarray(chain.to_keras()(chain.serving_inputs(df))).ravel()
    np.testing.assert_allclose(served, step_by_step, rtol=1e-5, atol=1e-5)
    assert [name for name, _, _ in chain.named_steps["regressor"].input_blocks_] == [
        "representation",
        "representation_inputs",
        "numeric",
    ]


def test_passthrough_needs_numeric_inputs(fitted_pre):
    with pytest.raises(ValueError, match="representation_passthrough=True needs"):
        make_chain(
            fitted_pre,
            representation_columns=["tokens"],
            representation_passthrough=True,
            representation_padder=SequencePadder(maxlen=4),
        )


def test_auto_is_on_for_numeric_inputs_and_off_for_sequences(fitted_pre):
    """representation_passthrough="auto" (the default): on unless network A reads sequences."""

    def blocks(chain):
        return [name for name, _, _ in chain.named_steps["features"].transformers]

    assert "representation_inputs" in blocks(make_chain(fitted_pre, representation_columns=COLUMNS))
    assert "representation_inputs" not in blocks(
        make_chain(fitted_pre, representation_columns=COLUMNS, representation_passthrough=False)
    )
    assert blocks(
        make_chain(
            fitted_pre,
            representation_columns=["tokens"],
            representation_padder=SequencePadder(maxlen=4),
        )
    ) == ["representation"]
    with pytest.raises(ValueError, match="representation_passthrough='yes'; expected True, False"):
        make_chain(fitted_pre, representation_columns=COLUMNS, representation_passthrough="yes")
