#!/usr/bin/python3
"""Train, resume and export the default Video4Spatial model (v4s-small).

Runs with Debian's python3-torch 1.13 on CPU (`/usr/bin/python3`), and unchanged with a newer torch
on a CUDA machine (`--device cuda`). Stages (each resumable; checkpoints live in --work, never in git):

  ae      train the frame autoencoder on dataset frames          -> WORK/ae.pt
  encode  encode every clip (and its mirror image) to latents     -> WORK/latents.npy (+ meta)
  dec     fine-tune the decoder alone (encoder frozen, same latents) -> WORK/ae.pt
  dit     train the denoiser (rectified flow, joint CFG dropout)  -> WORK/dit.pt, WORK/dit_log.csv
  export  write encoder/decoder/denoiser ONNX + manifest.json      -> models/v4s-small/

When WORK has no checkpoint, `ae`/`dit` start from the weights of the shipped ONNX files (loaded by
initializer name, --init-from), so each working day continues from the last shipped model.
"""
import argparse
import contextlib
import csv
import glob
import json
import math
import os
import sys
import time

# before torch loads OpenMP: idle OpenMP threads sleep instead of spinning (measured here: a train step
# of the denoiser at batch 16 on 2 cores, 1.07 s spinning vs 0.64 s passive)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v4s_model import Denoiser, FrameDecoder, FrameEncoder, count_flops, count_params  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL_DIR = os.path.normpath(os.path.join(HERE, "..", "v4s-small"))
CFG = dict(latent_ch=8, ae_width=48, dim=128, depth=6, heads=4, patch=2)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------
def finished_shards(data_dir):
    """The shard directories of a dataset whose last file (standoff.npy) exists: a `dataset` process
    writing beside the training run leaves a shard unfinished until then."""
    return sorted(d for d in glob.glob(os.path.join(data_dir, "shard_*")) if os.path.exists(os.path.join(d, "standoff.npy")))


def load_shards(data_dir):
    shards = finished_shards(data_dir)
    if not shards:
        raise SystemExit(f"no finished shard_* directories in {data_dir!r}")
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    return meta, [open_shard(d) for d in shards]


def open_shard(shard_dir):
    """One shard's arrays, memory-mapped: frames, indices, object, boxes."""
    return {n: np.load(os.path.join(shard_dir, n + ".npy"), mmap_mode="r") for n in ("frames", "indices", "object", "boxes")}


def to_float(frames_u8):
    """uint8 [..., H, W, 3] -> float [..., 3, H, W] in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames_u8)).float() / 255.0
    return x.movedim(-1, -3)


# ----------------------------------------------------------------------------------------------
# resume from shipped ONNX
# ----------------------------------------------------------------------------------------------
def shipped_steps(model_dir, key):
    """Cumulative training steps recorded in the shipped manifest (0 when there is none)."""
    try:
        return int(json.load(open(os.path.join(model_dir, "manifest.json")))["training"][key])
    except (OSError, KeyError, ValueError):
        return 0


def load_onnx_initializers(module, path, prefix=""):
    """Copies ONNX initializers named like the module's state_dict keys into the module."""
    if not os.path.exists(path):
        return 0
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    sd = module.state_dict()
    n = 0
    for init in model.graph.initializer:
        name = init.name[len(prefix):] if init.name.startswith(prefix) else init.name
        if name in sd and tuple(sd[name].shape) == tuple(init.dims):
            sd[name].copy_(torch.from_numpy(numpy_helper.to_array(init).copy()))
            n += 1
    module.load_state_dict(sd)
    return n


# ----------------------------------------------------------------------------------------------
# stage: autoencoder
# ----------------------------------------------------------------------------------------------
def sample_frames(shards, rng, batch, dev):
    """A batch of single frames from random clips of one random shard, each mirrored with p = 0.5
    as a batch: float [B, 3, H, W] in [0, 1]."""
    sh = shards[rng.integers(len(shards))]
    n, Fr = sh["frames"].shape[:2]
    ci = np.sort(rng.choice(n, size=min(batch, n), replace=False))
    fi = rng.integers(Fr, size=len(ci))
    x = to_float(np.stack([sh["frames"][c, f] for c, f in zip(ci, fi)])).to(dev)
    return torch.flip(x, dims=[-1]) if rng.random() < 0.5 else x


def scheduled_lr(a, n, warmup, t_start, t_end):
    """--lr with a linear warm-up over `warmup` steps (n = steps done before this one) and, with
    --anneal, a cosine decay to 0 at the end of this run's time budget [t_start, t_end]."""
    lr = a.lr * min(1.0, (n + 1) / warmup)
    if a.anneal:
        lr *= 0.5 * (1 + math.cos(math.pi * min(1.0, (time.time() - t_start) / (t_end - t_start))))
    return lr


def red_mask(x):
    """x [B, 3, H, W] in [0, 1] -> 1 where the pixel is the box red."""
    return ((x[:, 0] > 0.9) & (x[:, 1] < 0.1) & (x[:, 2] < 0.1)).float().unsqueeze(1)


