/* SPDX-License-Identifier: MIT */
/*
 * nabla/io.h - safetensors files (src/io): loading, validating and saving named float32
 * tensors with string metadata. Includes only nabla/base.h.
 */
#ifndef NABLA_IO_H
#define NABLA_IO_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* safetensors model files (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of UTF-8 JSON mapping each tensor name to {"dtype", "shape",
 * "data_offsets": [begin, end]} (offsets into the byte buffer after the header) plus an
 * optional "__metadata__" object of string -> string, then the tensors' raw little-endian bytes.
 * nabla writes F32 and reads F32, F64, F16 and BF16 (converted to float32), and the integer
 * dtypes I8..I64 and U8..U64 that PyTorch uses for counters (converted when exact). */

/* A loaded safetensors file: tensor names, float32 data and metadata, all owned by it. */
typedef struct nb_st nb_st;

/* The largest safetensors header (JSON) nabla reads or writes, in bytes. Parsing JSON costs up
 * to ~40 bytes of tree per byte of text, so this bounds a hostile header's memory (~320 MiB);
 * real headers take ~100 bytes per tensor plus the metadata (a model's preprocessing: ~25
 * bytes per scaled feature), a few KB to a few MB. */
#define NB_ST_MAX_HEADER 8388608

/* nb_st_load: read and fully validate the safetensors file at path (at most 4 GiB; header at
 * most NB_ST_MAX_HEADER bytes) into *out (NULL on failure; release with nb_st_free). Rejected with
 * NB_ERR_FORMAT and a message starting with path: a short or truncated file, a header length
 * beyond the file, JSON that is malformed or nested deeper than 8, a dtype other than F32/F64/
 * F16/BF16 or an integer type (naming the tensor and dtype), an integer value float32 cannot
 * hold exactly (naming the tensor, value and index), a shape entry that is not an integer in 0..2^53 or
 * rank > NB_MAX_RANK, data_offsets whose span differs from numel * dtype size or that lie
 * outside the data, tensors that leave holes in, overlap, or fail to cover the data buffer,
 * duplicate names, missing or unknown fields of a tensor entry, and metadata values that are
 * not strings. NB_ERR_IO when the file cannot be read; NB_ERR_NOMEM. Non-finite values are
 * kept as they are. */
NB_API int nb_st_load(const char *path, nb_st **out);

/* nb_st_free: release st and everything borrowed from it; NULL is a no-op. */
NB_API void nb_st_free(nb_st *st);

/* nb_st_count: the number of tensors in st, in header (document) order. */
NB_API int nb_st_count(const nb_st *st);

/* nb_st_tensor: tensor i (0 <= i < nb_st_count) of st: *name (may be NULL) receives its name,
 * *view (may be NULL) its shape and float32 data. Both are borrowed from st and valid until
 * nb_st_free; the data may be written through the view. NB_ERR_ARG when i is out of range. */
NB_API int nb_st_tensor(const nb_st *st, int i, const char **name, nb_view *view);

/* nb_st_find: the view (borrowed as in nb_st_tensor) of the tensor named name; NB_ERR_ARG
 * "<path>: no tensor named 'name'" when there is none. */
NB_API int nb_st_find(const nb_st *st, const char *name, nb_view *view);

/* nb_st_meta: the "__metadata__" value of key, or NULL when absent; borrowed from st until
 * nb_st_free. */
NB_API const char *nb_st_meta(const nb_st *st, const char *key);

/* nb_st_meta_count / nb_st_meta_at: iterate over the metadata in header order. *key and
 * *value (each may be NULL) receive borrowed strings valid until nb_st_free; NB_ERR_ARG when i
 * is out of range. */
NB_API int nb_st_meta_count(const nb_st *st);
NB_API int nb_st_meta_at(const nb_st *st, int i, const char **key, const char **value);

/* A tensor to save: its name (non-empty UTF-8, unique, not "__metadata__") and a view of its
 * float32 data (view.n must equal the product of view.shape; dimensions may be 0). */
typedef struct nb_st_entry {
    const char *name;
    nb_view view;
} nb_st_entry;

/* nb_st_save: write the n tensors (copied, in the given order, as little-endian F32, with no
 * holes between them) and n_meta metadata pairs meta_keys[i] -> meta_values[i] (UTF-8; both
 * arrays may be NULL when n_meta is 0) to path as a safetensors file whose header is padded
 * with spaces to a multiple of 8 bytes. The file is written atomically (temp file, fsync,
 * rename): on failure the previous file at path is unchanged. NB_ERR_ARG for a bad entry
 * (missing, empty or duplicate name, bad rank, n not matching the shape, NULL data) or bad
 * metadata, or a header longer than NB_ST_MAX_HEADER (no reader of nabla's would accept the
 * file), NB_ERR_IO when writing fails, NB_ERR_NOMEM. */
NB_API int nb_st_save(const char *path, const nb_st_entry *tensors, int n,
                      const char *const *meta_keys, const char *const *meta_values, int n_meta);

/* nb_st_header_size: the length in bytes (padding included) of the header nb_st_save would write
 * for these tensors and metadata, without writing anything; a save succeeds only when it is at
 * most NB_ST_MAX_HEADER. nb_model_train uses it to refuse, before the first epoch, a model
 * whose file could not be saved. NB_ERR_NOMEM. */
NB_API int nb_st_header_size(const nb_st_entry *tensors, int n, const char *const *meta_keys,
                             const char *const *meta_values, int n_meta, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_IO_H */
