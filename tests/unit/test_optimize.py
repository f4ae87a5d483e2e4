"""Gradients of the SGD kernel against finite differences of UMAP's cross-entropy terms (002 eq. 13)."""

import numpy as np
import pytest

from umapx.layout import curve
from umapx.layout.curve import attract_coeff, find_ab_params, fit_ab_params, repel_coeff
from umapx.layout.sampling import default_n_epochs, epochs_per_sample


def attractive_loss(y, z, a, b):
    return np.log1p(a * np.sum((y - z) ** 2) ** b)


def repulsive_loss(y, z, a, b):
    w = 1.0 / (1.0 + a * np.sum((y - z) ** 2) ** b)
    return -np.log(1.0 - w)


def numeric_gradient(f, y, h=1e-6):
    grad = np.zeros_like(y)
    for c in range(len(y)):
        e = np.zeros_like(y)
        e[c] = h
        grad[c] = (f(y + e) - f(y - e)) / (2 * h)
    return grad


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_attractive_gradient(dim):
    a, b = find_ab_params(1.0, 0.1)
    rng = np.random.default_rng(dim)
    for _ in range(20):
        y, z = rng.normal(size=dim), rng.normal(size=dim)
        step = attract_coeff(np.sum((y - z) ** 2), a, b) * (y - z)  # the kernel moves y by this times the rate
        assert np.allclose(step, -numeric_gradient(lambda v, z=z: attractive_loss(v, z, a, b), y), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_repulsive_gradient(dim):
    a, b = find_ab_params(1.0, 0.1)
    rng = np.random.default_rng(10 + dim)
    for _ in range(20):
        y, z = rng.normal(size=dim) * 2, rng.normal(size=dim) * 2
        d = np.linalg.norm(y - z)
        step = repel_coeff(d * d, a, b, 1.0) * (y - z)
        exact = -numeric_gradient(lambda v, z=z: repulsive_loss(v, z, a, b), y)
        # the kernel softens 1/d^2 to 1/(d^2 + 1e-3)
        assert np.allclose(step * (d * d + 1e-3) / (d * d), exact, rtol=1e-5, atol=1e-8)


def test_ab_fit_matches_known_defaults(monkeypatch):
    a, b = fit_ab_params(1.0, 0.1)
    assert abs(a - 1.577) < 0.01 and abs(b - 0.895) < 0.01
    assert find_ab_params(1.0, 0.25) == fit_ab_params(1.0, 0.25)
    monkeypatch.setattr(curve, "fit_ab_params", lambda *args: pytest.fail("the defaults were fitted again"))
    assert np.allclose(find_ab_params(1.0, 0.1), (a, b), rtol=1e-9, atol=0)
    d = np.linspace(0, 3, 300)
    fit = 1 / (1 + a * d ** (2 * b))
    target = np.where(d < 0.1, 1.0, np.exp(-(d - 0.1)))
    assert np.abs(fit - target).max() < 0.1


def test_epochs_per_sample_ratio():
    w = np.array([1.0, 0.5, 0.25])
    assert np.allclose(epochs_per_sample(w, w.max()), [1.0, 2.0, 4.0])


def test_default_epochs_are_umap_learns():
    assert (default_n_epochs(10_000), default_n_epochs(10_001)) == (500, 200)
