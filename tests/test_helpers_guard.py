"""helpers.guard puts the kernel back as it was: tested in a fresh interpreter (it changes global state)."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import builtins, sys, warnings
    import numpy as np
    import torch
    import helpers.guard as guard

    imports = "import math\\nimport torch\\nfrom torch import nn\\nfrom helpers.grading import check_close"
    guard.snapshot(imports)
    namespace = {}
    exec(imports, namespace)
    real_allclose, real_check = torch.allclose, namespace["check_close"]

    # what a submission might leave behind, on purpose or not
    torch.allclose = lambda *args, **kwargs: True
    torch.Tensor.__bool__ = lambda self: True
    torch.Tensor.__eq__ = lambda self, other: True
    builtins.abs = lambda value: 0
    namespace["check_close"] = lambda *args, **kwargs: None
    sys.modules["helpers.grading"] = type(sys)("fake")
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)
    torch.set_default_device("meta")
    warnings.simplefilter("error")
    np.seterr(all="raise")

    changed = guard.restore(namespace, imports)
    import helpers.grading
    assert torch.allclose is real_allclose and not torch.allclose(torch.zeros(1), torch.ones(1))
    assert not (torch.zeros(1) == torch.ones(1)).item()
    assert abs(-3) == 3 and namespace["check_close"] is real_check is helpers.grading.check_close
    assert torch.get_default_dtype() == torch.float32 and torch.is_grad_enabled()
    assert torch.zeros(1).device.type == "cpu" and np.geterr()["divide"] == "warn"
    warnings.warn("a warning is not an error again")
    assert "torch.allclose" in changed and "builtins.abs" in changed and "Tensor.__bool__" in changed
    assert guard.restore(namespace, imports) == []  # nothing left to undo
    print("restored")
''')


def test_restore_undoes_monkeypatches_and_global_settings():
    done = subprocess.run([sys.executable, "-W", "default", "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "restored" in done.stdout, done.stdout + done.stderr
