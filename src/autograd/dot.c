/* SPDX-License-Identifier: MIT */
/*
 * dot.c - export a graph as Graphviz DOT, drawn like the lecture figures: one box per node
 * (name, operator, shape) and, on each edge, the value flowing forward (green, above) and
 * the gradient flowing back (red, below) for tensors small enough to print.
 */
#include "graph.h"

#include <string.h>

static void put_values(nb__buf *b, const float *v, size_t n)
{
    if (n != 1) nb__buf_puts(b, "[");
    for (size_t i = 0; i < n; i++) nb__buf_printf(b, "%s%.4g", i ? ", " : "", (double)v[i]);
    if (n != 1) nb__buf_puts(b, "]");
}

static void put_escaped(nb__buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') nb__buf_puts(b, "&lt;");
        else if (*s == '>') nb__buf_puts(b, "&gt;");
        else if (*s == '&') nb__buf_puts(b, "&amp;");
        else if (*s == '"') nb__buf_puts(b, "&quot;");
        else nb__buf_put(b, s, 1);
    }
}

/* value (green) over gradient (red) of node nd, when computed and small */
static void put_flow(nb__buf *b, const nb_graph *g, const nb__node *nd, size_t max_show)
{
    if (!g->compiled || nd->n > max_show || !nd->val) return;
    nb__buf_puts(b, "<font color=\"darkgreen\">");
    put_values(b, nd->val, nd->n);
    nb__buf_puts(b, "</font>");
    if (nd->grad) {
        nb__buf_puts(b, "<br/><font color=\"red\">");
        put_values(b, nd->grad, nd->n);
        nb__buf_puts(b, "</font>");
    }
}

int nb_graph_dot(const nb_graph *g, size_t max_show, char **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "dot: out is NULL");
    *out = NULL;
    if (!g) return nb__fail(NB_ERR_ARG, "dot: graph is NULL");
    nb__buf b = {0};
    char shp[96];
    nb__buf_puts(&b, "digraph nabla {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n"
                     "  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (int i = 0; i < g->n_nodes; i++) {
        const nb__node *nd = &g->nodes[i];
        const char *op = nd->op == NB_OP_CUSTOM ? g->customs[nd->custom].name : nb__op_table[nd->op]->name;
        if (nd->flags & NB__RELU_AFTER) op = "maxpool2d+relu";
        nb__buf_printf(&b, "  n%d [label=<", i);
        if (nd->name) {
            nb__buf_puts(&b, "<b>");
            put_escaped(&b, nd->name);
            nb__buf_puts(&b, "</b><br/>");
        }
        put_escaped(&b, op);
        nb__buf_printf(&b, " %s", nb__shape_str(nd->rank, nd->shape, shp, sizeof shp));
        int is_sink = 1;
        for (int j = i + 1; j < g->n_nodes && is_sink; j++)
            for (int k = 0; k < g->nodes[j].n_in; k++)
                if (g->nodes[j].in[k] == i) is_sink = 0;
        if (is_sink && g->compiled && nd->n <= max_show) { /* outputs show their flow inside */
            nb__buf_puts(&b, "<br/>");
            put_flow(&b, g, nd, max_show);
        }
        nb__buf_printf(&b, ">%s];\n", nd->op <= NB_OP_CONST ? ", style=rounded" : "");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const nb__node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_in; k++) {
            const nb__node *src = &g->nodes[nd->in[k]];
            nb__buf_printf(&b, "  n%d -> n%d", (int)nd->in[k], i);
            if (g->compiled && src->n <= max_show) {
                nb__buf_puts(&b, " [label=<");
                put_flow(&b, g, src, max_show);
                nb__buf_puts(&b, ">]");
            }
            nb__buf_puts(&b, ";\n");
        }
    }
    nb__buf_puts(&b, "}\n");
    if (b.status) {
        nb__buf_free(&b);
        return NB_ERR_NOMEM;
    }
    *out = b.data;
    return NB_OK;
}

int nb_graph_save_dot(const nb_graph *g, size_t max_show, const char *path)
{
    char *text;
    if (g && !path) return nb__fail(NB_ERR_ARG, "save dot: path is NULL");
    int st = nb_graph_dot(g, max_show, &text);
    if (st) return st;
    st = nb__write_file_atomic(path, text, strlen(text));
    nb_free(text);
    return st;
}
