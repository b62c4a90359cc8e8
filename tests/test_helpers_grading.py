"""The checks used by the notebooks' test cells."""
import numpy as np
import pytest
import torch

from helpers.grading import check_close, check_module, check_scalar, check_tensor


class AlwaysEqual(torch.Tensor):
    def __eq__(self, other):
        return True


class Pretender:
    shape = (2, 2)

    def __eq__(self, other):
        return True


def test_check_tensor_accepts_a_matching_tensor():
    out = check_tensor(torch.zeros(2, 3, requires_grad=True), "z", shape=(2, 3), dtype=torch.float32, low=0, high=1)
    assert not out.requires_grad


@pytest.mark.parametrize("value", [np.zeros((2, 2)), [[0, 0], [0, 0]], Pretender()])
def test_check_tensor_rejects_other_types_with_their_name(value):
    with pytest.raises(AssertionError, match="should be a torch.Tensor"):
        check_tensor(value, "x_hat", shape=(2, 2))


def test_check_close_rejects_a_tensor_subclass_that_equals_everything():
    with pytest.raises(AssertionError, match="torch.Tensor"):
        check_close(torch.zeros(2).as_subclass(AlwaysEqual), torch.ones(2), "kl")


@pytest.mark.parametrize(
    "value, message",
    [(torch.zeros(3), "shape"), (torch.full((2, 2), 2.0), "at most"), (torch.full((2, 2), float("nan")), "NaN")],
)
def test_check_tensor_explains_what_is_wrong(value, message):
    with pytest.raises(AssertionError, match=message):
        check_tensor(value, "x", shape=(2, 2), high=1.0)


def test_check_close_reports_the_largest_difference():
    check_close(torch.ones(3) + 1e-7, torch.ones(3), "a")
    with pytest.raises(AssertionError, match="largest difference from the expected values is 0.5"):
        check_close(torch.tensor([1.0, 1.5]), torch.ones(2), "a")


def test_check_scalar_accepts_numbers_and_0d_tensors_only():
    assert check_scalar(torch.tensor(2.0), 2.0, "loss") == 2.0
    assert check_scalar(2, 2.0, "loss") == 2.0
    for wrong in (torch.ones(2), "2.0", Pretender()):
        with pytest.raises(AssertionError):
            check_scalar(wrong, 2.0, "loss")
    with pytest.raises(AssertionError, match="expected 2"):
        check_scalar(3.0, 2.0, "loss")


def test_check_module():
    assert check_module(torch.nn.Linear(2, 2), "m")
    with pytest.raises(AssertionError, match="nn.Module"):
        check_module(lambda x: x, "m")


def test_unfinished_placeholder_raises_not_implemented_on_every_use():
    import numpy as np

    from helpers import Unfinished, kmeans_accuracy, plot_history, reconstruction_mse

    ae = Unfinished("Autoencoder")
    uses = [
        lambda: ae(torch.zeros(2)), lambda: ae.encode, lambda: len(ae), lambda: ae[0], lambda: ae + 1,
        lambda: f"{ae:.3f}", lambda: np.asarray(ae), lambda: torch.cat([ae, torch.zeros(1)]),
        lambda: float(ae), lambda: bool(ae), lambda: reconstruction_mse(ae, torch.zeros(2, 2)),
        lambda: kmeans_accuracy(ae, [0, 1]), lambda: plot_history(ae), lambda: torch.nn.functional.mse_loss(ae, ae),
    ]
    for use in uses:
        with pytest.raises(NotImplementedError, match="`Autoencoder`"):
            use()
    assert "Autoencoder" in repr(ae)
    assert not hasattr(ae, "_repr_html_")  # Jupyter can still display it
