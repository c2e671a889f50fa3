"""skchain.plot on real (tiny) fitted objects, rendered with Agg: what is drawn and where."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import N_A_FEATURES, make_dataset_a  # noqa: E402

from skchain import ChainRegressor, make_chain  # noqa: E402
from skchain.plot import plot_history, plot_shift  # noqa: E402

A_COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]
LONG_NAMES = [
    "(all features: location) of the pixels",
    "px21",
    "a much longer feature name",
    "px3",
    "px4",
    "px5",
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _outside(figure, artists):
    """The texts of ``artists`` that are not wholly inside ``figure`` once it is drawn."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    outside = []
    for artist in artists:
        if not artist.get_visible() or not artist.get_text():
            continue
        extent = artist.get_window_extent(renderer)
        if not (
            box.x0 <= extent.x0
            and extent.x1 <= box.x1
            and box.y0 <= extent.y0
            and extent.y1 <= box.y1
        ):
            outside.append(artist.get_text())
    return outside


def _shifted(column=3):
    X, _ = make_dataset_a(120, seed=11)
    X[:, column] = X[:, column] * 4 + 30
    return X


def test_a_clean_batch_draws_the_closest_features_and_says_none_differs(fitted_pre):
    X, _ = make_dataset_a(120, seed=7)  # dataset A's distribution, other rows
    report = fitted_pre.shift_report(X)
    assert (report["adjusted_p"] > fitted_pre.shift_alpha).all()
    ax = plot_shift(fitted_pre, X, top=5)
    bars = ax.patches
    assert len(bars) == 5 and len(ax.get_yticklabels()) == 5
    level = -np.log10(fitted_pre.shift_alpha)
    widths = np.array([bar.get_width() for bar in bars])
    np.testing.assert_allclose(widths, -np.log10(report["adjusted_p"].head(5).to_numpy()))
    assert (widths < level).all()
    # A bar of zero length (adjusted p = 1) still shows, as its edge.
    assert all(bar.get_linewidth() > 0 for bar in bars)
    title = ax.get_title()
    smallest = report["adjusted_p"].min()
    assert title.startswith("no feature differs from network A's training data")
    assert f"smallest adjusted p = {smallest:.2g}; alarm at 0.01" in title
    assert "over)" not in title
    (threshold,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert threshold.get_xdata()[0] == pytest.approx(level)
    assert ax.get_xlim()[1] > level  # the alarm level is in the picture
    assert [t.get_text() for t in ax.texts][0].startswith(f"p {report['adjusted_p'][0]:.2g}; ")
    assert not any("nan" in text.get_text() for text in ax.texts)


def test_a_shifted_batch_names_the_shifted_feature_first(fitted_pre):
    names = [f"px{i}" for i in range(N_A_FEATURES)]
    ax = plot_shift(fitted_pre, _shifted(3), feature_names=names, top=20)
    report = fitted_pre.shift_report(_shifted(3), feature_names=names)
    # Worst on top, as the report orders them; network A's outputs move with the
    # shifted input and may come first, but px3 is the first input named.
    order = np.argsort(-ax.get_yticks())
    labels = [ax.get_yticklabels()[i].get_text() for i in order]
    expected = [
        f if lv == "input" else f"{f} (output)"
        for f, lv in zip(report["feature"], report["level"], strict=False)
    ]
    assert labels == expected
    inputs = [label for label in labels if label in names]
    assert inputs[0] == "px3"
    bars = ax.patches
    px3 = bars[labels.index("px3")]
    assert px3.get_facecolor() == pytest.approx(matplotlib.colors.to_rgba("tab:red"))
    assert px3.get_width() > -np.log10(fitted_pre.shift_alpha)
    assert bars[0].get_width() == max(bar.get_width() for bar in bars)
    over = int((report["adjusted_p"] <= fitted_pre.shift_alpha).sum())
    assert ax.get_title() == f"drift from network A's training data ({over} of {len(report)} over)"


@pytest.mark.parametrize("shift", [False, True], ids=["clean", "shifted"])
def test_labels_stay_inside_the_saved_figure(fitted_pre, tmp_path, shift):
    X = _shifted(0) if shift else make_dataset_a(120, seed=7)[0]
    ax = plot_shift(fitted_pre, X, feature_names=LONG_NAMES)
    figure = ax.figure
    figure.savefig(tmp_path / "shift.png")  # no bbox_inches="tight", as the README does
    assert (tmp_path / "shift.png").stat().st_size > 0
    labels = ax.get_yticklabels()
    assert "(all features: location) of the pixels" in [t.get_text() for t in labels]
    low, high = ax.get_xlim()
    ticks = [
        label
        for tick, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=False)
        if low <= tick <= high
    ]  # the others are not drawn
    texts = [*labels, ax.title, ax.xaxis.label, *ax.texts, *ticks]
    assert _outside(figure, texts) == []


