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
import copy
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
from v4s_model import Block, Denoiser, FrameDecoder, FrameEncoder, count_flops, count_params, fused_attention_available  # noqa: E402

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
    """Copies ONNX initializers named like the module's state_dict keys into the module (a weight
    stored as float16 behind a Cast, NAME_fp16 — fp16_weights.py, export --fp16-weights — counts
    as NAME, widened to float32)."""
    if not os.path.exists(path):
        return 0
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    sd = module.state_dict()
    n = 0
    for init in model.graph.initializer:
        name = init.name[len(prefix):] if init.name.startswith(prefix) else init.name
        if name.endswith("_fp16") and name[: -len("_fp16")] in sd:
            name = name[: -len("_fp16")]
        if name in sd and tuple(sd[name].shape) == tuple(init.dims):
            sd[name].copy_(torch.from_numpy(numpy_helper.to_array(init).astype(np.float32)))
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


def grow(old, new, dim):
    """`new` appended to `old` along `dim` (`new` itself when there is nothing yet): the device
    tensors of a clip source growing shard by shard."""
    return new if old is None else torch.cat([old, new], dim=dim)


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
        self.lat = grow(self.lat, torch.cat(lats, dim=1), 1)
        self.idx = grow(self.idx, torch.cat(idxs).to(self.dev), 0)
        self.obj = grow(self.obj, torch.cat(objs).to(self.dev), 0)
        if self.need_cov:
            self.cov = grow(self.cov, torch.cat(covs, dim=1).to(self.dev), 1)
        self.encode_s += time.time() - t0
        return sum(o.shape[0] for o in objs)

    def sample(self, rng, batch, dev):
        n = self.count()
        ids = torch.from_numpy(rng.integers(n, size=batch)).to(dev)
        flip = torch.from_numpy(rng.integers(2, size=batch)).to(dev)
        x0 = self.lat[flip, ids].float()
        cov = None if self.cov is None else self.cov[flip, ids].float()
        return x0, self.idx[ids], self.obj[ids], cov


EPISODES_FORMAT = "video4spatial_nav episodes v1"


