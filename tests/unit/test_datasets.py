"""Where ``umapx.datasets`` looks for the data sets: ``$UMAPX_DATA``, else the per-user cache folder."""

import pytest

from umapx.datasets import data_dir, dataset_path, load


def test_data_dir_follows_umapx_data(monkeypatch, tmp_path):
    monkeypatch.setenv("UMAPX_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_dir() == tmp_path
    assert dataset_path("digits") == tmp_path / "digits.npz"


def test_data_dir_falls_back_to_the_xdg_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("UMAPX_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data_dir() == tmp_path / "umapx" / "data"


def test_data_dir_defaults_to_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("UMAPX_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir() == tmp_path / ".cache" / "umapx" / "data"


def test_missing_set_names_the_path_and_both_places(monkeypatch, tmp_path):
    monkeypatch.setenv("UMAPX_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError) as error:
        load("no_such_set")
    message = str(error.value)
    assert str(tmp_path / "no_such_set.npz") in message
    assert "UMAPX_DATA" in message
    assert str(tmp_path / "cache" / "umapx" / "data") in message
