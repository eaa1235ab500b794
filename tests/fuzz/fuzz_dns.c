/*
 * libFuzzer target: DNS answers as the DNS-01 propagation check reads
 * them, through the wire-format module (client/dns_wire.h): the message
 * walker, every decision on a parsed answer, and the TXT reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dns_wire.h"
#include "errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The decisions of discovery on one parsed answer, for a name inside
 * it when there is one (so the lookups hit) and a fixed one. */
static void
decide_all(const struct dns_msg *msg, const char *name)
{
	struct dns_strs hosts = { 0 }, addrs = { 0 };
	char *out = NULL;

	if (dns_cname_chase(msg, name, DNS_MAX_CNAME, &out) >= 0)
		free(out);
	out = NULL;
	if (dns_zone_decide(msg, name, &out) > 0) {
		dns_ns_hosts(msg, out, &hosts);
		free(out);
	}
	dns_host_addrs(msg, name, &addrs);
	for (size_t i = 0; i < hosts.n; i++)
		dns_host_addrs(msg, hosts.v[i], &addrs);
	(void)dns_name_under(name, dns_name_parent(name));
	dns_strs_free(&hosts);
	dns_strs_free(&addrs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const values[] = { "value", "" };
	const char *name = "_acme-challenge.example.com";
	struct dns_msg msg;
	struct dns_strs txt = { 0 };

	if (dns_msg_parse(data, size, &msg) == 0) {
		decide_all(&msg, name);
		if (msg.nrr > 0)
			decide_all(&msg, msg.rr[0].owner);
		dns_msg_free(&msg);
	}
	if (dns_txt_parse(data, size, name, &txt) == 0)
		(void)dns_txt_missing(&txt, values, 2);
	dns_strs_free(&txt);
	certo_errclear();
	return 0;
}
