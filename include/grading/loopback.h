/* Whether a gRPC address can only be reached from this host. */
#ifndef GRADING_LOOPBACK_H
#define GRADING_LOOPBACK_H

#include <stdbool.h>

/* addr is a listen address ("127.0.0.1:50051", "[::1]:0", "localhost:1",
 * "unix:/run/g.sock") or a peer as grpc_call_get_peer gives it
 * ("ipv4:127.0.0.1:5000", "ipv6:%5B::1%5D:5000", brackets URI-encoded).
 * True for 127.0.0.0/8, ::1, IPv4-mapped 127.0.0.0/8, "localhost" and
 * Unix sockets; false for anything else, including NULL and "". */
bool grading_addr_is_loopback(const char *addr);

#endif
