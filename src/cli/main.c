/* SPDX-License-Identifier: MIT */
/*
 * main.c - entry point of the nabla command-line tool: dispatches to the subcommands and maps
 * their status to the exit code. Invariant: the exit code is the library's status value
 * (0 success, NB_ERR_* otherwise; usage errors are NB_ERR_ARG = 2), and every failure has
 * printed exactly one "nabla: ..." line on stderr before main returns.
 */
#include "cli.h"

#include <signal.h>
#include <string.h>

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
    if (argc < 2)
        return cli_fail(NB_ERR_ARG, "missing command: train, eval, test, predict, summary or import "
                        "(see 'nabla --help')");
    const char *cmd = argv[1];
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
    if (cmd[0] == '-')
        return cli_fail(NB_ERR_ARG, "unknown option '%s' (see 'nabla --help')", cmd);
    return cli_fail(NB_ERR_ARG, "unknown command '%s' (see 'nabla --help')", cmd);
}
