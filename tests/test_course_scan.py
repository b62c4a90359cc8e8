"""The static scan flags code that tampers with the grading machinery, and not ordinary answers."""
import pytest

from course.scan import scan_cell, scan_submission

IMPORTED = {"torch", "nn", "F", "np", "helpers", "check_close", "math"}


@pytest.mark.parametrize("source", [
    "def encode(x):\n    return torch.relu(x @ W)",
    "class AE(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.encoder = nn.Linear(784, 2)",
    "model.decoder = nn.Sequential(nn.Linear(2, 784))\nz = F.normalize(z, dim=1)",
    "x_hat = torch.sigmoid(x)\nloss = F.mse_loss(x_hat, x)",
    "%matplotlib inline\nimport numpy as np\nvalues = np.linspace(0, 1, 5)",
    "with open('results.txt', 'w') as handle:\n    handle.write('ok')",
    "pattern = re.compile(r'[0-9]+')\nfast = torch.compile(model)",
])
def test_ordinary_answers_are_not_flagged(source):
    assert scan_cell(source, IMPORTED) == []


@pytest.mark.parametrize("source, words", [
    ("torch.allclose = lambda *a, **k: True", "attribute of an imported module"),
    ("import helpers.grading\nhelpers.grading.check_close = print", "attribute of an imported module"),
    ("check_close = lambda *args, **kwargs: None", "rebinds `check_close`"),
    ("def check_close(*args):\n    pass", "redefines `check_close`"),
    ("setattr(torch, 'allclose', lambda *a: True)", "setattr"),
    ("import sys\nsys.modules['helpers'] = None", "sys.modules"),
    ("import builtins\nbuiltins.abs = lambda x: 0", "built-in"),
    ("import sys\nexpected = sys._getframe(1).f_locals", "stack"),
    ("text = open('/work/course/source_notebooks/a/a.ipynb').read()", "outside the notebook's folder"),
    ("data = np.load('../../gradebook.db')", "outside the notebook's folder"),
    ("!cat /etc/passwd", "shell"),
    ("import subprocess\nsubprocess.run(['ls'])", "runs other programs"),
    ("get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])", "rewrites the code"),
    ("ip = get_ipython()\nip.ast_transformers.append(Eraser())", "rewrites the code"),
    ("shell.run_cell = wrapped", "intercepts how cells run"),
    ("type(get_ipython().compile).__call__ = compile_pass", "how cells are compiled"),
    ("kernel.do_execute = fake", "intercepts how the kernel runs code"),
    ("shell.events.register('pre_run_cell', spy)", "callbacks around every cell"),
    ("import sys\nsys.settrace(tracer)", "trace function"),
    ("import sys\nsys.addaudithook(hook)", "audit hook"),
    ("import ctypes\nctypes.pythonapi.PyFrame_LocalsToFast", "calls C functions"),
])
def test_tampering_is_flagged_with_a_reason(source, words):
    findings = scan_cell(source, IMPORTED)
    assert findings and any(words in finding for finding in findings), findings


def test_only_cells_that_differ_from_the_release_are_scanned():
    given = 'import sys\nif "google.colab" in sys.modules:\n    pass'
    cells = [{"cell_type": "code", "source": given, "metadata": {}},
             {"cell_type": "code", "source": "torch.manual_seed = print", "metadata": {"nbgrader": {"grade_id": "enc"}}}]
    findings = scan_submission(cells, {given}, {"torch"})
    assert len(findings) == 1 and findings[0].startswith("enc, line 1")
