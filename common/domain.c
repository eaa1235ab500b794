/* Identifier normalisation and validation. */
#include "domain.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"

/* True if name is a valid ASCII hostname for a certificate. */
bool
domain_valid(const char *name, bool allow_wildcard, const char **why)
{
	const char *p = name, *label;
	size_t len = strlen(name), n;
	int labels = 0;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (len == 0)
		return *why = "empty name", false;
	if (len > DOMAIN_MAX)
		return *why = "name longer than 253 characters", false;
	if (strncmp(p, "*.", 2) == 0) {
		if (!allow_wildcard)
			return *why = "wildcard not allowed here", false;
		p += 2;
	}
	for (;;) {
		label = p;
		while (*p && *p != '.')
			p++;
		n = (size_t)(p - label);
		if (n == 0)
			return *why = "empty label", false;
		if (n > 63)
			return *why = "label longer than 63 characters", false;
		if (label[0] == '-' || label[n - 1] == '-')
			return *why = "label starts or ends with a hyphen", false;
		for (size_t i = 0; i < n; i++) {
			char c = label[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-'))
				return *why = (c == '*' ? "misplaced wildcard" :
				    "invalid character"), false;
		}
		labels++;
		if (*p == '\0')
			break;
		p++;
	}
	if (labels < 2)
		return *why = "name needs at least two labels", false;
	/* The last label of a hostname is never all digits (an IP). */
	for (p = label; *p; p++)
		if (*p < '0' || *p > '9')
			return true;
	return *why = "top-level label is all digits", false;
}

/* Normalise a user-given name into its ASCII form in *out (malloc'd). */
int
domain_normalize(const char *in, bool allow_wildcard, char **out)
{
	char shown[128], *copy = NULL, *ascii = NULL, *res = NULL;
	const char *body, *why;
	size_t len;
	bool wild = false, nonascii = false;
	int rc;

	*out = NULL;
	log_str(shown, sizeof(shown), in);
	if ((copy = strdup(in)) == NULL)
		return CERTO_ENOMEM;
	len = strlen(copy);
	if (len > 0 && copy[len - 1] == '.')
		copy[--len] = '\0';
	body = copy;
	if (strncmp(body, "*.", 2) == 0) {
		wild = true;
		body += 2;
	}
	for (const char *p = body; *p; p++)
		if ((unsigned char)*p >= 0x80)
			nonascii = true;
	if (nonascii) {
		rc = idn2_to_ascii_8z(body, &ascii,
		    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			rc = certo_fail(CERTO_EIDENT, "invalid domain name '%s': %s",
			    shown, idn2_strerror(rc));
			goto out;
		}
		body = ascii;
	}
	if (asprintf(&res, "%s%s", wild ? "*." : "", body) < 0) {
		res = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (char *p = res; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!domain_valid(res, allow_wildcard, &why)) {
		rc = certo_fail(CERTO_EIDENT, "invalid domain name '%s': %s",
		    shown, why);
		goto out;
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	free(res);
	idn2_free(ascii);
	free(copy);
	return rc;
}

/* The one place that tells IP literals from DNS names. */
enum ident_kind
ident_classify(const char *s, bool allow_wildcard, unsigned char ip[16],
    size_t *iplen)
{
	unsigned char buf[16];

	if (ip == NULL)
		ip = buf;
	if (s == NULL)
		return IDENT_INVALID;
	if (inet_pton(AF_INET, s, ip) == 1) {
		if (iplen != NULL)
			*iplen = 4;
		return IDENT_IPV4;
	}
	if (inet_pton(AF_INET6, s, ip) == 1) {
		if (iplen != NULL)
			*iplen = 16;
		return IDENT_IPV6;
	}
	return domain_valid(s, allow_wildcard, NULL) ? IDENT_DNS :
	    IDENT_INVALID;
}

/* An IPv4 or IPv6 literal? */
bool
ident_is_ip(const char *s)
{
	enum ident_kind kind = ident_classify(s, false, NULL, NULL);

	return kind == IDENT_IPV4 || kind == IDENT_IPV6;
}

/* Two IP literals of the same address? */
bool
ident_same_ip(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	size_t xn = 0, yn = 0;
	enum ident_kind ka = ident_classify(a, false, x, &xn);

	if (ka != IDENT_IPV4 && ka != IDENT_IPV6)
		return false;
	return ident_classify(b, false, y, &yn) == ka && xn == yn &&
	    memcmp(x, y, xn) == 0;
}

int
ident_normalize(const char *arg, char **out)
{
	unsigned char ip[16];
	char text[INET6_ADDRSTRLEN];

	*out = NULL;
	switch (ident_classify(arg, true, ip, NULL)) {
	case IDENT_IPV4:
		inet_ntop(AF_INET, ip, text, sizeof(text));
		break;
	case IDENT_IPV6:
		inet_ntop(AF_INET6, ip, text, sizeof(text));
		break;
	case IDENT_DNS:
	case IDENT_INVALID:
	default:
		/* IDN, case, the reason a name is refused: domain_normalize's. */
		return domain_normalize(arg, true, out);
	}
	if ((*out = strdup(text)) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	return 0;
}
