/*
 * certo-responder-mkman: print certo-responder(8) from the option table
 * (build tool; docs.responder_man_uptodate checks the committed page).
 */
#include <stdio.h>

#include "daemon_cli.h"

/* Print the page on stdout; 1 if writing failed. */
int
main(void)
{
	daemon_cli_man(stdout);
	return ferror(stdout) ? 1 : 0;
}
