/* Pinning the verified root for later connections of the same run. */
#include "trustpin.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"

#define PIN_MAX 8
#define PEM_END "-----END CERTIFICATE-----"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *bundle;
	char *hostport;
	char *path;     /* /proc/self/fd/<fd>: the file has no name */
	int fd;
} pins[PIN_MAX];
static size_t npins;
static bool registered;

const char *
trustpin_lookup(const char *bundle, const char *hostport)
{
	const char *p = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < npins; i++)
		if (strcmp(pins[i].bundle, bundle) == 0 &&
		    strcmp(pins[i].hostport, hostport) == 0) {
			p = pins[i].path;
			break;
		}
	pthread_mutex_unlock(&lock);
	return p;
}

void
trustpin_cleanup(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < npins; i++) {
		close(pins[i].fd);
		free(pins[i].bundle);
		free(pins[i].hostport);
		free(pins[i].path);
	}
	npins = 0;
	pthread_mutex_unlock(&lock);
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

/*
 * Walk the bundle one PEM block at a time (never all of it parsed at
 * once) for the certificate that issued top; copy its PEM to *out.
 */
static bool
find_root(const char *data, gnutls_x509_crt_t top, char **out)
{
	const char *p = data, *end;
	gnutls_x509_crt_t c;
	unsigned status;
	bool found = false;

	while (!found && (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
		if ((end = strstr(p, PEM_END)) == NULL)
			break;
		end += strlen(PEM_END);
		if (import_pem(p, (size_t)(end - p), &c) == 0) {
			if (gnutls_x509_crt_check_issuer(top, c) &&
			    gnutls_x509_crt_verify(top, &c, 1, 0, &status) >= 0 &&
			    status == 0) {
				*out = strndup(p, (size_t)(end - p));
				found = *out != NULL;
			} else if (gnutls_x509_crt_equals(top, c)) {
				*out = strndup(p, (size_t)(end - p));
				found = *out != NULL;
			}
			gnutls_x509_crt_deinit(c);
		}
		p = end;
	}
	return found;
}

/*
 * A file without a name in dir holding data, 0600: O_TMPFILE, else a
 * mkostemp name unlinked at once.  Nothing is left behind if the
 * process dies.  Returns the descriptor or -1.
 */
static int
unnamed_file(const char *dir, const char *data)
{
	char *path = NULL;
	size_t len = strlen(data), off = 0;
	ssize_t n;
	int fd;

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

void
trustpin_learn(const char *bundle, const char *hostport,
    const char *const *chain_pem, size_t n)
{
	gnutls_x509_crt_t top = NULL;
	char *data = NULL, *root = NULL, *path = NULL, *pem = NULL, *dir;
	const char *tmp = getenv("TMPDIR");
	size_t len;
	int fd = -1;

	if (n == 0 || trustpin_lookup(bundle, hostport) != NULL)
		return;
	if (import_pem(chain_pem[n - 1], strlen(chain_pem[n - 1]), &top) != 0)
		return;
	if (file_read(bundle, 4 * 1024 * 1024, false, &data, &len, NULL) != 0)
		goto out;
	if (!find_root(data, top, &root))
		goto out;
	dir = tmp != NULL && *tmp == '/' ? (char *)(uintptr_t)tmp :
	    (char *)(uintptr_t)"/tmp";
	/*
	 * A file with no name (a public root is no secret, but nobody else
	 * may swap it), reached by libcurl through /proc/self/fd.  Without
	 * /proc the full bundle stays in use.
	 */
	if (asprintf(&pem, "%s\n", root) < 0) {
		pem = NULL;
		goto out;
	}
	if ((fd = unnamed_file(dir, pem)) < 0)
		goto out;
	if (asprintf(&path, "/proc/self/fd/%d", fd) < 0) {
		path = NULL;
		goto out;
	}
	if (access(path, R_OK) != 0)
		goto out;
	pthread_mutex_lock(&lock);
	if (npins < PIN_MAX) {
		pins[npins].bundle = strdup(bundle);
		pins[npins].hostport = strdup(hostport);
		pins[npins].path = path;
		pins[npins].fd = fd;
		if (pins[npins].bundle && pins[npins].hostport) {
			npins++;
			path = NULL;
			fd = -1;
		} else {
			free(pins[npins].bundle);
			free(pins[npins].hostport);
		}
		if (!registered) {
			atexit(trustpin_cleanup);
			registered = true;
		}
	}
	pthread_mutex_unlock(&lock);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	free(pem);
	free(root);
	free(data);
	if (top)
		gnutls_x509_crt_deinit(top);
}
