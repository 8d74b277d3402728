/* main.c - placeholder entry point of the nabla CLI until the subcommands land. */
#include "nabla.h"

#include <stdio.h>

int main(void)
{
    printf("nabla %s\n", nb_version());
    return 0;
}
