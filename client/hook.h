/*
 * Hook programs (docs/hooks.md).  DNS and HTTP hooks get CA-derived
 * arguments and run with execve-style argv, never through a shell.  The
 * deploy hook is the user's own command line: /bin/sh -c COMMAND, with
 * every dynamic value only in its environment.
 *
 * Every hook runs in its own process group with no descriptor of certo
 * but 0, 1 and 2; on timeout the group gets SIGTERM and, after
 * HOOK_KILL_GRACE_MS, SIGKILL.  Once the hook itself has exited, what it
 * left running in its group is stopped the same way (a program that must
 * outlive its hook starts its own session: setsid).  Calls are made one
 * at a time, whatever the number of threads.
 */
#ifndef CERTO_HOOK_H
#define CERTO_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#define HOOK_TIMEOUT_MS 120000     /* add and deploy: --hook-timeout */
#define HOOK_DEL_TIMEOUT_MS 30000  /* del, unless --hook-timeout */
#define HOOK_KILL_GRACE_MS 5000    /* SIGTERM to SIGKILL */
#define HOOK_MAX_STDERR 4096

/*
 * Run program with the arguments args (NULL-terminated, not including
 * the program itself); wait at most timeout_ms.  Its stdout is passed
 * through to our stderr with -v only; its stderr is captured (capped)
 * and quoted, sanitised, in the error.  Returns 0 when it exits 0,
 * CERTO_EHOOK otherwise (message names the program, its arguments up to
 * the secret, its exit status or timeout and its stderr), CERTO_EINTR
 * when a signal to certo stopped it.  With cleanup (the del call), a
 * pending signal does not cut it short: removal always runs.
 */
int hook_run(const char *program, const char *const *args, long timeout_ms,
    bool cleanup);

/*
 * Run the deploy hook COMMAND with /bin/sh -c after the certificate for
 * names changed: CERTO_LIVE_DIR and RENEWED_LINEAGE (live_dir),
 * CERTO_DOMAINS and RENEWED_DOMAINS (the names, space-separated) in its
 * environment, nothing on its command line.  Returns like hook_run().
 */
int hook_run_deploy(const char *command, const char *live_dir,
    char *const *names, size_t nnames, long timeout_ms);

/*
 * --dns-hook / --http-hook PROGRAM as an absolute path (malloc'd in
 * *out), so that renew from cron or systemd (another directory, another
 * PATH) finds the same program: a name with a '/' is made absolute, one
 * without is looked up in PATH now.  CERTO_EUSAGE, naming opt, when it
 * does not exist or is not an executable file.
 */
int hook_resolve_program(const char *opt, const char *arg, char **out);

/*
 * --deploy-hook COMMAND (a shell command line) with its first word made
 * absolute when it is a relative path ("./reload.sh arg" becomes
 * "'/srv/reload.sh' arg"), checked to be an executable file when it
 * contains a '/'.  A plain command name ("systemctl reload nginx") is
 * left to the shell.  Malloc'd in *out; CERTO_EUSAGE naming opt.
 */
int hook_resolve_command(const char *opt, const char *arg, char **out);

/*
 * name (no '/') looked up in PATH (empty or unset: /usr/local/bin,
 * /usr/bin, /bin; an empty entry is the working directory): the first
 * executable regular file, as an absolute path, malloc'd; NULL if none.
 */
char *hook_in_path(const char *name);

#endif
