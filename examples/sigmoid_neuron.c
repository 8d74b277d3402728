/* SPDX-License-Identifier: MIT */
/*
 * sigmoid_neuron.c - the lecture notes' sigmoid neuron f = 1 / (1 + e^-(w0 x0 + w1 x1 + w2))
 * with w = (2, -3, -3) and x = (-1, -2), built from primitive gates (mul, add, neg, exp, add 1,
 * reciprocal) exactly as the notes draw it, then the same neuron as one sigmoid operator.
 * Prints every gate's value and gradient and writes sigmoid_neuron.dot.
 */
#include <nabla.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    const char *dot_path = argc > 1 ? argv[1] : "sigmoid_neuron.dot";
    nb_graph *g;
    if (nb_graph_create(&g)) return 1;
    nb_node w0 = nb_param(g, "w0", 0, NULL), x0 = nb_input(g, "x0", 0, NULL);
    nb_node w1 = nb_param(g, "w1", 0, NULL), x1 = nb_input(g, "x1", 0, NULL);
    nb_node w2 = nb_param(g, "w2", 0, NULL);
    nb_require_grad(g, x0);
    nb_require_grad(g, x1);
    nb_node one = nb_const(g, "1", 0, NULL, (float[]){1});
    nb_node p0 = nb_mul(g, w0, x0), p1 = nb_mul(g, w1, x1);
    nb_node s = nb_add(g, nb_add(g, p0, p1), w2);
    nb_node e = nb_exp(g, nb_neg(g, s));              /* e^-s */
    nb_node f = nb_div(g, one, nb_add(g, e, one));    /* 1 / (1 + e^-s) */
    nb_node f2 = nb_sigmoid(g, s);                    /* the same, as one gate */
    if (nb_graph_compile(g)) goto fail;
    nb_view v;
    nb_graph_value(g, w0, &v), v.data[0] = 2;
    nb_graph_value(g, w1, &v), v.data[0] = -3;
    nb_graph_value(g, w2, &v), v.data[0] = -3;
    nb_graph_feed(g, x0, (float[]){-1}, 1);
    nb_graph_feed(g, x1, (float[]){-2}, 1);
    if (nb_graph_forward(g, f) || nb_graph_backward(g, f) || nb_graph_forward(g, f2)) goto fail;

    printf("sigmoid neuron, w = (2, -3, -3), x = (-1, -2)\n");
    const nb_node show[] = {w0, x0, w1, x1, w2, s, e, f};
    const char *names[] = {"w0", "x0", "w1", "x1", "w2", "s = w.x + w2", "e^-s", "f"};
    printf("  %-13s %9s %9s\n", "node", "value", "df/dnode");
    for (int i = 0; i < 8; i++) {
        nb_view val, grad;
        nb_graph_value(g, show[i], &val);
        nb_graph_grad(g, show[i], &grad);
        printf("  %-13s %9.4f %9.4f\n", names[i], (double)val.data[0], (double)grad.data[0]);
    }
    nb_graph_value(g, f2, &v);
    printf("  one sigmoid gate gives f = %.4f; its local gradient f(1 - f) = %.4f\n",
           (double)v.data[0], (double)(v.data[0] * (1 - v.data[0])));
    if (nb_graph_save_dot(g, 16, dot_path)) goto fail;
    printf("graph written to %s\n", dot_path);
    nb_graph_free(g);
    return 0;
fail:
    fprintf(stderr, "sigmoid_neuron: %s\n", nb_errmsg());
    nb_graph_free(g);
    return 1;
}
