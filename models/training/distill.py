#!/usr/bin/python3
"""Distils the denoiser's guided sampler into an S-step sampler without guidance (issue 21, item 2:
fewer steps free time for a larger denoiser).

The teacher (a model's denoiser, frozen) samples as the node does with that model's manifest
sampler (day 13: `steps` 8, `shift` 3, `guidance_scale` 3, `guidance_min_t` 0.7; each overridable):
Euler steps on the shifted grid t_i = shift(1 − i/T), shift(t) = s·t / (1 + (s − 1)·t), from 1 to
0, with the joint-CFG velocity v_u + w·(v_c − v_u) at the steps whose t ≥ guidance_min_t (the
unconditional branch: context replaced by noise at t = 1, null object) and the conditional
velocity v_c at the later ones, exactly as `imagine` does. The student's grid is every (T/S)-th
teacher time (the same shift at S steps). The student starts as a copy of the teacher (or of
`--student-from`) and learns, on noised training clips x_t = (1 − t)·x0 + t·ε at its own grid's
times, the one velocity that lands where the teacher's T/S steps land: v* = (x_t − x_{t''}) /
(t − t''). Sampled with `--steps S --shift s --guidance 1` (its export's manifest says so), the
student costs S forwards of M sequences per plan against the teacher's T of up to 2M
(progressive distillation, Salimans & Ho 2022, with the guidance folded in, Meng et al. 2023).

Usage:
  /usr/bin/python3 models/training/distill.py --frames DATA --work W [--model DIR] [--steps 4]
      [--teacher-steps T] [--shift s] [--guidance w] [--guidance-min-t g] [--student-from DIR]
      [--minutes 60] [--batch 8] [--lr 2e-5] [--threads 2] [--device cpu|cuda]
  then export W as usual (`train.py ae --minutes 0 --work W` once, `train.py export --work W --out
  OUT`) and evaluate with `eval --model OUT` (the manifest carries the student's steps and shift).
W/dit.pt holds the student (live weights, EMA, optimiser, step, the teacher's sampler); a run with
W/dit.pt continues it, and refuses when asked for another sampler than the one it was distilled from.
"""
import argparse
import copy
import json
import math
import os
import sys
import time
import types

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP (see train.py)

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import (  # noqa: E402
    CFG, DEFAULT_MODEL_DIR, EPISODES_FORMAT, EpisodePool, StreamedClips, count_params, encoder_for_streaming, load_onnx_initializers,
    log, make_denoiser, save_atomic, shipped_arch, shipped_steps, use_arch,
)


def shift_time(t, s):
    """SD3's time shift (flowMatch.ts shiftTime): s·t / (1 + (s − 1)·t)."""
    return s * t / (1 + (s - 1) * t)


def flow_times(steps, s):
    """The steps + 1 times from 1 to 0 of the node's sampler (flowMatch.ts flowMatchTimes)."""
    return [shift_time(1.0 - i / steps, s) for i in range(steps + 1)]


def is_guided(t, w, min_t):
    """Whether `imagine` applies guidance at time t (w ≠ 1 and t ≥ min_t, up to 1e-9 of rounding)."""
    return w != 1 and t >= min_t - 1e-9


def frame_times(B, K, N, t, dev, context_t=0.0):
    """The denoiser's per-frame times [B, K+N]: `context_t` on the K context frames (0: clean; the
    unconditional branch's noise context: 1), t on the N target frames (as `imagine` writes them)."""
    return torch.cat([torch.full((B, K), context_t, device=dev), torch.full((B, N), t, device=dev)], dim=1)


def teacher_velocity(den, ctx, ctx_noise, xt, t, idx, obj, w, guided):
    """The node's velocity on the target frames at time t (float): guided, v_u + w·(v_c − v_u) with
    both branches in one batch; else the conditional v_c alone. ctx [B, K, …] clean context,
    ctx_noise [B, K, …] the unconditional branch's context, xt [B, N, …] noisy targets, idx
    [B, K+N], obj [B]. -> [B, N, C, h, w]."""
    B, K = ctx.shape[:2]
    N = xt.shape[1]
    tc = frame_times(B, K, N, t, xt.device)
    if not guided:
        return den(torch.cat([ctx, xt], dim=1), tc, idx, obj)[:, K:]
    lat = torch.cat([torch.cat([ctx, xt], dim=1), torch.cat([ctx_noise, xt], dim=1)])
    tu = frame_times(B, K, N, t, xt.device, context_t=1.0)
    v = den(lat, torch.cat([tc, tu]), torch.cat([idx, idx]), torch.cat([obj, torch.zeros_like(obj)]))[:, K:]
    vc, vu = v[:B], v[B:]
    return vu + w * (vc - vu)


