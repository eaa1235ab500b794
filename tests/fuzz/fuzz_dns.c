/* libFuzzer target: DNS answers as the propagation check reads them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dns01_propagation.h"
#include "errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns01_msg m;
	struct dns01_strs hosts = { 0 }, addrs = { 0 }, txt = { 0 };
	const char *name = "_acme-challenge.example.com";
	char *out = NULL;

	if (dns01_msg_parse(data, size, &m) == 0) {
		if (dns01_cname_chase(&m, name, 8, &out) >= 0)
			free(out);
		out = NULL;
		if (dns01_zone_decide(&m, name, &out) > 0)
			free(out);
		dns01_ns_hosts(&m, "example.com", &hosts);
		dns01_host_addrs(&m, "ns1.example.com", &addrs);
		dns01_msg_free(&m);
	}
	dns01_txt_parse(data, size, name, &txt);
	dns01_strs_free(&hosts);
	dns01_strs_free(&addrs);
	dns01_strs_free(&txt);
	certo_errclear();
	return 0;
}
