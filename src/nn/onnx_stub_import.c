/* SPDX-License-Identifier: MIT */
/*
 * onnx_stub_import.c - TEMPORARY (issue 18): the ONNX writer is another branch's part; this
 * weak stand-in keeps the import branch's export check green until the halves are merged.
 * THE MERGE DELETES THIS FILE (and the matching temporary case in tests/nn/test_api_null.c).
 */
#include "nn.h"

__attribute__((weak)) int nb_model_save_onnx(nb_model *m, const char *path, const nb_preproc *pp)
{
    (void)pp;
    if (!m || !path) return nb__fail(NB_ERR_ARG, "nb_model_save_onnx: %s is NULL", !m ? "model" : "path");
    return nb__fail(NB_ERR_STATE, "nb_model_save_onnx: the ONNX writer is not in this build");
}
