/* Finding the bundle root that anchors a peer's chain (where the transfer
 * ran), and pinning it by its index: within a run, and across runs. */
#include "trustpin.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/x509.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"
#include "sha256.h"

#define PIN_MAX 8
#define CHAIN_MAX 16
#define BUNDLE_MAX (8 * 1024 * 1024)
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"
#define TRUST_DIR "trust"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pin {
	char *bundle;
	char *hostport;
	char *path;     /* the state dir's entry, or /proc/self/fd/<fd> */
	int fd;         /* the file without a name, or -1 */
	bool dead;      /* did not verify: kept (callers hold path) unused */
} pins[PIN_MAX];
static size_t npins;
static bool registered;

/* What identifies one version of the bundle file. */
struct bundle_id {
	char stat[160];                    /* dev ino size mtime ctime */
	char sha[SHA256_HEX_LEN + 1];      /* of the contents */
};

/* A live pin for (bundle, hostport), or NULL.  Call with lock held. */
static struct pin *
live_pin(const char *bundle, const char *hostport)
{
	for (size_t i = 0; i < npins; i++)
		if (!pins[i].dead && strcmp(pins[i].bundle, bundle) == 0 &&
		    strcmp(pins[i].hostport, hostport) == 0)
			return &pins[i];
	return NULL;
}

/*
 * Add a pin unless a live one exists (lock held).  Takes path and fd on
 * success (returns true); else the caller keeps them.
 */
static bool
add_pin(const char *bundle, const char *hostport, char *path, int fd)
{
	struct pin *p = &pins[npins];

	if (live_pin(bundle, hostport) != NULL || npins == PIN_MAX)
		return false;
	p->bundle = strdup(bundle);
	p->hostport = strdup(hostport);
	if (p->bundle == NULL || p->hostport == NULL) {
		free(p->bundle);
		free(p->hostport);
		return false;
	}
	p->path = path;
	p->fd = fd;
	p->dead = false;
	npins++;
	if (!registered) {
		atexit(trustpin_cleanup);
		registered = true;
	}
	return true;
}

void
trustpin_cleanup(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < npins; i++) {
		if (pins[i].fd >= 0)
			close(pins[i].fd);
		free(pins[i].bundle);
		free(pins[i].hostport);
		free(pins[i].path);
	}
	npins = 0;
	pthread_mutex_unlock(&lock);
}

