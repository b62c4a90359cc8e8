"""The wire between a grader and a student's kernel: requests in, plain values out.

A hidden check runs in the grader's own process (:mod:`course.checks`). To learn what the
student's code does, it sends the kernel a *probe*: a silent execute request whose code is
:data:`KERNEL_SIDE` (sent in full every time: nothing the kernel kept from before is trusted)
followed by one call of ``__course_probe__(request)``. The kernel decodes the request's
inputs, calls the student's function or method, and answers with the result encoded as
JSON (tensors as dtype, shape and base64 bytes) in a user expression of the execute reply.

What comes back is data, never code: the grader decodes it with :func:`decode` (JSON,
base64 and NumPy's ``frombuffer`` over a fixed list of dtypes; no pickle) and judges it
itself. A kernel that lies can only send values; sending the right values means computing
them, which is solving the exercise.

Requests (JSON objects):

- ``{"op": "call", "target": T, "args": [...], "kwargs": {...}, ...options}`` calls T, a
  global of the notebook (``"kl_divergence"``) or a method of an object the kernel made
  earlier (``{"object": 3, "method": "encode"}``). Options: ``"seed"`` (torch.manual_seed
  first), ``"advance"`` (draw that many numbers from torch's global generator first),
  ``"no_grad"``, ``"grad"`` ({"wrt": [argument positions], "params": object id or None,
  "output": index in a returned tuple or None, "reduce": "sum" | "square_mean"}: backward
  through the result and send the gradients), ``"patch"`` ({name: source of an expression}:
  the notebook's global ``name`` is that value during the call, e.g. a stand-in for an
  earlier exercise, so that one mistake does not cost points twice). The reply says which
  tensor arguments the call changed in place (``"mutated"``).
- ``{"op": "state", "object": N}``: the parameters and buffers of a module, by name, and
  the type of each submodule.
- ``{"op": "load", "object": N, "tensors": [...]}``: copy tensors into the module's
  parameters, in the order ``parameters()`` gives them (shapes must match).
- ``{"op": "get", "name": X}``: the value of a global of the notebook.
- ``{"op": "define", "source": S}``: run the grader's own code S in the notebook's namespace,
  for what the cells after a test cell build on (a stand-in for an exercise that later
  training cells use, as a hidden test once did in the kernel). The reply has no value.

Values: tensors ``{"tensor": {...}}`` (meta tensors without data), ``{"tuple": [...]}``,
``{"list": [...]}``, ``{"dict": {...}}``, ``{"float": "nan"}`` for non-finite floats,
modules ``{"object": N, "type": "VAE"}`` (kept in the kernel for later requests), anything
else ``{"opaque": type name}``. In requests also ``{"generator": seed, "device": "kernel"}``
(a fresh torch.Generator), ``{"meta": {"shape": [...], "dtype": "float32"}}``, ``{"global":
name}`` and ``{"object": N}``. ``"device": "kernel"`` on a tensor puts it on the notebook's
DEVICE.
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from typing import Any

# dtype name -> NumPy dtype of its bytes on the wire (bfloat16 travels as float32)
DTYPES = {"float16": "<f2", "float32": "<f4", "float64": "<f8", "bfloat16": "<f4", "int8": "i1", "uint8": "u1",
          "int16": "<i2", "int32": "<i4", "int64": "<i8", "bool": "?"}

KERNEL_SIDE = r'''
def __course_probe__(request_text):
    """Run one probe request of the grader in this kernel; returns the reply as JSON text."""
    import base64 as _b64, json as _json, math as _math
    import torch as _torch
    from IPython import get_ipython as _get_ipython

    _shell = _get_ipython()
    _ns = _shell.user_ns
    _objects = _shell.__dict__.setdefault("_course_probe_objects", {})
    _wire = {"float16": "<f2", "float32": "<f4", "float64": "<f8", "bfloat16": "<f4", "int8": "i1", "uint8": "u1",
             "int16": "<i2", "int32": "<i4", "int64": "<i8", "bool": "?"}

    def _device():
        return _ns.get("DEVICE", "cpu")

    def decode(value):
        import numpy as _np
        if isinstance(value, list):
            return [decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "tensor" in value:
            spec = value["tensor"]
            array = _np.frombuffer(_b64.b64decode(spec["data"]), dtype=_wire[spec["dtype"]]).copy()
            tensor = _torch.from_numpy(array).reshape(spec["shape"]).to(getattr(_torch, spec["dtype"]))
            return tensor.to(_device()) if spec.get("device") == "kernel" else tensor
        if "meta" in value:
            return _torch.empty(value["meta"]["shape"], dtype=getattr(_torch, value["meta"]["dtype"]), device="meta")
        if "generator" in value:
            device = _device() if value.get("device") == "kernel" else "cpu"
            return _torch.Generator(device=device).manual_seed(value["generator"])
        if "global" in value:
            return _ns[value["global"]]
        if "object" in value:
            return _objects[value["object"]]
        if "tuple" in value:
            return tuple(decode(v) for v in value["tuple"])
        if "float" in value:
            return float(value["float"])
        if "dict" in value:
            return {k: decode(v) for k, v in value["dict"].items()}
        raise ValueError("unknown value in a probe request")

    def encode(value):
        if type(value) in (_torch.Tensor, _torch.nn.Parameter):
            spec = {"dtype": str(value.dtype).replace("torch.", ""), "shape": list(value.shape),
                    "device": value.device.type, "requires_grad": bool(value.requires_grad)}
            if spec["dtype"] not in _wire:
                return {"opaque": "tensor of " + spec["dtype"]}
            if value.device.type != "meta":
                data = value.detach().cpu()
                data = data.float() if spec["dtype"] == "bfloat16" else data
                spec["data"] = _b64.b64encode(data.contiguous().numpy().tobytes()).decode()
            return {"tensor": spec}
        if value is None or type(value) in (bool, int, str):
            return value
        if type(value) is _torch.device:
            return {"torch_device": str(value)}
        if type(value) is float:
            return value if _math.isfinite(value) else {"float": repr(value)}
        if type(value) is tuple:
            return {"tuple": [encode(v) for v in value]}
        if type(value) is list:
            return {"list": [encode(v) for v in value]}
        if type(value) is dict and all(type(k) is str for k in value):
            return {"dict": {k: encode(v) for k, v in value.items()}}
        if isinstance(value, _torch.nn.Module):
            number = len(_objects) + 1
            _objects[number] = value
            return {"object": number, "type": type(value).__qualname__}
        return {"opaque": type(value).__qualname__}

    def target(spec):
        if isinstance(spec, dict):
            return getattr(_objects[spec["object"]], spec["method"])
        return _ns[spec]

    def reduce(tensor, how):
        return tensor.sum() if how == "sum" else tensor.square().mean()

    def call(request):
        function = target(request["target"])
        args = decode(request.get("args", []))
        kwargs = {k: decode(v) for k, v in request.get("kwargs", {}).items()}
        grad = request.get("grad")
        if grad:
            args = [a.detach().clone().requires_grad_() if i in grad["wrt"] else a for i, a in enumerate(args)]
        before = [a.detach().clone() if type(a) is _torch.Tensor and a.device.type != "meta" else None for a in args]
        if request.get("seed") is not None:
            _torch.manual_seed(request["seed"])
        if request.get("advance"):
            _torch.rand(request["advance"])
        if grad and grad.get("params") is not None:
            _objects[grad["params"]].zero_grad(set_to_none=True)
        patches = {name: eval(source, {"torch": _torch, "math": _math}) for name, source in request.get("patch", {}).items()}
        saved = {name: _ns[name] for name in patches if name in _ns}
        _ns.update(patches)
        try:
            with _torch.no_grad() if request.get("no_grad") else _torch.enable_grad():
                result = function(*args, **kwargs)
        finally:
            for name in patches:
                if name in saved:
                    _ns[name] = saved[name]
                else:
                    _ns.pop(name, None)
        reply = {"value": encode(result)}
        reply["mutated"] = [i for i, (a, b) in enumerate(zip(args, before))
                            if b is not None and type(a) is _torch.Tensor and not _torch.equal(a.detach(), b)]
        if grad:
            output = result[grad["output"]] if grad.get("output") is not None else result
            reduce(output, grad.get("reduce", "sum")).backward()
            reply["grads"] = [encode(args[i].grad) for i in grad["wrt"]]
            if grad.get("params") is not None:
                module = _objects[grad["params"]]
                reply["param_grads"] = [[n, encode(p.grad)] for n, p in module.named_parameters()]
        return reply

    def state(request):
        module = _objects[request["object"]]
        return {"parameters": [[n, encode(p)] for n, p in module.named_parameters()],
                "buffers": [[n, encode(b)] for n, b in module.named_buffers()],
                "modules": [[n, type(m).__module__ + "." + type(m).__qualname__] for n, m in module.named_modules()]}

    def load(request):
        module = _objects[request["object"]]
        tensors = decode(request["tensors"])
        parameters = list(module.parameters())
        if len(parameters) != len(tensors) or any(p.shape != t.shape for p, t in zip(parameters, tensors)):
            return {"loaded": False}
        with _torch.no_grad():
            for p, t in zip(parameters, tensors):
                p.copy_(t.to(p.device, p.dtype))
        return {"loaded": True}

    try:
        request = _json.loads(request_text)
        operation = request["op"]
        if operation == "call":
            reply = call(request)
        elif operation == "state":
            reply = state(request)
        elif operation == "load":
            reply = load(request)
        elif operation == "define":
            exec(request["source"], _ns)
            reply = {"value": None}
        else:
            reply = {"value": encode(_ns[request["name"]]) if request["name"] in _ns else {"missing": request["name"]}}
    except BaseException as error:  # the student's code raised (or was interrupted): say what, to the grader
        reply = {"error": [type(error).__name__, str(error)[:500]]}
    return _json.dumps(reply)
'''
def reply_name(nonce: str) -> str:
    """The variable a probe's reply goes into: new for every probe, so that no reply can be planted or reused."""
    return f"__course_reply_{nonce}__"


