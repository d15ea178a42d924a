"""ONNX export of v4s-small: encoder / denoiser / decoder graphs (opset 17, dynamic batch), checked
with onnx.checker, plus golden input/output vectors (so the Node runtime can compare
onnxruntime-node against PyTorch) and manifest.json with sha256 of every file.

Parameters keep their PyTorch names as ONNX initializers (no constant folding), which is what
lets `train.py --init-from` resume training from the shipped files.
"""
import base64
import hashlib
import json
import math
import os
import time

import numpy as np
import torch


class _DenoiserWrapper(torch.nn.Module):
    def __init__(self, den):
        super().__init__()
        self.den = den

    def forward(self, latents, t, index, object):  # noqa: A002 - ONNX input name
        return self.den(latents, t, index, object)


# the denoiser graph's inputs and output, and the axes left dynamic (batch, frame count)
# export --fp16-weights: weights of at least this many values are stored as float16 (fp16_weights.py)
FP16_MIN_SIZE = 256
DENOISER_INPUTS = ["latents", "t", "index", "object"]
DENOISER_OUTPUTS = ["velocity"]
DENOISER_DYNAMIC_AXES = {"latents": {0: "batch", 1: "frames"}, "t": {0: "batch", 1: "frames"}, "index": {0: "batch", 1: "frames"}, "object": {0: "batch"}, "velocity": {0: "batch", 1: "frames"}}


def export_denoiser(den, args, path):
    """Writes the denoiser `den` (eval mode) traced on `args` = (latents, t, index, object) to path."""
    with torch.no_grad():
        _export(_DenoiserWrapper(den), args, path, DENOISER_INPUTS, DENOISER_OUTPUTS, DENOISER_DYNAMIC_AXES)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32).tobytes()).decode("ascii")


def _export(module, args, path, in_names, out_names, dyn):
    torch.onnx.export(
        module,
        args,
        path,
        opset_version=17,
        input_names=in_names,
        output_names=out_names,
        dynamic_axes=dyn,
        do_constant_folding=False,
        export_params=True,
    )
    import onnx

    onnx.checker.check_model(onnx.load(path))


