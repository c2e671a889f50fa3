"""Pictures of a chain: training curves, drift, category embeddings.

Needs matplotlib (``pip install "skchain[plot]"``); it is imported when a
function is called, not with skchain. Each function draws into axes it is
given, or into a new figure, and returns what it drew on, as scikit-learn's
plotting helpers do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.pipeline import Pipeline

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_embeddings", "plot_history", "plot_shift"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skchain.plot needs matplotlib: pip install 'skchain[plot]'"
        ) from None
    return plt


def _panels(plt, n_panels, axes, width, height):
    """``(figure, list of n_panels axes)``: the given axes, or a new row of them."""
    if axes is None:
        figure, axes = plt.subplots(1, n_panels, figsize=(width * n_panels, height), squeeze=False)
        return figure, list(axes[0])
    axes = list(np.ravel(axes))
    return axes[0].figure, axes


def _networks(estimator):
    """``[(title, history dict), ...]`` of the networks inside ``estimator``."""
    from ._blocks import block_plan
    from .preprocessor import KerasTransformer
    from ._network import BlockNetworkMixin

    if isinstance(estimator, (KerasTransformer, BlockNetworkMixin)):
        title = "network A" if isinstance(estimator, KerasTransformer) else "final network"
        return [(title, getattr(estimator, "history_", None) or {})]
    if not isinstance(estimator, Pipeline):
        raise TypeError(
            "plot_history: expected a fitted chain (Pipeline), KerasTransformer or"
            f" ChainRegressor; got {type(estimator).__name__}"
        )
    features, final = estimator.steps[0][1], estimator.steps[-1][1]
    try:
        plan = block_plan(features)
    except TypeError:  # not a chain's features step: no network A to show
        plan = []
    network_a = next((b.network.estimator for b in plan if b.kind == "representation"), None)
    found = []
    if network_a is not None:
        found.append(("network A (dataset A)", getattr(network_a, "history_", None) or {}))
    found.append(("final network (dataset B)", getattr(final, "history_", None) or {}))
    tuned = getattr(estimator, "fine_tuned_", None)
    if tuned:
        found.append(("fine-tuning (A + final, dataset B)", tuned.get("history") or {}))
    return found


def plot_history(estimator: Any, *, axes: Any = None) -> "Figure":
    """Draw the training curves of network A and of the final network side by side.

    One panel per network (and one for the joint fine-tuning, when the chain
    was fine-tuned), one line per entry of its ``history_``: the loss, any
    metric, and their ``val_`` versions when ``validation_split`` was set.

    Parameters
    ----------
    estimator : Chain, Pipeline, KerasTransformer or ChainRegressor
        A fitted chain, or one fitted network.
    axes : array-like of matplotlib Axes, default=None
        Where to draw, one per panel; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skchain.plot import plot_history
    >>> figure = plot_history(chain)  # doctest: +SKIP
    >>> figure.savefig("history.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    panels = _networks(estimator)
    figure, axes = _panels(plt, len(panels), axes, 5, 3.6)
    if len(axes) != len(panels):
        raise ValueError(f"plot_history: {len(panels)} panels to draw, {len(axes)} axes given")
    for ax, (title, history) in zip(axes, panels):
        for name, values in history.items():
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, marker="o" if len(values) < 15 else None,
                    linestyle="--" if name.startswith("val_") else "-", label=name)
        if history:
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no training history\n(wrapped with from_model?)",
                    ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("value")
    figure.tight_layout()
    return figure


