/* Helpers shared by the unit tests. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

char *
tu_fixture_path(const char *name)
{
	return tu_path(FIXTURES_DIR, name);
}

char *
tu_fixture(const char *name, size_t *len)
{
	char *path = tu_fixture_path(name), *buf;
	FILE *f;
	long n;

	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	free(path);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	t = tu_path(base, "certo-unit-XXXXXX");
	if (mkdtemp(t) == NULL)
		fail_msg("mkdtemp %s: %s", t, strerror(errno));
	return t;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tu_rmtree(const char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_path(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	assert_non_null(p);
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

void
tu_write(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

char *
tu_copy_fixture(const char *dir, const char *name, mode_t mode)
{
	size_t len;
	char *data = tu_fixture(name, &len);
	char *path = tu_path(dir, name);

	tu_write(path, data, len, mode);
	free(data);
	return path;
}

int
tu_count_entries(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strstr(e->d_name, needle) != NULL)
			n++;
	closedir(d);
	return n;
}

char *
tu_b64url(const void *p, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *in = p;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o;
	size_t i;

	assert_non_null(out);
	o = out;
	/* Bit by bit: slow, obviously different from the library's. */
	for (i = 0; i < n * 8; i += 6) {
		unsigned v = 0;
		for (size_t j = i; j < i + 6; j++) {
			unsigned bit = 0;
			if (j < n * 8)
				bit = (in[j / 8] >> (7 - j % 8)) & 1u;
			v = v << 1 | bit;
		}
		*o++ = a[v];
	}
	*o = '\0';
	return out;
}

int
tu_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

char *
tu_repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

char *
tu_json_edit(const char *fixture, const char *path, const char *value)
{
	char *text = tu_fixture(fixture, NULL);
	char *out = tu_json_edit_text(text, path, value);

	free(text);
	return out;
}

char *
tu_json_edit_text(const char *text, const char *path, const char *value)
{
	char *copy, *key, *next, *out;
	struct json_object *root, *cur, *v = NULL;

	root = json_tokener_parse(text);
	assert_non_null(root);
	copy = strdup(path);
	assert_non_null(copy);
	cur = root;
	key = copy;
	/* Walk to the parent of the last component. */
	while ((next = strchr(key, '.')) != NULL) {
		*next = '\0';
		if (json_object_is_type(cur, json_type_array))
			cur = json_object_array_get_idx(cur,
			    (size_t)strtoul(key, NULL, 10));
		else if (!json_object_object_get_ex(cur, key, &cur))
			cur = NULL;
		if (cur == NULL)
			fail_msg("no %s in %s", key, path);
		key = next + 1;
	}
	if (value != NULL) {
		v = json_tokener_parse(value);
		if (v == NULL && strcmp(value, "null") != 0)
			fail_msg("bad replacement JSON %s", value);
	}
	if (json_object_is_type(cur, json_type_array)) {
		size_t i = (size_t)strtoul(key, NULL, 10);
		if (value == NULL)
			json_object_array_del_idx(cur, i, 1);
		else
			json_object_array_put_idx(cur, i, v);
	} else if (value == NULL) {
		json_object_object_del(cur, key);
	} else {
		json_object_object_add(cur, key, v);
	}
	out = strdup(json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	assert_non_null(out);
	json_object_put(root);
	free(copy);
	return out;
}

char **
tu_strv(const char *first, ...)
{
	va_list ap;
	char **v = NULL;
	size_t n = 0;

	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
		v = realloc(v, (n + 2) * sizeof(*v));
		assert_non_null(v);
		v[n] = strdup(s);
		assert_non_null(v[n]);
		n++;
	}
	va_end(ap);
	if (v == NULL) {
		v = calloc(1, sizeof(*v));
		assert_non_null(v);
	}
	v[n] = NULL;
	return v;
}

size_t
tu_strv_len(char *const *v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

void
tu_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

char *
tu_memdup0(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

long
tu_dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (long)pid;
}

char *
tu_stderr_of(int (*fn)(void *), void *arg, int *rc)
{
	FILE *f = tmpfile();
	char *text = calloc(1, 8192);
	size_t n;
	int saved;

	assert_non_null(f);
	assert_non_null(text);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	*rc = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(text, 1, 8191, f);
	text[n] = '\0';
	fclose(f);
	return text;
}