def shipped_sampler():
    """The shipped model's sampler (models/v4s-small/manifest.json): a new export's default."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "v4s-small", "manifest.json")
    return dict(json.load(open(path))["sampler"])


def export_sampler(old_manifest, distill):
    """The exported manifest's sampler (the node and eval follow it): OUT's own when OUT has a
    manifest, else the shipped model's. A distilled student (`distill`: dit.pt's recipe from
    distill.py) samples in its own steps without guidance, so with no guidance interval either, at
    the shift it was distilled with (a student from before day 15 recorded none: shift 1)."""
    sampler = dict(old_manifest["sampler"] if "sampler" in old_manifest else shipped_sampler())
    if distill is None:
        return sampler
    sampler.pop("guidance_min_t", None)
    return dict(sampler, steps=distill["student_steps"], shift=float(distill.get("shift", 1.0)), guidance_scale=1.0)


def export_all(a, cfg, load_ae, make_denoiser):
    out = a.out
    os.makedirs(out, exist_ok=True)
    s = torch.load(os.path.join(a.work, "dit.pt"), map_location="cpu")
    # the dataset's meta: WORK/data_meta.json (written by train.py), else the one a snapshot carries
    # (train.py dit on episodes records it with the seeds of the worlds it trained on)
    meta_path = os.path.join(a.work, "data_meta.json")
    if os.path.exists(meta_path):
        meta = json.load(open(meta_path))
    elif "data_meta" in s:
        meta = s["data_meta"]
        print(f"dataset meta from the snapshot: worlds {meta['seeds'][0]}-{meta['seeds'][1]} ({meta.get('worlds', '?')} of them)")
    else:
        raise SystemExit(f"export: no {meta_path} and no data_meta in {os.path.join(a.work, 'dit.pt')} (copy a dataset's meta.json there)")
    K, N = meta["k"], meta["n"]
    vocab = meta["vocabulary"]
    enc, dec = load_ae(a.work, torch.device("cpu"))
    den = make_denoiser(len(vocab))
    # the exponential moving average of the weights when training kept one (smoother samples)
    den.load_state_dict(s["ema"] if "ema" in s else s["den"])
    den.eval()
    fp16_names = None
    if getattr(a, "fp16_weights", False):
        # round the weights the graph will store as float16 here too, so that the golden outputs
        # below are the float16-stored graph's own (the forward stays float32 in both)
        fp16_names = set()
        with torch.no_grad():
            for k, v in den.state_dict().items():
                if v.dtype == torch.float32 and v.numel() >= FP16_MIN_SIZE:
                    v.copy_(v.half().float())
                    fp16_names.add("den." + k)
    dit_steps = int(s["step"])
    ae_ck = torch.load(os.path.join(a.work, "ae.pt"), map_location="cpu")
    dec_steps = int(ae_ck.get("dec_steps", 0))  # decoder-only fine-tuning (train.py dec) after the AE
    ae_steps = int(ae_ck["step"]) - dec_steps
    C = cfg["latent_ch"]
    H = W = meta["camera"]["width"]
    torch.manual_seed(123)
    frames = torch.rand(2, 3, H, W)
    lat = torch.randn(2, K + N, C, 8, 8)
    tt = torch.cat([torch.zeros(2, K), torch.full((2, N), 0.7)], dim=1)
    idx = torch.tensor([[-40.0, -31, -25, -18, -12, -7, -3, 0] + [float(i) for i in range(1, N + 1)]] * 2)[:, : K + N]
    obj = torch.tensor([1, 5], dtype=torch.int64)
    files = {}
    with torch.no_grad():
        specs = [
            ("encoder", enc, (frames,), ["frames"], ["latents"], {"frames": {0: "batch"}, "latents": {0: "batch"}}),
            ("decoder", dec, (torch.randn(2, C, 8, 8),), ["latents"], ["frames"], {"latents": {0: "batch"}, "frames": {0: "batch"}}),
            (
                "denoiser",
                _DenoiserWrapper(den),
                (lat, tt, idx, obj),
                DENOISER_INPUTS,
                DENOISER_OUTPUTS,
                DENOISER_DYNAMIC_AXES,
            ),
        ]
        golden = {}
        for name, mod, args, ins, outs, dyn in specs:
            path = os.path.join(out, f"{name}.onnx")
            _export(mod, args, path, ins, outs, dyn)
            if name == "denoiser" and fp16_names is not None:
                import onnx
                from fp16_weights import store_fp16

                m = onnx.load(path)
                done, _ = store_fp16(m, FP16_MIN_SIZE, fp16_names)
                missing = fp16_names - set(done)
                if missing:
                    raise SystemExit(f"export --fp16-weights: {len(missing)} rounded weights are not initializers of {path} (e.g. {sorted(missing)[0]})")
                onnx.checker.check_model(m)
                onnx.save(m, path)
            y = mod(*args)
            golden[name] = {
                "inputs": {n: {"shape": list(v.shape), "dtype": "int64" if v.dtype == torch.int64 else "float32", "data": (v.tolist() if v.dtype == torch.int64 else _b64(v.numpy()))} for n, v in zip(ins, args)},
                "outputs": {outs[0]: {"shape": list(y.shape), "data": _b64(y.numpy())}},
            }
            print(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    json.dump(golden, open(os.path.join(out, "golden.json"), "w"))
    cam = meta["camera"]
    lat_shape = [C, 8, 8]
    manifest_path = os.path.join(out, "manifest.json")
    old = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    manifest = {
        "name": "v4s-small",
        "format_version": 1,
        "method": "Video4Spatial (arXiv 2512.03040) at small scale: frame autoencoder + DiT flow-matching denoiser over context and target latents in one sequence",
        "frame": {"width": W, "height": H, "channels": 3, "layout": "NCHW", "range": [0.0, 1.0]},
        "camera": {
            "width": cam["width"], "height": cam["height"], "fx": cam["fx"], "fy": cam["fy"], "cx": cam["cx"], "cy": cam["cy"],
            "height_m": cam["heightM"], "pitch_rad": cam["pitchRad"],
            "pixel_convention": "continuous: pixel (u, v) has its centre at (u + 0.5, v + 0.5)",
        },
        "frame_dt_s": meta["frame_dt_s"],
        "index_convention": "time index = (stamp - newest context stamp) / frame_dt_s; targets 1..N",
        "context_frames": K,
        "target_frames": N,
        "latent": {"channels": C, "height": 8, "width": 8},
        "vocabulary": vocab,
        "box_color": meta["box_color"],
        "instruction": "go to the <object> and centre it in the frame",
        "sampler": export_sampler(old, s.get("distill")),
        "files": {
            "encoder": {"path": "encoder.onnx", "inputs": [{"name": "frames", "type": "float32", "shape": ["batch", 3, H, W]}], "outputs": [{"name": "latents", "type": "float32", "shape": ["batch"] + lat_shape}]},
            "decoder": {"path": "decoder.onnx", "inputs": [{"name": "latents", "type": "float32", "shape": ["batch"] + lat_shape}], "outputs": [{"name": "frames", "type": "float32", "shape": ["batch", 3, H, W]}]},
            "denoiser": {
                "path": "denoiser.onnx",
                **({"weights": "float16 behind Cast (weights of >= %d values)" % FP16_MIN_SIZE} if fp16_names is not None else {}),
                "inputs": [
                    {"name": "latents", "type": "float32", "shape": ["batch", "frames"] + lat_shape},
                    {"name": "t", "type": "float32", "shape": ["batch", "frames"]},
                    {"name": "index", "type": "float32", "shape": ["batch", "frames"]},
                    {"name": "object", "type": "int64", "shape": ["batch"]},
                ],
                "outputs": [{"name": "velocity", "type": "float32", "shape": ["batch", "frames"] + lat_shape}],
            },
        },
        "golden": "golden.json",
        "training": {
            # the dataset's meta.json names the seeds of whichever process wrote it last; a
            # seed range already recorded in the manifest (checked by hand) wins
            "data_seeds": old.get("training", {}).get("data_seeds", meta["seeds"]),
            **({"data_note": old["training"]["data_note"]} if "data_note" in old.get("training", {}) else {}),
            "ae_steps": ae_steps,
            **({"decoder_only_steps": dec_steps} if dec_steps else {}),
            "denoiser_steps": dit_steps,
            # the training-only grounding head (train.py dit --ground); it is not in any graph
            **({"grounding_loss": {"layer": s["ground_layer"], "weight": s["ground_weight"]}} if "ground" in s else {}),
            **({"box_loss_weight": s["box_weight"]} if "box_weight" in s else {}),
            **({"distillation": s["distill"]} if "distill" in s else {}),
            # adaln "frame": the exported graph computes adaLN once per frame (v4s_model.Block)
            "architecture": {**cfg, "adaln": "frame"},
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "evaluation": old.get("evaluation", {}),
    }
    for key in ("encoder", "decoder", "denoiser"):
        manifest["files"][key]["sha256"] = _sha256(os.path.join(out, manifest["files"][key]["path"]))
    # a grounder already in OUT stays (its graph holds its own copy of the blocks it was trained on,
    # and grounding.denoiser_sha256 says which denoiser that was): grounder.py --write replaces it
    g_old = old.get("files", {}).get("grounder")
    if g_old and "grounding" in old and os.path.exists(os.path.join(out, g_old["path"])):
        manifest["files"]["grounder"] = g_old
        manifest["grounding"] = old["grounding"]
    manifest["golden_sha256"] = _sha256(os.path.join(out, "golden.json"))
    json.dump(manifest, open(manifest_path, "w"), indent=2)
    open(manifest_path, "a").write("\n")
    print(f"wrote {manifest_path}")
