/* SPDX-License-Identifier: MIT */
/*
 * io_internal.h - the io layer's internal header: the public safetensors API (nabla/io.h)
 * over the shared helpers (internal.h) and the JSON reader the header format needs. The io
 * layer uses nothing above the tensor layer.
 */
#ifndef NB_IO_INTERNAL_H
#define NB_IO_INTERNAL_H

#include "internal.h"
#include "json.h"
#include "nabla/io.h"

#include <stddef.h>

/* key comparisons of this thread's safetensors duplicate checks (safetensors.c): a test's
 * proof that loading stays n log n */
extern _Thread_local size_t nb__st_key_compares;

#endif
