/* DNS identifiers: IDN conversion (libidn2) and hostname rules. */
#ifndef CERTO_DOMAIN_H
#define CERTO_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#define DOMAIN_MAX 253

/*
 * Normalise a user-given name into its ASCII form in *out (malloc'd):
 * non-ASCII names become punycode A-labels (IDNA2008 with TR46
 * mapping), ASCII is lower-cased, one trailing dot is dropped, a leading
 * "*." wildcard label is kept if allow_wildcard.  Then the result must
 * pass domain_valid().  Returns 0 or CERTO_EIDENT with a message naming
 * the input.
 */
int domain_normalize(const char *in, bool allow_wildcard, char **out);

/*
 * True if name is a valid ASCII hostname for a certificate: 1..253
 * bytes, labels 1..63 of [a-z0-9-] not starting or ending with '-', at
 * least two labels, an optional leading "*." when allow_wildcard.  If
 * why is not NULL it gets a static reason on failure.
 */
bool domain_valid(const char *name, bool allow_wildcard, const char **why);

/* What an identifier string is. */
enum ident_kind {
	IDENT_INVALID = 0,
	IDENT_DNS,        /* a valid ASCII hostname (domain_valid) */
	IDENT_IPV4,
	IDENT_IPV6,
};

/*
 * The one place that tells IP literals from DNS names: an IPv4 or IPv6
 * literal (ip, when not NULL, gets its 4 or 16 bytes and *iplen, when
 * not NULL, their number), else a name that passes domain_valid() (a
 * leading "*." when allow_wildcard), else IDENT_INVALID.
 */
enum ident_kind ident_classify(const char *s, bool allow_wildcard,
    unsigned char ip[16], size_t *iplen);
/* True if s is an IPv4 or IPv6 literal (ident_classify says so). */
bool ident_is_ip(const char *s);
/* True if a and b are IP literals of the same address. */
bool ident_same_ip(const char *a, const char *b);

/*
 * The form a name is stored and ordered under: an IP literal in its
 * canonical text (RFC 8738), else domain_normalize() (IDN, case, "*.").
 * *out is malloc'd.  Returns 0, CERTO_EIDENT naming the input, or
 * CERTO_ENOMEM.
 */
int ident_normalize(const char *arg, char **out);

#endif
