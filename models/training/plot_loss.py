#!/usr/bin/python3
"""The denoiser's logged flow loss against its step, from the logs `train.py dit` prints
("HH:MM:SS dit step N loss L ..."), one curve over several runs of one denoiser (a run continued
from an earlier one's snapshot carries on its step count). Writes a PNG and prints, per log, its
first and last logged step and loss.

  /usr/bin/python3 models/training/plot_loss.py LOG [LOG ...] --out models/v4s-small/loss.png
      [--title TEXT]

A log with no "dit step" line is an error that names the file.
"""
import argparse
import re
import sys

LINE = re.compile(r"\bdit step (\d+) loss ([0-9.]+)")


def read_log(path):
    """-> [(step, loss)] in the order logged."""
    with open(path) as f:
        pts = [(int(m.group(1)), float(m.group(2))) for m in map(LINE.search, f) if m]
    if not pts:
        raise SystemExit(f"plot_loss: no 'dit step N loss L' line in {path!r}")
    return pts


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("logs", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="denoiser flow loss (logged mean of 50 steps)")
    a = p.parse_args()
    runs = [(path, read_log(path)) for path in a.logs]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    for i, (path, pts) in enumerate(runs):
        s, l = zip(*pts)
        ax.plot(s, l, lw=1, color="C0")
        if i > 0:  # a new run: new optimiser, new worlds
            ax.axvline(s[0], color="0.6", lw=0.8, ls="--")
        print(f"{path}: steps {s[0]}-{s[-1]}, loss {l[0]:.4f} -> {l[-1]:.4f}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("flow loss")
    ax.set_title(a.title, fontsize=10)
    ax.grid(True, which="both", lw=0.3)
    fig.tight_layout()
    fig.savefig(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    sys.exit(main())
