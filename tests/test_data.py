"""The loader: verified files load, corrupt or missing ones fail with one clear message."""

from __future__ import annotations

import io
import shutil
import urllib.request

import numpy as np
import pytest

from mnistlab.spec import data
from mnistlab.core.errors import MnistNotFound
from mnistlab.spec.data import IDX_SHA256, NPZ_SHA256, load_mnist


def _isolate(monkeypatch, tmp_path, mnist_dir=None):
    """Point MNIST_DIR and the Keras cache at folders under tmp_path only."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    if mnist_dir is None:
        monkeypatch.delenv("MNIST_DIR", raising=False)
    else:
        monkeypatch.setenv("MNIST_DIR", str(mnist_dir))


def test_good_npz_loads_with_keras_shapes(mnist_dir, monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path, mnist_dir)
    mnist = load_mnist(download=False)
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
    assert mnist.x_train.dtype == np.uint8 and set(np.unique(mnist.y_test)) == set(range(10))
    assert mnist.sha256 == NPZ_SHA256


def test_idx_files_give_the_same_data_as_the_npz(mnist_dir, monkeypatch, tmp_path):
    if not all((mnist_dir / name).is_file() for name in IDX_SHA256):
        pytest.skip(f"the IDX files are not in {mnist_dir} (only mnist.npz was downloaded)")
    idx_dir = tmp_path / "idx"
    idx_dir.mkdir()
    for name in IDX_SHA256:
        shutil.copy(mnist_dir / name, idx_dir / name)
    _isolate(monkeypatch, tmp_path, idx_dir)
    from_idx = load_mnist(download=False)
    with np.load(mnist_dir / "mnist.npz") as npz:
        np.testing.assert_array_equal(from_idx.x_train, npz["x_train"])
        np.testing.assert_array_equal(from_idx.y_test, npz["y_test"])


def test_corrupt_npz_is_rejected_naming_the_file(mnist_dir, monkeypatch, tmp_path):
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    payload = bytearray((mnist_dir / "mnist.npz").read_bytes())
    payload[5000] ^= 0xFF
    (bad_dir / "mnist.npz").write_bytes(bytes(payload))
    _isolate(monkeypatch, tmp_path, bad_dir)
    with pytest.raises(MnistNotFound) as error:
        load_mnist(download=False)
    message = str(error.value)
    assert str(bad_dir / "mnist.npz") in message and "does not match" in message
    assert "MNIST_DIR" in message


def test_missing_everywhere_offline_names_every_path_tried(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path, tmp_path / "nowhere")

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(MnistNotFound) as error:
        load_mnist()
    message = str(error.value)
    assert str(tmp_path / "nowhere" / "mnist.npz") in message
    assert str(tmp_path / "keras" / "datasets" / "mnist.npz") in message
    assert "network is unreachable" in message and "Fix:" in message
    assert not list((tmp_path / "keras" / "datasets").glob("*")), "no partial download left behind"


def test_download_is_verified_then_kept_in_the_keras_cache(mnist_dir, monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    good = (mnist_dir / "mnist.npz").read_bytes()
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: io.BytesIO(good))
    mnist = load_mnist()
    assert mnist.source == str(tmp_path / "keras" / "datasets" / "mnist.npz")


def test_download_with_wrong_bytes_is_discarded(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: io.BytesIO(b"not mnist"))
    with pytest.raises(MnistNotFound, match="does not match"):
        load_mnist()
    assert not list((tmp_path / "keras" / "datasets").glob("*"))


def test_search_order_prefers_mnist_dir_over_the_keras_cache(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path, tmp_path / "mine")
    assert data.candidate_dirs() == [tmp_path / "mine", tmp_path / "keras" / "datasets"]
