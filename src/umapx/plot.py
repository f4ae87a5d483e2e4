"""Pictures of a fitted model, with umap-learn's ``umap.plot`` names and arguments.

``points`` and ``diagnostic`` draw on matplotlib axes, ``connectivity`` renders the graph's edges with
datashader, ``interactive`` builds a bokeh page with hover and zoom (``save_html`` writes it with
BokehJS inlined, so it opens without a network), ``loss`` draws the loss history of a fit with
``loss_report``, ``aligned`` the slices of an ``AlignedUMAP`` in 3-D or as small multiples. Every
function takes a fitted model or, where no graph or data is needed, an embedding array. Needs the
``plot`` extra: ``pip install 'umapx[plot]'``.
"""

from __future__ import annotations

import textwrap
import warnings

import numpy as np

DATASHADE_FROM = 100_000  # points() renders through datashader from this many points
DIAGNOSTICS = ("pca", "ica", "vq", "local_dim", "neighborhood")
# umap-learn's themes: the colour map for values, the one for labels, and the background
THEMES = {
    "fire": ("fire", "fire", "black"),
    "viridis": ("viridis", "viridis", "black"),
    "inferno": ("inferno", "inferno", "black"),
    "blue": ("Blues", "Blues", "white"),
    "red": ("Reds", "Reds", "white"),
    "green": ("Greens", "Greens", "white"),
    "darkblue": ("Blues_r", "Blues_r", "black"),
    "darkred": ("Reds_r", "Reds_r", "black"),
    "darkgreen": ("YlGn_r", "YlGn_r", "black"),
}


def points(
    umap_object,
    points=None,
    labels=None,
    values=None,
    theme=None,
    cmap="Blues",
    color_key=None,
    color_key_cmap="Spectral",
    background="white",
    width=800,
    height=800,
    show_legend=True,
    subset_points=None,
    ax=None,
    alpha=None,
    datashade=None,
):
    """A scatter plot of the embedding (or of ``points``), coloured by categorical ``labels`` (with a
    legend) or continuous ``values`` (with a colour bar). From ``DATASHADE_FROM`` points it is
    rendered by datashader unless ``datashade=False``. Returns the matplotlib axes."""
    xy = _embedding(umap_object, points)
    labels, values = _per_point(labels, "labels", len(xy)), _per_point(values, "values", len(xy))
    if subset_points is not None:
        keep = np.asarray(subset_points)
        xy = xy[keep]
        labels = None if labels is None else labels[keep]
        values = None if values is None else values[keep]
    cmap, color_key_cmap, background = _theme(theme, cmap, color_key_cmap, background)
    ax = _axes(ax, width, height, background)
    classes, colours = _categories(labels, color_key, color_key_cmap)
    shaded = datashade if datashade is not None else len(xy) >= DATASHADE_FROM
    if shaded:
        _datashaded(ax, xy, labels, values, classes, colours, cmap, background, width, height)
    else:
        if labels is not None:
            colour = colours[np.searchsorted(classes, labels)]
        elif values is not None:
            colour = values
        else:
            colour = _colormap(cmap)(0.7)
        drawn = ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=100 / np.sqrt(len(xy)),
            c=colour,
            cmap=_colormap(cmap) if values is not None else None,
            alpha=alpha,
        )
        if values is not None:
            ax.figure.colorbar(drawn, ax=ax)
    if labels is not None and show_legend:
        _legend(ax, classes, colours)
    if values is not None and shaded:
        _colorbar(ax, values, cmap)
    return ax


def connectivity(
    umap_object,
    edge_bundling=None,
    edge_cmap="gray_r",
    show_points=False,
    labels=None,
    values=None,
    theme=None,
    cmap="Blues",
    color_key=None,
    color_key_cmap="Spectral",
    background="white",
    width=800,
    height=800,
    ax=None,
):
    """The fuzzy graph's edges over the embedding, shaded by summed weight on a log scale (datashader);
    ``edge_bundling="hammer"`` bundles them (slow beyond some ten thousand edges)."""
    import datashader as ds
    import datashader.transfer_functions as tf
    import pandas as pd
    from datashader.bundling import connect_edges, hammer_bundle

    if edge_bundling not in (None, "hammer"):
        raise ValueError(f"edge_bundling must be None or 'hammer', got {edge_bundling!r}.")
    xy = _embedding(umap_object)
    graph = _fitted(umap_object, "graph_").tocoo()
    upper = graph.row < graph.col  # each undirected edge once
    nodes = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    edges = pd.DataFrame({"source": graph.row[upper], "target": graph.col[upper], "weight": graph.data[upper]})
    lines = (hammer_bundle if edge_bundling == "hammer" else connect_edges)(nodes, edges, weight="weight")
    cmap, color_key_cmap, background = _theme(theme, cmap, color_key_cmap, background)
    canvas = _canvas(xy, width, height)
    image = tf.shade(canvas.line(lines, "x", "y", agg=ds.count()), cmap=_colormap(edge_cmap), how="log")
    ax = _axes(ax, width, height, background)
    if show_points:
        labels, values = _per_point(labels, "labels", len(xy)), _per_point(values, "values", len(xy))
        classes, colours = _categories(labels, color_key, color_key_cmap)
        image = tf.stack(image, _shade_points(canvas, xy, labels, values, classes, colours, cmap))
    _show(ax, tf.set_background(image, background), xy)
    return ax


