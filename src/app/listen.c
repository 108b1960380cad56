/* Whether a --listen address is reachable from this host only. */
#include <string.h>

#include "flags.h"

bool app_listen_is_loopback(const char *addr)
{
    if (strncmp(addr, "unix:", 5) == 0 || strncmp(addr, "unix-abstract:", 14) == 0) return true;
    if (strncmp(addr, "ipv4:", 5) == 0 || strncmp(addr, "ipv6:", 5) == 0) addr += 5;
    /* the host is everything before the last ':' (IPv6 in brackets) */
    const char *colon = strrchr(addr, ':');
    size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
    if (n == 9 && strncmp(addr, "localhost", 9) == 0) return true;
    if (n == 5 && strncmp(addr, "[::1]", 5) == 0) return true;
    if (n >= 9 && strncmp(addr, "127.", 4) == 0) {
        /* 127.0.0.0/8, digits and dots only */
        for (size_t i = 4; i < n; i++)
            if (!((addr[i] >= '0' && addr[i] <= '9') || addr[i] == '.')) return false;
        return true;
    }
    return false;
}
