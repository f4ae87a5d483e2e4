"""Quality floors on real data (issue 3): trustworthiness and kNN accuracy of the embedding."""
import pytest

from umapx import UMAP
from umapx.evaluation import knn_accuracy, trustworthiness


def test_iris(iris):
    X, _ = iris
    emb = UMAP(random_state=0).fit_transform(X)
    assert trustworthiness(X, emb, k=15) >= 0.97


def test_digits(digits):
    X, y = digits
    emb = UMAP(random_state=0).fit_transform(X)
    assert trustworthiness(X, emb, k=15) >= 0.98
    assert knn_accuracy(emb, y, k=10) >= 0.96


def test_mnist_test(real_data):
    X, y = real_data("mnist_test")
    emb = UMAP(random_state=0).fit_transform(X)
    assert knn_accuracy(emb, y, k=10) >= 0.93


def test_supervised_separates_labels_better(real_data):
    X, y = real_data("pbmc68k_reduced")
    plain = UMAP(random_state=0).fit_transform(X)
    supervised = UMAP(random_state=0).fit_transform(X, y)
    assert knn_accuracy(supervised, y, k=10) > knn_accuracy(plain, y, k=10) + 0.1


def test_semi_supervised_uses_the_labels_it_has(real_data):
    import numpy as np

    X, y = real_data("pbmc68k_reduced")
    partial = y.copy()
    partial[np.random.default_rng(0).random(len(y)) < 0.5] = -1
    plain = UMAP(random_state=0).fit_transform(X)
    semi = UMAP(random_state=0).fit_transform(X, partial)
    assert knn_accuracy(semi, y, k=10) > knn_accuracy(plain, y, k=10) + 0.05


def _density_and_accuracy(X, y, **params):
    """Pearson correlation of rad_orig_ and rad_emb_, and 10-NN accuracy of the embedding."""
    import numpy as np

    emb, rad_orig, rad_emb = UMAP(random_state=0, output_dens=True, **params).fit_transform(X)
    return np.corrcoef(rad_orig, rad_emb)[0, 1], knn_accuracy(emb, y, k=10)


def _check_densmap_keeps_density(X, y):
    plain_corr, plain_acc = _density_and_accuracy(X, y)
    corr = {lam: _density_and_accuracy(X, y, densmap=True, dens_lambda=lam) for lam in (0.1, 2.0, 5.0)}
    assert corr[0.1][0] < corr[2.0][0] < corr[5.0][0]
    assert corr[2.0][0] >= plain_corr + 0.3
    assert corr[2.0][1] >= plain_acc - 0.03


def test_densmap_keeps_local_density(digits):
    _check_densmap_keeps_density(*digits)


@pytest.mark.slow
def test_densmap_keeps_local_density_on_mnist(real_data):
    _check_densmap_keeps_density(*real_data("mnist_test"))