def probe_code(request: dict, nonce: str) -> str:
    """The code of one probe: the kernel side in full, then the call whose result the reply carries."""
    return KERNEL_SIDE + f"\n{reply_name(nonce)} = __course_probe__({json.dumps(request)!r})\n"


def reply_expression(nonce: str) -> str:
    """The user expression that reads the reply (and removes it: replies can be megabytes)."""
    return f"globals().pop({reply_name(nonce)!r}, None)"


@dataclass(frozen=True)
class Opaque:
    """A value the kernel could not send as data (an object of type ``type``)."""

    type: str


@dataclass(frozen=True)
class RemoteObject:
    """A module the kernel made and keeps; later requests refer to it by number."""

    number: int
    type: str


@dataclass(frozen=True)
class Missing:
    """A global the notebook does not define."""

    name: str


def encode_tensor(tensor, on_kernel_device: bool = False) -> dict:
    """A tensor of the grader as request data."""
    import torch

    dtype = str(tensor.dtype).replace("torch.", "")
    if tensor.device.type == "meta":
        return {"meta": {"shape": list(tensor.shape), "dtype": dtype}}
    data = tensor.detach().cpu()
    data = data.float() if tensor.dtype == torch.bfloat16 else data
    spec = {"dtype": dtype, "shape": list(tensor.shape), "data": base64.b64encode(data.contiguous().numpy().tobytes()).decode()}
    return {"tensor": {**spec, **({"device": "kernel"} if on_kernel_device else {})}}


