/*
 * test_jmap: the journal's segment map against a byte-by-byte model:
 * random writes (appends, overwrites inside, across and around existing
 * segments), then every byte must resolve to the latest record covering it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../vault/jmap.h"

#define SPACE 4096

/* Which record covers pos (or -1), and at what offset in its body. */
static long resolve(const jmap *m, uint64_t pos, uint32_t *roff)
{
    size_t i = jmap_find(m, pos);
    if (i == m->n || m->segs[i].start > pos)
        return -1;
    *roff = m->segs[i].roff + (uint32_t)(pos - m->segs[i].start);
    return m->segs[i].rec;
}

static void check_invariants(const jmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        assert_true(m->segs[i].start < m->segs[i].end);
        if (i > 0)
            assert_true(m->segs[i - 1].end <= m->segs[i].start);
    }
}

static void test_model(void **state)
{
    static long owner[SPACE];
    static uint64_t start_of[100000];
    jmap m;
    (void)state;

    srand(12345);
    for (int round = 0; round < 20; round++) {
        uint32_t nrec = 0;
        uint64_t hi = 0;
        jmap_init(&m);
        for (size_t i = 0; i < SPACE; i++)
            owner[i] = -1;
        for (int w = 0; w < 400; w++) {
            uint64_t a;
            uint32_t len;
            int kind = rand() % 4;
            if (kind == 0 || hi == 0) /* append */
                a = hi;
            else if (kind == 1) /* small overwrite inside */
                a = (uint64_t)rand() % hi;
            else /* anywhere */
                a = (uint64_t)rand() % (SPACE - 1);
            len = 1 + (uint32_t)(rand() % (kind == 1 ? 8 : 300));
            if (a + len > SPACE)
                len = (uint32_t)(SPACE - a);
            assert_int_equal(jmap_put(&m, a, len, nrec), 0);
            start_of[nrec] = a;
            for (uint64_t b = a; b < a + len; b++)
                owner[b] = nrec;
            nrec++;
            if (a + len > hi)
                hi = a + len;
            check_invariants(&m);
            assert_int_equal(jmap_size(&m), hi);
        }
        for (uint64_t b = 0; b < SPACE; b++) {
            uint32_t roff = 0;
            long r = resolve(&m, b, &roff);
            assert_int_equal(r, owner[b]);
            if (r >= 0)
                assert_int_equal(roff, b - start_of[r]);
        }
        jmap_clear(&m);
        assert_int_equal(m.n, 0);
    }
}

static void test_edges(void **state)
{
    jmap m;
    uint32_t roff;
    (void)state;

    jmap_init(&m);
    assert_int_equal(jmap_size(&m), 0);
    assert_int_equal(jmap_put(&m, 10, 0, 0), 0); /* empty write: no-op */
    assert_int_equal(m.n, 0);
    assert_int_equal(jmap_put(&m, 0, 512, 0), 0);
    assert_int_equal(jmap_put(&m, 8, 4, 1), 0); /* header field rewrite */
    assert_int_equal(m.n, 3);
    assert_int_equal(resolve(&m, 7, &roff), 0);
    assert_int_equal(resolve(&m, 8, &roff), 1);
    assert_int_equal(roff, 0);
    assert_int_equal(resolve(&m, 12, &roff), 0);
    assert_int_equal(roff, 12);
    assert_int_equal(jmap_put(&m, 0, 512, 2), 0); /* whole rewrite */
    assert_int_equal(m.n, 1);
    assert_int_equal(resolve(&m, 600, &roff), -1); /* gap past the end */
    jmap_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
