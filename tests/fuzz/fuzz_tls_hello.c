/* libFuzzer target: the TLS-ALPN-01 ClientHello peek (hostile input). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "tlsalpn01.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsalpn01_hello h;
	char ident[256];

	memset(&h, 0, sizeof(h));
	if (tlsalpn01_parse_hello(data, size, &h) == 1 && h.sni[0] != '\0')
		(void)tlsalpn01_sni_ident(h.sni, ident, sizeof(ident));
	certo_errclear();
	return 0;
}
