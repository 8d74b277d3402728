/* SPDX-License-Identifier: MIT */
/*
 * dist.c - the CLI's side of a distributed run (`mpirun -np N nabla train`): which rank this
 * is, and the errors the ranks agree on. Under a communicator of size > 1 no rank prints its
 * own failure (N copies of one mistake, or N different ones, helps nobody): cli_fail keeps
 * the line here, the ranks agree on the first failure (nb_comm_agree, lowest rank wins), and
 * rank 0 alone prints the agreed "rank R of N: ..." line; every rank exits with its status.
 * Invariant: every rank makes the same number of collective calls on every path (main.c).
 */
#include "cli.h"

#include <stdio.h>

static struct {
    const nb_comm *comm;
    int synced;      /* this rank has taken part in the setup agreement */
    char line[1024]; /* the failure's message, kept instead of printed */
} g_dist;

void cli_dist_set(const nb_comm *c)
{
    g_dist.comm = c && c->size > 1 ? c : NULL;
    g_dist.synced = 0;
    g_dist.line[0] = '\0';
}

const nb_comm *cli_dist_comm(void)
{
    return g_dist.comm;
}

int cli_dist_rank0(void)
{
    return !g_dist.comm || g_dist.comm->rank == 0;
}

void cli_dist_keep(const char *line)
{
    snprintf(g_dist.line, sizeof g_dist.line, "%s", line);
}

const char *cli_dist_line(void)
{
    return g_dist.line;
}

int cli_dist_synced(void)
{
    return g_dist.synced;
}

int cli_dist_agree(int status)
{
    if (!g_dist.comm) return status;
    int st = nb_comm_agree(g_dist.comm, status, status && g_dist.line[0] ? g_dist.line : NULL);
    g_dist.synced = 1;
    if (st) cli_dist_keep(nb_errmsg()); /* "rank R of N: ..." on every rank */
    return st;
}
