/* SPDX-License-Identifier: MIT */
/*
 * main.c - entry point of the nabla command-line tool: dispatches to the subcommands and maps
 * their status to the exit code. Invariant: the exit code is the library's status value
 * (0 success, NB_ERR_* otherwise; usage errors are NB_ERR_ARG = 2), and every failure has
 * printed exactly one "nabla: ..." line on stderr before main returns.
 */
#include "cli.h"
#include "../dist/nb_mpi.h"

#include <signal.h>
#include <string.h>

/* `nabla train` under mpirun with more than one process. Collective calls, the same count on
 * every rank whatever fails (a rank that skipped one would hang the others):
 *  1. the setup agreement: in cli_train right before nb_model_train, or here for a rank that
 *     failed before reaching it (not yet synced): the two calls match each other;
 *  2. nb_model_train's own, only when 1 agreed on success (then every rank trains);
 *  3. the final agreement in cli_train after rank 0 wrote its files, only when training
 *     returned the same NB_OK, NB_ERR_INTERRUPTED or NB_ERR_NUMERIC on every rank (the
 *     library agrees on its status); another training error is already identical
 *     everywhere and skips it on every rank.
 * Then rank 0 prints the agreed failure, if any, as the one line. */
static int train_distributed(int argc, char **argv, const nb_comm *comm)
{
    cli_dist_set(comm);
    int rc = cli_train(argc, argv);
    if (!cli_dist_synced()) rc = cli_dist_agree(rc); /* 1, from a rank that stopped early */
    if (rc && comm->rank == 0) {
        char msg[1024];
        cli_api_to_options(cli_dist_line(), msg, sizeof msg);
        fflush(stdout);
        fprintf(stderr, "nabla: %s\n", msg);
        fflush(stderr);
    }
    /* A rank that exits non-zero makes mpirun stop the others with SIGTERM: none may go before
     * rank 0 has printed the line, and after that a SIGTERM has nothing left to save (the
     * loading-time handler would print a second, wrong line) */
    if (rc && comm->barrier) comm->barrier(comm->ud);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    cli_dist_set(NULL);
    return rc;
}

static int run(int argc, char **argv, const nb_comm *comm);

/* The CLI never calls setlocale (nor does any library it links: checked with nm), so it runs in
 * the "C" locale whatever LANG or LC_ALL say (C11 7.11.1.1): the numbers in its CSV, JSON and SVG
 * output and in its arguments (strtod) always use '.'. Calling setlocale(LC_ALL, "") here would
 * write "0,5" into those files; the library itself is locale-proof (src/tensor/locale.c). */
int main(int argc, char **argv)
{
    /* Over a file-size limit (ulimit -f) a write would otherwise kill the process with SIGXFSZ
     * and leave its temp file; ignored, the write fails with EFBIG and the normal error path
     * removes the temp file, keeps the previous file and exits 4 with a message. */
    signal(SIGXFSZ, SIG_IGN);
    nb_comm comm = {0};
    int launched = nb_mpi_launched();
    if (launched) {
#ifdef NB_HAVE_MPI
        if (nb_mpi_init(&argc, &argv, &comm)) return cli_fail(NB_ERR_DIST, "%s", nb_mpi_errmsg());
#else
        /* N copies of a single-process run would each train alone and write the same files */
        int n = nb_mpi_launched_size();
        if (n > 1 && nb_mpi_launched_rank() > 0) return NB_ERR_ARG; /* rank 0 says why */
        if (n > 1)
            return cli_fail(NB_ERR_ARG, "started by mpirun with %d processes but this nabla was built without MPI: "
                            "install libopenmpi-dev (scripts/deps.sh) and rebuild", n);
#endif
    }
    int rc = run(argc, argv, comm.size > 1 ? &comm : NULL);
#ifdef NB_HAVE_MPI
    if (launched) nb_mpi_finalize(&comm);
#endif
    return rc;
}

static int run(int argc, char **argv, const nb_comm *comm)
{
    if (comm && comm->rank != 0 && (argc < 2 || strcmp(argv[1], "train") != 0))
        return NB_ERR_ARG; /* not distributed: rank 0 alone says why, below */
    if (argc < 2)
        return cli_fail(NB_ERR_ARG, "missing command: train, eval, test, predict, summary, import, "
                        "export or report (see 'nabla --help')");
    const char *cmd = argv[1];
    if (comm && strcmp(cmd, "train") == 0) return train_distributed(argc, argv, comm);
    if (comm)
        return cli_fail(NB_ERR_ARG, "'%s' under mpirun with %d processes: only 'train' runs distributed; run "
                        "'nabla %s' without mpirun", cmd, comm->size, cmd);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("nabla %s\n", nb_version());
        return cli_flush_stdout();
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(cli_help_main, stdout);
        return cli_flush_stdout();
    }
    if (strcmp(cmd, "train") == 0) return cli_train(argc, argv);
    if (strcmp(cmd, "eval") == 0 || strcmp(cmd, "test") == 0) return cli_eval(argc, argv);
    if (strcmp(cmd, "predict") == 0) return cli_predict(argc, argv);
    if (strcmp(cmd, "summary") == 0) return cli_summary(argc, argv);
    if (strcmp(cmd, "import") == 0) return cli_import(argc, argv);
    if (strcmp(cmd, "export") == 0) return cli_export(argc, argv);
    if (strcmp(cmd, "report") == 0) return cli_report_cmd(argc, argv);
    if (cmd[0] == '-')
        return cli_fail(NB_ERR_ARG, "unknown option '%s' (see 'nabla --help')", cmd);
    return cli_fail(NB_ERR_ARG, "unknown command '%s' (see 'nabla --help')", cmd);
}
