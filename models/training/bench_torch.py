#!/usr/bin/python3
"""The shipped denoiser in PyTorch, for `video4spatial-nav bench` (ONNX Runtime vs PyTorch).

Loads the initializers of <model>/denoiser.onnx into the torch Denoiser (by name, as training
resumes), checks the result against the model's golden vectors, then times one forward pass at
batch B x F frames (no_grad, float32, torch.set_num_threads(T)), counts its FLOPs, and times a
dense float32 N x N matmul on the same threads as the machine's practical peak.
Prints ONE line of JSON on stdout; on failure {"error": "..."} and exit code 3.

  /usr/bin/python3 models/training/bench_torch.py [--model DIR] [--batch 8] [--frames 14]
      [--threads 2] [--reps 20] [--matmul 2048] [--matmul-reps 5] [--also-1-thread]

FLOP count: 2 x multiply-adds of every nn.Linear (forward hook: in x out per token) and every
torch.matmul (attention QK^T and AV), at the timed shapes. Element-wise ops, softmax, layer norm,
GELU and rotary embedding are not counted.
"""
import argparse
import base64
import json
import os
import sys
import time


def fail(msg):
    print(json.dumps({"error": msg}), flush=True)
    sys.exit(3)


try:
    import numpy as np
    import torch
except Exception as e:  # torch missing: the bench reports null with this reason
    fail(f"cannot import torch/numpy in {sys.executable}: {e}")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DEFAULT_MODEL_DIR = os.path.normpath(os.path.join(HERE, "..", "v4s-small"))


def f32(b64, shape):
    return torch.from_numpy(np.frombuffer(base64.b64decode(b64), dtype=np.float32).copy().reshape(shape))


def median_ms(fn, reps, warm=2):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000.0)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL_DIR)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--frames", type=int, default=0, help="0 = K + N from the manifest")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--matmul", type=int, default=2048, help="side of the square matmul for the peak (0 = skip)")
    p.add_argument("--matmul-reps", type=int, default=5)
    p.add_argument("--also-1-thread", action="store_true", help="also time the forward with torch.set_num_threads(1)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    try:
        import onnx  # noqa: F401  (load_onnx_initializers needs it)
        from train import load_onnx_initializers, make_denoiser, use_arch
        from v4s_model import count_flops
    except Exception as e:
        fail(f"cannot import the training code or onnx: {e}")
    manifest = json.load(open(os.path.join(a.model, "manifest.json")))
    K, N = manifest["context_frames"], manifest["target_frames"]
    lat = manifest["latent"]
    F = a.frames or (K + N)
    use_arch(manifest.get("training", {}).get("architecture"))  # width, depth, heads of this model
    den = make_denoiser(len(manifest["vocabulary"]))
    n_loaded = load_onnx_initializers(den, os.path.join(a.model, "denoiser.onnx"), prefix="den.")
    n_params = len(list(den.parameters()))
    if n_loaded < n_params:
        fail(f"only {n_loaded} of the denoiser's {n_params} parameter tensors were found in {a.model}/denoiser.onnx")
    den.eval()
    # same weights as ONNX? compare with the golden vectors exported beside the model
    golden_diff = None
    gpath = os.path.join(a.model, manifest.get("golden", "golden.json"))
    if os.path.exists(gpath):
        g = json.load(open(gpath))["denoiser"]
        gi = g["inputs"]
        with torch.no_grad():
            v = den(
                f32(gi["latents"]["data"], gi["latents"]["shape"]),
                f32(gi["t"]["data"], gi["t"]["shape"]),
                f32(gi["index"]["data"], gi["index"]["shape"]),
                torch.tensor(gi["object"]["data"], dtype=torch.int64),
            )
        golden_diff = float((v - f32(g["outputs"]["velocity"]["data"], list(v.shape))).abs().max())
    # the timed inputs: B x F frames, context clean, targets at t = 0.5, object 1 (as the bench's ORT run)
    gen = torch.Generator().manual_seed(0)
    B = a.batch
    latents = torch.rand((B, F, lat["channels"], lat["height"], lat["width"]), generator=gen) - 0.5
    t = torch.full((B, F), 0.5)
    index = torch.tensor([[float(f - K + 1) for f in range(F)]] * B)
    obj = torch.ones(B, dtype=torch.int64)
    inputs = (latents, t, index, obj)

    def fwd():
        with torch.no_grad():
            den(*inputs)

    den_ms = median_ms(fwd, a.reps)
    flops = count_flops([den], lambda: den(*inputs))
    out = {
        "torch_version": torch.__version__,
        "python": sys.version.split()[0],
        "blas": "OpenBLAS" if "openblas" in torch.__config__.show().lower() else "see torch.__config__.show()",
        "threads": torch.get_num_threads(),
        "batch": B,
        "frames": F,
        "reps": a.reps,
        "denoiser_ms": den_ms,
        "golden_max_abs_diff": golden_diff,
        "initializers_loaded": n_loaded,
        "flops_counted": flops,
    }
    if a.also_1_thread and a.threads != 1:
        torch.set_num_threads(1)
        out["denoiser_ms_1_thread"] = median_ms(fwd, a.reps)
        torch.set_num_threads(a.threads)
    if a.matmul > 0:
        n = a.matmul
        x = torch.rand((n, n), generator=gen)
        y = torch.rand((n, n), generator=gen)
        mm_ms = median_ms(lambda: torch.mm(x, y), a.matmul_reps, warm=1)
        out["matmul"] = {"n": n, "ms": mm_ms, "gflops": 2.0 * n ** 3 / (mm_ms / 1000.0) / 1e9}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
