/*
 * libFuzzer target: every parser of CA responses.  The first byte picks
 * the parser, the rest is the document (network input, untrusted).
 * Parser 8 is the key process's reader of the network process's typed
 * documents (doc_get, doc.h): the rest is a message payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "certificate.h"
#include "challenge.h"
#include "directory.h"
#include "doc.h"
#include "errors.h"
#include "jws.h"
#include "order.h"
#include "privsep_msg.h"
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
	switch (data[0] % 9) {
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
	case 8: {
		struct privsep_msg m;
		struct certo_doc *d = NULL;
		privsep_msg_init(&m, 1);
		if (buf_add(&m.buf, s, n) == 0 &&
		    doc_get(&m, 1u + (data[0] / 9u) % (DOC_PROBLEM - 1), &d) ==
		    0)
			doc_free(d);
		privsep_msg_free(&m);
		break;
	}
	}
	certo_errclear();
	return 0;
}
