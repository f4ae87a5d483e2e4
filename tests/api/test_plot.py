"""umapx.plot renders every picture of real data at the asked size, with colours where labels are
given, and its interactive page works in a real browser."""

import os
import shutil
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

import umapx
import umapx.plot as up


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    return umapx.UMAP(n_epochs=100, random_state=0, loss_report=True).fit(X), X, y


def _png(ax, tmp_path, name="plot"):
    """The figure of ``ax`` as an RGB array read back from a PNG at 100 dpi."""
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path, dpi=100)
    plt.close(ax.figure)
    return matplotlib.image.imread(path)[..., :3]


def _colours(image):
    return len(np.unique((image * 255).astype(np.uint8).reshape(-1, 3), axis=0))


def _inked(image, background=1.0):
    """Share of pixels that differ from a plain background."""
    return float(np.mean(np.any(np.abs(image - background) > 0.05, axis=-1)))


def test_points_with_labels_has_the_asked_size_and_a_colour_per_class(fitted, tmp_path):
    model, _, y = fitted
    ax = up.points(model, labels=y, width=500, height=400)
    image = _png(ax, tmp_path)
    assert image.shape[:2] == (400, 500)
    assert len(ax.get_legend().get_texts()) == 10
    assert _colours(image) > 10
    assert 0.01 < _inked(image) < 0.9


def test_points_with_values_draws_a_colour_bar(fitted, tmp_path):
    model, X, _ = fitted
    ax = up.points(model, values=X[:, 30], width=400, height=400)
    assert len(ax.figure.axes) == 2  # the plot and its colour bar
    assert _colours(_png(ax, tmp_path)) > 5


def test_large_data_goes_through_datashader(real_data, monkeypatch, tmp_path):
    X, y = real_data("fashion_mnist")
    X, y = X[:3000], y[:3000]
    embedding = umapx.UMAP(n_epochs=50, random_state=0).fit_transform(X)
    monkeypatch.setattr(up, "DATASHADE_FROM", 2000)
    ax = up.points(embedding, labels=y, width=300, height=300)
    assert len(ax.images) == 1 and not ax.collections  # an image, not a scatter
    image = _png(ax, tmp_path)
    assert image.shape[:2] == (300, 300)
    assert _colours(image) > 10
    dark = up.points(embedding, values=X[:, 400], theme="fire", width=300, height=300)
    assert len(dark.images) == 1 and len(dark.figure.axes) == 2
    assert _inked(_png(dark, tmp_path, "dark"), background=0.0) > 0.005


@pytest.mark.parametrize("bundling", [None, "hammer"])
def test_connectivity_draws_the_graph_edges(fitted, tmp_path, bundling):
    model, _, y = fitted
    ax = up.connectivity(model, edge_bundling=bundling, show_points=True, labels=y, width=300, height=300)
    image = _png(ax, tmp_path)
    assert image.shape[:2] == (300, 300)
    assert _inked(image) > 0.02
    assert _colours(image) > 10


@pytest.mark.parametrize("kind", up.DIAGNOSTICS)
def test_diagnostic_plots(fitted, tmp_path, kind):
    model, _, _ = fitted
    ax = up.diagnostic(model, diagnostic_type=kind, width=300, height=300)
    image = _png(ax, tmp_path)
    assert image.shape[:2] == (300, 300)
    assert _colours(image) > 10


def test_neighborhood_diagnostic_colours_by_agreement(fitted):
    model, _, _ = fitted
    ax = up.diagnostic(model, diagnostic_type="neighborhood")
    jaccard = ax.collections[0].get_array()
    assert 0.0 <= jaccard.min() and jaccard.max() <= 1.0
    assert 0.2 < np.mean(jaccard) < 0.9  # digits keeps part of each neighbourhood


def test_loss_plot_draws_the_recorded_losses(fitted, tmp_path):
    model, _, _ = fitted
    ax = up.loss(model)
    assert [line.get_label() for line in ax.get_lines()] == ["purported", "effective", "actual"]
    assert len(ax.get_lines()[0].get_xdata()) == len(model.loss_history_["epoch"])
    assert _png(ax, tmp_path).shape[:2] == (500, 800)


