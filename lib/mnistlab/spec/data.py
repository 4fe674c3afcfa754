"""Load MNIST the way Keras users expect, with checksums and one clear error.

Search order: ``$MNIST_DIR``, then the Keras cache (``$KERAS_HOME/datasets`` or
``~/.keras/datasets``), then a download from the same address Keras uses.  Either
Keras's ``mnist.npz`` or the four original gzip IDX files are accepted; every file is
verified against its published SHA-256 before use, so a truncated or altered copy is
never trained on silently.
"""

from __future__ import annotations

from mnistlab.core.errors import MnistNotFound

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

NPZ_NAME = "mnist.npz"
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
IDX_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


@dataclass(frozen=True)
class Mnist:
    """The raw data set: uint8 images (N, 28, 28) and uint8 labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    sha256: str

    @property
    def folder(self) -> str:
        """Where the verified files are (what ``MNIST_DIR`` should name for a child process)."""
        source = Path(self.source)
        return str(source.parent if source.suffix == ".npz" else source)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def keras_cache_dir() -> Path:
    """Where ``keras.datasets.mnist.load_data`` keeps its download."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def candidate_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("MNIST_DIR"):
        dirs.append(Path(os.environ["MNIST_DIR"]).expanduser())
    dirs.append(keras_cache_dir())
    return dirs


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _load_npz(path: Path, digest: str) -> Mnist:
    with np.load(path) as data:
        return Mnist(data["x_train"], data["y_train"], data["x_test"], data["y_test"],
                     str(path), digest)


def _load_idx(directory: Path) -> Mnist:
    parts = {name: _read_idx(directory / name) for name in IDX_SHA256}
    combined = hashlib.sha256("".join(IDX_SHA256[n] for n in sorted(IDX_SHA256)).encode())
    return Mnist(parts["train-images-idx3-ubyte.gz"], parts["train-labels-idx1-ubyte.gz"],
                 parts["t10k-images-idx3-ubyte.gz"], parts["t10k-labels-idx1-ubyte.gz"],
                 str(directory), combined.hexdigest())


def _try_dir(directory: Path, problems: list[str]) -> Mnist | None:
    npz = directory / NPZ_NAME
    if npz.is_file():
        digest = sha256_of(npz)
        if digest == NPZ_SHA256:
            return _load_npz(npz, digest)
        problems.append(f"{npz}: sha256 {digest} does not match {NPZ_SHA256} (corrupt or altered)")
    else:
        problems.append(f"{npz}: not found")
    idx_files = [directory / name for name in IDX_SHA256]
    if all(f.is_file() for f in idx_files):
        bad = [f"{f}: sha256 mismatch" for f in idx_files if sha256_of(f) != IDX_SHA256[f.name]]
        if not bad:
            return _load_idx(directory)
        problems.extend(bad)
    return None


def _download(target_dir: Path, problems: list[str]) -> Mnist | None:
    target = target_dir / NPZ_NAME
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target_dir, delete=False, suffix=".part") as tmp:
            with urllib.request.urlopen(NPZ_URL, timeout=30) as response:
                shutil.copyfileobj(response, tmp)
        digest = sha256_of(Path(tmp.name))
        if digest != NPZ_SHA256:
            os.unlink(tmp.name)
            problems.append(f"download from {NPZ_URL}: sha256 {digest} does not match")
            return None
        os.replace(tmp.name, target)
        return _load_npz(target, digest)
    except OSError as error:
        if "tmp" in locals() and os.path.exists(tmp.name):
            os.unlink(tmp.name)
        problems.append(f"download from {NPZ_URL} to {target}: {error}")
        return None


@lru_cache(maxsize=1)
def load_mnist(download: bool = True) -> Mnist:
    """Return verified MNIST, looking in ``$MNIST_DIR``, the Keras cache, then downloading.

    Cached per process: every configuration of a sweep shares one copy in memory.
    """
    problems: list[str] = []
    for directory in candidate_dirs():
        found = _try_dir(directory, problems)
        if found is not None:
            return found
    if download:
        found = _download(keras_cache_dir(), problems)
        if found is not None:
            return found
    tried = "\n  ".join(problems)
    raise MnistNotFound(
        "No verified copy of MNIST was found.\nTried:\n  " + tried + "\n"
        "Fix: set MNIST_DIR to a folder holding mnist.npz "
        f"(sha256 {NPZ_SHA256}) or the four *-ubyte.gz IDX files, "
        "or connect to the internet so it can be downloaded into the Keras cache."
    )
