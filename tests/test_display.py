"""What users see: plots (Agg backend), the HTML diagram, training history."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import N_A_FEATURES  # noqa: E402

from skchain import ChainRegressor, FineTune, make_chain  # noqa: E402
from skchain.plot import plot_embeddings, plot_history, plot_shift  # noqa: E402

A_COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_history_draws_network_a_and_the_final_network(fitted_chain, fitted_pre):
    figure = plot_history(fitted_chain)
    left, right = figure.axes
    assert left.get_title() == "network A (dataset A)"
    assert right.get_title() == "final network (dataset B)"
    (loss_a,) = left.get_lines()
    np.testing.assert_allclose(loss_a.get_ydata(), fitted_pre.history_["loss"])
    assert list(loss_a.get_xdata()) == list(range(1, len(fitted_pre.history_["loss"]) + 1))
    assert [line.get_label() for line in right.get_lines()] == ["loss"]


def test_plot_history_shows_validation_and_fine_tuning(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=A_COLUMNS,
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=3, validation_split=0.2, random_state=0),
        fine_tune=FineTune(epochs=2),
    ).fit(df, y)
    regressor = chain.named_steps["regressor"]
    assert set(regressor.history_) == {"loss", "val_loss"}
    assert len(regressor.history_["val_loss"]) == 3
    figure = plot_history(chain)
    assert len(figure.axes) == 3
    final, tuned = figure.axes[1], figure.axes[2]
    labels = {line.get_label(): line for line in final.get_lines()}
    assert set(labels) == {"loss", "val_loss"} and labels["val_loss"].get_linestyle() == "--"
    assert tuned.get_title().startswith("fine-tuning") and len(tuned.get_lines()) == 1
    # A single network, into given axes.
    _, ax = plt.subplots()
    assert plot_history(regressor, axes=ax).axes == [ax]
    with pytest.raises(ValueError, match="3 panels to draw, 1 axes given"):
        plot_history(chain, axes=ax)
    with pytest.raises(TypeError, match="expected a fitted chain"):
        plot_history("nope")


def test_plot_shift_marks_the_features_over_the_threshold(fitted_pre, dataset_b):
    df, _ = dataset_b
    shifted = df[A_COLUMNS].copy()
    shifted["a2"] = shifted["a2"] * 4 + 30
    ax = plot_shift(fitted_pre, shifted.to_numpy(np.float32), top=4)
    bars = ax.patches
    assert len(bars) == 4
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    # Worst on top; the shifted input and network A's outputs that follow it.
    assert "x2" in labels and ax.get_yticks()[0] == max(ax.get_yticks())
    widths = [bar.get_width() for bar in bars]
    level = -np.log10(fitted_pre.shift_alpha)
    assert widths[0] == max(widths) and widths[0] > level  # -log10 of the adjusted p-value
    (threshold,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert threshold.get_xdata()[0] == pytest.approx(level)
    assert any("mean " in text.get_text() for text in ax.texts)  # effect sizes, in words
    assert "over)" in ax.get_title() and "(0 over)" not in ax.get_title()


def test_plot_embeddings_projects_each_embedded_column(fitted_pre, dataset_b):
    df, y = dataset_b
    df = df.copy()
    df["city"] = np.random.default_rng(0).choice([f"c{i}" for i in range(12)], len(df))
    chain = make_chain(
        fitted_pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store", "city"],
        categorical_encoding="embed",
        regressor=ChainRegressor(epochs=2, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chain.fit(df, y)
    figure = plot_embeddings(chain, max_labels=5)
    store, city = figure.axes
    assert city.get_title() == "city: 14 rows, width 6"
    assert len(city.collections[0].get_offsets()) == 14
    assert [text.get_text() for text in city.texts] == ["<missing>", "<unknown>", "c0", "c1", "c10"]
    assert store.get_title().startswith("store: 5 rows, width 2")
    with pytest.raises(ValueError, match="no learned embedding for \\['age'\\]"):
        plot_embeddings(chain, ["age"])


def test_html_diagram_names_the_blocks(fitted_chain):
    html = fitted_chain._repr_html_()
    for name in [
        "features",
        "representation",
        "onehot",
        "numeric",
        "regressor",
        "FrozenTransformer",
        "ChainRegressor",
    ]:
        assert name in html
    assert "epochs=2" in html.replace("&#x27;", "'").replace(" ", "")


def test_history_is_recorded_per_epoch(fitted_pre):
    assert set(fitted_pre.history_) == {"loss"}
    assert len(fitted_pre.history_["loss"]) == 15
    assert fitted_pre.history_["loss"][-1] < fitted_pre.history_["loss"][0]
    assert isinstance(pd.Series(fitted_pre.history_["loss"]).iloc[0], float)
