"""The public stages: build_graph and embed_graph compose to the estimator's bytes, a stacked layout
keeps its blocks apart, and layout terms join through the one kernel."""

import ast
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import umapx
from umapx import UMAP, AlignmentTerm, DensityTerm, build_graph, embed_graph
from umapx._validation import Interval

FAST = {"random_state": 3, "n_epochs": 60}
SRC = Path(umapx.__file__).resolve().parent


def _split(params):
    """UMAP parameters as build_graph's and embed_graph's keywords."""
    from umapx.pipeline import GRAPH_CONSTRAINTS, LAYOUT_CONSTRAINTS

    graph = {k: v for k, v in params.items() if k in GRAPH_CONSTRAINTS}
    layout = {k: v for k, v in params.items() if k in LAYOUT_CONSTRAINTS}
    return graph, layout


@pytest.mark.parametrize("case", ["plain", "supervised", "densmap", "precomputed", "unique", "array_init"])
def test_stages_compose_to_the_estimators_bytes(digits, case):
    X, y = digits[0][:500], digits[1][:500]
    params, labels, terms = dict(FAST), None, []
    if case == "supervised":
        labels = y
    elif case == "densmap":
        params["output_dens"] = True
        terms = [DensityTerm(lam=2.0, frac=0.3, var_shift=0.1)]
    elif case == "precomputed":
        X = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
        params["metric"] = "precomputed"
    elif case == "unique":
        X = np.concatenate([X[:300], X[:200]])
        params["unique"] = True
    elif case == "array_init":
        params["init"] = np.random.default_rng(0).uniform(0, 10, size=(500, 2))
    model = (UMAP(densmap=True, **params) if terms else UMAP(**params)).fit(X, labels)
    graph_args, layout_args = _split(params)
    layout = embed_graph(build_graph(X, labels, **graph_args), terms=terms, **layout_args)
    assert layout.embedding.shape == (len(X), 2)
    assert layout.embedding.tobytes() == model.embedding_.tobytes()
    if case == "densmap":
        assert layout.rad_orig.tobytes() == model.rad_orig_.tobytes()
        assert layout.rad_emb.tobytes() == model.rad_emb_.tobytes()
    if case == "unique":
        assert np.array_equal(layout.embedding[300:], layout.embedding[:200])


def test_build_graph_checks_its_arguments(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="The 'n_neighbors' parameter of build_graph must be a number in"):
        build_graph(X, n_neighbors=1)
    with pytest.raises(ValueError, match="The 'metric' parameter of build_graph must be one of"):
        build_graph(X, metric="nope")
    graph = build_graph(X[:200], random_state=0)
    with pytest.raises(ValueError, match="The 'negative_sampling' parameter of embed_graph must be one of 'umap'"):
        embed_graph(graph, negative_sampling="sometimes")
    with pytest.raises(ValueError, match="apply to a single graph"):
        embed_graph([graph, graph], output_dens=True)


def test_a_subclass_extends_the_constraints(digits):
    class Smoothed(UMAP):
        _parameter_constraints = {**UMAP._parameter_constraints, "smoothing": [Interval(0.0, 1.0)]}

        def __init__(self, n_neighbors=15, n_epochs=None, random_state=None, smoothing=0.5):
            super().__init__(n_neighbors=n_neighbors, n_epochs=n_epochs, random_state=random_state)
            self.smoothing = smoothing

    X = digits[0][:300]
    with pytest.raises(ValueError, match=r"The 'smoothing' parameter of Smoothed must be a number in \[0.0, 1.0\]"):
        Smoothed(smoothing=2.0).fit(X)
    with pytest.raises(ValueError, match="The 'n_neighbors' parameter of Smoothed must be"):
        Smoothed(n_neighbors=0).fit(X)
    model = Smoothed(n_epochs=20, random_state=0).fit(X)
    assert model.get_params() == {"n_neighbors": 15, "n_epochs": 20, "random_state": 0, "smoothing": 0.5}
    assert model.embedding_.shape == (300, 2)

    class Undeclared(Smoothed):
        def __init__(self, n_neighbors=15, n_epochs=None, random_state=None, smoothing=0.5, width=1):
            super().__init__(n_neighbors, n_epochs, random_state, smoothing)
            self.width = width

    with pytest.raises(TypeError, match="Undeclared declares no constraint for its parameter 'width'"):
        Undeclared().fit(X)


@pytest.fixture(scope="module")
def slices(digits):
    X, _ = digits
    return [build_graph(part, random_state=0) for part in (X[:300], X[300:600], X[600:900])]


def test_each_block_of_a_stacked_layout_reads_only_itself(slices):
    """Block 0 samples its tails and negatives from itself alone: its layout does not depend on the other block."""
    first, second = (
        embed_graph([slices[0], other], init="random", random_state=1, n_epochs=50) for other in slices[1:]
    )
    assert first[0].embedding.tobytes() == second[0].embedding.tobytes()
    assert first[1].embedding.tobytes() != second[1].embedding.tobytes()
    alone = embed_graph(slices[0], init="random", random_state=1, n_epochs=50)
    assert np.isfinite(alone.embedding).all()


