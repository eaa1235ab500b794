/*
 * Store replies between certo's network process and its key process
 * (client/netproc_kv.c encodes, client/privsep_kv.c rebuilds within
 * kv.h's caps): a round trip, and every cap and malformation refused.
 */
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "kv.h"
#include "privsep_msg.h"
#include "privsep_priv.h"

/* An encoder's message with room for PRIVSEP_KV_ENCODED_MAX. */
static void
enc_init(struct privsep_msg *m)
{
	privsep_msg_init(m, 0);
	buf_init(&m->buf, PRIVSEP_KV_ENCODED_MAX);
}

/* Rebuild m; returns the code (the reply freed). */
static int
rebuild_rc(struct privsep_msg *m)
{
	struct kv_reply *r = NULL;
	int rc = privsep_kv_rebuild(m, &r);

	if (rc != 0)
		assert_null(r);
	kv_reply_free(r);
	certo_errclear();
	return rc;
}

/* Every type, nested, binary strings: the same reply comes back. */
static void
test_round_trip(void **state)
{
	struct kv_reply in[5], inner[1], top, *out = NULL;
	struct privsep_msg m;
	char bin[] = { 'a', '\0', 'b', '\r', '\n' };

	(void)state;
	memset(in, 0, sizeof(in));
	memset(inner, 0, sizeof(inner));
	memset(&top, 0, sizeof(top));
	in[0].type = KV_INT;
	in[0].integer = -42;
	in[1].type = KV_STR;
	in[1].str = bin;
	in[1].len = sizeof(bin);
	in[2].type = KV_STATUS;
	in[2].str = (char *)(uintptr_t)"OK";
	in[2].len = 2;
	in[3].type = KV_NIL;
	inner[0].type = KV_STR;
	inner[0].str = (char *)(uintptr_t)"";
	in[4].type = KV_ARRAY;
	in[4].elem = inner;
	in[4].nelem = 1;
	top.type = KV_ARRAY;
	top.elem = in;
	top.nelem = 5;
	enc_init(&m);
	assert_int_equal(netproc_kv_encode(&m, &top), 0);
	assert_int_equal(privsep_kv_rebuild(&m, &out), 0);
	assert_non_null(out);
	assert_int_equal(out->type, KV_ARRAY);
	assert_int_equal(out->nelem, 5);
	assert_int_equal(out->elem[0].type, KV_INT);
	assert_true(out->elem[0].integer == -42);
	assert_int_equal(out->elem[1].type, KV_STR);
	assert_int_equal(out->elem[1].len, sizeof(bin));
	assert_memory_equal(out->elem[1].str, bin, sizeof(bin));
	assert_int_equal(out->elem[1].str[sizeof(bin)], '\0');
	assert_int_equal(out->elem[2].type, KV_STATUS);
	assert_string_equal(out->elem[2].str, "OK");
	assert_int_equal(out->elem[3].type, KV_NIL);
	assert_int_equal(out->elem[4].type, KV_ARRAY);
	assert_int_equal(out->elem[4].nelem, 1);
	assert_int_equal(out->elem[4].elem[0].len, 0);
	assert_string_equal(out->elem[4].elem[0].str, "");
	kv_reply_free(out);
	privsep_msg_free(&m);
}

/* Arrays nested PRIVSEP_KV_DEPTH_MAX deep pass; one level more not. */
static void
test_depth(void **state)
{
	struct privsep_msg m;

	(void)state;
	for (int depth = PRIVSEP_KV_DEPTH_MAX; depth <= PRIVSEP_KV_DEPTH_MAX + 1;
	    depth++) {
		enc_init(&m);
		for (int i = 0; i < depth; i++) {
			assert_int_equal(privsep_put_u64(&m, KV_ARRAY), 0);
			assert_int_equal(privsep_put_u64(&m, 1), 0);
		}
		assert_int_equal(privsep_put_u64(&m, KV_NIL), 0);
		assert_int_equal(rebuild_rc(&m), depth <= PRIVSEP_KV_DEPTH_MAX ?
		    0 : CERTO_EPRIVSEP);
		privsep_msg_free(&m);
	}
}