def test_given_axes_keep_their_figure_size_and_a_layout_engine_keeps_labels_in(fitted_pre):
    figure, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    assert plot_shift(fitted_pre, _shifted(0), feature_names=LONG_NAMES, top=6, ax=ax) is ax
    assert tuple(figure.get_size_inches()) == (6, 4)
    assert _outside(figure, [*ax.get_yticklabels(), ax.title]) == []
    # A bar's label that would run past these narrow axes goes into its bar, or is cut at the axes.
    box = ax.get_window_extent()
    for note in ax.texts:
        extent = note.get_window_extent()
        # Clipped to the axes' rectangle: matplotlib keeps that as a clip box, not a path.
        assert extent.x1 <= box.x1 + 1 or note.get_clip_box() is not None, note.get_text()
    assert any(note.get_color() == "white" for note in ax.texts)


def test_plot_history_puts_the_loss_and_each_metric_on_its_own_axes(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=A_COLUMNS,
        numeric_columns=["age"],
        regressor=ChainRegressor(
            epochs=2, metrics=["mae"], validation_split=0.2, hidden_units=(8,), random_state=0
        ),
    ).fit(df, y)
    history = chain.named_steps["regressor"].history_
    assert set(history) == {"loss", "val_loss", "mean_absolute_error", "val_mean_absolute_error"}
    figure = plot_history(chain)
    network_a, loss, metric = figure.axes
    assert network_a.get_title() == "network A (dataset A)" and network_a.get_ylabel() == "loss"
    np.testing.assert_allclose(network_a.get_lines()[0].get_ydata(), fitted_pre.history_["loss"])
    assert loss.get_title() == metric.get_title() == "final network (dataset B)"
    assert (loss.get_ylabel(), metric.get_ylabel()) == ("loss", "mean_absolute_error")
    for ax, name in [(loss, "loss"), (metric, "mean_absolute_error")]:
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {name, f"val_{name}"}
        train, val = lines[name], lines[f"val_{name}"]
        assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
        assert train.get_color() == val.get_color()
        np.testing.assert_allclose(val.get_ydata(), history[f"val_{name}"])
        legend = ax.get_legend()
        assert legend is not None
        assert [t.get_text() for t in legend.get_texts()] == [name, f"val_{name}"]
    # The metric sits under the loss of the same network; nothing is clipped.
    assert metric.get_position().y1 < loss.get_position().y0
    assert metric.get_position().x0 == pytest.approx(loss.get_position().x0)
    assert (
        _outside(
            figure, [t for ax in figure.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label)]
        )
        == []
    )

    # Given axes: one per panel, network by network, loss first.
    given_figure, given = plt.subplots(1, 3, figsize=(9, 3))
    assert plot_history(chain, axes=given) is given_figure
    assert tuple(given_figure.get_size_inches()) == (9, 3)
    assert [ax.get_ylabel() for ax in given] == ["loss", "loss", "mean_absolute_error"]
    with pytest.raises(ValueError, match="3 panels to draw, 2 axes given; pass 3 axes"):
        plot_history(chain, axes=given[:2])