def stage_ae(a):
    shards = load_shards(a.data)[1] if a.minutes > 0 else None  # --minutes 0 only writes ae.pt
    dev = torch.device(a.device)
    enc = FrameEncoder(CFG["latent_ch"], CFG["ae_width"]).to(dev)
    dec = FrameDecoder(CFG["latent_ch"], CFG["ae_width"]).to(dev)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    ck = os.path.join(a.work, "ae.pt")
    step = 0
    dec_steps = 0  # decoder-only steps (stage dec) included in step
    if os.path.exists(ck):
        s = torch.load(ck, map_location="cpu")
        enc.load_state_dict(s["enc"]), dec.load_state_dict(s["dec"]), opt.load_state_dict(s["opt"])
        step = s["step"]
        dec_steps = int(s.get("dec_steps", 0))
        log(f"resumed AE from {ck} at step {step}")
    else:
        n = load_onnx_initializers(enc, os.path.join(a.init_from, "encoder.onnx")) + load_onnx_initializers(dec, os.path.join(a.init_from, "decoder.onnx"))
        if n:
            dec_steps = shipped_steps(a.init_from, "decoder_only_steps")
            step = shipped_steps(a.init_from, "ae_steps") + dec_steps
        log(f"AE initialised from shipped ONNX ({n} tensors, step {step})" if n else "AE from scratch")
    log(f"AE params: enc {count_params(enc)} dec {count_params(dec)}")
    rng = np.random.default_rng(step)
    t_end = time.time() + a.minutes * 60
    losses = []
    while time.time() < t_end and step < a.max_steps:
        x = sample_frames(shards, rng, a.batch, dev)
        z = enc.net(x * 2 - 1)
        y = dec.net(z)
        target = x * 2 - 1
        w = 1.0 + 20.0 * red_mask(x)
        loss = (w * (y - target).abs()).mean() + 1e-4 * z.pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % 100 == 0:
            log(f"ae step {step} loss {np.mean(losses[-100:]):.4f}")
        if step % 1000 == 0:
            torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "opt": opt.state_dict(), "step": step}, ck)
    if a.minutes <= 0:
        # keep the (shipped or checkpointed) latent statistics: the denoiser was trained on them
        torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "opt": opt.state_dict(), "step": step, "dec_steps": dec_steps}, ck)
        log(f"AE kept as is at step {step}")
        return
    # latent statistics for normalisation
    with torch.no_grad():
        sh = shards[0]
        zs = []
        for c in range(0, min(256, sh["frames"].shape[0]), 32):
            x = to_float(sh["frames"][c : c + 32].reshape(-1, *sh["frames"].shape[2:])).to(dev)
            zs.append(enc.net(x * 2 - 1))
        z = torch.cat(zs)
        mean = z.mean(dim=(0, 2, 3), keepdim=True)
        std = z.std(dim=(0, 2, 3), keepdim=True) + 1e-6
        for m in (enc, dec):
            m.lat_mean.copy_(mean)
            m.lat_std.copy_(std)
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "opt": opt.state_dict(), "step": step}, ck)
    log(f"AE done at step {step}; latent std {std.flatten().tolist()}")


# ----------------------------------------------------------------------------------------------
# stage: encode
# ----------------------------------------------------------------------------------------------
def load_ae(work, dev):
    s = torch.load(os.path.join(work, "ae.pt"), map_location="cpu")
    enc = FrameEncoder(CFG["latent_ch"], CFG["ae_width"])
    dec = FrameDecoder(CFG["latent_ch"], CFG["ae_width"])
    enc.load_state_dict(s["enc"]), dec.load_state_dict(s["dec"])
    return enc.to(dev).eval(), dec.to(dev).eval()


def stage_dec(a):
    """Fine-tunes the decoder alone, the encoder frozen: the latent space the denoiser was trained
    in stays the same, so a sharper decoder drops in under an existing denoiser. Latents get a
    little Gaussian noise (up to --dec-noise of the latent std) so that the decoder also renders
    the slightly off-manifold latents the sampler produces."""
    meta, shards = load_shards(a.data)
    seen = set(finished_shards(a.data))
    dev = torch.device(a.device)
    ck = os.path.join(a.work, "ae.pt")
    if not os.path.exists(ck):
        raise SystemExit(f"dec: needs a trained autoencoder at {ck} (run the ae stage, or copy one there)")
    s = torch.load(ck, map_location="cpu")
    enc = FrameEncoder(CFG["latent_ch"], CFG["ae_width"]).to(dev)
    dec = FrameDecoder(CFG["latent_ch"], CFG["ae_width"]).to(dev)
    enc.load_state_dict(s["enc"]), dec.load_state_dict(s["dec"])
    enc.eval()
    for q in enc.parameters():
        q.requires_grad_(False)
    opt = torch.optim.AdamW(dec.parameters(), lr=a.lr, weight_decay=0.0)
    if "dec_opt" in s:
        opt.load_state_dict(s["dec_opt"])
    step = int(s["step"])
    dec_steps = int(s.get("dec_steps", 0))
    log(f"decoder fine-tuning from {ck}: AE step {step}, {dec_steps} decoder-only steps so far; decoder params {count_params(dec)}")
    rng = np.random.default_rng(7000 + dec_steps)
    std = enc.lat_std.to(dev)
    t_start = time.time()
    t_end = t_start + a.minutes * 60
    losses = []

    def save():
        torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "opt": s.get("opt"), "dec_opt": opt.state_dict(), "step": step, "dec_steps": dec_steps}, ck)

    t_refresh = t_start + a.refresh_s
    while time.time() < t_end and step < a.max_steps:
        if time.time() > t_refresh:  # shards a `dataset` process beside this run finished since
            new = [d for d in finished_shards(a.data) if d not in seen]
            if new:
                shards += [open_shard(d) for d in new]
                seen.update(new)
                log(f"dec: {len(shards)} shards of {a.data}")
            t_refresh = time.time() + a.refresh_s
        x = sample_frames(shards, rng, a.batch, dev)
        with torch.no_grad():
            z = enc.net(x * 2 - 1)
            sigma = torch.rand(z.shape[0], 1, 1, 1, device=dev) * a.dec_noise
            z = z + sigma * std * torch.randn_like(z)
        y = dec.net(z)
        target = x * 2 - 1
        w = 1.0 + 20.0 * red_mask(x)
        loss = (w * (y - target).abs()).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        lr = scheduled_lr(a, dec_steps, 200, t_start, t_end)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        losses.append(loss.item())
        step += 1
        dec_steps += 1
        if dec_steps % 100 == 0:
            log(f"dec step {dec_steps} loss {np.mean(losses[-100:]):.4f} lr {lr:.2e}")
        if dec_steps % 500 == 0:
            save()
    save()
    log(f"decoder stopped after {dec_steps} decoder-only steps (AE step {step})")


