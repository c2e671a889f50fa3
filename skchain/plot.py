"""Pictures of a chain: training curves, drift, category embeddings.

Needs matplotlib (``pip install "skchain[plot]"``); it is imported when a function is
called, not with skchain. Each function draws into axes it is given, or into a new figure,
and returns what it drew on, as scikit-learn's plotting helpers do. The figures they create
have a layout engine (tight layout, redone at each draw), so ``savefig`` keeps every label
inside the picture; the layout of a figure whose axes are passed in is left to its owner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.pipeline import Pipeline

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation

    from .blocks import Layout

__all__ = ["plot_embeddings", "plot_history", "plot_shift"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("skchain.plot needs matplotlib: pip install 'skchain[plot]'") from None
    return plt


def _panels(
    plt: Any, n_panels: int, axes: Any, width: float, height: float
) -> tuple[Figure, list[Axes]]:
    """``(figure, list of n_panels axes)``: the given axes, or a new row of them."""
    if axes is None:
        figure, axes = plt.subplots(1, n_panels, figsize=(width * n_panels, height), squeeze=False)
        return figure, list(axes[0])
    axes = list(np.ravel(axes))
    return axes[0].figure, axes


def _networks(estimator: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """``[(title, history dict), ...]`` of the networks inside ``estimator``."""
    from ._network import BlockNetworkMixin
    from .blocks import Layout
    from .preprocessor import KerasTransformer

    if isinstance(estimator, (KerasTransformer, BlockNetworkMixin)):
        title = "network A" if isinstance(estimator, KerasTransformer) else "final network"
        return [(title, getattr(estimator, "history_", None) or {})]
    if not isinstance(estimator, Pipeline):
        raise TypeError(
            "plot_history: expected a fitted chain (Pipeline), KerasTransformer or"
            f" ChainRegressor; got {type(estimator).__name__}"
        )
    features, final = estimator.steps[0][1], estimator.steps[-1][1]
    layout: Layout | list[Any]
    try:
        layout = Layout.of(features)
    except TypeError:  # not a chain's features step: no network A to show
        layout = []
    # Each block's networks (network A's, for its representation block).
    found = [history for block in layout for history in block.histories()]
    found.append(("final network (dataset B)", getattr(final, "history_", None) or {}))
    tuned = getattr(estimator, "fine_tuned_", None)
    if tuned:
        found.append(("fine-tuning (A + final, dataset B)", tuned.get("history") or {}))
    return found


def _quantities(
    history: Mapping[str, Any],
) -> list[tuple[str, list[tuple[str, Any]]]]:
    """``[(quantity, [(key, values), ...]), ...]``: the loss first, each with its ``val_`` twin."""
    groups: dict[str, list[tuple[str, Any]]] = {"loss": []}
    for key, values in history.items():
        base = key[len("val_") :] if key.startswith("val_") else key
        groups.setdefault(base, []).append((key, values))
    for lines in groups.values():
        lines.sort(key=lambda line: line[0].startswith("val_"))  # training, then validation
    return [(quantity, lines) for quantity, lines in groups.items() if lines or not history]


def _history_panels(
    estimator: Any,
) -> list[tuple[str, str, list[tuple[str, Any]]]]:
    """``[(network title, quantity, lines), ...]``: one panel per network and quantity."""
    return [
        (title, quantity, lines)
        for title, history in _networks(estimator)
        for quantity, lines in _quantities(history)
    ]


def plot_history(estimator: Any, *, axes: Any = None) -> Figure:
    """Draw the training curves of network A and of the final network, one quantity per panel.

    One column of panels per network -- network A, the final network, and
    the joint fine-tuning when the chain was fine-tuned -- and in it one
    panel for the loss and one for each other metric of its ``history_``
    (the same metric in the same row). Each panel shows the training curve
    (solid) and, when the network was fitted with validation rows
    (``validation_split``, ``early_stopping``, or ``X_val``/``y_val`` in
    ``fit``), its ``val_`` curve (dashed, same colour), with a legend.

    Parameters
    ----------
    estimator : Chain, Pipeline, KerasTransformer or ChainRegressor
        A fitted chain, or one fitted network.
    axes : array-like of matplotlib Axes, default=None
        Where to draw, one per panel, in this order: for each network
        (network A, the final network, then the fine-tuning), its loss, then
        each other metric in the order of its ``history_``. A network
        without a history (wrapped with ``from_model``, or network A once
        fine-tuned) takes one panel. A grid is read row by row. ``None``
        makes a new figure, one column per network, one row per quantity.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (that of the first axes when ``axes`` is given).

    Raises
    ------
    TypeError
        If ``estimator`` is not a chain or one of its networks.
    ValueError
        If ``axes`` does not hold exactly one axes per panel; the message
        names the number expected and the panels.

    Examples
    --------
    >>> from skchain.plot import plot_history
    >>> figure = plot_history(chain)  # doctest: +SKIP
    >>> figure.savefig("history.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    panels = _history_panels(estimator)
    if axes is None:
        titles = list(dict.fromkeys(title for title, _, _ in panels))
        rows = list(dict.fromkeys(quantity for _, quantity, _ in panels))
        figure = plt.figure(figsize=(5 * len(titles), 3.4 * len(rows)), layout="tight")
        grid = figure.add_gridspec(len(rows), len(titles))
        axes = [
            figure.add_subplot(grid[rows.index(quantity), titles.index(title)])
            for title, quantity, _ in panels
        ]
    else:
        axes = list(np.ravel(axes))
        if len(axes) != len(panels):
            names = "; ".join(f"{title}: {quantity}" for title, quantity, _ in panels)
            raise ValueError(
                f"plot_history: {len(panels)} panels to draw, {len(axes)} axes given;"
                f" pass {len(panels)} axes, in this order: {names}"
            )
        figure = axes[0].figure
    for ax, (title, quantity, lines) in zip(axes, panels, strict=False):
        colour = "C0" if quantity == "loss" else "C1"
        for key, values in lines:
            values = np.asarray(values, dtype=float)
            validation = key.startswith("val_")
            ax.plot(
                np.arange(1, len(values) + 1),
                values,
                color=colour,
                marker="o" if len(values) < 15 else None,
                markersize=4,
                linestyle="--" if validation else "-",
                label=key,
            )
        if lines:
            ax.legend()
        else:
            ax.text(
                0.5,
                0.5,
                "no training history\n(wrapped with from_model, or fine-tuned?)",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(quantity)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def plot_shift(
    preprocessor: Any,
    X: Any,
    *,
    feature_names: list[str] | None = None,
    top: int = 20,
    ax: Axes | None = None,
) -> Axes:
    """Draw the evidence of drift per feature against the warning's level.

    Uses :meth:`KerasTransformer.shift_report`: the features of ``X`` (input
    features and network A's outputs) with the strongest evidence of a
    shift, worst first, as horizontal bars of ``-log10(adjusted_p)``, with
    the level ``-log10(shift_alpha)`` past which
    :class:`~skchain.DataShiftWarning` is raised as a vertical line. Bars at
    or past it are red. Each bar is labelled with its adjusted p-value, its
    test and effect size.

    When nothing drifted (no adjusted p-value at or below ``shift_alpha``)
    the closest features are drawn all the same, and the title says so with
    the smallest adjusted p-value, e.g. "no feature differs from network A's
    training data (smallest adjusted p = 0.83; alarm at 0.01)". An adjusted
    p-value of 1 (no evidence at all, the usual case for a clean batch) is a
    bar of zero length, drawn as a thin mark at 0.

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
        Where to draw; ``None`` makes a new figure, sized to the labels and
        laid out so that ``ax.figure.savefig(...)`` shows every label whole.
        A given ``ax``'s figure is not resized: give it a layout engine
        (``plt.subplots(layout="constrained")``) to keep long labels inside.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from skchain.plot import plot_shift
    >>> ax = plot_shift(pre, df_b[pixel_columns])  # doctest: +SKIP
    >>> ax.figure.savefig("shift.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    inner = getattr(preprocessor, "estimator", preprocessor)
    if feature_names is not None:
        report = preprocessor.shift_report(X, feature_names=list(feature_names))
    else:
        report = preprocessor.shift_report(X)
    alpha = inner.shift_alpha
    level = -np.log10(alpha)
    adjusted_all = report["adjusted_p"].to_numpy(dtype=float)
    over = int((adjusted_all <= alpha).sum())
    report = report.head(top)
    adjusted = adjusted_all[: len(report)]
    labels = [
        f"{f}" if lv == "input" else f"{f} (output)"
        for f, lv in zip(report["feature"], report["level"], strict=False)
    ]
    if ax is None:
        longest = max((len(label) for label in labels), default=0)
        width = min(16.0, max(7.0, 5.5 + 0.085 * longest))  # about 0.085 in a character
        _, ax = plt.subplots(figsize=(width, 0.3 * len(report) + 2.0), layout="tight")
    evidence = -np.log10(np.clip(adjusted, 1e-300, 1.0))
    colours = np.where(adjusted <= alpha, "tab:red", "tab:blue")
    positions = np.arange(len(report))[::-1]
    # The edge keeps a bar of zero length (adjusted p = 1) visible as a thin mark.
    ax.barh(positions, evidence, color=colours, edgecolor=colours, linewidth=1)
    ax.set_yticks(positions, labels)
    right = 1.3 * max(level, float(evidence.max(initial=0.0)))
    ax.set_xlim(-0.02 * right, right)  # marks at 0 clear of the spine
    notes = [
        ax.annotate(
            f"p {p:.2g}; {_effect(row)}",
            (length, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
        for y, length, p, (_, row) in zip(
            positions, evidence, adjusted, report.iterrows(), strict=False
        )
    ]
    ax.axvline(level, color="black", linestyle="--", label=f"alarm level (alpha {alpha:g})")
    ax.set_xlabel("evidence of drift: -log10(adjusted p-value)")
    if over:
        ax.set_title(
            f"drift from network A's training data ({over} of {len(adjusted_all)} over)", wrap=True
        )
    else:
        smallest = float(adjusted_all.min(initial=1.0))
        ax.set_title(
            "no feature differs from network A's training data\n"
            f"(smallest adjusted p = {smallest:.2g}; alarm at {alpha:g})",
            wrap=True,
        )
    ax.legend(loc="lower right")
    _fit_notes(ax, notes, evidence)
    return ax


def _fit_notes(ax: Axes, notes: Sequence[Annotation], lengths: Iterable[float]) -> None:
    """Move a bar's label that runs past the axes into the bar; clip the others at the axes."""
    for note in notes:
        note.set_in_layout(False)  # the layout makes room for the tick labels, not these
    # Lays out the root figure (a SubFigure, an Axes' .figure there, cannot draw).
    root = ax.get_figure(root=True)
    if root is not None:
        root.draw_without_rendering()
    box = ax.get_window_extent()
    zero = ax.transData.transform((0.0, 0.0))[0]
    for note, length in zip(notes, lengths, strict=False):
        extent = note.get_window_extent()
        if extent.x1 > box.x1 and (
            ax.transData.transform((length, 0.0))[0] - zero >= extent.width + 8
        ):
            note.set(horizontalalignment="right", color="white")
            note.xyann = (-3, 0)
        else:
            # Cut at the axes: a layout engine (constrained) can still narrow the
            # axes when the figure is drawn, after this measured them.
            note.set_clip_path(ax.patch)


def _effect(row: pd.Series) -> str:
    """A short label: the test and its effect size."""
    test = row["test"]
    if test == "dominant value" and np.isnan(row["statistic"]):
        test = "location"  # no usual value (every test at p = 1): the effect sizes
    if test in ("location", "spread"):
        return f"mean {row['mean_shift']:+.2f} sd, spread x{row['scale_ratio']:.2f}"
    if test == "dominant value":
        return f"usual value in {row['statistic']:.0%}"
    if test == "extreme value":
        return f"value {row['statistic']:.0f} sd out"
    if test == "all features":
        return f"all features together, z {row['statistic']:+.1f}"
    return "whole rows"


def plot_embeddings(
    chain: Any, columns: Any = None, *, max_labels: int = 40, axes: Any = None
) -> Figure:
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
    for ax, column in zip(axes, columns, strict=False):
        table = tables[column]
        values = table.to_numpy()
        if values.shape[1] >= 2:
            points = PCA(n_components=2, random_state=0).fit_transform(values)
        else:
            points = np.column_stack([values[:, 0], np.zeros(len(values))])
        ax.scatter(points[:, 0], points[:, 1], s=12)
        for label, (x, y) in list(zip(table.index, points, strict=False))[:max_labels]:
            ax.annotate(str(label), (x, y), fontsize=7, alpha=0.8)
        ax.set_title(f"{column}: {len(table)} rows, width {values.shape[1]}")
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    figure.tight_layout()
    return figure
