/*
 * JSON through json-c with caps: documents from the network are parsed
 * with a size limit and a nesting-depth limit (json-c has had parser
 * CVEs), and typed getters report missing or mistyped fields by name.
 */
#ifndef CERTO_JSON_H
#define CERTO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#define CERTO_JSON_MAX_DEPTH 16
#define CERTO_JSON_MAX_SIZE (1024 * 1024)

/*
 * Parse len bytes of JSON into *out (caller json_object_put()s it).
 * The document must be an object.  what names it in error messages.
 * Returns 0, CERTO_ETOOBIG or CERTO_EPROTO.
 */
int json_parse_object(const char *s, size_t len, const char *what,
    struct json_object **out);

/*
 * Read the JSON object in the file at path (at most max bytes) into *out
 * (caller json_object_put()s it); path names it in error messages.  A
 * missing file is CERTO_EIO with *missing set when missing is not NULL
 * (as file_read says).
 */
int json_load_file(const char *path, size_t max, struct json_object **out,
    bool *missing);

/*
 * Typed getters.  For required fields a missing or mistyped key is
 * CERTO_EPROTO with a message naming what.key; for optional ones a
 * missing key leaves *out untouched and returns 0.  Strings are
 * strdup'd (caller frees) and capped at maxlen bytes.
 */
int json_get_str(struct json_object *obj, const char *what, const char *key,
    bool required, size_t maxlen, char **out);
int json_get_bool(struct json_object *obj, const char *what, const char *key,
    bool required, bool *out);
/* Add k: v to obj when v is not NULL (a string member). */
void json_add_str(struct json_object *obj, const char *k, const char *v);
/*
 * True if s is an absolute http:// or https:// URL (scheme in any case)
 * without spaces or control bytes: the only URLs a CA may hand certo.
 */
bool json_url_ok(const char *s);
/*
 * json_get_str for a URL of at most JSON_URL_MAX bytes that must pass
 * json_url_ok(): anything else (file://, relative, control bytes) is
 * CERTO_EPROTO naming what.key and the (sanitised) value.
 */
#define JSON_URL_MAX 2048
int json_get_url(struct json_object *obj, const char *what, const char *key,
    bool required, char **out);
int json_get_array(struct json_object *obj, const char *what, const char *key,
    bool required, struct json_object **out);
int json_get_object(struct json_object *obj, const char *what, const char *key,
    bool required, struct json_object **out);
/*
 * A string member that must be one of names[0..n) (at most 32 bytes):
 * *out gets its index.  CERTO_EPROTO "what: unknown key \"value\"" for
 * any other string; a missing optional key leaves *out untouched.
 */
int json_get_enum(struct json_object *obj, const char *what, const char *key,
    bool required, const char *const *names, size_t n, int *out);

#endif