@torch.no_grad()
def encode_clips(enc, frames_u8, dev, flips=(0, 1), chunk=16):
    """uint8 frames [n, F, H, W, 3] -> one float latent tensor [n, F, C, 8, 8] on `dev` per entry of
    `flips` (1 = the mirror image), through the frame encoder, `chunk` clips per forward."""
    n, Fr = frames_u8.shape[:2]
    out = {f: [] for f in flips}
    for c in range(0, n, chunk):
        x = to_float(frames_u8[c : c + chunk].reshape(-1, *frames_u8.shape[2:])).to(dev)
        for f in flips:
            out[f].append(enc(torch.flip(x, dims=[-1]) if f else x))
    return [torch.cat(out[f]).reshape(n, Fr, *out[f][0].shape[1:]) for f in flips]


def stage_encode(a):
    meta, shards = load_shards(a.data)
    dev = torch.device(a.device)
    enc, _ = load_ae(a.work, dev)
    total = sum(s["frames"].shape[0] for s in shards)
    if a.max_clips and total > a.max_clips:
        keep, acc = [], 0
        for sh in shards:
            if acc >= a.max_clips:
                break
            keep.append(sh)
            acc += sh["frames"].shape[0]
        shards, total = keep, acc
    flips = (0,) if a.no_flip else (0, 1)
    Fr = shards[0]["frames"].shape[1]
    C = CFG["latent_ch"]
    lat = np.lib.format.open_memmap(os.path.join(a.work, "latents.npy"), mode="w+", dtype=np.float16, shape=(len(flips), total, Fr, C, 8, 8))
    idx = np.zeros((total, Fr), np.int32)
    obj = np.zeros((total,), np.int32)
    o = 0
    t0 = time.time()
    for sh in shards:
        n = sh["frames"].shape[0]
        idx[o : o + n] = sh["indices"]
        obj[o : o + n] = sh["object"]
        for c in range(0, n, 16):
            fr = sh["frames"][c : c + 16]
            for flip, z in zip(flips, encode_clips(enc, fr, dev, flips)):
                lat[flip, o + c : o + c + fr.shape[0]] = z.cpu().numpy().astype(np.float16)
        o += n
        log(f"encoded {o}/{total} clips ({time.time() - t0:.0f} s)")
    lat.flush()
    np.save(os.path.join(a.work, "lat_indices.npy"), idx)
    np.save(os.path.join(a.work, "lat_object.npy"), obj)
    json.dump(meta, open(os.path.join(a.work, "data_meta.json"), "w"))


# ----------------------------------------------------------------------------------------------
# stage: denoiser
# ----------------------------------------------------------------------------------------------
def box_token_targets(boxes, grid, size, flip):
    """Share of each token's pixel cell that the target's box covers, scaled so that a quarter of a
    cell counts as fully positive (small objects fill little of a 16×16 px cell).

    boxes [..., 4] as (x0, y0, x1, y1) inclusive pixels, -1 where the target is not in view;
    flip: the mirrored clip (x -> size-1-x). Returns float32 [..., grid·grid], row-major (y, x)
    like the denoiser's tokens."""
    b = boxes.astype(np.float32)
    x0, y0, x1, y1 = b[..., 0], b[..., 1], b[..., 2] + 1.0, b[..., 3] + 1.0
    if flip:
        x0, x1 = size - x1, size - x0
    cell = size / grid
    edges = np.arange(grid, dtype=np.float32) * cell
    ox = np.clip(np.minimum(x1[..., None], edges + cell) - np.maximum(x0[..., None], edges), 0, None)  # [..., G]
    oy = np.clip(np.minimum(y1[..., None], edges + cell) - np.maximum(y0[..., None], edges), 0, None)
    cov = (oy[..., :, None] * ox[..., None, :]) / (cell * cell)  # [..., G, G]
    cov[boxes[..., 0] < 0] = 0.0
    return np.clip(cov * 4.0, 0.0, 1.0).reshape(*boxes.shape[:-1], grid * grid)


