#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""safetensors_check.py - an independent reader (json + numpy only) for safetensors files
written by nabla. It checks the header against the spec and nabla's writer promises (header
padded with spaces to a multiple of 8, F32 little-endian data tiling the buffer in header order
with no holes), prints the tensors, and compares them with expected values.

usage: safetensors_check.py FILE [--expect EXPECT.json] [--tensor NAME:SHAPE:VALUES ...]
                                 [--meta KEY=VALUE ...] [--quiet]
  EXPECT.json: {"tensors": {name: {"shape": [...], "bits": [uint32, ...]}},
                "metadata": {key: value}}  (bits compare bit-exactly, NaN payloads included)
  --tensor w:2x3:1,2,3,4,5,6   (SHAPE "" or "scalar" for rank 0; values compared as float32)
Exit status 0 when everything matches, 1 otherwise (each problem is printed).
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    """Returns (header_len, header_dict_in_order, data_bytes); raises ValueError on bad files."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError("header length %d beyond the file" % n)
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=lambda kv: kv)
    return n, header, raw[8 + n:]


def load(path, problems):
    """The tensors as {name: float32 array} and the metadata, recording spec problems."""
    n, pairs, data = read_safetensors(path)
    if n % 8 != 0:
        problems.append("header length %d is not a multiple of 8" % n)
    tensors, meta, at = {}, {}, 0
    for name, entry in pairs:
        if name == "__metadata__":
            meta = dict(entry)
            if not all(isinstance(v, str) for v in meta.values()):
                problems.append("metadata values must be strings")
            continue
        e = dict(entry)
        if set(e) != {"dtype", "shape", "data_offsets"}:
            problems.append("%s: fields %s" % (name, sorted(e)))
            continue
        if e["dtype"] != "F32":
            problems.append("%s: dtype %s, nabla writes F32" % (name, e["dtype"]))
            continue
        begin, end = e["data_offsets"]
        if begin != at:
            problems.append("%s: begins at %d, expected %d (hole or overlap)" % (name, begin, at))
        count = int(np.prod(e["shape"], dtype=np.int64))
        if end - begin != 4 * count:
            problems.append("%s: %d bytes for shape %s" % (name, end - begin, e["shape"]))
            continue
        if name in tensors:
            problems.append("%s: duplicate name" % name)
        arr = np.frombuffer(data[begin:end], dtype="<f4").reshape(e["shape"])
        tensors[name] = arr
        at = end
    if at != len(data):
        problems.append("tensors cover %d of %d data bytes" % (at, len(data)))
    return tensors, meta


def parse_tensor_arg(spec):
    name, shape, values = spec.rsplit(":", 2)
    dims = [] if shape in ("", "scalar") else [int(d) for d in shape.split("x")]
    vals = [float(v) for v in values.split(",")] if values else []
    return name, np.array(vals, dtype=np.float32).reshape(dims)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    path, args = argv[1], argv[2:]
    expected, exp_meta, quiet = {}, {}, False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--expect":
            with open(args[i + 1]) as f:
                doc = json.load(f)
            for name, t in doc.get("tensors", {}).items():
                bits = np.array(t["bits"], dtype=np.uint32)
                expected[name] = bits.view(np.float32).reshape(t["shape"])
            exp_meta.update(doc.get("metadata", {}))
            i += 2
        elif a == "--tensor":
            name, arr = parse_tensor_arg(args[i + 1])
            expected[name] = arr
            i += 2
        elif a == "--meta":
            k, v = args[i + 1].split("=", 1)
            exp_meta[k] = v
            i += 2
        elif a == "--quiet":
            quiet = True
            i += 1
        else:
            print("unknown argument %s" % a)
            return 2
    problems = []
    try:
        tensors, meta = load(path, problems)
    except (ValueError, OSError, UnicodeDecodeError) as e:
        print("%s: %s" % (path, e))
        return 1
    if not quiet:
        for name, arr in tensors.items():
            print("%s %s %s" % (name, list(arr.shape), arr.flatten()[:8].tolist()))
        for k, v in meta.items():
            print("meta %s = %r" % (k, v))
    for name, want in expected.items():
        got = tensors.get(name)
        if got is None:
            problems.append("%s: missing" % name)
        elif got.shape != want.shape:
            problems.append("%s: shape %s, expected %s" % (name, got.shape, want.shape))
        elif not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            bad = np.flatnonzero(got.view(np.uint32).ravel() != want.view(np.uint32).ravel())
            k = int(bad[0])
            problems.append("%s: %d elements differ, first at %d: %r, expected %r"
                            % (name, len(bad), k, got.ravel()[k], want.ravel()[k]))
    for k, v in exp_meta.items():
        if meta.get(k) != v:
            problems.append("metadata %s: %r, expected %r" % (k, meta.get(k), v))
    for p in problems:
        print("%s: %s" % (path, p))
    if not problems and not quiet:
        print("%s: ok (%d tensors, %d metadata)" % (path, len(tensors), len(meta)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
