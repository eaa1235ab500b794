/* Challenge type names (see challenge_type.h). */
#include "challenge_type.h"

#include <string.h>

static const char *const type_names[] = {
	[CHALL_UNKNOWN] = "unknown",
	[CHALL_HTTP01] = "http-01",
	[CHALL_DNS01] = "dns-01",
	[CHALL_TLSALPN01] = "tls-alpn-01",
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

/* The type named s, or CHALL_UNKNOWN (also for "unknown" and NULL). */
enum chall_type
challenge_type_parse(const char *s)
{
	if (s == NULL)
		return CHALL_UNKNOWN;
	for (size_t i = 1; i < NTYPES; i++)
		if (strcmp(s, type_names[i]) == 0)
			return (enum chall_type)i;
	return CHALL_UNKNOWN;
}

/* The protocol name of t; "unknown" for values outside the enum. */
const char *
challenge_type_name(enum chall_type t)
{
	return (unsigned)t < NTYPES ? type_names[t] : type_names[CHALL_UNKNOWN];
}