def diagnostic(
    umap_object,
    diagnostic_type="pca",
    nhood_size=None,
    local_variance_threshold=0.8,
    ax=None,
    cmap="viridis",
    point_size=None,
    background="white",
    width=800,
    height=800,
):
    """The embedding coloured by a check against the data: ``pca``, ``ica`` or ``vq`` colour each point
    by its first three principal components, independent components or distances to three k-means
    centres as RGB (neighbours in the data should share a colour); ``local_dim`` by the number of
    principal components that explain ``local_variance_threshold`` of the variance of its
    ``nhood_size`` nearest data neighbours; ``neighborhood`` by the Jaccard index of its
    ``nhood_size`` nearest neighbours in the data and in the embedding (``nhood_size`` defaults to
    the model's ``n_neighbors``). ``all`` draws each of them on a grid of 2 x 3 panels (``width`` and
    ``height`` per panel) and returns the grid's axes."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA, FastICA
    from sklearn.neighbors import NearestNeighbors

    if diagnostic_type not in (*DIAGNOSTICS, "all"):
        raise ValueError(f"diagnostic_type must be one of {', '.join(DIAGNOSTICS)}, all; got {diagnostic_type!r}.")
    if diagnostic_type == "all":
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(2, 3, figsize=(3 * width / 100, 2 * height / 100), dpi=100)
        for kind, panel in zip(DIAGNOSTICS, axes.ravel(), strict=False):
            diagnostic(umap_object, kind, nhood_size, local_variance_threshold, panel, cmap, point_size, background)
            panel.set_title(textwrap.fill(panel.get_title(), 45), fontsize=9)
        axes.ravel()[-1].set_axis_off()
        axes[0, 0].figure.tight_layout()
        return axes
    xy, data = _embedding(umap_object), _data(umap_object)
    nhood_size = nhood_size or umap_object.n_neighbors
    if diagnostic_type in ("pca", "ica", "vq"):
        project = {
            "pca": PCA(n_components=3),
            "ica": FastICA(n_components=3, random_state=0, whiten="unit-variance"),
            "vq": KMeans(n_clusters=3, n_init=3, random_state=0),
        }[diagnostic_type]
        colour = project.fit_transform(data)
        colour = (colour - colour.min(axis=0)) / np.maximum(np.ptp(colour, axis=0), 1e-12)  # each axis to [0, 1]
        title = f"colour: {diagnostic_type.upper()} of the data as RGB"
    elif diagnostic_type == "local_dim":
        _, near = NearestNeighbors(n_neighbors=nhood_size).fit(data).kneighbors(data)
        colour = np.array([_local_dim(data[row], local_variance_threshold) for row in near])
        title = f"colour: local dimension ({local_variance_threshold:.0%} of the variance of {nhood_size} neighbours)"
    else:
        _, in_data = NearestNeighbors(n_neighbors=nhood_size).fit(data).kneighbors(data)
        _, in_map = NearestNeighbors(n_neighbors=nhood_size).fit(xy).kneighbors(xy)
        shared = np.array([len(np.intersect1d(a, b, assume_unique=True)) for a, b in zip(in_data, in_map, strict=True)])
        colour = shared / (2 * nhood_size - shared)
        title = f"colour: Jaccard index of the {nhood_size} nearest neighbours, data vs embedding"
    ax = _axes(ax, width, height, background)
    size = point_size if point_size is not None else 100 / np.sqrt(len(xy))
    drawn = ax.scatter(xy[:, 0], xy[:, 1], s=size, c=colour, cmap=_colormap(cmap) if colour.ndim == 1 else None)
    if colour.ndim == 1:
        ax.figure.colorbar(drawn, ax=ax)
    ax.set_title(title, fontsize=9)
    return ax


def interactive(
    umap_object,
    labels=None,
    values=None,
    hover_data=None,
    theme=None,
    cmap="Blues",
    color_key=None,
    color_key_cmap="Spectral",
    background="white",
    width=800,
    height=800,
    point_size=None,
    tools=None,
    title=None,
):
    """A bokeh figure of the embedding with pan, wheel zoom and a hover tooltip showing each point's
    label or value and the columns of ``hover_data`` (a DataFrame or dict of per-point columns).
    ``save_html`` writes it as a standalone page; ``bokeh.plotting.show`` opens it."""
    from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper
    from bokeh.plotting import figure
    from matplotlib.colors import to_hex

    xy = _embedding(umap_object)
    labels, values = _per_point(labels, "labels", len(xy)), _per_point(values, "values", len(xy))
    cmap, color_key_cmap, background = _theme(theme, cmap, color_key_cmap, background)
    columns = {"x": xy[:, 0], "y": xy[:, 1], "index": np.arange(len(xy))}
    for name, column in dict(hover_data if hover_data is not None else {}).items():
        columns[str(name)] = _per_point(column, f"hover_data[{name!r}]", len(xy))
    tips = [(name, f"@{{{name}}}") for name in columns if name not in ("x", "y")]
    classes, colours = _categories(labels, color_key, color_key_cmap)
    mapper = None
    if labels is not None:
        columns["label"] = labels.astype(str)
        columns["color"] = [to_hex(c) for c in colours[np.searchsorted(classes, labels)]]
        tips.insert(0, ("label", "@label"))
    elif values is not None:
        columns["value"] = values
        palette = [to_hex(c) for c in _colormap(cmap)(np.linspace(0, 1, 256))]
        mapper = LinearColorMapper(palette=palette, low=float(np.min(values)), high=float(np.max(values)))
        tips.insert(0, ("value", "@value"))
    else:
        columns["color"] = [to_hex(_colormap(cmap)(0.7))] * len(xy)
    plot = figure(
        width=width,
        height=height,
        title=title,
        tools=tools or "pan,wheel_zoom,box_zoom,reset,save",
        background_fill_color=background,
    )
    colour = {"field": "value", "transform": mapper} if mapper is not None else "color"
    size = point_size if point_size is not None else max(2.0, 100 / np.sqrt(len(xy)))
    plot.scatter("x", "y", source=ColumnDataSource(columns), color=colour, size=size, line_alpha=0)
    plot.add_tools(HoverTool(tooltips=tips))
    if mapper is not None:
        plot.add_layout(ColorBar(color_mapper=mapper), "right")
    plot.grid.visible = False
    return plot


def save_html(plot, path, title="umapx"):
    """Write a bokeh ``plot`` to ``path`` as one HTML file with BokehJS inlined (opens offline)."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    with open(path, "w", encoding="utf-8") as out:
        out.write(file_html(plot, INLINE, title))