static void
stat_id(const struct stat *st, char *out, size_t len)
{
	snprintf(out, len, "%ju %ju %jd %jd.%09ld %jd.%09ld",
	    (uintmax_t)st->st_dev, (uintmax_t)st->st_ino, (intmax_t)st->st_size,
	    (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
	    (intmax_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/*
 * Read the bundle file (at most BUNDLE_MAX bytes): *data (malloc'd,
 * NUL-terminated), its length in *len and its stat in *st, all from the
 * same open file.  Returns 0 or -1.
 */
static int
read_file(const char *bundle, char **data, size_t *len, struct stat *st)
{
	size_t got = 0;
	ssize_t n;
	int fd, rc = -1;

	*data = NULL;
	if ((fd = open(bundle, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
	    st->st_size > BUNDLE_MAX ||
	    (*data = malloc((size_t)st->st_size + 1)) == NULL)
		goto out;
	while (got < (size_t)st->st_size) {
		if ((n = read(fd, *data + got, (size_t)st->st_size - got)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	(*data)[got] = '\0';
	*len = got;
	rc = 0;
out:
	close(fd);
	if (rc != 0) {
		free(*data);
		*data = NULL;
	}
	return rc;
}

int
trustpin_read(const char *bundle, char **data, size_t *len)
{
	struct stat st;

	return read_file(bundle, data, len, &st);
}

/*
 * Read the bundle and identify it: its stat and its SHA-256 taken from
 * the same open file.  *data is malloc'd, *len its length.  Returns 0
 * or -1.
 */
static int
read_bundle(const char *bundle, char **data, size_t *len,
    struct bundle_id *id)
{
	struct stat st;

	if (read_file(bundle, data, len, &st) != 0)
		return -1;
	stat_id(&st, id->stat, sizeof(id->stat));
	if (sha256_hex(*data, *len, id->sha) != 0) {
		free(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

static int
import_pem(const char *pem, size_t len, gnutls_x509_crt_t *crt)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)len };

	if (gnutls_x509_crt_init(crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		gnutls_x509_crt_deinit(*crt);
		return -1;
	}
	return 0;
}

/* Did root issue crt (name and signature), or is it crt? */
static bool
anchors(gnutls_x509_crt_t crt, gnutls_x509_crt_t root)
{
	unsigned status;

	if (gnutls_x509_crt_equals(crt, root))
		return true;
	return gnutls_x509_crt_check_issuer(crt, root) &&
	    gnutls_x509_crt_verify(crt, &root, 1, 0, &status) >= 0 &&
	    status == 0;
}

/*
 * The next PEM certificate block of data[0..len) at or after *pos:
 * its start in *start and its length (through PEM_END) in *blen; *pos
 * moves past it.  The one walk that numbers a bundle's certificates for
 * trustpin_find() and trustpin_learn().  Returns false at the end.
 */
static bool
next_block(const char *data, size_t len, size_t *pos, const char **start,
    size_t *blen)
{
	const char *b, *e;

	if (*pos >= len || (b = memmem(data + *pos, len - *pos, PEM_BEGIN,
	    strlen(PEM_BEGIN))) == NULL || (e = memmem(b, len -
	    (size_t)(b - data), PEM_END, strlen(PEM_END))) == NULL) {
		*pos = len;
		return false;
	}
	e += strlen(PEM_END);
	*start = b;
	*blen = (size_t)(e - b);
	*pos = (size_t)(e - data);
	return true;
}

long
trustpin_find(const char *bundle_pem, size_t len,
    const char *const *chain_pem, size_t n)
{
	gnutls_x509_crt_t chain[CHAIN_MAX], c;
	const char *b;
	size_t nc = 0, pos = 0, blen, best;
	long i = 0, found = -1;

	/* At most CHAIN_MAX of the peer's certificates are looked at. */
	for (size_t k = 0; k < n && k < CHAIN_MAX; k++)
		if (chain_pem[k] != NULL && import_pem(chain_pem[k],
		    strlen(chain_pem[k]), &chain[nc]) == 0)
			nc++;
	/* One bundle certificate parsed at a time, never all at once. */
	for (best = nc; best > 0 && bundle_pem != NULL &&
	    next_block(bundle_pem, len, &pos, &b, &blen); i++) {
		if (import_pem(b, blen, &c) != 0)
			continue;
		for (size_t k = 0; k < best; k++)
			if (anchors(chain[k], c)) {
				best = k;
				found = i;
				break;
			}
		gnutls_x509_crt_deinit(c);
	}
	for (size_t k = 0; k < nc; k++)
		gnutls_x509_crt_deinit(chain[k]);
	return found;
}

/*
 * The PEM of the index-th certificate block of the bundle data (as
 * next_block() numbers them), malloc'd, when that block is a
 * certificate; else NULL.
 */
static char *
bundle_cert(const char *data, size_t len, long index)
{
	gnutls_x509_crt_t c;
	const char *b = NULL;
	size_t pos = 0, blen = 0;
	bool ok = false;

	for (long i = 0; i <= index; i++)
		if (!(ok = next_block(data, len, &pos, &b, &blen)))
			break;
	if (!ok || import_pem(b, blen, &c) != 0)
		return NULL;
	gnutls_x509_crt_deinit(c);
	return strndup(b, blen);
}

/*
 * A file without a name in $TMPDIR (or /tmp) holding data, 0600:
 * O_TMPFILE, else a mkostemp name unlinked at once.  Nothing is left
 * behind if the process dies.  Returns the descriptor or -1.
 */
static int
unnamed_file(const char *data)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL;
	size_t len = strlen(data), off = 0;
	ssize_t n;
	int fd;

	if (dir == NULL || *dir != '/')
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		if (asprintf(&path, "%s/certo-trust.XXXXXX", dir) < 0)
			return -1;
		if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
		free(path);
		if (fd < 0)
			return -1;
	}
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return fd;
}

/* "<state>/trust/<host_port>.pem", malloc'd, or NULL. */
static char *
entry_path(const char *state, const char *hostport)
{
	char *name = cache_name(hostport, ".pem"), *p;

	if (name == NULL)
		return NULL;
	p = cache_path(state, TRUST_DIR, name);
	free(name);
	return p;
}

/* The text of a state dir entry: header lines, then the root's PEM. */
static char *
entry_text(const char *bundle, const char *hostport,
    const struct bundle_id *id, const char *root_pem)
{
	char *text;

	if (asprintf(&text, "# certo: the root of the trust bundle below that "
	    "verified this host;\n# trusted alone only while the bundle is "
	    "unchanged (docs/design.md, Trust).\n# host %s\n# bundle %s\n"
	    "# stat %s\n# sha256 %s\n%s\n", hostport, bundle, id->stat, id->sha,
	    root_pem) < 0)
		return NULL;
	return text;
}

/*
 * The value of header line "# key value" (before the PEM) into out.
 * Returns 0, or -1 when absent or too long.
 */
static int
header_get(const char *text, const char *key, char *out, size_t len)
{
	const char *pem = strstr(text, PEM_BEGIN), *p = text, *eol;
	size_t klen = strlen(key);

	while (p != NULL && *p == '#' && (pem == NULL || p < pem)) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			return -1;
		if (strncmp(p, "# ", 2) == 0 && strncmp(p + 2, key, klen) == 0 &&
		    p[2 + klen] == ' ') {
			p += 3 + klen;
			if ((size_t)(eol - p) >= len)
				return -1;
			memcpy(out, p, (size_t)(eol - p));
			out[eol - p] = '\0';
			return 0;
		}
		p = eol + 1;
	}
	return -1;
}

/* Is the field key of text equal to want? */
static bool
header_is(const char *text, const char *key, const char *want)
{
	char v[4096];

	return header_get(text, key, v, sizeof(v)) == 0 && strcmp(v, want) == 0;
}

/*
 * Is the entry text (for hostport) still good for bundle?  Its stat
 * matches, or the contents hash the same (then the entry is rewritten
 * with the new stat, so later runs need no hash).
 */
static bool
entry_valid(const char *path, const char *text, const char *bundle,
    const char *hostport)
{
	struct bundle_id now;
	struct stat st;
	char *data = NULL, *pem = strstr(text, PEM_BEGIN), *fresh;
	size_t len;
	bool ok;

	if (pem == NULL || !header_is(text, "host", hostport) ||
	    !header_is(text, "bundle", bundle) || stat(bundle, &st) != 0)
		return false;
	stat_id(&st, now.stat, sizeof(now.stat));
	if (header_is(text, "stat", now.stat))
		return true;
	if (read_bundle(bundle, &data, &len, &now) != 0)
		return false;
	free(data);
	if (!(ok = header_is(text, "sha256", now.sha)))
		return false;
	if ((fresh = entry_text(bundle, hostport, &now, pem)) != NULL)
		cache_write(path, fresh, strlen(fresh));
	free(fresh);
	return ok;
}

const char *
trustpin_lookup(const char *bundle, const char *hostport, const char *state)
{
	struct pin *pin;
	const char *p = NULL;
	char *path = NULL, *text = NULL, shown[256];
	size_t len;

	pthread_mutex_lock(&lock);
	if ((pin = live_pin(bundle, hostport)) != NULL) {
		p = pin->path;
		goto out;
	}
	if (state == NULL || (path = entry_path(state, hostport)) == NULL ||
	    cache_read(path, 0, &text, &len, NULL) != 0)
		goto out;
	log_str(shown, sizeof(shown), hostport);
	if (!entry_valid(path, text, bundle, hostport)) {
		log_debug("trust: %s: %s changed since its root was remembered; "
		    "verifying with the whole bundle", shown, bundle);
		goto out;
	}
	if (add_pin(bundle, hostport, path, -1)) {
		log_debug("trust: %s: using the root remembered in %s", shown,
		    path);
		p = path;
		path = NULL;
	}
out:
	pthread_mutex_unlock(&lock);
	free(path);
	free(text);
	return p;
}

/* Keep root_pem for (bundle, hostport): state dir entry, else unnamed. */
static void
pin_root(const char *bundle, const char *hostport, const char *state,
    const struct bundle_id *id, const char *root_pem)
{
	char *path = NULL, *text = NULL, shown[256];
	int fd = -1;

	if (state != NULL && (path = entry_path(state, hostport)) != NULL &&
	    (text = entry_text(bundle, hostport, id, root_pem)) != NULL &&
	    cache_write(path, text, strlen(text)) == 0) {
		log_debug("trust: %s: remembered the root that verified it in %s",
		    log_str(shown, sizeof(shown), hostport), path);
	} else {
		/*
		 * A file with no name (a public root is no secret, but nobody
		 * else may swap it), reached by libcurl through /proc/self/fd.
		 * Without /proc the full bundle stays in use.
		 */
		free(path);
		free(text);
		path = NULL;
		if (asprintf(&text, "%s\n", root_pem) < 0 ||
		    (fd = unnamed_file(text)) < 0 ||
		    asprintf(&path, "/proc/self/fd/%d", fd) < 0 ||
		    access(path, R_OK) != 0)
			goto out;
	}
	pthread_mutex_lock(&lock);
	if (add_pin(bundle, hostport, path, fd)) {
		path = NULL;
		fd = -1;
	}
	pthread_mutex_unlock(&lock);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	free(text);
}

void
trustpin_learn(const char *bundle, const char *hostport, const char *state,
    long index)
{
	struct bundle_id id;
	char *data = NULL, *root = NULL;
	size_t len;
	bool known;

	pthread_mutex_lock(&lock);
	known = live_pin(bundle, hostport) != NULL;
	pthread_mutex_unlock(&lock);
	if (known || index < 0)
		return;
	/* The root comes from the bundle file itself, never from the
	 * network: the finder's answer is only which of its certificates. */
	if (read_bundle(bundle, &data, &len, &id) == 0 &&
	    (root = bundle_cert(data, len, index)) != NULL)
		pin_root(bundle, hostport, state, &id, root);
	free(root);
	free(data);
}

void
trustpin_forget(const char *bundle, const char *hostport, const char *state)
{
	struct pin *pin;
	char *path;

	pthread_mutex_lock(&lock);
	if ((pin = live_pin(bundle, hostport)) != NULL)
		pin->dead = true;
	pthread_mutex_unlock(&lock);
	if (state != NULL && (path = entry_path(state, hostport)) != NULL) {
		cache_remove(path);
		free(path);
	}
}