/* KV_ARRAY_MAX elements pass, one more not; nor a count the message
 * cannot hold. */
static void
test_array_caps(void **state)
{
	struct privsep_msg m;

	(void)state;
	for (uint64_t n = KV_ARRAY_MAX; n <= KV_ARRAY_MAX + 1; n++) {
		enc_init(&m);
		assert_int_equal(privsep_put_u64(&m, KV_ARRAY), 0);
		assert_int_equal(privsep_put_u64(&m, n), 0);
		for (uint64_t i = 0; i < n; i++)
			assert_int_equal(privsep_put_u64(&m, KV_NIL), 0);
		assert_int_equal(rebuild_rc(&m), n <= KV_ARRAY_MAX ? 0 :
		    CERTO_EPRIVSEP);
		privsep_msg_free(&m);
	}
	enc_init(&m);
	assert_int_equal(privsep_put_u64(&m, KV_ARRAY), 0);
	assert_int_equal(privsep_put_u64(&m, 50000), 0);
	assert_int_equal(privsep_put_u64(&m, KV_NIL), 0);
	assert_int_equal(rebuild_rc(&m), CERTO_EPRIVSEP);
	privsep_msg_free(&m);
}

/* Strings of KV_REPLY_MAX bytes in all pass; one byte more not. */
static void
test_bytes_cap(void **state)
{
	size_t half = KV_REPLY_MAX / 2;
	struct privsep_msg m;
	char *big = calloc(1, half + 1);

	(void)state;
	assert_non_null(big);
	for (size_t extra = 0; extra <= 1; extra++) {
		enc_init(&m);
		assert_int_equal(privsep_put_u64(&m, KV_ARRAY), 0);
		assert_int_equal(privsep_put_u64(&m, 2), 0);
		assert_int_equal(privsep_put_u64(&m, KV_STR), 0);
		assert_int_equal(privsep_put_bytes(&m, big, half), 0);
		assert_int_equal(privsep_put_u64(&m, KV_STR), 0);
		assert_int_equal(privsep_put_bytes(&m, big, half + extra), 0);
		assert_int_equal(rebuild_rc(&m), extra == 0 ? 0 :
		    CERTO_EPRIVSEP);
		privsep_msg_free(&m);
	}
	free(big);
}

/* An unknown type, a field of the wrong kind, a missing or a trailing
 * field: refused. */
static void
test_malformed(void **state)
{
	struct privsep_msg m;

	(void)state;
	enc_init(&m);
	assert_int_equal(privsep_put_u64(&m, 9), 0);
	assert_int_equal(rebuild_rc(&m), CERTO_EPRIVSEP);
	privsep_msg_free(&m);

	enc_init(&m);
	assert_int_equal(privsep_put_u64(&m, KV_INT), 0);
	assert_int_equal(privsep_put_u64(&m, 1), 0); /* u64, not i64 */
	assert_int_equal(rebuild_rc(&m), CERTO_EPRIVSEP);
	privsep_msg_free(&m);

	enc_init(&m);
	assert_int_equal(privsep_put_u64(&m, KV_STR), 0);
	assert_int_equal(rebuild_rc(&m), CERTO_EPRIVSEP);
	privsep_msg_free(&m);

	enc_init(&m);
	assert_int_equal(privsep_put_u64(&m, KV_NIL), 0);
	assert_int_equal(privsep_put_u64(&m, KV_NIL), 0);
	assert_int_equal(rebuild_rc(&m), CERTO_EPRIVSEP);
	privsep_msg_free(&m);

	enc_init(&m);
	assert_int_equal(rebuild_rc(&m), CERTO_EPRIVSEP);
	privsep_msg_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_array_caps),
		cmocka_unit_test(test_bytes_cap),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
