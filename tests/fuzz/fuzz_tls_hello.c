/* libFuzzer target: the TLS-ALPN-01 ClientHello peek (hostile input). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello hello;
	char ident[256];

	memset(&hello, 0, sizeof(hello));
	if (tls_hello_parse(data, size, &hello) == 1 && hello.sni[0] != '\0')
		(void)tls_hello_sni_ident(hello.sni, ident, sizeof(ident));
	certo_errclear();
	return 0;
}