def plot_shift(preprocessor: Any, X: Any, *, feature_names: "list[str] | None" = None,
               top: int = 20, ax: "Axes | None" = None) -> "Axes":
    """Draw the evidence of drift per feature against the warning's level.

    Uses :meth:`KerasTransformer.shift_report`: the features of ``X`` (input
    features and network A's outputs) with the strongest evidence of a
    shift, worst first, as horizontal bars of ``-log10(adjusted_p)``, with
    the level ``-log10(shift_alpha)`` past which
    :class:`~skchain.DataShiftWarning` is raised as a vertical line. Each bar
    is labelled with its test and effect size.

    Parameters
    ----------
    preprocessor : KerasTransformer or FrozenTransformer
        Network A, fitted (or wrapped with ``training_rows``).
    X : array-like of shape (n_samples, n_features)
        Rows of the kind network A reads (for example dataset B's A-like
        columns).
    feature_names : list of str, default=None
        Names to show (a ``KerasTransformer`` only); default: the names it
        was fitted with, else ``x0, x1, ...``.
    top : int, default=20
        Number of features drawn.
    ax : matplotlib Axes, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from skchain.plot import plot_shift
    >>> ax = plot_shift(pre, df_b[pixel_columns])  # doctest: +SKIP
    """
    plt = _pyplot()
    inner = getattr(preprocessor, "estimator", preprocessor)
    if feature_names is not None:
        report = preprocessor.shift_report(X, feature_names=list(feature_names))
    else:
        report = preprocessor.shift_report(X)
    report = report.head(top)
    alpha = inner.shift_alpha
    level = -np.log10(alpha)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.3 * len(report) + 1.5))
    evidence = -np.log10(np.clip(report["adjusted_p"].to_numpy(dtype=float), 1e-300, 1.0))
    colours = np.where(evidence >= level, "tab:red", "tab:blue")
    positions = np.arange(len(report))[::-1]
    ax.barh(positions, evidence, color=colours)
    labels = [f"{f}" if lv == "input" else f"{f} (output)"
              for f, lv in zip(report["feature"], report["level"])]
    ax.set_yticks(positions, labels)
    for y, width, (_, row) in zip(positions, evidence, report.iterrows()):
        ax.annotate(_effect(row), (width, y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7)
    ax.axvline(level, color="black", linestyle="--", label=f"alarm level (alpha {alpha:g})")
    ax.set_xlabel("evidence of drift: -log10(adjusted p-value)")
    over = int((evidence >= level).sum())
    ax.set_title(f"drift from network A's training data ({over} over)")
    ax.legend(loc="lower right")
    return ax


def _effect(row):
    """A short label: the test and its effect size."""
    test = row["test"]
    if test in ("location", "spread"):
        return f"mean {row['mean_shift']:+.2f} sd, spread x{row['scale_ratio']:.2f}"
    if test == "dominant value":
        return f"usual value in {row['statistic']:.0%}"
    if test == "extreme value":
        return f"value {row['statistic']:.0f} sd out"
    if test == "all features":
        return f"all features together, z {row['statistic']:+.1f}"
    return "whole rows"


def plot_embeddings(chain: Any, columns: Any = None, *, max_labels: int = 40,
                    axes: Any = None) -> "Figure":
    """Draw a 2-D PCA projection of each learned category embedding, with level labels.

    Parameters
    ----------
    chain : Chain
        A fitted chain with ``"embed"`` columns (see
        :meth:`skchain.Chain.category_embeddings`).
    columns : list of str, default=None
        The columns to draw; default: every embedded column.
    max_labels : int, default=40
        Levels labelled per panel (the first ones: missing, unknown, then
        the levels in code order); every level is drawn as a point.
    axes : array-like of matplotlib Axes, default=None
        One per column; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skchain.plot import plot_embeddings
    >>> figure = plot_embeddings(chain, ["city"])  # doctest: +SKIP
    """
    from sklearn.decomposition import PCA

    plt = _pyplot()
    tables = chain.category_embeddings()
    columns = list(tables) if columns is None else list(columns)
    unknown = [c for c in columns if c not in tables]
    if unknown or not columns:
        raise ValueError(
            f"plot_embeddings: no learned embedding for {unknown or 'any column'};"
            f" embedded columns: {list(tables)}"
        )
    figure, axes = _panels(plt, len(columns), axes, 5, 4.5)
    for ax, column in zip(axes, columns):
        table = tables[column]
        values = table.to_numpy()
        if values.shape[1] >= 2:
            points = PCA(n_components=2, random_state=0).fit_transform(values)
        else:
            points = np.column_stack([values[:, 0], np.zeros(len(values))])
        ax.scatter(points[:, 0], points[:, 1], s=12)
        for label, (x, y) in list(zip(table.index, points))[:max_labels]:
            ax.annotate(str(label), (x, y), fontsize=7, alpha=0.8)
        ax.set_title(f"{column}: {len(table)} rows, width {values.shape[1]}")
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    figure.tight_layout()
    return figure