def test_bad_arguments_are_named(fitted):
    model, X, y = fitted
    with pytest.raises(ValueError, match="theme must be one of fire, viridis"):
        up.points(model, theme="pink")
    with pytest.raises(ValueError, match="diagnostic_type must be one of pca, ica, vq"):
        up.diagnostic(model, diagnostic_type="tsne")
    with pytest.raises(ValueError, match="edge_bundling must be None or 'hammer'"):
        up.connectivity(model, edge_bundling="fdeb")
    with pytest.raises(ValueError, match=r"labels must have one entry per point \(1797\)"):
        up.points(model, labels=y[:10])
    with pytest.raises(ValueError, match="no loss history: fit it with loss_report"):
        up.loss(umapx.UMAP(n_epochs=10, random_state=0).fit(X[:300]))
    with pytest.raises(ValueError, match=r"two-dimensional embedding \(n x 2\)"):
        up.points(umapx.UMAP(n_components=3, n_epochs=10, random_state=0).fit(X[:300]))
    with pytest.raises(ValueError, match="needs a fitted model"):
        up.connectivity(model.embedding_)


def _page_columns(html):
    """The columns of the one data source in a standalone bokeh page, decoded from its document JSON."""
    import base64
    import gzip
    import json
    import re

    documents = [
        json.loads(m) for m in re.findall(r'<script type="application/json"[^>]*>\s*(.*?)\s*</script>', html, re.S)
    ]
    sources = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("name") == "ColumnDataSource":
                sources.append(node["attributes"]["data"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    def decode(value):
        if isinstance(value, dict) and value.get("type") == "ndarray":
            raw = value["array"]
            if isinstance(raw, dict):  # base64 bytes, gzipped where that is smaller
                data = base64.b64decode(raw["data"])
                data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
                return np.frombuffer(data, dtype=value["dtype"]).reshape(value["shape"])
            return np.asarray(raw, dtype=value["dtype"])
        return np.asarray(value)

    walk(documents)
    assert len(sources) == 1, f"{len(sources)} data sources in the page"
    return {name: decode(value) for name, value in sources[0]["entries"]}


def test_interactive_page_holds_every_point_and_its_hover_data(fitted, tmp_path):
    model, X, y = fitted
    page = tmp_path / "map.html"
    up.save_html(up.interactive(model, labels=y, hover_data={"digit": y, "pixel_30": X[:, 30]}), page)
    html = page.read_text()
    assert "https://cdn.bokeh.org" not in html  # BokehJS is inlined: the page opens offline
    columns = _page_columns(html)
    assert np.array_equal(columns["x"], model.embedding_[:, 0]) and np.array_equal(columns["y"], model.embedding_[:, 1])
    assert np.array_equal(columns["index"], np.arange(len(y)))
    assert np.array_equal(columns["digit"], y) and np.array_equal(columns["pixel_30"], X[:, 30])
    assert list(columns["label"]) == [str(label) for label in y]


def test_color_key_colours_each_class_as_asked(fitted, tmp_path):
    from matplotlib.colors import to_rgb

    model, _, y = fitted
    key = {
        d: c
        for d, c in zip(
            range(10),
            ["red", "green", "blue", "orange", "purple", "cyan", "magenta", "black", "brown", "olive"],
            strict=True,
        )
    }
    ax = up.points(model, labels=y, color_key=key)
    drawn = ax.collections[0].get_facecolors()[:, :3]
    assert np.allclose(drawn, [to_rgb(key[label]) for label in y])
    as_list = up.points(model, labels=y, color_key=list(key.values()))
    assert np.allclose(as_list.collections[0].get_facecolors()[:, :3], drawn)
    with pytest.raises(ValueError, match=r"color_key has no colour for the labels \[9\]"):
        up.points(model, labels=y, color_key={d: key[d] for d in range(9)})
    plt.close("all")


def test_subset_points_draws_only_those_points(fitted):
    model, _, y = fitted
    keep = np.flatnonzero(y == 3)
    ax = up.points(model, labels=y, subset_points=keep)
    assert np.array_equal(ax.collections[0].get_offsets(), model.embedding_[keep])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["3"]
    plt.close("all")


def test_show_legend_false_draws_no_legend(fitted):
    model, _, y = fitted
    assert up.points(model, labels=y, show_legend=False).get_legend() is None
    assert up.points(model, labels=y).get_legend() is not None
    plt.close("all")


@pytest.mark.parametrize("theme", sorted(up.THEMES))
def test_every_theme_sets_its_background_and_colour_map(fitted, tmp_path, theme):
    from matplotlib.colors import to_rgb

    model, X, _ = fitted
    cmap, _, background = up.THEMES[theme]
    ax = up.points(model, values=X[:, 30], theme=theme, width=300, height=300)
    assert ax.collections[0].get_cmap().name == cmap
    assert np.allclose(to_rgb(ax.get_facecolor()), to_rgb(background))
    box, image = ax.get_window_extent(), _png(ax, tmp_path)
    top, bottom = image.shape[0] - int(box.y1) + 2, image.shape[0] - int(box.y0) - 2
    inside = image[top:bottom, int(box.x0) + 2 : int(box.x1) - 2]  # the plot area, without the figure's margins
    pixels, counts = np.unique((inside * 255).round().reshape(-1, 3), axis=0, return_counts=True)
    assert np.allclose(pixels[counts.argmax()] / 255, to_rgb(background), atol=0.01)  # the commonest colour


def _browser():
    """A headless Chromium driven by selenium, or the reason there is none."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None, "selenium is not installed (pip install selenium)"
    chromium, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (chromium and driver):
        return None, "Chromium and its driver are not installed (Debian: apt-get install chromium chromium-driver)"
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,900"):
        options.add_argument(flag)
    options.binary_location = chromium
    return webdriver.Chrome(service=Service(driver), options=options), None


_PLOT_VIEW = "for (const v of Object.values(Bokeh.index)) { if (v.frame) { %s } } return null;"
_TEXT = """function text(node) { let out = node.shadowRoot ? text(node.shadowRoot) : '';
  for (const c of node.childNodes) out += c.nodeType === 3 ? c.textContent + ' ' : text(c);
  return out; }
return text(document.body);"""


def test_interactive_page_renders_and_hovering_a_point_shows_its_data(fitted, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    browser, reason = _browser()
    if browser is None:
        if os.environ.get("UMAPX_REQUIRE_BROWSER"):
            pytest.fail(f"the browser test must run here: {reason}")
        pytest.skip(reason)
    model, X, y = fitted
    page = tmp_path / "map.html"
    up.save_html(up.interactive(model, labels=y, hover_data={"pixel_30": X[:, 30]}, width=600, height=600), page)
    try:
        browser.get(page.as_uri())
        for _ in range(100):  # BokehJS renders after the page loads
            if browser.execute_script("return typeof Bokeh !== 'undefined' && Object.keys(Bokeh.index).length > 0"):
                break
            time.sleep(0.1)
        time.sleep(0.5)
        width, height, colours = browser.execute_script(
            _PLOT_VIEW
            % """const c = v.canvas_view.primary.canvas;
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, seen = new Set();
            for (let i = 0; i < px.length; i += 4 * 31) seen.add(px[i] + ',' + px[i + 1] + ',' + px[i + 2]);
            return [c.width, c.height, seen.size];"""
        )
        assert (width, height) == (600, 600)
        assert colours > 10  # points of ten classes drawn on the canvas
        k = 100
        x, y_px, left, top = browser.execute_script(
            _PLOT_VIEW
            % f"""const d = v.model.renderers[0].data_source.data, r = v.canvas_view.el.getBoundingClientRect();
            return [v.frame.x_scale.compute(d.x[{k}]), v.frame.y_scale.compute(d.y[{k}]), r.left, r.top];"""
        )
        ActionChains(browser).move_by_offset(left + x, top + y_px).perform()
        time.sleep(0.5)
        shown = " ".join(browser.execute_script(_TEXT).split())
        assert f"label: {y[k]}" in shown
        assert f"index: {k}" in shown
    finally:
        browser.quit()
