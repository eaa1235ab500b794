/* Capped JSON parsing and typed getters on json-c. */
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "file.h"
#include "log.h"

/* Parse len bytes of JSON into *out (caller json_object_put()s it). */
int
json_parse_object(const char *s, size_t len, const char *what,
    struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;

	*out = NULL;
	if (len > CERTO_JSON_MAX_SIZE)
		return certo_fail(CERTO_ETOOBIG, "%s: JSON document of %zu bytes "
		    "exceeds the %d byte limit", what, len, CERTO_JSON_MAX_SIZE);
	if (len > (size_t)INT32_MAX)
		return CERTO_ETOOBIG;
	if ((tok = json_tokener_new_ex(CERTO_JSON_MAX_DEPTH)) == NULL)
		return CERTO_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	jerr = json_tokener_get_error(tok);
	if (obj != NULL && jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) < len) {
		/* Trailing bytes after the document: allow only whitespace. */
		size_t i;
		for (i = json_tokener_get_parse_end(tok); i < len; i++)
			if (strchr(" \t\r\n", s[i]) == NULL)
				break;
		if (i < len) {
			json_object_put(obj);
			json_tokener_free(tok);
			return certo_fail(CERTO_EPROTO,
			    "%s: trailing data after JSON document", what);
		}
	}
	if (obj == NULL || jerr != json_tokener_success) {
		if (obj)
			json_object_put(obj);
		json_tokener_free(tok);
		if (jerr == json_tokener_continue)
			return certo_fail(CERTO_EPROTO,
			    "%s: truncated JSON document", what);
		return certo_fail(CERTO_EPROTO, "%s: invalid JSON: %s", what,
		    json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return certo_fail(CERTO_EPROTO, "%s: JSON document is not an "
		    "object", what);
	}
	*out = obj;
	return 0;
}

/* Read and parse the JSON object in a file (see json.h). */
int
json_load_file(const char *path, size_t max, struct json_object **out,
    bool *missing)
{
	char *data;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = file_read(path, max, false, &data, &len, missing)) != 0)
		return rc;
	rc = json_parse_object(data, len, path, out);
	free(data);
	return rc;
}

static int
get(struct json_object *obj, const char *what, const char *key, bool required,
    enum json_type type, struct json_object **val)
{
	static const char *const names[] = { "null", "boolean", "number",
		"number", "object", "array", "string" };

	if (!json_object_object_get_ex(obj, key, val) ||
	    json_object_is_type(*val, json_type_null)) {
		*val = NULL;
		if (required)
			return certo_fail(CERTO_EPROTO, "%s: missing field "
			    "\"%s\"", what, key);
		return 0;
	}
	if (!json_object_is_type(*val, type)) {
		*val = NULL;
		return certo_fail(CERTO_EPROTO, "%s: field \"%s\" is not a%s %s",
		    what, key, type == json_type_object ||
		    type == json_type_array ? "n" : "", names[type]);
	}
	return 0;
}

/* A string member, capped at maxlen bytes, into *out (malloc'd). */
int
json_get_str(struct json_object *obj, const char *what, const char *key,
    bool required, size_t maxlen, char **out)
{
	struct json_object *val;
	int rc;
	size_t n;

	if ((rc = get(obj, what, key, required, json_type_string, &val)) != 0 ||
	    val == NULL)
		return rc;
	n = (size_t)json_object_get_string_len(val);
	if (n > maxlen)
		return certo_fail(CERTO_ETOOBIG, "%s: field \"%s\" is %zu bytes, "
		    "over the %zu byte limit", what, key, n, maxlen);
	if (memchr(json_object_get_string(val), '\0', n) != NULL)
		return certo_fail(CERTO_EPROTO, "%s: field \"%s\" contains a NUL "
		    "byte", what, key);
	free(*out);
	if ((*out = strdup(json_object_get_string(val))) == NULL)
		return CERTO_ENOMEM;
	return 0;
}

/*
 * True if s is an absolute http:// or https:// URL (scheme in any case)
 * without spaces or control bytes.
 */
bool
json_url_ok(const char *s)
{
	const char *p;

	if (s == NULL)
		return false;
	if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return false;
	if (*p == '\0' || *p == '/')
		return false; /* no host */
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* json_get_str for an http(s) URL (json_url_ok) of bounded length. */
int
json_get_url(struct json_object *obj, const char *what, const char *key,
    bool required, char **out)
{
	char shown[256], *val = NULL;
	int rc;

	if ((rc = json_get_str(obj, what, key, required, JSON_URL_MAX,
	    &val)) != 0)
		return rc;
	if (val == NULL)
		return 0;
	if (!json_url_ok(val)) {
		rc = certo_fail(CERTO_EPROTO, "%s: field \"%s\" is not an "
		    "http(s) URL: \"%s\"", what, key,
		    log_str(shown, sizeof(shown), val));
		free(val);
		return rc;
	}
	free(*out);
	*out = val;
	return 0;
}

/* A boolean member into *out. */
int
json_get_bool(struct json_object *obj, const char *what, const char *key,
    bool required, bool *out)
{
	struct json_object *val;
	int rc;

	if ((rc = get(obj, what, key, required, json_type_boolean,
	    &val)) != 0 ||
	    val == NULL)
		return rc;
	*out = json_object_get_boolean(val);
	return 0;
}

/* An array member into *out (borrowed from obj). */
int
json_get_array(struct json_object *obj, const char *what, const char *key,
    bool required, struct json_object **out)
{
	return get(obj, what, key, required, json_type_array, out);
}

/* An object member into *out (borrowed from obj). */
int
json_get_object(struct json_object *obj, const char *what, const char *key,
    bool required, struct json_object **out)
{
	return get(obj, what, key, required, json_type_object, out);
}

/* A string member that must be one of names[0..n) (at most 32 bytes). */
int
json_get_enum(struct json_object *obj, const char *what, const char *key,
    bool required, const char *const *names, size_t n, int *out)
{
	char *val = NULL, shown[64];
	int rc;

	if ((rc = json_get_str(obj, what, key, required, 32, &val)) != 0 ||
	    val == NULL)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(val, names[i]) == 0) {
			*out = (int)i;
			free(val);
			return 0;
		}
	rc = certo_fail(CERTO_EPROTO, "%s: unknown %s \"%s\"", what, key,
	    log_str(shown, sizeof(shown), val));
	free(val);
	return rc;
}

void
json_add_str(struct json_object *obj, const char *k, const char *v)
{
	if (v != NULL)
		json_object_object_add(obj, k, json_object_new_string(v));
}