def show(plot_to_show):
    """Show a picture of this module: a bokeh page in the browser, matplotlib axes in their window."""
    if hasattr(plot_to_show, "renderers"):
        from bokeh.plotting import show as show_page

        return show_page(plot_to_show)
    import matplotlib.pyplot as plt

    return plt.show()


def nearest_neighbour_distribution(umap_object, bins=25, ax=None):
    """A histogram of each training point's mean distance to its nearest neighbours in the data (the
    kNN edges of ``graph_dists_``; umap-learn's histogram reads the memberships of ``graph_`` instead)."""
    import matplotlib.pyplot as plt

    from .utils import average_nn_distance

    if umap_object.graph_dists_ is None:
        raise ValueError("nearest_neighbour_distribution needs the kNN distances; a combined model (+, *, -) has none.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a point without kNN edges has no mean: it is left out
        means = average_nn_distance(umap_object.graph_dists_)
    ax = ax if ax is not None else plt.subplots(figsize=(8, 5), dpi=100)[1]
    ax.hist(means[np.isfinite(means)], bins=bins)
    ax.set(xlabel="Average distance to nearest neighbors", ylabel="Frequency")
    return ax


def loss(umap_object, ax=None, width=800, height=500):
    """The purported, effective and actual loss per recorded epoch of a fit with ``loss_report``
    (see ``umapx.loss``), on a log scale."""
    history = getattr(umap_object, "loss_history_", None)
    if not history:
        raise ValueError("the model has no loss history: fit it with loss_report=True (or 'epoch', or k).")
    ax = _axes(ax, width, height, "white")
    for name in ("purported", "effective", "actual"):
        if name in history:
            ax.plot(history["epoch"], history[name], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.legend()
    return ax


def aligned(
    aligned_object,
    labels=None,
    kind="stack",
    cmap="Spectral",
    max_lines=500,
    columns=5,
    width=1000,
    height=800,
    ax=None,
):
    """The slices of a fitted ``AlignedUMAP`` coloured by ``labels`` (one array per slice, or None).

    ``kind="stack"`` draws them in 3-D (mplot3d), slice i in the plane z = i, with lines from each
    related point to its partner in the next slice (at most ``max_lines`` per pair of slices, evenly
    picked), so a point's path through the slices can be followed. ``kind="grid"`` draws small
    multiples, ``columns`` square panels a row in slice order, on shared axes (``height`` is for the
    3-D view). Returns the axes (3-D) or the array of panels (grid)."""
    if kind not in ("stack", "grid"):
        raise ValueError(f"kind must be 'stack' or 'grid'; got {kind!r}.")
    embeddings = [_embedding(e) for e in _fitted(aligned_object, "embeddings_")]
    if labels is not None and (not isinstance(labels, (list, tuple)) or len(labels) != len(embeddings)):
        raise ValueError(f"labels must be a list of one label array per slice ({len(embeddings)}), or None.")
    labels = [None] * len(embeddings) if labels is None else labels
    labels = [
        _per_point(lab, f"labels[{s}]", len(xy)) for s, (lab, xy) in enumerate(zip(labels, embeddings, strict=True))
    ]
    present = [lab for lab in labels if lab is not None]
    classes, colours = _categories(np.concatenate(present), None, cmap) if present else (None, None)

    def colour(lab):
        return _colormap("Blues")(0.7) if lab is None else colours[np.searchsorted(classes, lab)]

    if kind == "grid":
        return _slice_grid(embeddings, labels, colour, classes, colours, columns, width)
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(width / 100, height / 100), dpi=100).add_subplot(projection="3d")
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    size = 60 / np.sqrt(max(len(xy) for xy in embeddings))
    for z, (xy, lab) in enumerate(zip(embeddings, labels, strict=True)):
        ax.scatter(xy[:, 0], xy[:, 1], z, s=size, c=colour(lab), depthshade=False)
    for s, pairs in enumerate(aligned_object.relations_):
        pairs = pairs[np.unique(np.linspace(0, len(pairs) - 1, min(max_lines, len(pairs))).astype(int))]
        if not len(pairs):
            continue
        start, end = embeddings[s][pairs[:, 0]], embeddings[s + 1][pairs[:, 1]]
        segments = np.stack(
            [np.column_stack([start, np.full(len(pairs), s)]), np.column_stack([end, np.full(len(pairs), s + 1)])],
            axis=1,
        )
        lab = labels[s]
        ax.add_collection3d(
            Line3DCollection(
                segments, colors=colour(None if lab is None else lab[pairs[:, 0]]), linewidths=0.4, alpha=0.3
            )
        )
    ax.set(xticks=[], yticks=[], zlabel="slice")
    if classes is not None:
        _legend(ax, classes, colours)
    return ax


def _slice_grid(embeddings, labels, colour, classes, colours, columns, width):
    """Square panels, ``columns`` a row, ``width`` pixels wide in all."""
    import matplotlib.pyplot as plt

    rows = -(-len(embeddings) // columns)
    side = width / columns / 100
    fig, axes = plt.subplots(rows, columns, figsize=(width / 100, rows * side * 1.1), dpi=100, squeeze=False)
    left, right, bottom, top = _extent(np.vstack(embeddings)[np.isfinite(np.vstack(embeddings)).all(axis=1)])
    for s, ax in enumerate(axes.ravel()):
        ax.set(xticks=[], yticks=[])
        if s >= len(embeddings):
            ax.set_axis_off()
            continue
        xy = embeddings[s]
        ax.scatter(xy[:, 0], xy[:, 1], s=40 / np.sqrt(len(xy)), c=colour(labels[s]))
        ax.set(xlim=(left, right), ylim=(bottom, top), title=f"slice {s}")
    fig.tight_layout(rect=(0, 0, 0.92 if classes is not None else 1, 1))
    if classes is not None:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=c, label=str(k)) for k, c in zip(classes, colours, strict=True)]
        fig.legend(handles=handles, loc="center right", fontsize=8)
    return axes


