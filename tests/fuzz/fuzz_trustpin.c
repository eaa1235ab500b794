/*
 * libFuzzer target: trustpin_find(), which the network process runs on
 * the peer's certificate chain (network input) and the channel's trust
 * bundle.  The input is the bundle, then after each NUL byte one
 * certificate of the chain (tests/fixtures/trustpin-seed.bin is one).
 * The bundle is handed over without a NUL after it, so that a read
 * past its length is caught.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trustpin.h"

#define FUZZ_CHAIN_MAX 20

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *end = (const char *)data + size, *p, *z;
	char *bundle, *chain[FUZZ_CHAIN_MAX];
	size_t blen, n = 0;

	z = memchr(data, '\0', size);
	blen = z != NULL ? (size_t)(z - (const char *)data) : size;
	if ((bundle = malloc(blen + 1)) == NULL)
		return 0;
	memcpy(bundle, data, blen);
	for (p = z != NULL ? z + 1 : end; p < end && n < FUZZ_CHAIN_MAX; n++) {
		z = memchr(p, '\0', (size_t)(end - p));
		if ((chain[n] = strndup(p, z != NULL ? (size_t)(z - p) :
		    (size_t)(end - p))) == NULL)
			break;
		p = z != NULL ? z + 1 : end;
	}
	trustpin_find(bundle, blen, (const char *const *)chain, n);
	for (size_t i = 0; i < n; i++)
		free(chain[i]);
	free(bundle);
	return 0;
}
