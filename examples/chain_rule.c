/* SPDX-License-Identifier: MIT */
/*
 * chain_rule.c - the lecture notes' first computational graph, f = (x + y) z at
 * (x, y, z) = (-2, 5, -4): forward values, gradients by the chain rule, and the graph as a
 * Graphviz file (chain_rule.dot; render with `dot -Tpng chain_rule.dot -o chain_rule.png`).
 */
#include <nabla.h>
#include <stdio.h>

static nb_node scalar(nb_graph *g, const char *name)
{
    nb_node v = nb_input(g, name, 0, NULL);
    nb_require_grad(g, v); /* we want df/dv for this input too */
    return v;
}

int main(int argc, char **argv)
{
    const char *dot_path = argc > 1 ? argv[1] : "chain_rule.dot";
    nb_graph *g;
    if (nb_graph_create(&g)) return 1;
    nb_node x = scalar(g, "x"), y = scalar(g, "y"), z = scalar(g, "z");
    nb_node q = nb_add(g, x, y); /* q = x + y */
    nb_node f = nb_mul(g, q, z); /* f = q z */
    if (nb_graph_compile(g)) goto fail;
    nb_graph_feed(g, x, (float[]){-2}, 1);
    nb_graph_feed(g, y, (float[]){5}, 1);
    nb_graph_feed(g, z, (float[]){-4}, 1);
    if (nb_graph_forward(g, f) || nb_graph_backward(g, f)) goto fail;

    const nb_node nodes[] = {x, y, z, q, f};
    const char *names[] = {"x", "y", "z", "q = x + y", "f = q z"};
    printf("f = (x + y) z at x = -2, y = 5, z = -4\n");
    printf("  %-10s %8s %10s\n", "node", "value", "df/dnode");
    for (int i = 0; i < 5; i++) {
        nb_view v, d;
        nb_graph_value(g, nodes[i], &v);
        nb_graph_grad(g, nodes[i], &d);
        printf("  %-10s %8g %10g\n", names[i], (double)v.data[0], (double)d.data[0]);
    }
    if (nb_graph_save_dot(g, 16, dot_path)) goto fail;
    printf("graph written to %s\n", dot_path);
    nb_graph_free(g);
    return 0;
fail:
    fprintf(stderr, "chain_rule: %s\n", nb_errmsg());
    nb_graph_free(g);
    return 1;
}