def _embedding(umap_object, points=None):
    xy = np.asarray(points if points is not None else _fitted(umap_object, "embedding_"))
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"plots need a two-dimensional embedding (n x 2); this one has shape {xy.shape}.")
    return xy


def _fitted(umap_object, name):
    if isinstance(umap_object, np.ndarray):
        if name == "embedding_":
            return umap_object
        raise ValueError(f"this plot needs a fitted model (it reads {name}), not an array.")
    return getattr(umap_object, name)


def _data(umap_object):
    data = _fitted(umap_object, "graph_model_").data
    if data is None:
        raise ValueError("diagnostic plots need the training data, which a model of precomputed distances lacks.")
    return data.toarray() if hasattr(data, "toarray") else np.asarray(data)


def _per_point(column, name, n):
    if column is None:
        return None
    column = np.asarray(column)
    if column.shape != (n,):
        raise ValueError(f"{name} must have one entry per point ({n}); got shape {column.shape}.")
    return column


def _theme(theme, cmap, color_key_cmap, background):
    if theme is None:
        return cmap, color_key_cmap, background
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}; got {theme!r}.")
    return THEMES[theme]


def _colormap(name):
    import matplotlib

    if name in matplotlib.colormaps:
        return matplotlib.colormaps[name]
    import colorcet  # the "fire" map of the fire theme

    return colorcet.cm[name]