def load_ground_targets(data_dir, obj_all, grid, size, flips):
    """Per-token box coverage [flips, clips, frames, grid·grid] (float16) for the grounding loss, from
    the dataset the latents were encoded from (same shard order; checked against the objects)."""
    _, shards = load_shards(data_dir)
    boxes = np.concatenate([np.asarray(sh["boxes"]) for sh in shards])
    objs = np.concatenate([np.asarray(sh["object"]) for sh in shards])
    if boxes.shape[0] < obj_all.shape[0] or not np.array_equal(objs[: obj_all.shape[0]], obj_all):
        raise SystemExit(f"--ground: the clips in {data_dir!r} do not match the encoded latents (encode from the same --data)")
    boxes = boxes[: obj_all.shape[0]]
    return np.stack([box_token_targets(boxes, grid, size, f).astype(np.float16) for f in range(flips)])


def ground_rates(logit, tgt):
    """Recall on the tokens the target covers (> 0.5) and the share of empty tokens left empty,
    for grounding-head logits and their box-coverage targets of the same shape."""
    pos, neg = tgt > 0.5, tgt == 0
    recall = float((logit[pos] > 0).float().mean()) if pos.any() else float("nan")
    return recall, float((logit[neg] < 0).float().mean())


def other_object(obj, vocab_size):
    """The next category's vocabulary index (1..vocab_size-1, never the null class 0)."""
    return obj % (vocab_size - 1) + 1


def box_weight_map(cov, grid, patch, weight):
    """Per-latent-pixel loss weights [..., 1, grid·patch, grid·patch] = 1 + weight·coverage, from the
    per-token box coverage cov [..., grid·grid] (row-major y, x; each token is patch×patch latents)."""
    c = cov.reshape(*cov.shape[:-1], grid, 1, grid, 1).expand(*cov.shape[:-1], grid, patch, grid, patch)
    c = c.reshape(*cov.shape[:-1], 1, grid * patch, grid * patch)
    return 1.0 + weight * c


ARCH_KEYS = ("dim", "depth", "heads")


def train_step_flops(den, ground, a, K, N, dev):
    """Model FLOPs of one training step, counted once on a one-clip input: 3 × (the forward of
    a.batch clips of K + N frames, plus the grounding pass over the K context frames of
    min(a.ground_batch, a.batch) clips when the grounding loss is on) — backward ≈ 2 × forward."""
    lat = torch.zeros(1, K + N, den.latent_ch, den.latent_hw, den.latent_hw, device=dev)
    t = torch.zeros(1, K + N, device=dev)
    idx = torch.arange(K + N, dtype=torch.float32, device=dev).unsqueeze(0)
    obj = torch.ones(1, dtype=torch.int64, device=dev)
    fwd = count_flops([den], lambda: den(lat, t, idx, obj))
    grd = 0
    if a.ground > 0:
        grd = count_flops([den, ground], lambda: ground(den.tokens(lat[:, :K], t[:, :K], idx[:, :K], obj, blocks=a.ground_layer + 1)[0]))
    return 3 * (a.batch * fwd + min(a.ground_batch, a.batch) * grd)


def throughput(clips_per_s, flops_per_s):
    return f"{clips_per_s:.1f} clips/s, {flops_per_s / 1e12:.3f} TFLOP/s"


def make_denoiser(vocab):
    return Denoiser(CFG["latent_ch"], 8, CFG["patch"], CFG["dim"], CFG["depth"], CFG["heads"], vocab)


def shipped_arch(model_dir):
    """The denoiser architecture (dim, depth, heads) a shipped manifest records, or None."""
    try:
        arch = json.load(open(os.path.join(model_dir, "manifest.json")))["training"]["architecture"]
        return {k: int(arch[k]) for k in ARCH_KEYS}
    except (OSError, KeyError, TypeError, ValueError):
        return None


def new_run_arch(a):
    """The architecture of a denoiser run without a checkpoint: --dim/--depth/--heads where given,
    else the shipped model's (which the run starts from), or CFG's with --scratch."""
    flags = {k: getattr(a, k) for k in ARCH_KEYS if getattr(a, k)}
    base = dict(CFG) if a.scratch else (shipped_arch(a.init_from) or dict(CFG))
    if not a.scratch and any(flags[k] != base[k] for k in flags):
        raise SystemExit(f"dit: --dim/--depth/--heads {flags} differ from the shipped denoiser's {base} in {a.init_from!r}, "
                         "whose weights a run without a checkpoint starts from: add --scratch to train a new one")
    return {k: flags.get(k, base[k]) for k in ARCH_KEYS}


def use_arch(arch):
    """Sets the denoiser's width/depth/heads (CFG) from a checkpoint's "arch" record, when it has one
    (checkpoints from before --dim/--depth/--heads have none: the defaults in CFG)."""
    if arch:
        CFG.update({k: int(arch[k]) for k in ARCH_KEYS})


def relative_indices(idx, k):
    """Original stream indices relative to the newest context frame (index k-1)."""
    return idx - idx[:, k - 1 : k]