def distil_target(teacher, ctx, xt, times, idx, obj, w, min_t, gen):
    """The velocity that takes x_t at times[0] to where the teacher's Euler steps over `times`
    (times[0] → times[1] → … → times[-1], its own grid) take it. -> [B, N, …]."""
    noise = torch.randn(ctx.shape, generator=gen).to(ctx.device)
    x = xt
    for t, t_next in zip(times[:-1], times[1:]):
        x = x + (t_next - t) * teacher_velocity(teacher, ctx, noise, x, t, idx, obj, w, is_guided(t, w, min_t))
    return (xt - x) / (times[0] - times[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", required=True, help="a `dataset` or `dataset --episodes` directory (worlds other than evaluation's)")
    p.add_argument("--work", required=True)
    p.add_argument("--model", default=DEFAULT_MODEL_DIR, help="the teacher: a model directory (its manifest's sampler is the teacher's)")
    p.add_argument("--student-from", default=None, help="a model directory whose denoiser the student starts from (default: the teacher's)")
    p.add_argument("--steps", type=int, default=4, help="the student's steps S")
    p.add_argument("--teacher-steps", type=int, default=None, help="the teacher's steps T, a multiple of S (default: the manifest's sampler.steps)")
    p.add_argument("--shift", type=float, default=None, help="the time shift of both grids (default: the manifest's sampler.shift)")
    p.add_argument("--guidance", type=float, default=None, help="the teacher's CFG scale (default: the manifest's sampler.guidance_scale; the student runs with 1)")
    p.add_argument("--guidance-min-t", type=float, default=None, help="the teacher guides only at t >= this (default: the manifest's sampler.guidance_min_t, else 0)")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    manifest_path = os.path.join(a.model, "manifest.json")
    try:
        sampler = json.load(open(manifest_path))["sampler"]
        T = a.teacher_steps if a.teacher_steps is not None else int(sampler["steps"])
        shift = a.shift if a.shift is not None else float(sampler.get("shift", 1.0))
        w = a.guidance if a.guidance is not None else float(sampler["guidance_scale"])
        min_t = a.guidance_min_t if a.guidance_min_t is not None else float(sampler.get("guidance_min_t", 0.0))
    except (OSError, KeyError, TypeError, ValueError) as e:
        raise SystemExit(f"--model {a.model!r}: expected a manifest.json whose sampler has steps and guidance_scale, found {type(e).__name__}: {e}")
    if a.steps < 1:
        raise SystemExit(f"--steps must be >= 1, found {a.steps}")
    if T < a.steps or T % a.steps != 0:
        raise SystemExit(f"the teacher's steps must be a multiple of the student's --steps {a.steps}, found {T} (--teacher-steps or {manifest_path}'s sampler.steps)")
    if not (shift > 0 and math.isfinite(shift)):
        raise SystemExit(f"--shift must be a finite number > 0, found {shift}")
    if not (0 <= min_t <= 1):
        raise SystemExit(f"--guidance-min-t must be in [0, 1], found {min_t}")
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    dev = torch.device(a.device)
    meta = json.load(open(os.path.join(a.frames, "meta.json")))
    json.dump(meta, open(os.path.join(a.work, "data_meta.json"), "w"))  # export reads it
    K = meta["k"]
    use_arch(shipped_arch(a.model))
    teacher = make_denoiser(len(meta["vocabulary"]))
    if load_onnx_initializers(teacher, os.path.join(a.model, "denoiser.onnx"), prefix="den.") == 0:
        raise SystemExit(f"no denoiser weights in {a.model!r}/denoiser.onnx")
    student = copy.deepcopy(teacher)
    if a.student_from is not None:
        if shipped_arch(a.student_from) != shipped_arch(a.model):
            raise SystemExit(f"--student-from {a.student_from!r}: expected the teacher's architecture {shipped_arch(a.model)}, found {shipped_arch(a.student_from)}")
        if load_onnx_initializers(student, os.path.join(a.student_from, "denoiser.onnx"), prefix="den.") == 0:
            raise SystemExit(f"--student-from: no denoiser weights in {a.student_from!r}/denoiser.onnx")
    teacher.to(dev).eval()
    for q in teacher.parameters():
        q.requires_grad_(False)
    student.to(dev)
    for q in student.parameters():
        q.requires_grad_(True)
    student.train()
    opt = torch.optim.AdamW(student.parameters(), lr=a.lr, weight_decay=0.0)
    ck = os.path.join(a.work, "dit.pt")
    arch = {k: CFG[k] for k in ("dim", "depth", "heads")}
    step = 0
    teacher_steps = shipped_steps(a.model, "denoiser_steps")
    recipe = {"student_steps": a.steps, "teacher_steps": T, "shift": shift, "guidance": w, "guidance_min_t": min_t}
    ema = {k: v.detach().clone() for k, v in student.state_dict().items()}
    if os.path.exists(ck):
        s = torch.load(ck, map_location=dev)
        if "distill" not in s:
            raise SystemExit(f"{ck}: expected a student written by distill.py, found a checkpoint without its recipe (keys {sorted(s)}); use another --work")
        old = {k: s["distill"].get(k, d) for k, d in (("student_steps", None), ("teacher_steps", None), ("shift", 1.0), ("guidance", None), ("guidance_min_t", 0.0))}
        if old != recipe:
            raise SystemExit(f"{ck}: distilled from {old}, asked for {recipe}; use another --work or the same sampler")
        student.load_state_dict(s["den"])
        opt.load_state_dict(s["opt"])
        ema = s["ema"]
        step = s["distill"]["steps"]
        log(f"resumed the student from {ck} at distillation step {step}")
    source = EpisodePool if meta.get("format") == EPISODES_FORMAT else StreamedClips
    # the teacher's encoder.onnx (a model directory holds no ae.pt, so nothing in the working directory is taken)
    clips = source(types.SimpleNamespace(frames=a.frames), encoder_for_streaming(types.SimpleNamespace(work=a.model, init_from=a.model), dev), K, teacher.grid, meta["camera"]["width"], dev, False)
    clips.refresh()
    t_grid = flow_times(T, shift)
    r = T // a.steps
    guided = [is_guided(t, w, min_t) for t in t_grid[:-1]]
    log(f"teacher {arch} ({count_params(teacher)} parameters, step {teacher_steps}) from {a.model}: {T} steps at shift {shift}, "
        f"guidance {w} at {sum(guided)} of them (t >= {min_t}) -> student{' from ' + a.student_from if a.student_from else ''}: "
        f"{a.steps} steps at t = {', '.join(f'{t:.3f}' for t in t_grid[::r][:-1])} without guidance; {clips.describe()}; batch {a.batch}, lr {a.lr}, on {dev}")
    rng = np.random.default_rng(a.seed + step)
    gen = torch.Generator().manual_seed(a.seed + step)
    live = student.state_dict()
    t_end = time.time() + a.minutes * 60
    losses = []
    t_last = time.time()

    def save():
        save_atomic({"den": student.state_dict(), "ema": ema, "opt": opt.state_dict(), "step": teacher_steps, "arch": arch,
                     "distill": {"steps": step, **recipe, "from": os.path.abspath(a.model), **({"student_from": os.path.abspath(a.student_from)} if a.student_from else {})}}, ck)

    while time.time() < t_end:
        x0, idx, obj, _ = clips.sample(rng, a.batch, dev)
        i = int(rng.integers(a.steps))
        times = t_grid[i * r:(i + 1) * r + 1]
        t = times[0]
        eps = torch.randn(x0[:, K:].shape, generator=gen).to(dev)
        xt = (1 - t) * x0[:, K:] + t * eps
        with torch.no_grad():
            target = distil_target(teacher, x0[:, :K], xt, times, idx, obj, w, min_t, gen)
        B, N = xt.shape[:2]
        v = student(torch.cat([x0[:, :K], xt], dim=1), frame_times(B, K, N, t, dev), idx, obj)[:, K:]
        loss = (v - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (step + 1) / a.warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, 1 - (t_end - time.time()) / (a.minutes * 60))))
        opt.step()
        with torch.no_grad():
            for k, val in live.items():
                if val.dtype.is_floating_point:
                    ema[k].mul_(a.ema).add_(val, alpha=1 - a.ema)
        losses.append(loss.item())
        step += 1
        if step % 20 == 0:
            dt = (time.time() - t_last) / 20
            t_last = time.time()
            log(f"distil step {step} loss {np.mean(losses[-20:]):.4f} lr {opt.param_groups[0]['lr']:.2e} ({dt:.2f} s/step)")
        if step % a.save_every == 0:
            save()
    save()
    log(f"stopped at distillation step {step}; the student is {ck}")


if __name__ == "__main__":
    main()
