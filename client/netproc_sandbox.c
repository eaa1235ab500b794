/*
 * The network process's sandbox: leave root for --user (keeping only
 * CAP_NET_BIND_SERVICE, for the standalone responders' ports), then
 * common/sandbox.c's seccomp allow-list whose every other system call
 * (open, execve, unlink, ...) traps into a handler that tells the key
 * process which call it was and exits 4, and Landlock (no file system
 * access at all) where the kernel has it.  Sanitizer builds stay
 * dumpable (LeakSanitizer's tracer attaches at exit).
 */
#include "privsep.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errors.h"
#include "privsep_priv.h"
#include "sandbox.h"

/* name in /etc/passwd, or NULL. */
static struct passwd *
lookup_file(const char *name)
{
	struct passwd *pw;
	FILE *f = fopen("/etc/passwd", "re");

	while (f != NULL && (pw = fgetpwent(f)) != NULL)
		if (strcmp(pw->pw_name, name) == 0) {
			fclose(f);
			return pw;
		}
	if (f != NULL)
		fclose(f);
	return NULL;
}

/*
 * The user the network process runs as when started as root: --user
 * (/etc/passwd, else NSS), or by default a certo system user, else
 * nobody.  /etc/passwd first for both defaults: system users are there
 * (the package's adduser --system puts certo there), and asking NSS for
 * a user it does not have loads its modules (a few milliseconds of every
 * run); NSS only when neither is in the file.
 */
static int
find_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = NULL;

	if (name != NULL && (pw = lookup_file(name)) == NULL)
		pw = getpwnam(name);
	else if (name == NULL && (pw = lookup_file("certo")) == NULL &&
	    (pw = lookup_file("nobody")) == NULL &&
	    (pw = getpwnam("certo")) == NULL)
		pw = getpwnam("nobody");
	if (pw == NULL)
		return certo_fail(CERTO_EUSAGE, "no user %s for the network "
		    "process", name ? name : "certo or nobody");
	if (pw->pw_uid == 0)
		return certo_fail(CERTO_EUSAGE, "the network process must not "
		    "run as root (user %s)", pw->pw_name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Keep CAP_NET_BIND_SERVICE only (permitted and effective). */
static int
keep_bind_cap(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = 1u << CAP_NET_BIND_SERVICE;
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -1;
}

int
netproc_sandbox_drop(const struct privsep_opts *opts)
{
	uid_t uid = 0, ruid, euid, suid;
	gid_t gid = 0;
	int rc;

	if (geteuid() != 0)
		return 0;
	if ((rc = find_user(opts->user, &uid, &gid)) != 0)
		return rc;
	if (setgroups(0, NULL) != 0 || prctl(PR_SET_KEEPCAPS, 1) != 0 ||
	    setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0 ||
	    keep_bind_cap() != 0 || prctl(PR_SET_KEEPCAPS, 0) != 0)
		return certo_fail(CERTO_EPRIVSEP, "network process: cannot "
		    "drop privileges: %s", strerror(errno));
	if (getresuid(&ruid, &euid, &suid) != 0 || ruid != uid ||
	    euid != uid || suid != uid || getgid() != gid || getegid() != gid)
		return certo_fail(CERTO_EPRIVSEP, "network process: still "
		    "privileged after dropping");
#ifdef CERTO_SANITIZER
	prctl(PR_SET_DUMPABLE, 1); /* LeakSanitizer's tracer attaches */
#endif
	return 0;
}

int
netproc_sandbox_enter(int death)
{
	struct sandbox_opts o = { 0 };

	o.who = "certo";
	o.report_fd = death;
	return sandbox_enter(&o) == 0 ? 0 : certo_fail(CERTO_EPRIVSEP,
	    "network process: cannot enter the seccomp filter");
}