class EncodedClips:
    """Training clips from the `encode` stage (WORK/latents.npy, float16 [flips, clips, F, C, 8, 8]):
    the CPU path. The first `n_val` clips are held out (probe.py reads them). One mirror flag per batch."""

    def __init__(self, a, K, grid, size, need_cov):
        lat = np.load(os.path.join(a.work, "latents.npy"), mmap_mode="r")
        self.lat = np.asarray(lat) if a.preload else lat
        self.idx = np.load(os.path.join(a.work, "lat_indices.npy"))
        self.obj = np.load(os.path.join(a.work, "lat_object.npy"))
        self.K = K
        total = self.idx.shape[0]
        self.n_val = min(256, total // 20)
        self.train_ids = np.arange(self.n_val, total)
        self.cov = load_ground_targets(a.data, self.obj, grid, size, self.lat.shape[0]) if need_cov else None

    def describe(self):
        return f"clips {self.idx.shape[0]} (val {self.n_val})"

    def positive_shares(self):
        return float((self.cov[0, :, : self.K] > 0).mean()), float((self.cov[0, :, self.K :] > 0).mean())

    def sample(self, rng, batch, dev):
        """-> x0 float [B, F, C, 8, 8], idx float [B, F] (relative to the newest context frame),
        obj int64 [B], cov float [B, F, G·G] or None; all on `dev`."""
        ids = np.sort(rng.choice(self.train_ids, size=batch, replace=False))
        flip = rng.integers(self.lat.shape[0])
        x0 = torch.from_numpy(np.asarray(self.lat[flip, ids], dtype=np.float32)).to(dev)
        idx = torch.from_numpy(relative_indices(self.idx[ids], self.K).astype(np.float32)).to(dev)
        obj = torch.from_numpy(self.obj[ids].astype(np.int64)).to(dev)
        cov = None if self.cov is None else torch.from_numpy(np.asarray(self.cov[flip, ids], dtype=np.float32)).to(dev)
        return x0, idx, obj, cov


class StreamedClips:
    """Training clips encoded on the training device straight from a dataset directory's frames
    (`dit --frames DATA`), for a GPU machine where the dataset is written beside the training run:
    every `refresh()` picks up the shards finished since the last one (a shard is finished when its
    last file, standoff.npy, exists), encodes them and their mirror images with the shipped encoder,
    and keeps latents, indices, objects and box coverage on the device. No clip is held out
    (evaluation uses other worlds). Mirroring is drawn per clip."""

    def __init__(self, a, enc, K, grid, size, dev, need_cov):
        self.dir, self.enc, self.K, self.grid, self.size, self.dev, self.need_cov = a.frames, enc, K, grid, size, dev, need_cov
        self.seen = set()
        self.lat = self.idx = self.obj = self.cov = None  # [2, n, F, C, 8, 8] fp16, [n, F], [n], [2, n, F, G·G] fp16
        self.encode_s = 0.0

    def count(self):
        return 0 if self.idx is None else int(self.idx.shape[0])

    def describe(self):
        return f"clips {self.count()} from {len(self.seen)} shards of {self.dir} (+ mirror images; no held-out clips)"

    def positive_shares(self):
        return float((self.cov[0, :, : self.K] > 0).float().mean()), float((self.cov[0, :, self.K :] > 0).float().mean())

    @torch.no_grad()
    def refresh(self):
        """Encodes the shards finished since the last call; returns how many clips were added."""
        done = [d for d in finished_shards(self.dir) if d not in self.seen]
        if not done:
            return 0
        t0 = time.time()
        lats, idxs, objs, covs = [], [], [], []
        for d in done:
            frames = np.load(os.path.join(d, "frames.npy"))  # uint8 [n, F, H, W, 3]
            boxes = np.load(os.path.join(d, "boxes.npy"))
            z = encode_clips(self.enc, frames, self.dev, (0, 1), chunk=max(1, 4096 // frames.shape[1]))
            lats.append(torch.stack(z).half())
            idxs.append(torch.from_numpy(relative_indices(np.load(os.path.join(d, "indices.npy")), self.K).astype(np.float32)))
            objs.append(torch.from_numpy(np.load(os.path.join(d, "object.npy")).astype(np.int64)))
            if self.need_cov:
                covs.append(torch.from_numpy(np.stack([box_token_targets(boxes, self.grid, self.size, f) for f in (0, 1)])).half())
            self.seen.add(d)
        add = lambda old, new, dim: new if old is None else torch.cat([old, new], dim=dim)  # noqa: E731
        self.lat = add(self.lat, torch.cat(lats, dim=1), 1)
        self.idx = add(self.idx, torch.cat(idxs).to(self.dev), 0)
        self.obj = add(self.obj, torch.cat(objs).to(self.dev), 0)
        if self.need_cov:
            self.cov = add(self.cov, torch.cat(covs, dim=1).to(self.dev), 1)
        self.encode_s += time.time() - t0
        return sum(o.shape[0] for o in objs)

    def sample(self, rng, batch, dev):
        n = self.count()
        ids = torch.from_numpy(rng.integers(n, size=batch)).to(dev)
        flip = torch.from_numpy(rng.integers(2, size=batch)).to(dev)
        x0 = self.lat[flip, ids].float()
        cov = None if self.cov is None else self.cov[flip, ids].float()
        return x0, self.idx[ids], self.obj[ids], cov


def encoder_for_streaming(a, dev):
    """The frame encoder whose latents the denoiser is trained in: WORK/ae.pt when there is one,
    else the shipped encoder.onnx (its initializers, latent statistics included)."""
    ck = os.path.join(a.work, "ae.pt")
    if os.path.exists(ck):
        return load_ae(a.work, dev)[0]
    enc = FrameEncoder(CFG["latent_ch"], CFG["ae_width"])
    if load_onnx_initializers(enc, os.path.join(a.init_from, "encoder.onnx")) == 0:
        raise SystemExit(f"--frames: no {ck} and no encoder.onnx in {a.init_from!r} to encode frames with")
    return enc.to(dev).eval()


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def stage_dit(a):
    dev = torch.device(a.device)
    if a.frames:
        meta = json.load(open(os.path.join(a.frames, "meta.json")))
        json.dump(meta, open(os.path.join(a.work, "data_meta.json"), "w"))  # export reads it
    else:
        meta = json.load(open(os.path.join(a.work, "data_meta.json")))
    K, N = meta["k"], meta["n"]
    vocab = len(meta["vocabulary"])
    ck = os.path.join(a.work, "dit.pt")
    s = torch.load(ck, map_location="cpu") if os.path.exists(ck) else None
    use_arch(s.get("arch") if s is not None else new_run_arch(a))
    den = make_denoiser(vocab).to(dev)
    need_cov = a.ground > 0 or a.box_weight > 0
    if a.frames:
        clips = StreamedClips(a, encoder_for_streaming(a, dev), K, den.grid, meta["camera"]["width"], dev, need_cov)
        t_wait = time.time() + a.wait_data * 60
        while clips.count() < a.min_clips and time.time() < t_wait:
            if clips.refresh() == 0:
                time.sleep(2)
        if clips.count() == 0:
            raise SystemExit(f"--frames: no finished shard in {a.frames!r} after {a.wait_data} min")
        log(f"encoded {clips.count()} clips on {dev} in {clips.encode_s:.1f} s")
    else:
        clips = EncodedClips(a, K, den.grid, meta["camera"]["width"], need_cov)
    if need_cov:
        ctx_pos, tgt_pos = clips.positive_shares()
        if a.ground > 0:
            log(f"grounding loss: weight {a.ground}, tokens after block {a.ground_layer}; {ctx_pos:.3f} of context tokens positive")
        if a.box_weight > 0:
            log(f"flow loss weighted 1 + {a.box_weight} x box coverage on the target frames; {tgt_pos:.3f} of target tokens covered")
    # grounding head (training only, never exported): from the tokens after block --ground-layer,
    # predict which context tokens show the NAMED object (the dataset's box of the target)
    ground = torch.nn.Linear(CFG["dim"], 1).to(dev)
    opt = torch.optim.AdamW(list(den.parameters()) + list(ground.parameters()), lr=a.lr, weight_decay=0.01, betas=(0.9, 0.99))
    step = 0
    ema = None
    if s is not None and "den" not in s:
        # a --snapshot file (TAG_dit.pt): continue from its averaged weights with a new optimiser
        den.load_state_dict(s["ema"])
        if "ground" in s:
            ground.load_state_dict(s["ground"])
        step = s["step"]
        log(f"continuing from the averaged weights of the snapshot {ck} at step {step} (new optimiser)")
    elif s is not None:
        den.load_state_dict(s["den"])
        if "ground" in s:
            ground.load_state_dict(s["ground"])
            opt.load_state_dict(s["opt"])
        else:  # a checkpoint from before the grounding head: its optimiser state lacks the head
            st = opt.state_dict()
            st["state"] = s["opt"]["state"]
            opt.load_state_dict(st)
        step = s["step"]
        if a.ema > 0 and "ema" in s:
            ema = {k: v.to(dev) for k, v in s["ema"].items()}
        log(f"resumed denoiser from {ck} at step {step}{' (with its EMA)' if ema is not None else ''}")
    elif a.scratch:
        log("denoiser from scratch (--scratch)")
    else:
        n = load_onnx_initializers(den, os.path.join(a.init_from, "denoiser.onnx"), prefix="den.")
        if n:
            step = shipped_steps(a.init_from, "denoiser_steps")
        log(f"denoiser initialised from shipped ONNX ({n} tensors, step {step})" if n else "denoiser from scratch")
    arch = {k: CFG[k] for k in ARCH_KEYS}
    log(f"denoiser {arch} params {count_params(den)}; {clips.describe()}; K={K} N={N}; batch {a.batch} on {dev}{' (bf16 autocast)' if a.amp else ''}")
    rng = np.random.default_rng(1000 + step)
    logf = open(os.path.join(a.work, "dit_log.csv"), "a", newline="")
    logw = csv.writer(logf)
    frame_w = torch.ones(N)
    frame_w[-2:] = 2.0  # the last frames (the goal view) matter most
    frame_w = (frame_w / frame_w.mean()).to(dev)
    if a.ema > 0 and ema is None:
        ema = {k: v.detach().clone() for k, v in den.state_dict().items()}
    # the moving average, as lists of (average, live tensor), made once: state_dict tensors share the
    # parameters' storage; floating tensors are averaged in one foreach call, the rest copied
    live = den.state_dict()
    ema_f = [(ema[k], v) for k, v in live.items() if v.dtype.is_floating_point] if ema is not None else []
    ema_o = [(ema[k], v) for k, v in live.items() if not v.dtype.is_floating_point] if ema is not None else []
    step_flops = train_step_flops(den, ground, a, K, N, dev)
    log(f"model FLOPs per step: {step_flops / 1e9:.1f} GFLOP (3 × the forward FLOPs of {a.batch} clips"
        f"{f' + the grounding pass of up to {a.ground_batch}' if a.ground > 0 else ''}; elementwise work not counted)")
    t_start = time.time()
    t_end = t_start + a.minutes * 60
    t_refresh = t_start + a.refresh_s
    step0 = last_logged = step
    samples = 0
    losses = []
    g_stats = []  # (grounding BCE, recall on positive tokens, specificity on empty ones)
    pos_weight = torch.tensor(4.0, device=dev)  # ~8 % of context tokens are positive
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if a.amp else contextlib.nullcontext()

    def save():
        st = {"den": den.state_dict(), "opt": opt.state_dict(), "step": step, "arch": arch}
        extra = {}
        if a.ground > 0:
            extra.update(ground=ground.state_dict(), ground_layer=a.ground_layer, ground_weight=a.ground)
        if a.box_weight > 0:
            extra["box_weight"] = a.box_weight
        st.update(extra)
        if ema is not None:
            st["ema"] = ema
        save_atomic(st, ck)
        if a.snapshot:
            # small copies for a machine whose files come back size-limited: the averaged weights
            # (what export ships) with what export records, and on request the live weights in float16
            cpu = lambda d: {k: v.detach().cpu() for k, v in d.items()}  # noqa: E731
            half = lambda d: {k: (v.half() if v.dtype.is_floating_point else v) for k, v in d.items()}  # noqa: E731
            avg = cpu(ema if ema is not None else den.state_dict())
            save_atomic({"ema": half(avg) if a.snapshot_half else avg, "step": step, "arch": arch, **extra}, os.path.join(a.snapshot, f"{a.tag}_dit.pt"))
            if a.snapshot_live:
                save_atomic({"den": half(cpu(den.state_dict())), "step": step}, os.path.join(a.snapshot, f"{a.tag}_live.pt"))

    t_last = time.time()
    while time.time() < t_end and step < a.max_steps:
        if a.frames and time.time() > t_refresh:
            added = clips.refresh()
            if added:
                log(f"added {added} clips: {clips.describe()}")
            t_refresh = time.time() + a.refresh_s
        x0, idx, obj, cov = clips.sample(rng, a.batch, dev)
        B = x0.shape[0]
        # rectified flow: x_t = (1 - t) x0 + t eps, v = eps - x0; t ~ logit-normal
        t = torch.sigmoid(torch.randn(B, device=dev) * 1.0)
        eps = torch.randn_like(x0)
        tt = t.view(B, 1, 1, 1, 1)
        xt = (1 - tt) * x0 + tt * eps
        inp = xt.clone()
        inp[:, :K] = x0[:, :K]
        tf = torch.zeros(B, K + N, device=dev)
        tf[:, K:] = t.view(B, 1)
        # joint CFG dropout: drop the instruction AND replace the context by pure noise (t = 1)
        drop = torch.rand(B, device=dev) < a.cfg_drop
        inp[:, :K] = torch.where(drop.view(B, 1, 1, 1, 1), torch.randn_like(inp[:, :K]), inp[:, :K])
        tf[:, :K] = torch.where(drop.view(B, 1), torch.ones_like(tf[:, :K]), tf[:, :K])
        obj = torch.where(drop, torch.zeros_like(obj), obj)
        with amp:
            v = den(inp, tf, idx, obj)
        sq = (v.float()[:, K:] - (eps - x0)[:, K:]).pow(2)  # [B, N, C, 8, 8]
        if a.box_weight > 0:
            # the named object's tokens in the target frames weigh 1 + box_weight·coverage (its
            # appearance, copied from memory, is a small share of the frame but decides the goal)
            w = box_weight_map(cov[:, K:], den.grid, den.patch, a.box_weight)  # [B, N, 1, 8, 8]
            err = (sq * w).sum(dim=(2, 3, 4)) / (w.sum(dim=(2, 3, 4)) * sq.shape[2])  # [B, N]
        else:
            err = sq.mean(dim=(2, 3, 4))  # [B, N]
        flow = (err * frame_w).mean()
        loss = flow
        sel = (~drop).nonzero().squeeze(1)[: a.ground_batch] if a.ground > 0 else []  # dropped samples have no object
        if len(sel) > 0:
            # a pass over the CONTEXT ONLY, up to the head's block: with target frames in the sequence
            # the head learns to find what the (partly denoised) targets box, not what the name says
            G = len(sel)
            with amp:
                hid, _ = den.tokens(x0[sel, :K], torch.zeros(G, K, device=dev), idx[sel, :K], obj[sel], blocks=a.ground_layer + 1)
                logit = ground(hid).squeeze(-1).float()  # [G, K·n]
            tgt = cov[sel, :K].reshape(G, -1)
            g_loss = F.binary_cross_entropy_with_logits(logit, tgt, pos_weight=pos_weight)
            loss = flow + a.ground * g_loss
            if step % 10 == 0:  # the statistics sync with the device: sample them
                with torch.no_grad():
                    g_stats.append((g_loss.item(), *ground_rates(logit, tgt)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(den.parameters(), 1.0)
        lr = scheduled_lr(a, step, a.warmup, t_start, t_end)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        with torch.no_grad():
            if ema_f:
                e, v_ = zip(*ema_f)
                torch._foreach_mul_(e, a.ema)
                torch._foreach_add_(e, v_, alpha=1 - a.ema)
            for e_, v_ in ema_o:
                e_.copy_(v_)
        losses.append(flow.detach())
        step += 1
        samples += B
        if step % 50 == 0:
            # per step since the last line (the first interval may be shorter than 50 steps)
            dt = (time.time() - t_last) / (step - last_logged)
            t_last = time.time()
            last_logged = step
            ml = float(torch.stack(losses[-50:]).mean())
            losses = losses[-50:]
            gs = ""
            if g_stats:
                g = np.nanmean(np.array(g_stats[-5:]), axis=0)
                gs = f" ground {g[0]:.4f} (recall {g[1]:.2f}, empty {g[2]:.2f})"
            log(f"dit step {step} loss {ml:.4f}{gs} lr {lr:.2e} ({dt:.3f} s/step, {throughput(B / dt, step_flops / dt)})")
            logw.writerow([step, ml, time.time()])
            logf.flush()
        if step % a.save_every == 0:
            save()
    save()
    took = time.time() - t_start
    done = step - step0
    log(f"denoiser stopped at step {step}: {done} steps, {samples} clips in {took:.1f} s, "
        f"{throughput(samples / max(took, 1e-9), done * step_flops / max(took, 1e-9))} (all of the run, checkpoints and data refreshes included)")


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------
def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["ae", "dec", "encode", "dit", "export"])
    p.add_argument("--data", default=os.path.expanduser("~/v4s_data/train"))
    p.add_argument("--work", default=os.path.expanduser("~/v4s_runs/v4s-small"))
    p.add_argument("--init-from", default=DEFAULT_MODEL_DIR, help="shipped model dir to start from when WORK has no checkpoint")
    p.add_argument("--out", default=DEFAULT_MODEL_DIR)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--max-steps", type=int, default=10**9)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--cfg-drop", type=float, default=0.1)
    p.add_argument("--anneal", action="store_true", help="dit: cosine learning-rate decay to 0 over this run's --minutes (end a run with it)")
    p.add_argument("--ema", type=float, default=0.999, help="dit: decay of the exponential moving average of the weights (export uses it when present; 0 = off)")
    p.add_argument("--ground", type=float, default=0.0, help="dit: weight of the grounding loss (a training-only head marks the context tokens that show the named object; 0 = off)")
    p.add_argument("--ground-batch", type=int, default=8, help="dit: clips per step in the grounding loss's context-only forward")
    p.add_argument("--box-weight", type=float, default=0.0, help="dit: weight the flow loss on the target frames by 1 + W x the named object's box coverage per token (0 = off)")
    p.add_argument("--ground-layer", type=int, default=2, help="dit: the block (0-based) whose tokens the grounding head reads")
    p.add_argument("--dec-noise", type=float, default=0.2, help="dec: largest latent noise, as a share of the latent std")
    p.add_argument("--preload", action="store_true", help="load all latents into memory")
    p.add_argument("--frames", default="", help="dit: encode the clips of this dataset directory on --device as its shards appear (instead of WORK/latents.npy)")
    p.add_argument("--min-clips", type=int, default=1, help="dit --frames: wait for this many clips before the first step")
    p.add_argument("--wait-data", type=float, default=5.0, help="dit --frames: minutes to wait for --min-clips")
    p.add_argument("--refresh-s", type=float, default=20.0, help="dit --frames, dec: seconds between looks for new shards")
    p.add_argument("--dim", type=int, default=0, help="dit, new runs: denoiser width (default CFG's 128)")
    p.add_argument("--depth", type=int, default=0, help="dit, new runs: denoiser blocks (default CFG's 6)")
    p.add_argument("--heads", type=int, default=0, help="dit, new runs: attention heads (default CFG's 4)")
    p.add_argument("--scratch", action="store_true", help="dit, new runs: random initial weights instead of the shipped ONNX")
    p.add_argument("--warmup", type=int, default=500, help="dit: learning-rate warm-up steps")
    p.add_argument("--amp", action="store_true", help="dit on cuda: bfloat16 autocast")
    p.add_argument("--save-every", type=int, default=500, help="dit: steps between checkpoints")
    p.add_argument("--snapshot", default="", help="dit: also write TAG_dit.pt (the averaged weights, what export needs) to this directory at each checkpoint")
    p.add_argument("--tag", default="dit", help="dit --snapshot: file name prefix")
    p.add_argument("--snapshot-half", action="store_true", help="dit --snapshot: store the averaged weights in float16 (a 4.8 M-parameter denoiser is 19 MB in float32)")
    p.add_argument("--snapshot-live", action="store_true", help="dit --snapshot: also write TAG_live.pt, the live weights in float16")
    p.add_argument("--max-clips", type=int, default=0, help="encode: at most this many clips (0 = all)")
    p.add_argument("--no-flip", action="store_true", help="encode: skip the mirrored copy of each clip")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    os.makedirs(a.work, exist_ok=True)
    if a.stage == "ae":
        stage_ae(a)
    elif a.stage == "dec":
        stage_dec(a)
    elif a.stage == "encode":
        stage_encode(a)
    elif a.stage == "dit":
        stage_dit(a)
    else:
        from export import export_all

        use_arch(torch.load(os.path.join(a.work, "dit.pt"), map_location="cpu").get("arch"))
        export_all(a, CFG, load_ae, make_denoiser)


if __name__ == "__main__":
    main()
