/* grading_sockaddr_parse: the admin server's listen address and its HTTP
 * client's target. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "grading/sockaddr.h"

static void test_ipv4_and_ipv6_parse_with_their_ports(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    assert_true(grading_sockaddr_parse("127.0.0.1:9464", false, &ss, &len));
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&ss;
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(len, sizeof *v4);
    assert_int_equal(ntohs(v4->sin_port), 9464);
    assert_int_equal(ntohl(v4->sin_addr.s_addr), 0x7f000001);
    assert_true(grading_sockaddr_parse("[::1]:80", false, &ss, &len));
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(len, sizeof *v6);
    assert_int_equal(ntohs(v6->sin6_port), 80);
    assert_int_equal(v6->sin6_addr.s6_addr[15], 1);
}

static void test_port_zero_only_where_allowed(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    assert_true(grading_sockaddr_parse("127.0.0.1:0", true, &ss, &len));
    assert_false(grading_sockaddr_parse("127.0.0.1:0", false, &ss, &len));
}

static void test_malformed_addresses_are_refused(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    const char *bad[] = {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
                         "localhost:80", "[::1]80", "[::1:80", "::1:80x", "300.0.0.1:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (grading_sockaddr_parse(bad[i], true, &ss, &len)) fail_msg("accepted \"%s\"", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_and_ipv6_parse_with_their_ports),
        cmocka_unit_test(test_port_zero_only_where_allowed),
        cmocka_unit_test(test_malformed_addresses_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
