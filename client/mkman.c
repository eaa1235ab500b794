/* certo-mkman: print certo(1) from the option table (build tool). */
#include <stdio.h>

#include "cli.h"

int
main(void)
{
	cli_man(stdout);
	return ferror(stdout) ? 1 : 0;
}
