/* The compiled floor: what the kernel itself costs to serve the benchmark's WebSocket traffic.
 *
 * One thread, one epoll set, non-blocking sockets. It speaks exactly what bench/peers.py's
 * Python floor speaks, so the two are measured by the same clients:
 *
 * - the RFC 6455 opening handshake (Sec-WebSocket-Accept from OpenSSL's SHA-1 and base64);
 * - a text frame starting with {"type":"answer" is read, unmasked, its "step" and "submission"
 *   fields found, and an ack {"type":"ack","seq":0,"step":N,"submission":"..."} sent back;
 * - any other text frame triggers a broadcast: one step frame
 *   {"type":"step","seq":N,"started_at":T,"pad":"xx.."} padded to --frame-size bytes, built
 *   once and send() to every open socket;
 * - a close frame closes the socket.
 *
 * A socket whose send() would block keeps the rest in its own buffer and waits for EPOLLOUT, as
 * an asyncio transport does. Compiled by the benchmark (bench/cfloor.py) with `cc -O2 ... -lcrypto`.
 *
 * usage: cfloor PORT FRAME_SIZE
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BACKLOG 2048
#define READ_SIZE 65536
#define MAX_EVENTS 512
static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC11B65";

typedef struct {
    int fd;
    int open;           /* handshake done */
    char *in;           /* bytes read but not yet parsed */
    size_t in_len, in_cap;
    char *out;          /* bytes a full send() left behind */
    size_t out_len, out_cap;
} conn;

static conn **conns;    /* by file descriptor */
static int conns_cap;
static int *open_fds;   /* the sockets a broadcast goes to, in no order */
static int *open_at;    /* position of a descriptor in open_fds, or -1 */
static int open_count;
static int epfd;
static long seq;
static int frame_size;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void *grow(void *p, size_t *cap, size_t need) {
    if (need <= *cap) return p;
    size_t next = *cap ? *cap : 256;
    while (next < need) next *= 2;
    p = realloc(p, next);
    if (!p) die("realloc");
    *cap = next;
    return p;
}

static void append(char **buf, size_t *len, size_t *cap, const char *data, size_t n) {
    *buf = grow(*buf, cap, *len + n);
    memcpy(*buf + *len, data, n);
    *len += n;
}

static void close_conn(conn *c) {
    if (c->open && open_at[c->fd] >= 0) {
        int at = open_at[c->fd], last = open_fds[--open_count];
        open_fds[at] = last;
        open_at[last] = at;
        open_at[c->fd] = -1;
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns[c->fd] = NULL;
    free(c->in);
    free(c->out);
    free(c);
}

/* Send, or keep what the kernel did not take and ask for EPOLLOUT. Returns 0 when closed. */
static int send_all(conn *c, const char *data, size_t n) {
    if (c->out_len) {
        append(&c->out, &c->out_len, &c->out_cap, data, n);
        return 1;
    }
    ssize_t sent = send(c->fd, data, n, MSG_NOSIGNAL);
    if (sent < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            close_conn(c);
            return 0;
        }
        sent = 0;
    }
    if ((size_t)sent < n) {
        append(&c->out, &c->out_len, &c->out_cap, data + sent, n - sent);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = c->fd};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
    return 1;
}

static void flush_out(conn *c) {
    ssize_t sent = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
    if (sent < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) close_conn(c);
        return;
    }
    memmove(c->out, c->out + sent, c->out_len - sent);
    c->out_len -= sent;
    if (!c->out_len) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->fd};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
}

/* An unmasked server text frame header for n payload bytes; returns the header's length. */
static size_t frame_header(unsigned char *h, size_t n) {
    h[0] = 0x81;
    if (n < 126) {
        h[1] = (unsigned char)n;
        return 2;
    }
    if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((unsigned long long)n >> (56 - 8 * i));
    return 10;
}

static void broadcast(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    double started = tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
    char head[128];
    int head_len = snprintf(head, sizeof head,
                            "{\"type\":\"step\",\"seq\":%ld,\"started_at\":%.3f,\"pad\":\"",
                            ++seq, started);
    size_t payload = head_len + 2;
    if ((size_t)frame_size > payload) payload = frame_size;
    static char *frame;
    static size_t frame_cap;
    frame = grow(frame, &frame_cap, payload + 10);
    size_t h = frame_header((unsigned char *)frame, payload);
    memcpy(frame + h, head, head_len);
    memset(frame + h + head_len, 'x', payload - head_len - 2);
    memcpy(frame + h + payload - 2, "\"}", 2);
    size_t n = h + payload;
    /* Iterate from the end: a socket that fails is swapped out of the slot already passed. */
    for (int i = open_count - 1; i >= 0; i--) {
        if (i >= open_count) continue;
        conn *c = conns[open_fds[i]];
        if (c) send_all(c, frame, n);
    }
}

/* The digits after "step": and the string after "submission":" in an answer; 0 when absent. */
static void answer_ack(conn *c, const char *p, size_t n) {
    long step = 0;
    const char *sub = "";
    size_t sub_len = 0;
    const char *k = memmem(p, n, "\"step\":", 7);
    if (k) step = strtol(k + 7, NULL, 10);
    k = memmem(p, n, "\"submission\":\"", 14);
    if (k) {
        sub = k + 14;
        const char *end = memchr(sub, '"', p + n - sub);
        sub_len = end ? (size_t)(end - sub) : 0;
    }
    char body[256];
    if (sub_len > 160) sub_len = 160;
    int len = snprintf(body + 2, sizeof body - 2,
                       "{\"type\":\"ack\",\"seq\":0,\"step\":%ld,\"submission\":\"%.*s\"}", step,
                       (int)sub_len, sub);
    body[0] = (char)0x81;
    body[1] = (char)len;
    send_all(c, body, len + 2);
}