def encode(value: Any, on_kernel_device: bool = False) -> Any:
    """A grader's value as request data (tensors, numbers, tuples, lists, dicts, RemoteObjects)."""
    import torch

    if isinstance(value, torch.Tensor):
        return encode_tensor(value, on_kernel_device)
    if isinstance(value, RemoteObject):
        return {"object": value.number}
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [encode(v, on_kernel_device) for v in value]}
    if isinstance(value, list):
        return [encode(v, on_kernel_device) for v in value]
    if isinstance(value, dict) and not {"generator", "global", "meta"} & set(value):
        return {"dict": {k: encode(v, on_kernel_device) for k, v in value.items()}}
    return value


def decode_tensor(spec: dict):
    """A tensor from reply data; a meta tensor when no data came (the kernel's tensor was on 'meta')."""
    import numpy as np
    import torch

    dtype = spec.get("dtype")
    shape = [int(n) for n in spec.get("shape", [])]
    if dtype not in DTYPES:
        raise ValueError(f"a tensor of unknown dtype {dtype!r}")
    if "data" not in spec:
        return torch.empty(shape, dtype=getattr(torch, dtype), device="meta")
    array = np.frombuffer(base64.b64decode(spec["data"]), dtype=DTYPES[dtype]).copy()
    tensor = torch.from_numpy(array).reshape(shape).to(getattr(torch, dtype))
    tensor.course_device = spec.get("device", "cpu")  # where it was in the kernel (a plain attribute)
    tensor.course_requires_grad = bool(spec.get("requires_grad"))
    return tensor


def decode(value: Any) -> Any:
    """Reply data as grader values: tensors, numbers, tuples, lists, dicts, Opaque, RemoteObject, Missing."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "tensor" in value:
        return decode_tensor(value["tensor"])
    if "tuple" in value:
        return tuple(decode(v) for v in value["tuple"])
    if "list" in value:
        return [decode(v) for v in value["list"]]
    if "dict" in value:
        return {str(k): decode(v) for k, v in value["dict"].items()}
    if "float" in value:
        return float(value["float"]) if value["float"] in ("nan", "inf", "-inf") else math.nan
    if "object" in value:
        return RemoteObject(int(value["object"]), str(value.get("type", "")))
    if "missing" in value:
        return Missing(str(value["missing"]))
    if "torch_device" in value:
        return str(value["torch_device"])
    return Opaque(str(value.get("opaque", "something")))


@dataclass
class Reply:
    """One probe's answer, decoded."""

    value: Any = None
    mutated: list[int] = field(default_factory=list)
    grads: list[Any] = field(default_factory=list)
    param_grads: list[tuple[str, Any]] = field(default_factory=list)
    error: tuple[str, str] | None = None  # the student's code raised: (type, message)
    raw: dict = field(default_factory=dict)


def parse_reply(text: str) -> Reply:
    """The kernel's JSON reply as a Reply (raises ValueError on anything malformed)."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError("a probe reply must be a JSON object")
    if "error" in raw:
        kind, message = raw["error"]
        return Reply(error=(str(kind), str(message)), raw=raw)
    return Reply(value=decode(raw.get("value")), mutated=[int(i) for i in raw.get("mutated", [])],
                 grads=[decode(g) for g in raw.get("grads", [])],
                 param_grads=[(str(n), decode(g)) for n, g in raw.get("param_grads", [])], raw=raw)
