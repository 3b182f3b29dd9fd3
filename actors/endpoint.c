/* endpoint.c - what a tcp:// endpoint binds to (cairn_endpoint_is_loopback).
 *
 * Plain TCP beyond loopback lets anyone who can reach the machine join a
 * run (or read its events), so callers refuse it without CURVE. The
 * check resolves the host rather than reading its spelling: a prefix
 * such as "127." or "localhost" also matches 127.example.com and
 * localhost.evil.org, and 127.1 or 2130706433 are loopback without
 * looking like it. Thread-safe (getaddrinfo).
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cairn/engine.h"

/* Whether addr is in 127.0.0.0/8 or is ::1 (or ::ffff:127.x.y.z). */
static bool
s_loopback_address(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (addr->sa_family == AF_INET6) {
        const struct in6_addr *in6 =
            &((const struct sockaddr_in6 *)addr)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(in6)
               || (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
    }
    return false;
}

/* Copies the host of "tcp://HOST:PORT" (brackets of [IPv6] removed) into
 * host; false when endpoint has no such form or the host is too long. */
static bool
s_tcp_host(const char *endpoint, char *host, size_t size)
{
    const char *scheme = "tcp://";
    if (!endpoint || strncmp(endpoint, scheme, strlen(scheme)) != 0)
        return false;
    const char *start = endpoint + strlen(scheme);
    const char *colon = strrchr(start, ':');
    if (!colon)
        return false;
    size_t len = (size_t)(colon - start);
    if (len >= 2 && start[0] == '[' && start[len - 1] == ']')
        start++, len -= 2;
    if (len == 0 || len >= size)
        return false;
    memcpy(host, start, len);
    host[len] = '\0';
    return true;
}

bool
cairn_endpoint_is_loopback(const char *endpoint)
{
    char host[256];
    if (!s_tcp_host(endpoint, host, sizeof host))
        return false;
    /* ZeroMQ binds an interface name to that interface's address, and
     * "*" to every address: neither is what the name resolves to. */
    if (strcmp(host, "*") == 0 || if_nametoindex(host) != 0)
        return false;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    if (getaddrinfo(host, NULL, &hints, &found) != 0)
        return false;
    bool loopback = found != NULL;
    for (const struct addrinfo *a = found; loopback && a; a = a->ai_next)
        loopback = s_loopback_address(a->ai_addr);
    freeaddrinfo(found);
    return loopback;
}