/* Answer the opening handshake once the request head is complete. Returns the bytes it used,
 * 0 while the head is incomplete, -1 when the socket was closed. */
static long handshake(conn *c, char *buf, size_t n) {
    char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (!end) return 0;
    const char *key = NULL;
    size_t key_len = 0;
    for (char *line = memmem(buf, end - buf, "\r\n", 2); line && line < end;) {
        line += 2;
        char *next = memmem(line, end + 2 - line, "\r\n", 2);
        if (!next) break;
        if ((size_t)(next - line) > 18 && strncasecmp(line, "sec-websocket-key:", 18) == 0) {
            key = line + 18;
            while (*key == ' ') key++;
            key_len = next - key;
            while (key_len && key[key_len - 1] == ' ') key_len--;
        }
        line = next;
    }
    unsigned char digest[SHA_DIGEST_LENGTH];
    char joined[128];
    if (key_len > 64) key_len = 64;
    memcpy(joined, key ? key : "", key_len);
    memcpy(joined + key_len, GUID, sizeof GUID - 1);
    SHA1((unsigned char *)joined, key_len + sizeof GUID - 1, digest);
    unsigned char accept[32];
    EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);
    char reply[256];
    int len = snprintf(reply, sizeof reply,
                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
    if (!send_all(c, reply, len)) return -1;
    c->open = 1;
    open_at[c->fd] = open_count;
    open_fds[open_count++] = c->fd;
    return end + 4 - buf;
}

/* Handle every complete frame in buf. Returns the bytes used, or -1 when the socket closed. */
static long frames(conn *c, char *buf, size_t n) {
    int fd = c->fd;
    size_t i = 0;
    unsigned char *b = (unsigned char *)buf;
    while (n - i >= 6) {
        size_t len = b[i + 1] & 0x7F, head = 2;
        if (len == 126) {
            if (n - i < 8) break;
            len = (size_t)b[i + 2] << 8 | b[i + 3];
            head = 4;
        } else if (len == 127) {
            if (n - i < 14) break;
            len = 0;
            for (int k = 0; k < 8; k++) len = len << 8 | b[i + 2 + k];
            head = 10;
        }
        int masked = b[i + 1] & 0x80;
        size_t total = head + (masked ? 4 : 0) + len;
        if (n - i < total) break;
        unsigned char *mask = b + i + head, *payload = b + i + head + (masked ? 4 : 0);
        if (masked && (mask[0] | mask[1] | mask[2] | mask[3]))
            for (size_t k = 0; k < len; k++) payload[k] ^= mask[k & 3];
        int opcode = b[i] & 0x0F;
        i += total;
        if (opcode == 8) {
            close_conn(c);
            return -1;
        }
        if (opcode == 1) {
            if (len >= 16 && memcmp(payload, "{\"type\":\"answer\"", 16) == 0)
                answer_ack(c, (char *)payload, len);
            else
                broadcast();
            if (!conns[fd]) return -1;
        }
    }
    return (long)i;
}

static long consume(conn *c, char *buf, size_t n) {
    long used = 0;
    if (!c->open) {
        used = handshake(c, buf, n);
        if (used <= 0) return used;
    }
    long more = frames(c, buf + used, n - used);
    return more < 0 ? -1 : used + more;
}

/* Read into one scratch buffer shared by every socket; only an incomplete frame is kept. */
static void readable(conn *c) {
    static char scratch[READ_SIZE];
    for (;;) {
        ssize_t got = recv(c->fd, scratch, READ_SIZE, 0);
        if (got == 0) {
            close_conn(c);
            return;
        }
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            close_conn(c);
            return;
        }
        char *buf = scratch;
        size_t n = got;
        if (c->in_len) {
            append(&c->in, &c->in_len, &c->in_cap, scratch, got);
            buf = c->in;
            n = c->in_len;
        }
        long used = consume(c, buf, n);
        if (used < 0) return;
        if (buf == c->in) {
            memmove(c->in, c->in + used, n - used);
            c->in_len = n - used;
        } else if ((size_t)used < n) {
            append(&c->in, &c->in_len, &c->in_cap, scratch + used, n - used);
        }
        if (got < READ_SIZE) return;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT FRAME_SIZE\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    frame_size = atoi(argv[2]);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    conns_cap = (int)(lim.rlim_cur > 1 << 20 ? 1 << 20 : lim.rlim_cur) + 16;
    conns = calloc(conns_cap, sizeof *conns);
    open_fds = calloc(conns_cap, sizeof *open_fds);
    open_at = malloc(conns_cap * sizeof *open_at);
    if (!conns || !open_fds || !open_at) die("calloc");
    memset(open_at, 0xff, conns_cap * sizeof *open_at);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, BACKLOG) < 0) die("listen");
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (cfd < 0) break;
                    if (cfd >= conns_cap) {
                        close(cfd);
                        continue;
                    }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *c = calloc(1, sizeof *c);
                    c->fd = cfd;
                    conns[cfd] = c;
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            conn *c = conns[fd];
            if (!c) continue;
            if (events[i].events & EPOLLOUT) {
                flush_out(c);
                if (!conns[fd]) continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(c);
        }
    }
}
