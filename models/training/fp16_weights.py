#!/usr/bin/python3
"""Stores an ONNX graph's float32 weights as float16 initializers, each behind a Cast back to
float32, so that the file is about half as large and the forward still runs in float32 (ONNX
Runtime folds the Casts into float32 constants when it loads the graph).

For issue 21: the repository keeps model files ≤ 30 MB in all, and a float32 denoiser wider than
the shipped one does not fit beside the encoder, decoder and grounder. Initializers with fewer
than --min-size values (biases of small layers, rotary frequencies, grid positions) stay float32.

  /usr/bin/python3 models/training/fp16_weights.py IN.onnx OUT.onnx [--min-size 256]

`train.py export --fp16-weights` does the same to the denoiser it exports, after rounding the
PyTorch weights it converts, so that golden.json holds the float16-stored graph's own numbers.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


FP16_SUFFIX = "_fp16"


def store_fp16(m, min_size=256, names=None):
    """Rewrites ONNX model `m` in place: every float32 initializer of at least `min_size` values (and,
    when `names` is given, whose name is in it) becomes NAME_fp16 (float16) behind a Cast to NAME.
    -> (the names converted, the largest rounding)."""
    g = m.graph
    halves, casts, done, worst = [], [], [], 0.0
    for init in list(g.initializer):
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.size < min_size or (names is not None and init.name not in names):
            continue
        h = w.astype(np.float16)
        worst = max(worst, float(np.abs(h.astype(np.float32) - w).max()))
        halves.append(numpy_helper.from_array(h, init.name + FP16_SUFFIX))
        casts.append(helper.make_node("Cast", [init.name + FP16_SUFFIX], [init.name], to=TensorProto.FLOAT, name=init.name + "_to_fp32"))
        g.initializer.remove(init)
        done.append(init.name)
    g.initializer.extend(halves)
    for c in reversed(casts):
        g.node.insert(0, c)
    return done, worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--min-size", type=int, default=256, help="initializers with fewer values stay float32")
    a = ap.parse_args()
    m = onnx.load(a.src)
    done, worst = store_fp16(m, a.min_size)
    onnx.checker.check_model(m)
    onnx.save(m, a.dst)
    print(f"{len(done)} initializers stored as float16 (largest rounding {worst:.3g}); wrote {a.dst}")


if __name__ == "__main__":
    main()
