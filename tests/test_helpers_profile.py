"""Training profiles: quick (what grading uses) and full (the seeds' schedules), chosen by COURSE_PROFILE."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import Budget, active_profile, budget
from helpers.profile import SCHEDULES

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "source_notebooks").glob("*/*.ipynb"))


def test_quick_is_the_default_on_the_cpu_and_full_on_cuda():
    assert active_profile("cpu", env={}) == "quick"
    assert active_profile(None, env={}) == "quick"
    assert active_profile("cuda", env={}) == "full"
    assert active_profile("cuda:1", env={}) == "full"


def test_an_explicit_course_profile_wins_over_the_device():
    assert active_profile("cpu", env={"COURSE_PROFILE": "full"}) == "full"
    assert active_profile("cuda", env={"COURSE_PROFILE": " Quick "}) == "quick"


def test_grading_always_uses_the_quick_profile():
    # nbgrader sets NBGRADER_EXECUTION in the grading kernel: the thresholds were measured on quick
    grading = {"NBGRADER_EXECUTION": "autograde", "COURSE_PROFILE": "full"}
    assert active_profile("cuda", env=grading) == "quick"
    assert budget("latent_classifier", "cuda", n_train=60_000, env=grading).num_epochs == 2


def test_a_misspelt_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="COURSE_PROFILE='fast' is not a profile; use quick or full"):
        active_profile("cpu", env={"COURSE_PROFILE": "fast"})


def test_an_unknown_model_names_the_known_ones():
    with pytest.raises(ValueError, match="known models: .*vae"):
        budget("gan", "cpu", env={})


def test_the_quick_budget_is_the_one_the_thresholds_were_measured_with():
    # These numbers were the notebooks' own constants when the hidden tests' thresholds were measured
    # (benchmarks/results/thresholds-*.md): changing one invalidates those measurements.
    quick = {model: budget(model, "cpu", n_train=4000, env={}) for model in SCHEDULES}
    got = {model: (b.train_size, b.num_epochs, b.batch_size, b.lr) for model, b in quick.items()}
    assert got == {
        "mlp_autoencoder": (10_000, 20, 64, 1e-3),
        "conv_autoencoder": (10_000, 5, 64, 3e-3),
        "denoising_autoencoder": (10_000, 20, 64, 1e-3),
        "deep_autoencoder": (10_000, 20, 128, 2e-3),
        "vae": (10_000, 30, 128, 1e-3),
        "latent_classifier": (10_000, 30, 256, 1e-3),
    }


def test_quick_fixed_step_budgets_scale_their_epochs_with_the_training_set():
    assert budget("vae", "cpu", n_train=10_000, env={}).num_epochs == 12  # round(30 * 4000 / 10000)
    assert budget("latent_classifier", "cpu", n_train=200_000, env={}).num_epochs == 1  # never 0


def test_the_full_profile_follows_the_seeds_on_all_the_data():
    full = {"COURSE_PROFILE": "full"}
    seed_004 = budget("latent_classifier", "cpu", n_train=4000, env=full)
    assert (seed_004.train_size, seed_004.num_epochs, seed_004.batch_size) == (None, 500, 1024)
    assert "seed 004" in seed_004.source and "500 epochs" in seed_004.describe()
    assert budget("vae", "cpu", env=full).num_epochs == 30  # seed 000
    assert budget("mlp_autoencoder", "cpu", env=full).num_epochs == 30  # seed 000
    for model, schedules in SCHEDULES.items():
        assert schedules["full"].source.startswith("seed 00"), f"{model}: name the seed its full schedule follows"


def test_a_budget_round_trips_through_json():
    original = budget("vae", "cuda", env={})
    assert Budget.from_json(json.loads(json.dumps(original.to_json()))) == original


def test_the_environment_decides_in_a_fresh_process():
    # what a notebook kernel sees: the variables set by `course grade` or by the instructor
    code = "from helpers import budget; print(budget('latent_classifier', 'cpu', n_train=4000).num_epochs)"
    def epochs(**env):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={"PATH": "/usr/bin:/bin", **env})
        return int(out.stdout)
    assert epochs() == 30
    assert epochs(COURSE_PROFILE="full") == 500
    assert epochs(COURSE_PROFILE="full", NBGRADER_EXECUTION="autograde") == 30


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_every_training_cell_takes_its_budget_from_the_profile(path):
    cells = json.loads(path.read_text())["cells"]
    free = [c for c in cells if c["cell_type"] == "code"
            and not c["metadata"].get("nbgrader", {}).get("grade")
            and not c["metadata"].get("nbgrader", {}).get("solution")]
    source = "\n".join("".join(c["source"]) for c in free)
    assert "budget(" in source, f"{path.name}: no training cell asks helpers.budget() for its budget"
    for call in re.findall(r"\bfit\([^)]*\)", source, flags=re.S):
        assert not re.search(r"(num_epochs|batch_size)\s*=\s*\d", call), f"a constant in {call!r}: use the budget"
