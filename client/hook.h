/*
 * Hook programs (docs/hooks.md): run with execve-style argv, never
 * through a shell, so no CA-provided string is ever interpreted.
 */
#ifndef CERTO_HOOK_H
#define CERTO_HOOK_H

#include <stdbool.h>

#define HOOK_TIMEOUT_MS 120000
#define HOOK_MAX_STDERR 4096

/*
 * Run program with the arguments args (NULL-terminated, not including
 * the program itself); wait at most timeout_ms.  Its stdout is passed
 * through to our stderr with -v only; its stderr is captured (capped)
 * and quoted, sanitised, in the error.  Returns 0 when it exits 0,
 * CERTO_EHOOK otherwise (message names the program, its arguments up to
 * the secret, its exit status and its stderr).  With cleanup (the del
 * call), a pending signal does not cut it short and the child runs in
 * its own process group, so the Ctrl-C that caused the cleanup (sent to
 * the whole group) cannot kill it: removal always runs.
 */
int hook_run(const char *program, const char *const *args, long timeout_ms,
    bool cleanup);

/*
 * Run a deploy hook after a certificate changed: PROGRAM with no
 * arguments, CERTO_LIVE_DIR and CERTO_DOMAINS (space-separated) in its
 * environment.
 */
int hook_run_deploy(const char *program, const char *live_dir,
    const char *domains);

#endif