def test_each_block_keeps_its_own_curve(slices):
    layouts = embed_graph(slices[:2], min_dist=[0.1, 0.8], random_state=1, n_epochs=30)
    assert layouts[0].b != layouts[1].b
    assert (layouts[0].a, layouts[0].b) == (
        embed_graph(slices[0], min_dist=0.1, n_epochs=1).a,
        embed_graph(slices[0], min_dist=0.1, n_epochs=1).b,
    )


def test_alignment_term_pulls_related_rows_together(slices):
    """Two slices of the same points, related one to one: the alignment term brings each point's two
    positions together; without it the slices are laid out independently."""
    g = slices[0]
    n = g.n_vertices
    pairs = sp.csr_matrix(sp.bmat([[None, sp.identity(n)], [sp.identity(n), None]]))

    def gap(lam):
        terms = [AlignmentTerm(pairs, lam=lam)] if lam else []
        a, b = embed_graph([g, g], init="random", random_state=2, n_epochs=100, terms=terms)
        return np.median(np.linalg.norm(a.embedding - b.embedding, axis=1))

    free, aligned = gap(0.0), gap(0.05)
    assert aligned < 0.2 * free


def test_a_block_of_no_epochs_stays_where_it_starts(slices):
    """n_epochs per block: a block of 0 epochs keeps its init array's bytes while the others move, and
    each block's Layout records its own epochs; an alignment term pulls the moving block towards it."""
    g = slices[0]
    start = np.random.default_rng(0).uniform(0, 10, size=(g.n_vertices, 2)).astype(np.float32)
    held, moved = embed_graph([g, g], init=[start, "spectral"], n_epochs=[0, 40], random_state=3)
    assert held.embedding.tobytes() == start.tobytes()
    assert (held.n_epochs, moved.n_epochs) == (0, 40)
    n = g.n_vertices
    pairs = sp.csr_matrix(sp.bmat([[None, sp.identity(n)], [sp.identity(n), None]]))
    pulled = embed_graph(
        [g, g], init=[start, "spectral"], n_epochs=[0, 40], random_state=3, terms=[AlignmentTerm(pairs, lam=0.5)]
    )
    assert pulled[0].embedding.tobytes() == start.tobytes()
    far = np.linalg.norm(moved.embedding - start, axis=1).mean()
    assert np.linalg.norm(pulled[1].embedding - start, axis=1).mean() < 0.5 * far


def test_a_block_of_fewer_epochs_is_sampled_as_in_a_layout_of_its_own_epochs(slices):
    """Per-block epochs: a block of 100 epochs beside one of 200 runs fewer samples (its layout differs
    from the 200-epoch one) and reaches a layout of the same quality as alone."""
    from umapx.evaluation import trustworthiness

    X = slices[1].data
    short, long = embed_graph([slices[1], slices[1]], n_epochs=[100, 200], random_state=5)
    assert short.embedding.tobytes() != long.embedding.tobytes()
    assert (short.n_epochs, long.n_epochs) == (100, 200)
    alone = embed_graph(slices[1], n_epochs=100, random_state=5)
    assert trustworthiness(X, short.embedding, k=10) > trustworthiness(X, alone.embedding, k=10) - 0.01


def test_terms_stack_in_one_kernel_call(slices):
    """Two terms in one layout: an alignment term without relations leaves DensMAP's layout as it was."""
    g = slices[0]
    none = sp.csr_matrix((g.n_vertices, g.n_vertices))
    density = DensityTerm()
    both = embed_graph(g, random_state=4, n_epochs=40, terms=[density, AlignmentTerm(none, lam=1.0)])
    alone = embed_graph(g, random_state=4, n_epochs=40, terms=[density])
    assert both.embedding.tobytes() == alone.embedding.tobytes()
    assert alone.embedding.tobytes() != embed_graph(g, random_state=4, n_epochs=40).embedding.tobytes()


def _imports(path):
    """The umapx modules that a module imports, at any level of its code."""
    name = ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            found |= {target} | {f"{target}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return name, {m for m in found if m.startswith("umapx.") and m != name}


def test_modules_are_small_and_import_no_cycle():
    modules = dict(_imports(path) for path in SRC.rglob("*.py"))
    sizes = {path.name: len(path.read_text().splitlines()) for path in SRC.rglob("*.py")}
    assert max(sizes.values()) <= 800, sizes
    graph = {m: {d for d in deps if d in modules} for m, deps in modules.items()}
    state = {}

    def visit(m, path):
        if state.get(m) == "open":
            raise AssertionError(f"import cycle: {' -> '.join(path + [m])}")
        if state.get(m) != "done":
            state[m] = "open"
            for d in sorted(graph[m]):
                visit(d, path + [m])
            state[m] = "done"

    for m in sorted(graph):
        visit(m, [])
    assert not any(d in ("umapx.umap",) for d in graph["umapx.io"])
    tree = ast.parse((SRC / "umap.py").read_text())
    umap_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "UMAP")
    assert umap_class.end_lineno - umap_class.lineno < 300
