/* Loopback addresses: --listen forms and grpc_call_get_peer forms (IPv6
 * brackets URI-encoded in grpc 1.51), and look-alikes that must not pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "grading/loopback.h"

static void test_listen_forms(void **state)
{
    (void)state;
    assert_true(grading_addr_is_loopback("127.0.0.1:50051"));
    assert_true(grading_addr_is_loopback("127.0.0.1:0"));
    assert_true(grading_addr_is_loopback("127.1.2.3:1"));
    assert_true(grading_addr_is_loopback("[::1]:50051"));
    assert_true(grading_addr_is_loopback("localhost:50051"));
    assert_true(grading_addr_is_loopback("unix:/run/grading.sock"));
    assert_true(grading_addr_is_loopback("unix-abstract:grading"));
    assert_false(grading_addr_is_loopback("0.0.0.0:50051"));
    assert_false(grading_addr_is_loopback("[::]:50051"));
    assert_false(grading_addr_is_loopback(":50051"));
    assert_false(grading_addr_is_loopback("10.0.0.5:50051"));
    assert_false(grading_addr_is_loopback("grading.svc:50051"));
    assert_false(grading_addr_is_loopback("128.0.0.1:1"));
    assert_false(grading_addr_is_loopback("127.0.0.1.evil.example:1"));
    assert_false(grading_addr_is_loopback("127.0.0.256:1"));
    assert_false(grading_addr_is_loopback("[::10]:1"));
    assert_false(grading_addr_is_loopback("[::1:1"));
    assert_false(grading_addr_is_loopback(""));
    assert_false(grading_addr_is_loopback(NULL));
}

static void test_peer_forms(void **state)
{
    (void)state;
    assert_true(grading_addr_is_loopback("ipv4:127.0.0.1:59916"));
    assert_true(grading_addr_is_loopback("ipv6:%5B::1%5D:59916"));
    assert_true(grading_addr_is_loopback("ipv6:%5b::1%5d:59916"));
    assert_true(grading_addr_is_loopback("ipv6:[::1]:59916"));
    assert_true(grading_addr_is_loopback("ipv6:%5B::ffff:127.0.0.1%5D:59916"));
    assert_false(grading_addr_is_loopback("ipv4:10.1.2.3:59916"));
    assert_false(grading_addr_is_loopback("ipv6:%5Bfd00::2%5D:59916"));
    assert_false(grading_addr_is_loopback("ipv6:%5B::ffff:10.0.0.1%5D:59916"));
    assert_false(grading_addr_is_loopback("ipv6:%5B::1:59916"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_forms),
        cmocka_unit_test(test_peer_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
