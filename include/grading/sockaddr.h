/* "HOST:PORT" / "[V6]:PORT" (numeric hosts only) into a socket address. */
#ifndef GRADING_SOCKADDR_H
#define GRADING_SOCKADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Fills *ss and *len from s; port 0 is allowed only with allow_port0 (a
 * listen address the kernel picks a port for). False when s is not such an
 * address. */
bool grading_sockaddr_parse(const char *s, bool allow_port0, struct sockaddr_storage *ss, socklen_t *len);

#endif
