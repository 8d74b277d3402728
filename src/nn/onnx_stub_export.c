/* SPDX-License-Identifier: MIT */
/*
 * onnx_stub_export.c - TEMPORARY (issue 18, the export branch only): a weak stand-in for
 * nb_model_load_onnx, which the import branch implements (src/nn/onnx_import.c), so that this
 * branch's library exports every declared name (tests/check_exports.sh). The merge of the two
 * branches deletes this file.
 */
#include "nn.h"

__attribute__((weak)) int nb_model_load_onnx(const char *path, nb_model **out, nb_preproc **pp)
{
    (void)pp;
    if (!path) return nb__fail(NB_ERR_ARG, "nb_model_load_onnx: path is NULL");
    if (!out) return nb__fail(NB_ERR_ARG, "nb_model_load_onnx: out is NULL");
    *out = NULL;
    return nb__fail(NB_ERR_STATE, "%s: nb_model_load_onnx is not in this build (the ONNX import branch adds it)", path);
}
