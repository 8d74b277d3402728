/* SPDX-License-Identifier: MIT */
/*
 * mutant_ops.c - prints the name of every operator of the table that has a backward, one a
 * line: the list scripts/mutants.sh plants mutants in. Read from the table itself, so a new
 * operator is mutated without anyone editing the script.
 */
#include "graph.h"

#include <stdio.h>

int main(void)
{
    for (int op = 0; op < NB_OP_COUNT_; op++)
        if (nb__op_table[op] && nb__op_table[op]->backward) printf("%s\n", nb__op_table[op]->name);
    return 0;
}
