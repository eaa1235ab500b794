/* certo delete NAME: a stored certificate's live and archive files. */
#include "verbs.h"

#include <stdlib.h>

#include "cli.h"
#include "log.h"
#include "store.h"

int
delete_run(const struct certo_cli *cli)
{
	char *state = NULL;
	int rc;

	if ((rc = store_state_dir(cli->state_dir, &state)) == 0 &&
	    (rc = store_delete(state, cli->arg)) == 0)
		log_event("deleted", NULL, "delete: %s removed (live and archive)",
		    cli->arg);
	free(state);
	return rc;
}
