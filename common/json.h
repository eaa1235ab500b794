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
 * Typed getters.  For required fields a missing or mistyped key is
 * CERTO_EPROTO with a message naming what.key; for optional ones a
 * missing key leaves *out untouched and returns 0.  Strings are
 * strdup'd (caller frees) and capped at maxlen bytes.
 */
int json_get_str(struct json_object *o, const char *what, const char *key,
    bool required, size_t maxlen, char **out);
int json_get_bool(struct json_object *o, const char *what, const char *key,
    bool required, bool *out);
int json_get_array(struct json_object *o, const char *what, const char *key,
    bool required, struct json_object **out);
int json_get_object(struct json_object *o, const char *what, const char *key,
    bool required, struct json_object **out);
/*
 * A string member that must be one of names[0..n) (at most 32 bytes):
 * *out gets its index.  CERTO_EPROTO "what: unknown key \"value\"" for
 * any other string; a missing optional key leaves *out untouched.
 */
int json_get_enum(struct json_object *o, const char *what, const char *key,
    bool required, const char *const *names, size_t n, int *out);

#endif
