#!/usr/bin/python3
"""Re-exports a shipped denoiser graph from its own weights with the current v4s_model code.

For a change to how the network is written (not what it computes): the weights are read back from
the shipped denoiser.onnx by initializer name (as train.py --init-from does), the network is built
with the architecture the manifest records, its PyTorch output is checked against golden.json's
(the trained function: the same inputs, the output the shipped graph was exported with), and the
graph is written again with export.py's settings. manifest.json gets the new file's sha256;
golden.json is left as it is, so `npm test` checks the new graph against the old numbers.

  /usr/bin/python3 models/training/reexport_denoiser.py [--model DIR] [--tolerance T] [--dry-run]
"""
import argparse
import base64
import json
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export import DENOISER_INPUTS, _DenoiserWrapper, _sha256, export_denoiser  # noqa: E402
from train import load_onnx_initializers  # noqa: E402
from v4s_model import Denoiser  # noqa: E402


def golden_tensor(spec):
    if spec.get("dtype") == "int64":
        return torch.tensor(spec["data"], dtype=torch.int64).reshape(spec["shape"])
    a = np.frombuffer(base64.b64decode(spec["data"]), dtype=np.float32).reshape(spec["shape"])
    return torch.from_numpy(a.copy())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.path.normpath(os.path.join(HERE, "..", "v4s-small")))
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest |Δ| against golden.json's output")
    ap.add_argument("--dry-run", action="store_true", help="check against golden.json, write nothing")
    a = ap.parse_args()
    manifest_path = os.path.join(a.model, "manifest.json")
    manifest = json.load(open(manifest_path))
    arch = manifest["training"]["architecture"]
    if arch.get("adaln") != "frame":
        raise SystemExit(f"{manifest_path}: training.architecture.adaln is {arch.get('adaln')!r}; this code computes adaLN per frame ('frame')")
    den = Denoiser(arch["latent_ch"], manifest["latent"]["height"], arch["patch"], arch["dim"], arch["depth"], arch["heads"], len(manifest["vocabulary"]))
    path = os.path.join(a.model, manifest["files"]["denoiser"]["path"])
    n = load_onnx_initializers(den, path, prefix="den.")
    expected = len(den.state_dict())
    if n != expected:
        raise SystemExit(f"{path}: expected {expected} weights named like the denoiser's state_dict, found {n}")
    den.eval()
    golden = json.load(open(os.path.join(a.model, manifest["golden"])))["denoiser"]
    args = tuple(golden_tensor(golden["inputs"][k]) for k in DENOISER_INPUTS)
    want = golden_tensor(golden["outputs"]["velocity"])
    with torch.no_grad():
        got = _DenoiserWrapper(den)(*args)
    err = float((got - want).abs().max())
    print(f"{n} weights loaded from {path}; PyTorch output against golden.json: max |Δ| {err:.3g} (tolerance {a.tolerance:g})")
    if not err <= a.tolerance:
        raise SystemExit(f"expected max |Δ| ≤ {a.tolerance:g} against golden.json, found {err:.3g}: the code no longer computes the shipped function")
    if a.dry_run:
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "denoiser.onnx")
        export_denoiser(den, args, out)
        os.replace(out, path)
    manifest["files"]["denoiser"]["sha256"] = _sha256(path)
    json.dump(manifest, open(manifest_path, "w"), indent=2)
    open(manifest_path, "a").write("\n")
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB) and its sha256 in {manifest_path}")


if __name__ == "__main__":
    main()
