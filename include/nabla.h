/* SPDX-License-Identifier: MIT */
/*
 * nabla.h - the whole public API of nabla, a small deep-learning library in C11: the umbrella
 * header. The declarations and their documentation (the API reference) live in one header per
 * layer of the library, each including only the headers of the layers below it:
 *   nabla/base.h   version, status codes and errors, allocator, random numbers, views, threads
 *   nabla/graph.h  graphs, operators and nb_attr, custom operators, gradient check, DOT output
 *   nabla/data.h   datasets, preprocessing, loading CSV and IDX files
 *   nabla/io.h     safetensors files
 *   nabla/optim.h  optimizers and learning-rate schedules
 *   nabla/nn.h     models, training, metrics, histories, model files
 * Every public function is marked NB_API; the shared library exports exactly those names.
 *
 * Conventions used throughout:
 *  - Every fallible call returns an int status (NB_OK == 0, or an NB_ERR_* code) and leaves a
 *    message naming the file and line, tensor, operator or option, read with nb_errmsg().
 *  - Graph builders (nb_add, nb_matmul, ...) return an nb_node: an index >= 0, or a negative
 *    status (-NB_ERR_*) when they fail. A failed builder latches its error in the graph
 *    (nb_graph_status), and builders given a negative node return it unchanged, so a whole
 *    graph can be built and checked once at the end.
 *  - Opaque handles come from nb_<noun>_create and go back through nb_<noun>_free; free(NULL)
 *    is a no-op. Getters return borrowed pointers and say how long they live.
 *  - Matrix products: nb_matmul(a, b) is C = op(A) op(B) with A (M, K), B (K, N), C (M, N),
 *    row-major; trans_a / trans_b select A^T / B^T. No other convention is used anywhere.
 *  - Sizes are int64_t (shapes) and size_t (element counts); every size feeding an allocation
 *    is overflow-checked. All memory goes through one allocator hook (nb_set_allocator).
 *  - The library never prints, never exits, never aborts.
 */
#ifndef NABLA_H
#define NABLA_H

#include "nabla/base.h"
#include "nabla/graph.h"
#include "nabla/data.h"
#include "nabla/io.h"
#include "nabla/optim.h"
#include "nabla/nn.h"

#endif /* NABLA_H */
