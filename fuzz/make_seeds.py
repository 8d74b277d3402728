#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_seeds.py - writes the hand-made seed files of fuzz/corpus/ (called by make_seeds.sh).

  make_seeds.py TMPDIR MODEL   writes the CSV, IDX, spec and safetensors seeds, and the small
                               IDX files TMPDIR/cnn-images, cnn-labels for a CNN model
  make_seeds.py --preproc MODEL...  writes each model's preprocessing JSON as a seed
  make_seeds.py --onnx              copies the ONNX files of tests/onnx/cases/ (onnx.helper,
                                    tests/onnx/make_import_cases.py) and tests/onnx/torch/
                                    (PyTorch exports), when present, as onnx seeds
  make_seeds.py --checkpoint DIR    writes checkpoint seeds from the checkpoints fuzz_checkpoint
                                    wrote into DIR (NB_FUZZ_CKPT_SEEDS), and hostile edits of them
Inputs follow each target's framing (see the header comment of fuzz/fuzz_<target>.c).
"""
import gzip
import json
import os
import struct
import sys

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def idx(type_code, dims, body):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


def csv_seeds():
    # byte 0: bits 0-1 task, 2-3 header mode (0 auto, 1 no, 2 yes), 4-5 delimiter, 6-7 label
    def opt(task=0, header=0, delim=0, label=0):
        return bytes([task | header << 2 | delim << 4 | label << 6])
    put("csv", "numeric", opt() + b"a,b,label\n1,2,0\n3.5,-4e2,1\n.5,6,2\n")
    put("csv", "categorical", opt() + b"color,w,species\nred,1,setosa\nblue,2,versicolor\n"
        b"\"gr,een\",3,setosa\n")
    put("csv", "quoted-crlf", opt(header=2) + b"\"a\"\"q\",\"b\nc\",y\r\n1,\"2\",0\r\n3,4,1")
    put("csv", "bom-blank", opt() + b"\xef\xbb\xbfx,y\n\n1,0\n\n2,1\n")
    put("csv", "binary", opt(task=1) + b"f,l\n1,yes\n2,no\n3,yes\n")
    put("csv", "multilabel", opt(task=2, label=3) + b"a,b,f\n0,1,3\n1,1,4\n")
    put("csv", "regress", opt(task=3, delim=1) + b"x;y\n1;2.5\n2;-3.25\n")
    put("csv", "tsv-noheader", opt(header=1, delim=2, label=1) + b"0\t1\t2\n1\t3\t4\n")
    put("csv", "utf8", opt() + "nom,été\n1,ça\n2,là\n".encode())
    put("csv", "ragged", opt() + b"a,b\n1,2\n3\n")
    put("csv", "nan", opt() + b"a,b\nnan,1\ninf,0\n")


def text_seeds():
    # byte 0: bit 0 words (else chars), bits 1-2 header mode, 3-4 delimiter; byte 1: bits 0-2
    # max_vocab (0, else value + 1), 3-4 min_count - 1, 5-6 max_len (0 learned)
    def opt(words=0, header=0, delim=0, vocab=0, count=0, length=0):
        return bytes([words | header << 1 | delim << 3, vocab | count << 3 | length << 5])
    put("text", "chars", opt(header=2) + b"text,y\nabca,0\nbb,1\n\"\",0\n")
    put("text", "words", opt(words=1, header=2) + b"text,y\n\"the dog the\",0\n\" cat\tdog\",1\n")
    put("text", "utf8", opt(header=2, vocab=5) + "w,y\ngröße,0\nłódź,1\n\"a 😀\",0\n".encode())
    put("text", "limits", opt(words=1, header=2, count=1, length=2) + b"text,y\n\"x x y z\",0\nw,1\n")
    put("text", "label-first", opt(header=2, delim=1) + b"y;text\npos;ab\nneg;b\n")
    put("text", "bad-utf8", opt(header=2) + b"text,y\nok,0\nab\xed\xa0\x80,1\n")
    put("text", "mixed", opt(header=2) + b"n,text,y\n1,ab,0\n2,cd,1\n")


def idx_seeds(tmp):
    # byte 0 flags (1 images gz, 2 labels gz, 4 no labels, 8 class names), 4 bytes images length
    def frame(flags, images, labels=b""):
        return bytes([flags]) + struct.pack("<I", len(images)) + images + labels
    img = idx(0x08, [3, 2, 3], bytes(range(18)))
    lab = idx(0x08, [3], bytes([1, 0, 2]))
    put("idx", "ubyte", frame(0, img, lab))
    put("idx", "gzip", frame(3, gz(img), gz(lab)))
    put("idx", "unlabeled", frame(4, img))
    put("idx", "names", frame(8, img, lab))
    put("idx", "float32-4d", frame(0, idx(0x0D, [2, 1, 1, 2], struct.pack(">4f", 1, -2, 0.5, 3)),
                                   idx(0x08, [2], b"\x00\x01")))
    put("idx", "int16", frame(0, idx(0x0B, [1, 1, 2], struct.pack(">2h", -5, 300)),
                              idx(0x08, [1], b"\x00")))
    put("idx", "float64", frame(0, idx(0x0E, [1, 1, 1], struct.pack(">d", 2.5)),
                                idx(0x08, [1], b"\x01")))
    put("idx", "int32-int8", frame(0, idx(0x0C, [1, 1, 1], struct.pack(">i", -7)),
                                   idx(0x08, [1], b"\x00")))
    put("idx", "gzip-two-members", frame(1, gz(img[:10]) + gz(img[10:]), lab))
    with open(os.path.join(tmp, "cnn-images"), "wb") as f:
        f.write(idx(0x08, [6, 4, 4], bytes((i * 37) % 256 for i in range(96))))
    with open(os.path.join(tmp, "cnn-labels"), "wb") as f:
        f.write(idx(0x08, [6], bytes([0, 1, 2, 0, 1, 2])))


def spec_seeds():
    put("spec", "mlp", "dense 256; relu; dense 128; relu; dense 10")
    put("spec", "cnn", "conv 16 3x3 pad 1\nrelu\nmaxpool 2 stride 2\nconv 32 3x2 stride 2x1 "
        "dilation 2 nobias\nbatchnorm\ngap\ndense 10")
    put("spec", "acts", "task regress # comment\nleaky_relu 0.2; elu; softplus; tanh; sigmoid;"
        " identity; step; maxout 2; softmax; log_softmax; dropout 0.5; flatten; avgpool 3x2 pad 1x0;"
        " dense 1 nobias")
    put("spec", "errors", "dense 0; linear 3 x")


def st_file(header, data=b""):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def st_seeds(model):
    f32 = struct.pack("<6f", 1, -2, 0.5, float("nan"), float("inf"), -0.0)
    put("safetensors", "plain", st_file({"w": {"dtype": "F32", "shape": [2, 3],
                                               "data_offsets": [0, 24]}}, f32))
    put("safetensors", "dtypes", st_file({
        "a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]},
        "b": {"dtype": "F16", "shape": [2], "data_offsets": [8, 12]},
        "c": {"dtype": "BF16", "shape": [], "data_offsets": [12, 14]},
        "d": {"dtype": "F32", "shape": [0, 3], "data_offsets": [14, 14]},
        "__metadata__": {"k": "v\u00e9"}},
        struct.pack("<d", 1e300) + b"\x00\x7c\x01\x00" + b"\x80\x3f"))
    put("safetensors", "empty", st_file({}))
    # a nabla model whose architecture, shape and preprocessing come from the metadata
    with open(model, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    meta = hdr["__metadata__"]
    meta.pop("preprocessing", None)
    put("safetensors", "mlp-no-preproc", st_file(hdr, raw[8 + n:]))


def preproc_seeds(models):
    for i, model in enumerate(models):
        with open(model, "rb") as f:
            raw = f.read()
        n = struct.unpack("<Q", raw[:8])[0]
        pre = json.loads(raw[8:8 + n])["__metadata__"]["preprocessing"]
        put("preproc_json", "model%d" % i, pre)
    put("preproc_json", "none", '{"format":"nabla-preproc","version":1,"source":"none",'
        '"task":"classify","n_features":0,"sample_shape":[],"classes":[],'
        '"scaling":{"mode":"minmax","offset":[0,1],"scale":[1,2]}}')
    put("preproc_json", "multilabel", '{"format":"nabla-preproc","version":1,"source":"csv",'
        '"task":"multilabel","n_features":1,"sample_shape":[1],"classes":["a","b"],"csv":'
        '{"header":true,"columns":[{"name":"a","type":"label"},{"name":"x","type":"numeric"},'
        '{"name":"b","type":"label"}],"labels":[0,2],"label_encoding":"value"},'
        '"scaling":{"mode":"none"}}')
    put("preproc_json", "idx", '{"format":"nabla-preproc","version":1,"source":"idx",'
        '"task":"classify","n_features":784,"sample_shape":[1,28,28],"classes":["0","1"],'
        '"idx":{"type":8},"scaling":{"mode":"none"}}')


def onnx_seeds():
    root = os.path.join(os.path.dirname(CORPUS), "..", "tests", "onnx")
    for sub in ("cases", "torch"):
        d = os.path.join(root, sub)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(".onnx"):
                with open(os.path.join(d, f), "rb") as fh:
                    put("onnx", sub + "-" + f[:-5], fh.read())


def checkpoint_seeds(d):
    def read(step):
        with open(os.path.join(d, "ckpt-%012d.safetensors" % step), "rb") as f:
            return f.read()
    put("checkpoint", "epoch1-step1", read(1))
    put("checkpoint", "epoch-end", read(3))
    base = read(4)  # epoch 2, step 1, global step 4
    put("checkpoint", "epoch2-step1", base)
    n = struct.unpack("<Q", base[:8])[0]
    hdr = json.loads(base[8:8 + n])
    text = hdr["__metadata__"]["checkpoint"]
    zero = '["0000000000000000","0000000000000000","0000000000000000","0000000000000000"]'

    def edit(name, key, value):
        """the checkpoint with key's value replaced (key None: value appended to the object)"""
        if key is None:
            new = text[:-1] + value + "}"
        else:
            at = text.index('"%s":' % key) + len(key) + 3
            end = at + 1
            if text[at] == "[":
                end = text.rindex("]") + 1 if key == "history" else text.index("]", at) + 1
            else:
                while text[end] not in ",}":
                    end += 1
            new = text[:at] + value + text[end:]
        h = json.loads(base[8:8 + n])
        h["__metadata__"]["checkpoint"] = new
        put("checkpoint", name, st_file(h, base[8 + n:]))
    # step x batch wraps negative (2^60 x 8 = 2^63): it passed "step * batch >= rows"
    edit("step-overflow", "step", "1152921504606846976")
    edit("step-past-epoch", "step", "3")
    edit("step-huge-float", "step", "1e300")
    edit("epoch-huge-float", "epoch", "-1e19")
    edit("best-epoch-huge", "best_epoch", "1e300")
    edit("global-step-past-run", "global_step", "1000000")
    edit("optim-steps-huge", "optim_steps", "4e18")
    edit("total-nan", "total", '"nan"')
    edit("best-loss-neg-inf", "best_loss", '"-inf"')
    edit("zero-epoch-rng", "epoch_rng", zero)
    edit("zero-graph-rng", "graph_rng", zero)
    edit("duplicate-step", None, ',"step":0')
    edit("history-huge-epoch", "history",
         '[[1e300,"0x0p+0","0x0p+0","0x0p+0","0x0p+0","0x0p+0","0x0p+0","0x0p+0"]]')
    edit("history-empty", "history", "[]")


if __name__ == "__main__":
    if sys.argv[1] == "--onnx":
        onnx_seeds()
    elif sys.argv[1] == "--preproc":
        preproc_seeds(sys.argv[2:])
    elif sys.argv[1] == "--checkpoint":
        checkpoint_seeds(sys.argv[2])
    else:
        csv_seeds()
        text_seeds()
        idx_seeds(sys.argv[1])
        spec_seeds()
        st_seeds(sys.argv[2])
