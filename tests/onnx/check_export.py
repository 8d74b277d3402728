#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""check_export.py - check one ONNX file nabla exported against nabla's own predictions.

usage: check_export.py MODEL.onnx ROWS.csv EXPECTED.csv [--opencv yes|try|no]
       check_export.py --batch CASES.tsv


ROWS.csv: the model's input rows, comma-separated numbers without a header (the features as
nabla reads them, before scaling: the graph scales). EXPECTED.csv: `nabla predict --proba
--no-proba-header` of the same rows (regression: `nabla predict`). The file must pass
onnx.checker.check_model(full_check=True); then the numpy reference evaluator (onnx_numpy.py)
and, with --opencv yes or try, OpenCV's dnn module run it; each must agree with EXPECTED within
1e-5 (relative above 1: predict prints 6 significant digits). --opencv yes fails when OpenCV
cannot run the graph or disagrees; try only reports what it did. Prints one line per runtime.
--batch: one case per line of CASES.tsv (MODEL.onnx, ROWS.csv, EXPECTED.csv and the OpenCV mode,
tab-separated), all in this one process (starting Python with onnx and OpenCV takes about a
second): each case's verdict ("ok" or "FAIL") and lines go to MODEL.onnx.check, a case that
raises fails alone, and the exit status is 0 once every case has its file.
"""
import os
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_numpy  # noqa: E402


def check(path, rows, expected, cv_mode, say):
    """the checks of one exported file; say(line) reports; True when it passes"""
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    task = meta["nabla.task"]
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    x = np.loadtxt(rows, delimiter=",", dtype=np.float32, ndmin=2).reshape([-1] + dims)
    want = np.loadtxt(expected, delimiter=",", dtype=np.float64, ndmin=2)
    out_name = "prediction" if task == "regress" else "probabilities"

    def shaped(y):
        y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
        if task == "binary":
            y = np.concatenate([1 - y, y], axis=1)
        return y

    def compare(who, got):
        got = shaped(got)
        if got.shape != want.shape:
            say("%s: %s: shape %s, nabla's %s" % (path, who, got.shape, want.shape))
            return False
        err = np.abs(got - want) / np.maximum(1.0, np.abs(want))
        say("%s: %s agrees with nabla predict: max error %.3g over %d values" % (path, who, err.max(), want.size))
        return bool(err.max() <= 1e-5)

    ok = compare("numpy reference", onnx_numpy.run(model, {"input": x})[out_name])
    if cv_mode != "no":
        try:
            import cv2
            net = cv2.dnn.readNetFromONNX(path)
            net.setInput(x)
            got = net.forward(out_name)
        except Exception as e:  # OpenCV's importer throws cv2.error for an unsupported node
            lines = [m.strip() for m in str(e).splitlines() if "error" in m.lower()] or [type(e).__name__]
            say("%s: OpenCV cannot run it: %s" % (path, lines[0][:300]))
            if cv_mode == "yes":
                ok = False
        else:
            agree = compare("OpenCV " + cv2.__version__, got)
            if cv_mode == "yes":
                ok = agree and ok
    return ok


def main():
    if sys.argv[1] == "--batch":
        for case in open(sys.argv[2]):
            path, rows, expected, cv_mode = case.rstrip("\n").split("\t")
            lines = []
            try:
                ok = check(path, rows, expected, cv_mode, lines.append)
            except Exception as e:  # onnx.checker's ValidationError, an evaluator's error: this case fails
                lines.append("%s: %s: %s" % (path, type(e).__name__, str(e)[:600]))
                ok = False
            with open(path + ".check", "w") as f:
                f.write(("ok" if ok else "FAIL") + "\n" + "".join(x + "\n" for x in lines))
        return 0
    path, rows, expected = sys.argv[1:4]
    cv_mode = "try"
    if "--opencv" in sys.argv:
        cv_mode = sys.argv[sys.argv.index("--opencv") + 1]
    return 0 if check(path, rows, expected, cv_mode, print) else 1


if __name__ == "__main__":
    sys.exit(main())