def _categories(labels, color_key, color_key_cmap):
    """The sorted distinct labels and one RGBA colour each (from ``color_key``, a dict or sequence, else
    spread over ``color_key_cmap``)."""
    from matplotlib.colors import to_rgba

    if labels is None:
        return None, None
    classes = np.unique(labels)
    if color_key is None:
        return classes, _colormap(color_key_cmap)(np.linspace(0, 1, len(classes)))
    if isinstance(color_key, dict):
        missing = [c for c in classes if c not in color_key]
        if missing:
            raise ValueError(f"color_key has no colour for the labels {np.asarray(missing[:5]).tolist()}.")
        return classes, np.array([to_rgba(color_key[c]) for c in classes])
    if len(color_key) < len(classes):
        raise ValueError(f"color_key has {len(color_key)} colours for {len(classes)} labels.")
    return classes, np.array([to_rgba(c) for c in color_key[: len(classes)]])


def _axes(ax, width, height, background):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(width / 100, height / 100), dpi=100)
    ax.set_facecolor(background)
    ax.set(xticks=[], yticks=[])
    return ax


def _legend(ax, classes, colours):
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colour, label=str(c)) for c, colour in zip(classes, colours, strict=True)]
    ax.legend(handles=handles, loc="best", fontsize=8, markerscale=1)


def _colorbar(ax, values, cmap):
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    scale = ScalarMappable(norm=Normalize(float(np.min(values)), float(np.max(values))), cmap=_colormap(cmap))
    ax.figure.colorbar(scale, ax=ax)


def _extent(xy):
    """(left, right, bottom, top): the embedding's bounding box with a 2% margin."""
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = 0.02 * np.maximum(high - low, 1e-12)
    return low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]


def _canvas(xy, width, height):
    import datashader as ds

    left, right, bottom, top = _extent(xy)
    return ds.Canvas(plot_width=width, plot_height=height, x_range=(left, right), y_range=(bottom, top))


def _shade_points(canvas, xy, labels, values, classes, colours, cmap):
    import datashader as ds
    import datashader.transfer_functions as tf
    import pandas as pd
    from matplotlib.colors import to_hex

    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    if labels is not None:
        frame["label"] = pd.Categorical(labels.astype(str), categories=classes.astype(str))
        key = {str(c): to_hex(colour) for c, colour in zip(classes, colours, strict=True)}
        return tf.shade(canvas.points(frame, "x", "y", agg=ds.count_cat("label")), color_key=key, min_alpha=120)
    if values is not None:
        frame["value"] = values
        return tf.shade(canvas.points(frame, "x", "y", agg=ds.mean("value")), cmap=_colormap(cmap), how="linear")
    return tf.shade(canvas.points(frame, "x", "y", agg=ds.count()), cmap=_colormap(cmap), how="eq_hist")


def _datashaded(ax, xy, labels, values, classes, colours, cmap, background, width, height):
    import datashader.transfer_functions as tf

    canvas = _canvas(xy, width, height)
    image = _shade_points(canvas, xy, labels, values, classes, colours, cmap)
    _show(ax, tf.set_background(tf.dynspread(image, threshold=0.5, max_px=2), background), xy)


def _show(ax, image, xy):
    """Draw a datashader image over the embedding's extent on matplotlib axes."""
    ax.imshow(np.asarray(image.to_pil()), extent=_extent(xy), origin="upper", aspect="auto")


def _local_dim(rows, threshold):
    """The fewest principal components of ``rows`` that explain ``threshold`` of their variance."""
    centred = rows - rows.mean(axis=0)
    variance = np.linalg.svd(centred, compute_uv=False) ** 2
    share = np.cumsum(variance) / max(variance.sum(), 1e-300)
    return int(np.searchsorted(share, threshold) + 1)
