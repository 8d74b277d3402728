/* SPDX-License-Identifier: MIT */
/*
 * spec.c - the model spec text format (docs/SPEC.md): layers separated by ';' or new lines,
 * '#' to the end of a line is a comment, words separated by blanks. The parser is a single
 * loop over statements (no recursion); each layer statement goes to the descriptor its
 * first word names (layer.h), whose errors name the line and the word.
 */
#include "layer.h"

#include <ctype.h>
#include <string.h>

/* A spec comes from a user or from a model file (untrusted): no sequential network of nabla's
 * needs thousands of layers, and the cap bounds the work a hostile text can ask for. */
#define SPEC_MAX_LAYERS 4096

/* one statement: the task, or a layer whose descriptor parses its words */
static int add_statement(nb_model *m, const nb__words *s, nb_task *task, int *task_set)
{
    if (strcmp(s->w[0], "task") == 0) {
        if (s->n != 2 || nb_task_parse(s->w[1], task))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: 'task' takes one of classify, binary, multilabel, regress", s->line);
        *task_set = 1;
        return NB_OK;
    }
    int type = nb__layer_find(s->w[0]);
    if (type < 0) return nb__fail(NB_ERR_FORMAT, "spec:%d: unknown layer '%s'", s->line, s->w[0]);
    nb__layer l = {.type = (nb_layer_type)type};
    int st = nb__layer_table[type]->parse(s, &l);
    if (st == NB_ERR_FORMAT)
        for (int i = 1; i < s->n; i++)
            /* "dense 8 relu dense 3": the real fault is a missing separator, not the '8' that
             * the layer's own message would blame */
            if (nb__layer_find(s->w[i]) >= 0)
                return nb__fail(NB_ERR_FORMAT, "spec:%d: layer '%s' follows '%s' without a ';' "
                                "or a new line between them (e.g. 'dense 8; relu')", s->line,
                                s->w[i], s->w[0]);
    if (!st && (st = nb__layer_add(m, &l))) /* the builders' check: "maxout: k must be ..." */
        st = nb__fail_prefix(st == NB_ERR_NOMEM ? st : NB_ERR_FORMAT, "spec:%d", s->line);
    return st;
}

int nb_model_parse(const char *text, nb_task default_task, nb_model **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_model_parse: out is NULL");
    *out = NULL;
    if (!text) return nb__fail(NB_ERR_ARG, "spec is NULL");
    nb_task task = default_task;
    int task_set = 0, st = NB_OK, line = 1;
    nb_model *m;
    if ((st = nb_model_create(default_task, &m))) return st;
    nb__words s = {.line = 1};
    const char *p = text;
    for (;;) {
        char c = *p;
        if (c == '#') { /* comment to end of line */
            while (*p && *p != '\n') p++;
            continue;
        }
        if (c == '\0' || c == ';' || c == '\n') {
            if (s.n && (st = add_statement(m, &s, &task, &task_set))) break;
            if (m->n_layers > SPEC_MAX_LAYERS) {
                st = nb__fail(NB_ERR_FORMAT, "spec:%d: more than %d layers", line, SPEC_MAX_LAYERS);
                break;
            }
            s.n = 0;
            if (c == '\0') break;
            if (c == '\n') s.line = ++line;
            p++;
            continue;
        }
        if (isspace((unsigned char)c)) {
            p++;
            continue;
        }
        size_t len = 0;
        const char *start = p;
        while (*p && !isspace((unsigned char)*p) && *p != ';' && *p != '#') p++, len++;
        if (s.n == NB__SPEC_WORDS || len >= sizeof s.w[0]) {
            st = nb__fail(NB_ERR_FORMAT, "spec:%d: '%.*s' is too long or one word too many", line, (int)(len > 30 ? 30 : len), start);
            break;
        }
        memcpy(s.w[s.n], start, len);
        s.w[s.n++][len] = '\0';
    }
    if (!st && m->n_layers == 0) st = nb__fail(NB_ERR_FORMAT, "spec: no layers");
    if (st) {
        nb_model_free(m);
        return st;
    }
    m->task = task_set ? task : default_task;
    *out = m;
    return NB_OK;
}