class EpisodePool:
    """Training clips assembled on the training device from an episode dataset (`dataset --episodes`,
    read with `dit --frames DATA` when DATA/meta.json says so): every `refresh()` encodes the shards
    finished since the last one — the keyframe pool and the target frames, each with its mirror
    image — and keeps on the device:
      pool    float16 [2, P, C, 8, 8]   keyframe latents (mirror flag first), P over all shards
      pidx    int64   [P]               their stream indices (exploration frame numbers)
      target  float16 [2, E, N, C, 8, 8] target latents
      ctx     int64   [E, D, K]         the node-chosen context draws, as pool rows
      req     int64   [E]               each episode's request row (the newest context frame)
      obj     int64   [E]
      ccov    float16 [2, E, D, K, G·G] / tcov [2, E, N, G·G] box coverage (grounding loss, box weight)
    A sample draws an episode, one of its D context draws and a mirror flag per clip, so a reused
    pool still gives new (context, episode) pairs: D × 2 per episode. No clip is held out."""

    def __init__(self, a, enc, K, grid, size, dev, need_cov):
        self.dir, self.enc, self.K, self.grid, self.size, self.dev, self.need_cov = a.frames, enc, K, grid, size, dev, need_cov
        self.seen = set()
        self.pool = self.pidx = self.target = self.ctx = self.req = self.obj = self.ccov = self.tcov = None
        self.encode_s = 0.0
        self.worlds = 0
        self.world_seeds = set()  # recorded with the snapshot (what the manifest's data_seeds says)

    def count(self):
        return 0 if self.obj is None else int(self.obj.shape[0])

    def describe(self):
        d = 0 if self.ctx is None else self.ctx.shape[1]
        p = 0 if self.pidx is None else self.pidx.shape[0]
        return f"episodes {self.count()} ({d} context draws each, {p} keyframes, {self.worlds} worlds) from {len(self.seen)} shards of {self.dir} (+ mirror images)"

    def positive_shares(self):
        return float((self.ccov[0] > 0).float().mean()), float((self.tcov[0] > 0).float().mean())

    @torch.no_grad()
    def refresh(self):
        """Encodes the shards finished since the last call; returns how many episodes were added."""
        done = [d for d in finished_shards(self.dir) if d not in self.seen]
        if not done:
            return 0
        t0 = time.time()
        added = 0
        for d in done:
            ld = lambda n: np.load(os.path.join(d, n + ".npy"))  # noqa: E731
            pool_frames, tgt_frames = ld("pool_frames"), ld("target_frames")  # [P, H, W, 3], [E, N, H, W, 3]
            E, N = tgt_frames.shape[:2]
            base = 0 if self.pidx is None else int(self.pidx.shape[0])
            pz = encode_clips(self.enc, pool_frames[:, None], self.dev, (0, 1), chunk=4096)  # each [P, 1, C, 8, 8]
            tz = encode_clips(self.enc, tgt_frames, self.dev, (0, 1), chunk=max(1, 4096 // N))
            rows = lambda n, offset=0: torch.from_numpy(ld(n).astype(np.int64) + offset).to(self.dev)  # noqa: E731
            cover = lambda boxes: torch.from_numpy(np.stack([box_token_targets(boxes, self.grid, self.size, f) for f in (0, 1)])).half().to(self.dev)  # noqa: E731
            self.pool = grow(self.pool, torch.stack([z[:, 0] for z in pz]).half(), 1)
            self.pidx = grow(self.pidx, rows("pool_indices"), 0)
            self.target = grow(self.target, torch.stack(tz).half(), 1)
            self.ctx = grow(self.ctx, rows("contexts", base), 0)
            self.req = grow(self.req, rows("request_row", base), 0)
            self.obj = grow(self.obj, rows("object"), 0)
            if self.need_cov:
                self.ccov = grow(self.ccov, cover(ld("context_boxes")), 1)
                self.tcov = grow(self.tcov, cover(ld("target_boxes")), 1)
            seeds = np.unique(ld("pool_world_seed"))
            self.worlds += len(seeds)
            self.world_seeds.update(int(x) for x in seeds)
            self.seen.add(d)
            added += E
        self.encode_s += time.time() - t0
        return added

    def sample(self, rng, batch, dev):
        """-> x0 float [B, K+N, C, 8, 8], idx float [B, K+N] (relative to the newest context frame:
        context <= 0, targets 1..N), obj int64 [B], cov float [B, K+N, G·G] or None; all on `dev`."""
        E, D = self.ctx.shape[:2]
        N = self.target.shape[2]
        ids = torch.from_numpy(rng.integers(E, size=batch)).to(dev)
        draw = torch.from_numpy(rng.integers(D, size=batch)).to(dev)
        flip = torch.from_numpy(rng.integers(2, size=batch)).to(dev)
        rows = self.ctx[ids, draw]  # [B, K]
        x0 = torch.cat([self.pool[flip[:, None], rows], self.target[flip, ids]], dim=1).float()
        rel = (self.pidx[rows] - self.pidx[self.req[ids]][:, None]).float()
        idx = torch.cat([rel, torch.arange(1, N + 1, device=dev, dtype=torch.float32).expand(batch, N)], dim=1)
        cov = None
        if self.ccov is not None:
            cov = torch.cat([self.ccov[flip, ids, draw], self.tcov[flip, ids]], dim=1).float()
        return x0, idx, self.obj[ids], cov


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


def state_shards(prefix):
    """The files of a sharded training state written by save_sharded (PREFIX.0.pt, PREFIX.1.pt, …)."""
    return sorted(glob.glob(prefix + ".[0-9]*.pt"), key=lambda p: int(p[len(prefix) + 1 : -3]))


def save_sharded(flat, meta, prefix, limit_bytes):
    """Writes a flat {name: tensor} dict as PREFIX.0.pt, PREFIX.1.pt, … of at most about
    `limit_bytes` each (a machine whose files come back size-limited; a tensor larger than the limit
    gets a file of its own), `meta` (plain values) in the first, and removes older shards beyond the
    last. Each file is written whole before it replaces the old one."""
    files, cur, size = [], {}, 0
    for k, v in flat.items():
        nb = v.numel() * v.element_size()
        if cur and size + nb > limit_bytes:
            files.append(cur)
            cur, size = {}, 0
        cur[k] = v
        size += nb
    files.append(cur)
    for i, part in enumerate(files):
        save_atomic({"meta": dict(meta, shards=len(files)) if i == 0 else None, "tensors": part}, f"{prefix}.{i}.pt")
    for old in state_shards(prefix)[len(files):]:
        os.remove(old)
    return len(files)


def load_sharded(prefix):
    """-> (meta, {name: tensor}) from save_sharded's files, or (None, None) when there are none;
    SystemExit when shards are missing (a transfer that came back incomplete)."""
    paths = state_shards(prefix)
    if not paths:
        return None, None
    parts = [torch.load(p, map_location="cpu") for p in paths]
    meta = parts[0]["meta"]
    if meta is None or meta["shards"] != len(parts):
        raise SystemExit(f"{prefix}.*.pt: expected {meta and meta['shards']} shards, found {len(parts)} ({', '.join(paths)})")
    flat = {}
    for p in parts:
        flat.update(p["tensors"])
    return meta, flat


def training_state(den, ground, opt):
    """The state that continues a run, flattened for save_sharded: live weights (float32), the
    grounding head and AdamW's moments (bfloat16: 8 bits of mantissa are plenty for running
    averages; load_state_dict casts them back to float32). The averaged weights are not in it:
    they are TAG_dit.pt, written at the same save."""
    flat = {f"den.{k}": v.detach().cpu() for k, v in den.state_dict().items()}
    flat.update({f"ground.{k}": v.detach().cpu() for k, v in ground.state_dict().items()})
    st = opt.state_dict()
    for i, ps in st["state"].items():
        for k, v in ps.items():
            if torch.is_tensor(v):
                flat[f"opt.{i}.{k}"] = (v.bfloat16() if v.dtype.is_floating_point and v.dim() > 0 else v).detach().cpu()
            else:
                flat[f"opt.{i}.{k}"] = torch.tensor(v)
    return flat, st["param_groups"]


def unflatten_training_state(flat, groups):
    """save_sharded's flat dict back into den / ground state dicts and an optimizer state dict."""
    pick = lambda pre: {k[len(pre):]: v for k, v in flat.items() if k.startswith(pre)}  # noqa: E731
    opt_state = {}
    for k, v in pick("opt.").items():
        i, name = k.split(".", 1)
        opt_state.setdefault(int(i), {})[name] = v.float() if v.dtype == torch.bfloat16 else v
    return pick("den."), pick("ground."), {"state": opt_state, "param_groups": groups}


def flow_step_loss(den, ground, a, K, frame_w, pos_weight, x0, idx, obj, cov):
    """One training step's losses (rectified flow with joint CFG dropout, the box weight and the
    grounding loss), random draws included, as tensors only — no host syncs, fixed shapes — so that
    torch.compile can take it whole. -> (loss, flow loss, grounding BCE, grounding logits
    [Gb, K·n] or None, their targets, the grounding clips' mask [Gb])."""
    B = x0.shape[0]
    dev = x0.device
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if a.amp else contextlib.nullcontext()
    # rectified flow: x_t = (1 - t) x0 + t eps, v = eps - x0; t ~ logit-normal
    t = torch.sigmoid(torch.randn(B, device=dev))
    eps = torch.randn_like(x0)
    tt = t.view(B, 1, 1, 1, 1)
    xt = (1 - tt) * x0 + tt * eps
    # joint CFG dropout: drop the instruction AND replace the context by pure noise (t = 1)
    drop = torch.rand(B, device=dev) < a.cfg_drop
    ctx = torch.where(drop.view(B, 1, 1, 1, 1), torch.randn_like(x0[:, :K]), x0[:, :K])
    inp = torch.cat([ctx, xt[:, K:]], dim=1)
    tf = torch.cat([drop.float().view(B, 1).expand(B, K), t.view(B, 1).expand(B, x0.shape[1] - K)], dim=1)
    obj_in = torch.where(drop, torch.zeros_like(obj), obj)
    with amp:
        v = den(inp, tf, idx, obj_in)
    sq = (v.float()[:, K:] - (eps - x0)[:, K:]).pow(2)  # [B, N, C, 8, 8]
    if a.box_weight > 0:
        # the named object's tokens in the target frames weigh 1 + box_weight·coverage (its
        # appearance, copied from memory, is a small share of the frame but decides the goal)
        w = box_weight_map(cov[:, K:], den.grid, den.patch, a.box_weight)  # [B, N, 1, 8, 8]
        err = (sq * w).sum(dim=(2, 3, 4)) / (w.sum(dim=(2, 3, 4)) * sq.shape[2])  # [B, N]
    else:
        err = sq.mean(dim=(2, 3, 4))  # [B, N]
    flow = (err * frame_w).mean()
    if a.ground <= 0:
        return flow, flow, None, None, None, None
    # a pass over the CONTEXT ONLY of the first ground_batch clips, up to the head's block (with
    # target frames in the sequence the head learns to find what the partly denoised targets box,
    # not what the name says); clips whose instruction was dropped have no object: masked out
    G = min(a.ground_batch, B)
    keep = (~drop[:G]).float()
    with amp:
        hid, _ = den.tokens(x0[:G, :K], torch.zeros(G, K, device=dev), idx[:G, :K], obj[:G], blocks=a.ground_layer + 1)
        logit = ground(hid).squeeze(-1).float()  # [G, K·n]
    tgt = cov[:G, :K].reshape(G, -1)
    bce = F.binary_cross_entropy_with_logits(logit, tgt, pos_weight=pos_weight, reduction="none").mean(dim=1)
    g_loss = (bce * keep).sum() / keep.sum().clamp(min=1.0)
    return flow + a.ground * g_loss, flow, g_loss, logit, tgt, keep


def synthetic_batch(den, a, K, N, vocab, dev):
    """A batch of the training shapes with random contents, for timing (--probe)."""
    B = a.batch
    x0 = torch.randn(B, K + N, den.latent_ch, den.latent_hw, den.latent_hw, device=dev)
    idx = torch.cat([-torch.sort(torch.randint(0, 300, (B, K - 1), device=dev).float(), dim=1, descending=True)[0], torch.zeros(B, 1, device=dev),
                     torch.arange(1, N + 1, device=dev).float().expand(B, N)], dim=1)
    obj = torch.randint(1, vocab, (B,), device=dev)
    cov = (torch.rand(B, K + N, den.grid * den.grid, device=dev) < 0.1).float()
    return x0, idx, obj, cov


def make_optimizer(params, a, dev):
    """AdamW; on CUDA the fused kernel when this torch has it (one launch for all parameters)."""
    kw = dict(lr=a.lr, weight_decay=0.01, betas=(0.9, 0.99))
    if dev.type == "cuda":
        try:
            return torch.optim.AdamW(params, fused=True, **kw), "fused AdamW"
        except (TypeError, RuntimeError):
            pass
    return torch.optim.AdamW(params, **kw), "AdamW"


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
    resumed_from = ck if s is not None else None
    if s is None and a.resume_from:
        # a snapshot that came back from a lent machine: the whole state (TAG_state.*.pt) when there
        # is one, else the averaged weights alone (TAG_dit.pt: a new optimiser)
        prefix = os.path.join(a.resume_from, f"{a.tag}_state")
        avg_path = os.path.join(a.resume_from, f"{a.tag}_dit.pt")
        if not os.path.exists(avg_path):
            raise SystemExit(f"--resume-from {a.resume_from!r}: no {a.tag}_dit.pt there")
        avg = torch.load(avg_path, map_location="cpu")
        avg["ema"] = {k: (v.float() if v.dtype.is_floating_point else v) for k, v in avg["ema"].items()}
        st_meta, flat = load_sharded(prefix)
        if st_meta is not None:
            if st_meta["step"] != avg["step"]:
                raise SystemExit(f"--resume-from {a.resume_from!r}: {a.tag}_state.*.pt is at step {st_meta['step']}, {a.tag}_dit.pt at step {avg['step']} (copied mid-save?)")
            den_sd, ground_sd, opt_sd = unflatten_training_state(flat, st_meta["opt_groups"])
            s = {"den": den_sd, "ground": ground_sd, "opt": opt_sd, "ema": avg["ema"], "step": st_meta["step"], "arch": st_meta["arch"], "train_s": st_meta.get("train_s", 0.0)}
            resumed_from = f"{prefix}.*.pt ({st_meta['shards']} files) and {avg_path}"
        else:
            s, resumed_from = avg, avg_path
    use_arch(s.get("arch") if s is not None else new_run_arch(a))
    den = make_denoiser(vocab).to(dev)
    need_cov = a.ground > 0 or a.box_weight > 0
    # grounding head (training only, never exported): from the tokens after block --ground-layer,
    # predict which context tokens show the NAMED object (the dataset's box of the target)
    ground = torch.nn.Linear(CFG["dim"], 1).to(dev)
    opt, opt_name = make_optimizer(list(den.parameters()) + list(ground.parameters()), a, dev)
    step = 0
    train_s0 = float(s.get("train_s", 0.0)) if s is not None else 0.0  # training seconds of earlier runs
    ema = None
    if s is not None and "den" not in s:
        # a --snapshot file (TAG_dit.pt): continue from its averaged weights with a new optimiser
        den.load_state_dict(s["ema"])
        if "ground" in s:
            ground.load_state_dict(s["ground"])
        step = s["step"]
        log(f"continuing from the averaged weights of the snapshot {resumed_from} at step {step} (new optimiser)")
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
        log(f"resumed denoiser from {resumed_from} at step {step}, {train_s0:.0f} s trained{' (with its EMA)' if ema is not None else ''}")
    elif a.scratch:
        log("denoiser from scratch (--scratch)")
    else:
        n = load_onnx_initializers(den, os.path.join(a.init_from, "denoiser.onnx"), prefix="den.")
        if n:
            step = shipped_steps(a.init_from, "denoiser_steps")
        log(f"denoiser initialised from shipped ONNX ({n} tensors, step {step})" if n else "denoiser from scratch")
    arch = {k: CFG[k] for k in ARCH_KEYS}
    frame_w = torch.ones(N)
    frame_w[-2:] = 2.0  # the last frames (the goal view) matter most
    frame_w = (frame_w / frame_w.mean()).to(dev)
    pos_weight = torch.tensor(4.0, device=dev)  # ~8 % of context tokens are positive
    step_flops = train_step_flops(den, ground, a, K, N, dev)
    log(f"denoiser {arch} params {count_params(den)}; {opt_name}; model FLOPs per step: {step_flops / 1e9:.1f} GFLOP (3 × the forward FLOPs of {a.batch} clips"
        f"{f' + the grounding pass of {min(a.ground_batch, a.batch)}' if a.ground > 0 else ''}; elementwise work not counted)")

    def run_step(loss_fn, batch, lr):
        loss, flow, g_loss, logit, tgt, keep = loss_fn(den, ground, a, K, frame_w, pos_weight, *batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(den.parameters(), 1.0)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        return flow, g_loss, logit, tgt, keep

    # 1. the ways to run a step (bf16 autocast, fused attention, a compiled step), timed on random
    # batches of the training shapes before the data is in, when --probe asks; the fastest is used
    loss_fn = flow_step_loss
    if a.sdpa and fused_attention_available():
        Block.fused_attention = True
    if a.probe > 0:
        loss_fn = probe_variants(a, den, ground, opt, run_step, K, N, vocab, dev, step_flops)
    else:
        log(f"step: {'bf16 autocast' if a.amp else 'float32'}, attention {'fused (SDPA)' if Block.fused_attention else 'MatMul / Softmax / MatMul'}, {'compiled' if a.compile else 'eager'}")
        if a.compile:
            loss_fn = torch.compile(flow_step_loss)
    # 2. the data
    if a.frames:
        source = EpisodePool if meta.get("format") == EPISODES_FORMAT else StreamedClips
        clips = source(a, encoder_for_streaming(a, dev), K, den.grid, meta["camera"]["width"], dev, need_cov)
        t_wait = time.time() + a.wait_data * 60
        while clips.count() < a.min_clips and time.time() < t_wait:
            if clips.refresh() == 0:
                time.sleep(2)
        if clips.count() == 0:
            raise SystemExit(f"--frames: no finished shard in {a.frames!r} after {a.wait_data} min")
        log(f"encoded in {clips.encode_s:.1f} s on {dev}: {clips.describe()}")
    else:
        clips = EncodedClips(a, K, den.grid, meta["camera"]["width"], need_cov)
    if need_cov:
        ctx_pos, tgt_pos = clips.positive_shares()
        if a.ground > 0:
            log(f"grounding loss: weight {a.ground}, tokens after block {a.ground_layer}; {ctx_pos:.3f} of context tokens positive")
        if a.box_weight > 0:
            log(f"flow loss weighted 1 + {a.box_weight} x box coverage on the target frames; {tgt_pos:.3f} of target tokens covered")
    log(f"{clips.describe()}; K={K} N={N}; batch {a.batch} on {dev}")
    # 3. train
    rng = np.random.default_rng(1000 + step)
    logf = open(os.path.join(a.work, "dit_log.csv"), "a", newline="")
    logw = csv.writer(logf)
    if a.ema > 0 and ema is None:
        ema = {k: v.detach().clone() for k, v in den.state_dict().items()}
    # the moving average, as lists of (average, live tensor), made once: state_dict tensors share the
    # parameters' storage; floating tensors are averaged in one foreach call, the rest copied
    live = den.state_dict()
    ema_f = [(ema[k], v) for k, v in live.items() if v.dtype.is_floating_point] if ema is not None else []
    ema_o = [(ema[k], v) for k, v in live.items() if not v.dtype.is_floating_point] if ema is not None else []
    t_start = time.time()
    t_end = t_start + a.minutes * 60
    if a.until > 0:
        t_end = min(t_end, a.until)
    # the schedule's origin: this optimiser's first step. A run that resumed the optimiser continues
    # its warm-up and cosine; one with a new optimiser (from scratch, the shipped graph or a
    # snapshot's average) warms up again and starts a new cosine.
    fresh_opt = s is None or "den" not in s
    sched_s0 = 0.0 if fresh_opt else train_s0
    opt_step0 = step if fresh_opt else 0
    if a.anneal_until:
        # the cosine ends with this run: over the training time of the earlier runs of this
        # optimiser and this one's
        a.schedule_minutes = (sched_s0 + t_end - t_start) / 60
        log(f"learning rate: cosine to 0 over {a.schedule_minutes:.2f} training minutes ({sched_s0 / 60:.2f} of them before this run), ending at {time.strftime('%H:%M:%S', time.localtime(t_end))}")
    t_refresh = t_start + a.refresh_s
    step0 = last_logged = step
    samples = 0
    losses = []
    g_stats = []  # (grounding BCE, recall on positive tokens, specificity on empty ones)

    def trained_s():
        return train_s0 + (time.time() - t_start)

    def lr_now():
        lr = a.lr * min(1.0, (step - opt_step0 + 1) / a.warmup)
        if a.schedule_minutes > 0:  # cosine over the training time of this optimiser's runs together
            lr *= 0.5 * (1 + math.cos(math.pi * min(1.0, (sched_s0 + time.time() - t_start) / (a.schedule_minutes * 60))))
        elif a.anneal:  # cosine over this run's time budget
            lr *= 0.5 * (1 + math.cos(math.pi * min(1.0, (time.time() - t_start) / max(1e-9, t_end - t_start))))
        return lr

    def save():
        st = {"den": den.state_dict(), "opt": opt.state_dict(), "step": step, "arch": arch, "train_s": trained_s()}
        extra = {}
        if a.ground > 0:
            extra.update(ground=ground.state_dict(), ground_layer=a.ground_layer, ground_weight=a.ground)
        if a.box_weight > 0:
            extra["box_weight"] = a.box_weight
        if getattr(clips, "world_seeds", None):
            # the dataset's contract (camera, K, N, vocabulary) and the worlds this run trained on, so
            # a snapshot that came back alone can be exported (export reads it without data_meta.json)
            ws = clips.world_seeds
            extra["data_meta"] = dict(meta, seeds=[min(ws), max(ws)], worlds=len(ws))
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
            save_atomic({"ema": half(avg) if a.snapshot_half else avg, "step": step, "arch": arch, "train_s": trained_s(), **extra}, os.path.join(a.snapshot, f"{a.tag}_dit.pt"))
            if a.snapshot_live:
                save_atomic({"den": half(cpu(den.state_dict())), "step": step}, os.path.join(a.snapshot, f"{a.tag}_live.pt"))
            files = [f"{a.tag}_dit.pt"]
            if a.snapshot_state:
                flat, groups = training_state(den, ground, opt)
                n = save_sharded(flat, {"step": step, "arch": arch, "train_s": trained_s(), "opt_groups": groups}, os.path.join(a.snapshot, f"{a.tag}_state"), a.shard_mib * 2**20)
                files += [f"{a.tag}_state.{i}.pt" for i in range(n)]
                log(f"state at step {step} in {n} files of <= {a.shard_mib} MiB: {a.snapshot}/{a.tag}_state.*.pt")
            # written last: a copier takes the files it names and checks the step did not move meanwhile
            tmp = os.path.join(a.snapshot, f"{a.tag}_snapshot.json.tmp")
            json.dump({"step": step, "train_s": trained_s(), "files": files}, open(tmp, "w"))
            os.replace(tmp, os.path.join(a.snapshot, f"{a.tag}_snapshot.json"))

    t_last = t_saved = time.time()
    while time.time() < t_end and step < a.max_steps:
        if a.frames and time.time() > t_refresh:
            added = clips.refresh()
            if added:
                log(f"added {added} clips: {clips.describe()}")
            t_refresh = time.time() + a.refresh_s
        if a.stop_file and step % 50 == 0 and os.path.exists(a.stop_file):
            # an earlier stop asked for while the run goes on (a device lease running short)
            try:
                stop_at = float(open(a.stop_file).read().strip())
            except ValueError as e:
                raise SystemExit(f"--stop-file {a.stop_file!r}: expected seconds since the epoch, found {open(a.stop_file).read()[:40]!r}") from e
            if stop_at < t_end:
                t_end = stop_at
                log(f"stop asked for in {a.stop_file}: the run ends at {time.strftime('%H:%M:%S', time.localtime(t_end))}")
        batch = clips.sample(rng, a.batch, dev)
        lr = lr_now()
        flow, g_loss, logit, tgt, keep = run_step(loss_fn, batch, lr)
        if g_loss is not None and step % 10 == 0:  # the statistics sync with the device: sample them
            with torch.no_grad():
                m = keep > 0
                g_stats.append((g_loss.item(), *ground_rates(logit[m], tgt[m])))
        with torch.no_grad():
            if ema_f:
                e, v_ = zip(*ema_f)
                torch._foreach_mul_(e, a.ema)
                torch._foreach_add_(e, v_, alpha=1 - a.ema)
            for e_, v_ in ema_o:
                e_.copy_(v_)
        losses.append(flow.detach())
        step += 1
        samples += a.batch
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
            log(f"dit step {step} loss {ml:.4f}{gs} lr {lr:.2e} ({dt:.3f} s/step, {throughput(a.batch / dt, step_flops / dt)})")
            logw.writerow([step, ml, time.time()])
            logf.flush()
        if step % a.save_every == 0 or (a.save_every_s > 0 and time.time() > t_saved + a.save_every_s):
            save()
            t_saved = time.time()
    save()
    took = time.time() - t_start
    done = step - step0
    log(f"denoiser stopped at step {step}: {done} steps, {samples} clips in {took:.1f} s, "
        f"{throughput(samples / max(took, 1e-9), done * step_flops / max(took, 1e-9))} (all of the run, checkpoints and data refreshes included); "
        f"{trained_s():.0f} s trained in all runs")
    if a.frames:
        n = clips.count()
        log(f"data: {clips.describe()}; {samples} clip samples this run = {samples / max(n, 1):.1f} per {'episode' if isinstance(clips, EpisodePool) else 'clip'} held at the end")


def probe_variants(a, den, ground, opt, run_step, K, N, vocab, dev, step_flops):
    """Times the ways to run a training step on random batches of the training shapes (--probe
    seconds each, after warm-up steps): float32 (TF32 products on CUDA), bf16 autocast, bf16 with
    fused attention (SDPA), and that step compiled (torch.compile, when --compile). Prints clips/s
    and TFLOP/s of each, keeps the fastest (Block.fused_attention and a.amp set accordingly), and
    puts the weights, the head and the optimiser back as they were. -> the loss function to use."""
    saved = ({k: v.detach().clone() for k, v in den.state_dict().items()}, {k: v.detach().clone() for k, v in ground.state_dict().items()}, copy.deepcopy(opt.state_dict()))
    batch = synthetic_batch(den, a, K, N, vocab, dev)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    variants = [("float32", False, False)]
    if cuda:
        variants.append(("bf16", True, False))
    if fused_attention_available():
        variants.append(("bf16 + SDPA" if cuda else "SDPA", cuda, True))
    else:
        log("probe: this torch has no scaled_dot_product_attention; SDPA not tried")

    def timed(fn):
        """-> (s per step, steps timed, s for the 3 warm-up steps: a compile included) at lr 0."""
        t0 = time.time()
        for _ in range(3):
            run_step(fn, batch, 0.0)
        sync()
        warm = time.time() - t0
        n, t0 = 0, time.time()
        while time.time() - t0 < a.probe or n < 3:
            run_step(fn, batch, 0.0)
            n += 1
        sync()
        return (time.time() - t0) / n, n, warm

    results = []
    for name, amp, sdpa in variants:
        a.amp, Block.fused_attention = amp, sdpa
        try:
            dt, n, warm = timed(flow_step_loss)
            results.append((dt, name, amp, sdpa))
            log(f"probe {name}: {dt * 1000:.1f} ms/step, {throughput(a.batch / dt, step_flops / dt)} ({n} steps; 3 warm-up steps {warm:.1f} s)")
        except Exception as e:  # noqa: BLE001 - a variant this machine cannot run is reported and skipped
            log(f"probe {name}: failed ({type(e).__name__}: {str(e)[:200]})")
    if not results:
        raise SystemExit("probe: no way to run a training step worked")
    best = min(results)
    fn = flow_step_loss
    if a.compile:
        if not hasattr(torch, "compile"):
            log("probe: this torch has no torch.compile; not tried")
        else:
            _, name, amp, sdpa = best
            a.amp, Block.fused_attention = amp, sdpa
            try:
                cfn = torch.compile(flow_step_loss)
                dt, n, warm = timed(cfn)
                log(f"probe {name} compiled: {dt * 1000:.1f} ms/step, {throughput(a.batch / dt, step_flops / dt)} ({n} steps; compile + 3 warm-up steps {warm:.1f} s)")
                if dt < best[0]:
                    best, fn = (dt, name + " compiled", amp, sdpa), cfn
            except Exception as e:  # noqa: BLE001
                log(f"probe {name} compiled: failed ({type(e).__name__}: {str(e)[:200]})")
    dt, name, amp, sdpa = best
    a.amp, Block.fused_attention = amp, sdpa
    den.load_state_dict(saved[0])
    ground.load_state_dict(saved[1])
    opt.load_state_dict(saved[2])
    log(f"probe: training with {name} ({dt * 1000:.1f} ms/step, {throughput(a.batch / dt, step_flops / dt)} on random batches)")
    return fn


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
    p.add_argument("--warmup", type=int, default=500, help="dit: learning-rate warm-up steps (of this optimiser: a new one warms up again)")
    p.add_argument("--amp", action="store_true", help="dit on cuda: bfloat16 autocast")
    p.add_argument("--save-every", type=int, default=500, help="dit: steps between checkpoints")
    p.add_argument("--save-every-s", type=float, default=0, help="dit: also save when this many seconds passed since the last save (0 = by --save-every alone)")
    p.add_argument("--snapshot", default="", help="dit: also write TAG_dit.pt (the averaged weights, what export needs) to this directory at each checkpoint")
    p.add_argument("--tag", default="dit", help="dit --snapshot: file name prefix")
    p.add_argument("--snapshot-half", action="store_true", help="dit --snapshot: store the averaged weights in float16 (a 4.8 M-parameter denoiser is 19 MB in float32)")
    p.add_argument("--snapshot-live", action="store_true", help="dit --snapshot: also write TAG_live.pt, the live weights in float16")
    p.add_argument("--until", type=float, default=0, help="dit: stop at this wall-clock time (seconds since the epoch) if --minutes has not ended the run before")
    p.add_argument("--schedule-minutes", type=float, default=0, help="dit: cosine learning-rate decay to 0 over this many minutes of training counted over the runs of one optimiser (checkpoints carry the clock; a new optimiser starts it again); 0 = --anneal's per-run decay or none")
    p.add_argument("--stop-file", default="", help="dit: a file that, once it exists, holds an earlier stop time (seconds since the epoch); read every 50 steps")
    p.add_argument("--anneal-until", action="store_true", help="dit: --schedule-minutes = the training time of this optimiser's earlier runs + this run's (to --until or --minutes): the cosine reaches 0 when this run stops")
    p.add_argument("--resume-from", default="", help="dit, without WORK/dit.pt: continue from a snapshot directory: TAG_dit.pt (the average) with TAG_state.*.pt (live weights, optimiser) when they are there, else from the average with a new optimiser")
    p.add_argument("--snapshot-state", action="store_true", help="dit --snapshot: also write the whole training state as TAG_state.N.pt files of <= --shard-mib each")
    p.add_argument("--shard-mib", type=float, default=15.0, help="dit --snapshot-state: largest file, MiB")
    p.add_argument("--probe", type=float, default=0, help="dit: time each way of running a step (float32, bf16, fused attention, compiled) for this many seconds on random batches first, and train with the fastest")
    p.add_argument("--sdpa", action="store_true", help="dit: attention through F.scaled_dot_product_attention (torch >= 2; --probe decides by itself)")
    p.add_argument("--compile", action="store_true", help="dit: torch.compile the training step's forward and losses (with --probe: timed, used when faster)")
    p.add_argument("--fp16-weights", action="store_true", help="export: store the denoiser's weights (>= 256 values) as float16 behind Casts (half the file; golden.json from the rounded weights)")
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
