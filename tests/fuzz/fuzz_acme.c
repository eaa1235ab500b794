/*
 * libFuzzer target: every parser of CA responses.  The first byte picks
 * the parser, the rest is the document (network input, untrusted).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "certificate.h"
#include "challenge.h"
#include "directory.h"
#include "errors.h"
#include "jws.h"
#include "order.h"
#include "problem.h"
#include "renewalinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	char *z;

	if (size < 1)
		return 0;
	switch (data[0] % 8) {
	case 0: {
		struct certo_directory d = { 0 };
		directory_parse(s, n, &d);
		directory_free(&d);
		break;
	}
	case 1: {
		struct certo_order o = { 0 };
		order_parse(s, n, &o);
		order_free(&o);
		break;
	}
	case 2: {
		struct certo_authz a = { 0 };
		authz_parse(s, n, &a);
		authz_free(&a);
		break;
	}
	case 3: {
		struct certo_challenge c = { 0 };
		challenge_parse(s, n, &c);
		challenge_free(&c);
		break;
	}
	case 4: {
		struct certo_problem p = { 0 };
		problem_parse(s, n, &p);
		problem_free(&p);
		break;
	}
	case 5: {
		struct ari_window w;
		if (renewalinfo_parse(s, n, &w) == 0)
			renewalinfo_free(&w);
		break;
	}
	case 6: {
		struct certo_chain c;
		if (certificate_parse(s, n, &c) == 0)
			certificate_free(&c);
		break;
	}
	case 7:
		/* jws_verify takes a C string. */
		if ((z = malloc(n + 1)) == NULL)
			return 0;
		memcpy(z, s, n);
		z[n] = '\0';
		{
			char *pl = NULL, *hdr = NULL;
			if (jws_verify(z, NULL, &pl, &hdr) == 0) {
				free(pl);
				free(hdr);
			}
		}
		free(z);
		break;
	}
	certo_errclear();
	return 0;
}
