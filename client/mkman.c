/*
 * certo-mkman: print certo(1), or with --completion the bash completion,
 * from the option table (a build tool).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--completion") == 0)
		cli_completion(stdout);
	else
		cli_man(stdout);
	return ferror(stdout) ? 1 : 0;
}
