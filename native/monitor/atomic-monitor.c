/*
 * atomic-monitor: the per-container monitor of atomicd.
 *
 * One monitor runs per container, started by the agent, and outlives it. It
 *   1. detaches (fork, setsid, fork) so that it is nobody's child but init's (or the nearest child
 *      subreaper's) and keeps no reference to the agent: its only link, the sync pipe, is closed
 *      once the container is created;
 *   2. becomes a child subreaper (prctl(2) PR_SET_CHILD_SUBREAPER), so the container's init, whose
 *      parent (`runc create` / `crun create`) exits, is re-parented to the monitor and the monitor
 *      can wait(2) for its exit status;
 *   3. runs `RUNTIME [global args] create --bundle B --pid-file P [--console-socket S] ID` with the
 *      container's stdout and stderr being pipes it holds (the runtimes pass their own stdio to
 *      the container: runc docs/terminals.md "pass-through"), or, for a TTY, receives the pty
 *      master on a console socket (same document, "--console-socket");
 *   4. reports {"pid":N} (or {"error":"..."}) on the sync pipe and closes it; the agent runs
 *      `start` (so it can finish network set-up between create and start), or, with --start, the
 *      monitor runs `RUNTIME start ID` itself before it reports (one process start less for an
 *      agent with nothing to do in between: a fork of a small C process instead of one of the
 *      agent's);
 *   5. copies the container's output into a Docker json-file log: one
 *      {"log":"...","stream":"stdout","time":"RFC3339Nano"} object per line, lines longer than
 *      16 KiB split into partial entries without a newline (Docker's copier buffer size), rotated
 *      by size into LOG.1, LOG.2, ... like dockerd's `--log-opt max-size/max-file`;
 *   6. when the container's init exits: drains the pipes, decides whether the cgroup's OOM killer
 *      killed something (v1 memory.oom_control / v2 memory.events "oom_kill" went up), writes
 *      {"exitCode":N,"signal":S,"oomKilled":B,...} to the exit file atomically (temp, fsync,
 *      rename, fsync dir) and exits. With --cleanup it first runs `RUNTIME delete --force ID` and
 *      unmounts --unmount-rootfs PATH (the bundle's overlay root), so that an agent finding the
 *      exit file has nothing left to take down (it still checks, and does what is left).
 *
 *   7. with --attach-socket, listens on a Unix socket through which the agent (any agent, after a
 *      restart too) writes the container's stdin (--stdin: a pipe it holds; with a TTY the pty
 *      master), sets the window size and reads a terminal's live output (the "attach" section).
 *
 * With --exec-process it is instead the agent's relay for `exec --tty` (see exec_main).
 *
 * crun 1.8 refuses hybrid cgroup hosts; with --private-unmount PATH the runtime runs in a private
 * mount namespace (unshare(CLONE_NEWNS)) in which PATH (/sys/fs/cgroup/unified) is unmounted, so
 * crun sees a plain cgroup v1 host. The container is unaffected: it gets its own mounts.
 *
 * No allocation in the hot path, no threads, no libraries beyond libc: a few hundred KiB of RSS.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNTIME_ARGS 64
/* Docker's log copier reads into a 16 KiB buffer and emits a partial message when it fills
 * (daemon/logger/copier.go bufSize). */
#define LINE_MAX_BYTES (16 * 1024)
#define READ_CHUNK (64 * 1024)
/* Worst case of one escaped byte is \ufffd (6 bytes) or \u00XX (6 bytes). */
#define ENTRY_MAX (LINE_MAX_BYTES * 6 + 128)
#define OUT_BUF (256 * 1024)

struct options {
  const char *id;
  const char *bundle;
  const char *runtime;
  const char *runtime_args[MAX_RUNTIME_ARGS];
  int n_runtime_args;
  const char *pid_file;
  const char *exit_file;
  const char *log_path;
  long long log_max_size;
  int log_max_file;
  const char *console_socket;
  int tty;
  const char *monitor_pid_file;
  const char *private_unmount;
  int start;
  int cleanup;
  const char *unmount_rootfs;
  int sync_fd;
  int daemonize;
  int drain_timeout_ms;
  /* -i: the container's stdin is a pipe whose write end the monitor holds (fed over the attach socket). */
  int stdin_pipe;
  const char *attach_socket;
  /* Exec relay mode: `RUNTIME exec --tty` of this process.json, the terminal relayed over stdio. */
  const char *exec_process;
};

struct stream {
  int fd;
  const char *name;
  /* Terminal output: also sent to the attached clients (there is no stdout/stderr split to frame). */
  int live;
  char line[LINE_MAX_BYTES];
  size_t len;
};

struct log_file {
  int fd;
  const char *path;
  long long size;
  long long max_size;
  int max_file;
  char buf[OUT_BUF];
  size_t used;
};

static struct options opt;
static struct log_file logfile;
static char entry[ENTRY_MAX];

static void die_usage(const char *msg) {
  fprintf(stderr, "atomic-monitor: %s\n", msg);
  exit(2);
}

/* ---------- small I/O helpers ---------- */

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* JSON string body of an arbitrary C string (for messages, not log lines). */
static size_t json_escape_cstr(char *dst, size_t cap, const char *s) {
  size_t o = 0;
  for (; *s != '\0' && o + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      dst[o++] = '\\';
      dst[o++] = (char)c;
    } else if (c < 0x20) {
      o += (size_t)snprintf(dst + o, cap - o, "\\u%04x", c);
    } else {
      dst[o++] = (char)c;
    }
  }
  dst[o] = '\0';
  return o;
}

static void sync_report(const char *fmt, ...) {
  if (opt.sync_fd < 0) return;
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n > 0) (void)write_all(opt.sync_fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
  close(opt.sync_fd);
  opt.sync_fd = -1;
}

static void fail(const char *stage, const char *fmt, ...) {
  char msg[2048], esc[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_escape_cstr(esc, sizeof esc, msg);
  sync_report("{\"error\":\"%s\",\"stage\":\"%s\"}\n", esc, stage);
  exit(1);
}

/* Write `data` to `path` atomically: temp file beside it, fsync, rename, fsync the directory.
 * Without `durable` the fsyncs are left out: for files that describe a live process (the monitor's
 * pid), which a power loss makes meaningless anyway, while an agent crash leaves the page cache
 * (and so the renamed file) intact; the rename alone keeps readers from seeing half a file. */
static int write_file_atomically(const char *path, const char *data, size_t len, int durable) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof tmp) return -1;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
    close(fd);
    unlink(tmp);
    return -1;
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    unlink(tmp);
    return -1;
  }
  if (!durable) return 0;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == dir) dir[1] = '\0';
  else if (slash != NULL) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  return 0;
}

/* RFC 3339 with nanoseconds, trailing zeros of the fraction dropped: Go's time.RFC3339Nano, which
 * is what dockerd writes in json-file logs. */
static size_t format_time(char *dst, size_t cap, const struct timespec *ts) {
  struct tm tm;
  gmtime_r(&ts->tv_sec, &tm);
  size_t n = strftime(dst, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  long ns = ts->tv_nsec;
  if (ns != 0 && n + 11 < cap) {
    char frac[10];
    snprintf(frac, sizeof frac, "%09ld", ns);
    int len = 9;
    while (len > 0 && frac[len - 1] == '0') len--;
    dst[n++] = '.';
    memcpy(dst + n, frac, (size_t)len);
    n += (size_t)len;
  }
  if (n + 2 <= cap) {
    dst[n++] = 'Z';
    dst[n] = '\0';
  }
  return n;
}

/* ---------- json-file log ---------- */

/*
 * Escape log bytes the way Go's encoding/json does with HTML escaping on (dockerd's json-file
 * encoder): quote, backslash and control characters escaped, <, >, & as \u003c \u003e \u0026,
 * U+2028/U+2029 escaped, and every byte that is not part of valid UTF-8 replaced by U+FFFD.
 */
static size_t json_escape_bytes(char *dst, const unsigned char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '"': dst[o++] = '\\'; dst[o++] = '"'; break;
        case '\\': dst[o++] = '\\'; dst[o++] = '\\'; break;
        case '\n': dst[o++] = '\\'; dst[o++] = 'n'; break;
        case '\r': dst[o++] = '\\'; dst[o++] = 'r'; break;
        case '\t': dst[o++] = '\\'; dst[o++] = 't'; break;
        case '<': case '>': case '&':
          memcpy(dst + o, "\\u00", 4); o += 4; dst[o++] = hex[c >> 4]; dst[o++] = hex[c & 15]; break;
        default:
          if (c < 0x20) {
            memcpy(dst + o, "\\u00", 4); o += 4; dst[o++] = hex[c >> 4]; dst[o++] = hex[c & 15];
          } else {
            dst[o++] = (char)c;
          }
      }
      i++;
      continue;
    }
    /* UTF-8 (RFC 3629): reject overlongs, surrogates and values above U+10FFFF. */
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    int ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) ok = 0;
      else cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (ok && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))) ok = 0;
    if (!ok) {
      memcpy(dst + o, "\\ufffd", 6);
      o += 6;
      i++;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      memcpy(dst + o, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
      o += 6;
    } else {
      memcpy(dst + o, s + i, len);
      o += len;
    }
    i += len;
  }
  return o;
}

static void log_flush(void) {
  if (logfile.fd < 0 || logfile.used == 0) return;
  /* A full disk must not stop the container: the entries are dropped, as with dockerd. */
  (void)write_all(logfile.fd, logfile.buf, logfile.used);
  logfile.used = 0;
}

static int log_open(int truncate) {
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  logfile.fd = open(logfile.path, flags, 0640);
  if (logfile.fd < 0) return -1;
  struct stat st;
  logfile.size = fstat(logfile.fd, &st) == 0 ? (long long)st.st_size : 0;
  return 0;
}

/* dockerd's rotation (daemon/logger/loggerutils/logfile.go): LOG.(n-1) -> LOG.n ... LOG -> LOG.1,
 * then a fresh LOG; with max-file 1 the file is just truncated. */
static void log_rotate(void) {
  log_flush();
  close(logfile.fd);
  logfile.fd = -1;
  if (logfile.max_file >= 2) {
    char from[PATH_MAX], to[PATH_MAX];
    for (int i = logfile.max_file - 1; i >= 1; i--) {
      if (i == 1) snprintf(from, sizeof from, "%s", logfile.path);
      else snprintf(from, sizeof from, "%s.%d", logfile.path, i - 1);
      snprintf(to, sizeof to, "%s.%d", logfile.path, i);
      if (rename(from, to) < 0 && errno != ENOENT) break;
    }
  }
  (void)log_open(1);
}

static void log_entry(const char *stream, const unsigned char *data, size_t n, const char *ts) {
  if (logfile.fd < 0) return;
  /* dockerd checks the size before each write, so a file can exceed max-size by one entry. */
  if (logfile.max_size > 0 && logfile.size >= logfile.max_size) log_rotate();
  size_t o = 0;
  memcpy(entry, "{\"log\":\"", 8);
  o = 8;
  o += json_escape_bytes(entry + o, data, n);
  o += (size_t)sprintf(entry + o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
  if (logfile.used + o > sizeof logfile.buf) log_flush();
  memcpy(logfile.buf + logfile.used, entry, o);
  logfile.used += o;
  logfile.size += (long long)o;
}

/* Split a chunk of output into entries: one per line (with its \n), partial entries when a line
 * reaches 16 KiB. Leftovers wait in the stream's buffer for the next read. */
static void stream_feed(struct stream *st, const unsigned char *p, size_t n, const char *ts) {
  while (n > 0) {
    const unsigned char *nl = memchr(p, '\n', n);
    size_t upto = nl != NULL ? (size_t)(nl - p) + 1 : n;
    size_t room = LINE_MAX_BYTES - st->len;
    size_t take = upto < room ? upto : room;
    int complete = nl != NULL && take == upto;
    if (st->len == 0 && (complete || take == LINE_MAX_BYTES)) {
      /* A whole line (or a full partial) in the chunk and nothing pending: no copy. */
      log_entry(st->name, p, take, ts);
    } else {
      memcpy(st->line + st->len, p, take);
      st->len += take;
      if (complete || st->len == LINE_MAX_BYTES) {
        log_entry(st->name, (const unsigned char *)st->line, st->len, ts);
        st->len = 0;
      }
    }
    p += take;
    n -= take;
  }
}

static void stream_flush_partial(struct stream *st, const char *ts) {
  if (st->len > 0) log_entry(st->name, (const unsigned char *)st->line, st->len, ts);
  st->len = 0;
}

static void now_string(char *ts, size_t cap) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  format_time(ts, cap, &now);
}

static void broadcast(const unsigned char *p, size_t n);

/* Read what is available; returns 0 at end of stream (EOF, or EIO on a pty whose slave closed). */
static int stream_read(struct stream *st, unsigned char *buf) {
  for (;;) {
    ssize_t r = read(st->fd, buf, READ_CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
    if (r <= 0) return 0;
    if (st->live) broadcast(buf, (size_t)r);
    char ts[64];
    now_string(ts, sizeof ts);
    stream_feed(st, buf, (size_t)r, ts);
    return 1;
  }
}

/* ---------- attach: stdin, terminal size and live terminal output ----------
 *
 * The agent is not the container's parent and may restart at any time, so the container's stdin
 * (the write end of a pipe for -i, the pty master for -t) stays here, and the agent reaches it
 * through a Unix socket (--attach-socket, like conmon's attach socket). Each connection sends
 * frames [TYPE, LEN (4 bytes, big-endian), PAYLOAD]:
 *   'i' bytes for the container's stdin      'e' end of stdin (the pipe is closed; not a pty's)
 *   'w' rows, cols (2 bytes each): TIOCSWINSZ, the kernel sends SIGWINCH to the foreground group
 *   'o' subscribe to the terminal's output; payload[0] = 1 first replays what the container
 *       wrote before the first subscriber came (`docker run -t` attaches before the start, but
 *       the agent can only connect once the monitor is up: nothing written in between is lost).
 * The monitor answers a subscription with one SUBSCRIBED byte, then the raw terminal output,
 * nothing else. The byte tells the agent "taken" from "the container ended and the monitor
 * stopped reading its clients before the frame came" (without output, both would look like a
 * connection that just closes); in the second case the agent reads the output from the log.
 * A connection that
 * only sends frames is closed by the monitor once it has half-closed and its frames are applied,
 * so the sender knows they took effect. Non-TTY output is not sent here: the agent reads it from
 * the json-file log, which splits stdout and stderr.
 *
 * Stdin is written without blocking: while the container does not read, the monitor stops reading
 * the clients (backpressure to the agent and on to the docker client) but keeps logging output.
 * A subscriber that does not read makes the monitor stop reading the terminal above a high-water
 * mark, as a real terminal would; the log never loses bytes.
 */
#define FRAME_HEADER 5
#define FRAME_MAX (32 * 1024)
#define MAX_CLIENTS 64
#define CLIENT_OUT_HIGH (256 * 1024)
#define HEAD_MAX (256 * 1024)
/* ASCII ACK: what a taken subscription starts with (monitor-attach.ts SUBSCRIBED). */
#define SUBSCRIBED 0x06

struct client {
  int in_fd;
  int out_fd;
  int subscribed;
  int in_eof;
  /* The exec relay's one client is its own stdio: never closed, only stops being read. */
  int persistent;
  unsigned char in[FRAME_HEADER + FRAME_MAX];
  size_t in_len;
  unsigned char *out;
  size_t out_len, out_cap;
};

static struct client *clients[MAX_CLIENTS];
static int stdin_fd = -1;
static int stdin_is_tty;
static unsigned char stdin_pending[FRAME_MAX];
static size_t stdin_pending_len;
static int stdin_close_wanted;
static unsigned char *head;
static size_t head_len;
static int head_on;

static struct client *client_add(int in_fd, int out_fd, int persistent) {
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i] != NULL) continue;
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->persistent = persistent;
    clients[i] = c;
    return c;
  }
  return NULL;
}

static void client_drop(int i) {
  struct client *c = clients[i];
  if (c == NULL) return;
  if (c->persistent) {
    /* The relay's stdout is gone (the agent went away): output is dropped from now on. */
    c->subscribed = 0;
    c->out_len = 0;
    return;
  }
  close(c->in_fd);
  if (c->out_fd != c->in_fd) close(c->out_fd);
  free(c->out);
  free(c);
  clients[i] = NULL;
}

static int client_flush(struct client *c) {
  while (c->out_len > 0) {
    ssize_t w = write(c->out_fd, c->out, c->out_len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (w <= 0) return -1;
    memmove(c->out, c->out + w, c->out_len - (size_t)w);
    c->out_len -= (size_t)w;
  }
  return 0;
}

static int client_queue(struct client *c, const unsigned char *p, size_t n) {
  if (c->out_len + n > c->out_cap) {
    size_t cap = c->out_cap == 0 ? 64 * 1024 : c->out_cap;
    while (cap < c->out_len + n) cap *= 2;
    unsigned char *grown = realloc(c->out, cap);
    if (grown == NULL) return -1;
    c->out = grown;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
  return client_flush(c);
}

static void broadcast(const unsigned char *p, size_t n) {
  if (head_on && head_len < HEAD_MAX) {
    if (head == NULL) head = malloc(HEAD_MAX);
    if (head != NULL) {
      size_t take = n < HEAD_MAX - head_len ? n : HEAD_MAX - head_len;
      memcpy(head + head_len, p, take);
      head_len += take;
    }
  }
  for (int i = 0; i < MAX_CLIENTS; i++) {
    struct client *c = clients[i];
    if (c != NULL && c->subscribed && client_queue(c, p, n) < 0) client_drop(i);
  }
}

/* Whether a subscriber is so far behind that the terminal should not be read for now. */
static int clients_behind(void) {
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i] != NULL && clients[i]->subscribed && clients[i]->out_len >= CLIENT_OUT_HIGH) return 1;
  return 0;
}

static void stdin_maybe_close(void) {
  /* Closing a pty master would hang the terminal up: only a pipe gets its end of file (dockerd
   * closes stdin on the end of an attach only without a TTY, container/stream/attach.go). */
  if (stdin_close_wanted && stdin_pending_len == 0 && stdin_fd >= 0 && !stdin_is_tty) {
    close(stdin_fd);
    stdin_fd = -1;
  }
}

static void stdin_flush(void) {
  while (stdin_pending_len > 0 && stdin_fd >= 0) {
    ssize_t w = write(stdin_fd, stdin_pending, stdin_pending_len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (w <= 0) {
      /* The reader is gone (EPIPE): what is left has nobody to read it. */
      stdin_pending_len = 0;
      break;
    }
    memmove(stdin_pending, stdin_pending + w, stdin_pending_len - (size_t)w);
    stdin_pending_len -= (size_t)w;
  }
  if (stdin_fd < 0) stdin_pending_len = 0;
  stdin_maybe_close();
}

/* Apply the complete frames a client sent; stops at stdin data while earlier data is pending. */
static int client_process(struct client *c) {
  size_t at = 0;
  while (c->in_len - at >= FRAME_HEADER) {
    unsigned char type = c->in[at];
    uint32_t len = ((uint32_t)c->in[at + 1] << 24) | ((uint32_t)c->in[at + 2] << 16) | ((uint32_t)c->in[at + 3] << 8) | c->in[at + 4];
    if (len > FRAME_MAX) return -1;
    if (c->in_len - at - FRAME_HEADER < len) break;
    const unsigned char *p = c->in + at + FRAME_HEADER;
    if (type == 'i') {
      if (stdin_pending_len > 0) break;
      if (stdin_fd >= 0 && len > 0) {
        memcpy(stdin_pending, p, len);
        stdin_pending_len = len;
        stdin_flush();
      }
    } else if (type == 'e') {
      stdin_close_wanted = 1;
      stdin_maybe_close();
    } else if (type == 'w' && len >= 4) {
      struct winsize ws = {.ws_row = (unsigned short)((p[0] << 8) | p[1]), .ws_col = (unsigned short)((p[2] << 8) | p[3])};
      if (stdin_is_tty && stdin_fd >= 0) (void)ioctl(stdin_fd, TIOCSWINSZ, &ws);
    } else if (type == 'o') {
      static const unsigned char ack = SUBSCRIBED;
      if (!c->subscribed && client_queue(c, &ack, 1) < 0) return -1;
      c->subscribed = 1;
      if (len >= 1 && p[0] == 1 && head_len > 0 && client_queue(c, head, head_len) < 0) return -1;
      /* Only the first subscriber after the start may need what came before it. */
      head_on = 0;
      free(head);
      head = NULL;
      head_len = 0;
    } else {
      return -1;
    }
    at += FRAME_HEADER + len;
  }
  memmove(c->in, c->in + at, c->in_len - at);
  c->in_len -= at;
  return 0;
}

/* A client's socket is readable: take what fits, apply it. -1 = drop the client. */
static int client_read(struct client *c) {
  if (c->in_len < sizeof c->in) {
    ssize_t r = read(c->in_fd, c->in + c->in_len, sizeof c->in - c->in_len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (r < 0) return -1;
    if (r == 0) c->in_eof = 1;
    else c->in_len += (size_t)r;
  }
  return client_process(c);
}

static void accept_clients(int listen_fd) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    if (client_add(fd, fd, 0) == NULL) close(fd);
  }
}

static int listen_unix(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* At the end: give subscribers what is still queued, for at most `ms`. */
static void clients_final_flush(int ms) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct pollfd pfd[MAX_CLIENTS];
    int idx[MAX_CLIENTS];
    int n = 0;
    for (int i = 0; i < MAX_CLIENTS; i++) {
      if (clients[i] == NULL || clients[i]->out_len == 0) continue;
      idx[n] = i;
      pfd[n++] = (struct pollfd){.fd = clients[i]->out_fd, .events = POLLOUT};
    }
    if (n == 0) return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long left = ms - ((now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000LL);
    if (left <= 0 || poll(pfd, (nfds_t)n, (int)left) <= 0) return;
    for (int k = 0; k < n; k++)
      if (pfd[k].revents != 0 && client_flush(clients[idx[k]]) < 0) client_drop(idx[k]);
  }
}

/* ---------- cgroup OOM accounting ---------- */

static char oom_file[PATH_MAX];
static int oom_is_v2;

static long long read_oom_kills(void) {
  if (oom_file[0] == '\0') return -1;
  FILE *f = fopen(oom_file, "re");
  if (f == NULL) return -1;
  char key[64];
  long long v, found = -1;
  while (fscanf(f, "%63s %lld", key, &v) == 2) {
    if (strcmp(key, "oom_kill") == 0) found = v;
  }
  fclose(f);
  return found;
}

/* Find the container's memory cgroup from /proc/PID/cgroup and this process's mountinfo: the v1
 * memory hierarchy if there is one (v1 and hybrid hosts), else the cgroup2 hierarchy. */
static void locate_oom_file(pid_t pid) {
  char path[64], line[4096];
  char v1path[PATH_MAX] = "", v2path[PATH_MAX] = "";
  int have_v1 = 0, have_v2 = 0;
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL) return;
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':');
    char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL) continue;
    *c2 = '\0';
    const char *ctrls = c1 + 1;
    if (strcmp(line, "0") == 0 && *ctrls == '\0') {
      snprintf(v2path, sizeof v2path, "%s", c2 + 1);
      have_v2 = 1;
      continue;
    }
    char list[512];
    snprintf(list, sizeof list, "%s", ctrls);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
      if (strcmp(tok, "memory") == 0) {
        snprintf(v1path, sizeof v1path, "%s", c2 + 1);
        have_v1 = 1;
      }
    }
  }
  fclose(f);

  f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL) return;
  char v1mnt[PATH_MAX] = "", v1root[PATH_MAX] = "", v2mnt[PATH_MAX] = "", v2root[PATH_MAX] = "";
  while (fgets(line, sizeof line, f) != NULL) {
    char *sep = strstr(line, " - ");
    if (sep == NULL) continue;
    *sep = '\0';
    char fstype[32], source[256], superopts[1024] = "";
    if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, superopts) < 2) continue;
    char root[PATH_MAX], mnt[PATH_MAX];
    if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2) continue;
    if (strcmp(fstype, "cgroup2") == 0 && v2mnt[0] == '\0') {
      snprintf(v2mnt, sizeof v2mnt, "%s", mnt);
      snprintf(v2root, sizeof v2root, "%s", root);
    } else if (strcmp(fstype, "cgroup") == 0 && v1mnt[0] == '\0') {
      char list[1024];
      snprintf(list, sizeof list, "%s", superopts);
      for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "memory") == 0) {
          snprintf(v1mnt, sizeof v1mnt, "%s", mnt);
          snprintf(v1root, sizeof v1root, "%s", root);
        }
      }
    }
  }
  fclose(f);

  const char *mnt = NULL, *root = NULL, *cg = NULL;
  if (have_v1 && v1mnt[0] != '\0') {
    mnt = v1mnt, root = v1root, cg = v1path;
    oom_is_v2 = 0;
  } else if (have_v2 && v2mnt[0] != '\0') {
    mnt = v2mnt, root = v2root, cg = v2path;
    oom_is_v2 = 1;
  } else {
    return;
  }
  /* Paths in /proc/PID/cgroup are relative to the hierarchy root; a mount of a sub-cgroup has
   * that sub-cgroup as its mountinfo root. */
  size_t rl = strlen(root);
  if (strcmp(root, "/") != 0 && strncmp(cg, root, rl) == 0) cg += rl;
  snprintf(oom_file, sizeof oom_file, "%s%s/%s", mnt, cg, oom_is_v2 ? "memory.events" : "memory.oom_control");
}

/* ---------- runtime ---------- */

/* Run `RUNTIME [global args] SUB...` with the given stdio (in_r < 0: /dev/null), in a private
 * mount namespace without --private-unmount when asked (crun on hybrid hosts). */
static pid_t spawn_runtime(const char *const *sub, int in_r, int out_w, int err_w) {
  const char *argv[MAX_RUNTIME_ARGS + 24];
  int a = 0;
  argv[a++] = opt.runtime;
  for (int i = 0; i < opt.n_runtime_args; i++) argv[a++] = opt.runtime_args[i];
  for (int i = 0; sub[i] != NULL && a < MAX_RUNTIME_ARGS + 23; i++) argv[a++] = sub[i];
  argv[a] = NULL;

  pid_t pid = fork();
  if (pid != 0) return pid;

  /* Child: the runtime. Default signal state, container stdio in place. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull < 0) _exit(127);
  dup2(in_r >= 0 ? in_r : devnull, 0);
  dup2(out_w, 1);
  dup2(err_w, 2);
  if (devnull > 2) close(devnull);
  if (opt.private_unmount != NULL) {
    /* unshare -m, then make every mount private so the umount stays in this namespace. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        (umount2(opt.private_unmount, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)) {
      dprintf(2, "atomic-monitor: private mount namespace without %s: %s\n", opt.private_unmount, strerror(errno));
      _exit(127);
    }
  }
  execv(opt.runtime, (char *const *)argv);
  dprintf(2, "atomic-monitor: cannot run %s: %s\n", opt.runtime, strerror(errno));
  _exit(127);
}

static void read_available(int fd, char *buf, size_t cap);

/* Run `RUNTIME [global args] SUB [--force] ID`, stdin and stdout /dev/null (ours, after start-up);
 * with `said`, what it wrote on stderr (its error) is kept there. Its wait status, -1 if it could
 * not be run. */
static int run_runtime(const char *sub, int force, char *said, size_t cap) {
  const char *argv[MAX_RUNTIME_ARGS + 8];
  int a = 0;
  argv[a++] = opt.runtime;
  for (int i = 0; i < opt.n_runtime_args; i++) argv[a++] = opt.runtime_args[i];
  argv[a++] = sub;
  if (force) argv[a++] = "--force";
  argv[a++] = opt.id;
  argv[a] = NULL;
  int err_p[2] = {-1, -1};
  if (said != NULL) {
    said[0] = '\0';
    if (pipe2(err_p, O_CLOEXEC) < 0) err_p[0] = err_p[1] = -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    if (err_p[0] >= 0) close(err_p[0]), close(err_p[1]);
    return -1;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    if (err_p[1] >= 0) dup2(err_p[1], 2);
    execv(opt.runtime, (char *const *)argv);
    _exit(127);
  }
  if (err_p[1] >= 0) close(err_p[1]);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      status = -1;
      break;
    }
  }
  /* The runtime has exited: what it wrote is in the pipe (its error is far below the pipe's size). */
  if (err_p[0] >= 0) {
    read_available(err_p[0], said, cap);
    close(err_p[0]);
  }
  return status;
}

/* Receive the pty master the runtime sends over the console socket (SCM_RIGHTS). */
static int receive_console(int listen_fd) {
  struct pollfd p = {.fd = listen_fd, .events = POLLIN};
  if (poll(&p, 1, 5000) <= 0) return -1;
  int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) return -1;
  char data[256];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t r;
  do r = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  close(conn);
  if (r < 0) return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  return -1;
}

/* What a failed runtime said: its stderr (runc and crun print the error there), trimmed. */
static void read_available(int fd, char *buf, size_t cap) {
  size_t used = 0;
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  while (used + 1 < cap) {
    ssize_t r = read(fd, buf + used, cap - 1 - used);
    if (r <= 0) break;
    used += (size_t)r;
  }
  buf[used] = '\0';
  while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == ' ')) buf[--used] = '\0';
}

/* ---------- main ---------- */

static void parse_args(int argc, char **argv) {
  opt.sync_fd = -1;
  opt.daemonize = 1;
  opt.log_max_file = 1;
  opt.drain_timeout_ms = 5000;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(name) (strcmp(a, name) == 0 && (v != NULL || (die_usage(name " needs a value"), 0)) && ++i)
    if (TAKE("--id")) opt.id = v;
    else if (TAKE("--bundle")) opt.bundle = v;
    else if (TAKE("--runtime")) opt.runtime = v;
    else if (TAKE("--runtime-arg")) {
      if (opt.n_runtime_args >= MAX_RUNTIME_ARGS) die_usage("too many --runtime-arg");
      opt.runtime_args[opt.n_runtime_args++] = v;
    } else if (TAKE("--pid-file")) opt.pid_file = v;
    else if (TAKE("--exit-file")) opt.exit_file = v;
    else if (TAKE("--log-path")) opt.log_path = v;
    else if (TAKE("--log-max-size")) opt.log_max_size = atoll(v);
    else if (TAKE("--log-max-file")) opt.log_max_file = atoi(v);
    else if (TAKE("--console-socket")) opt.console_socket = v;
    else if (TAKE("--monitor-pid-file")) opt.monitor_pid_file = v;
    else if (TAKE("--private-unmount")) opt.private_unmount = v;
    else if (TAKE("--unmount-rootfs")) opt.unmount_rootfs = v;
    else if (TAKE("--sync-fd")) opt.sync_fd = atoi(v);
    else if (TAKE("--drain-timeout-ms")) opt.drain_timeout_ms = atoi(v);
    else if (TAKE("--attach-socket")) opt.attach_socket = v;
    else if (TAKE("--exec-process")) opt.exec_process = v;
    else if (strcmp(a, "--stdin") == 0) opt.stdin_pipe = 1;
    else if (strcmp(a, "--tty") == 0) opt.tty = 1;
    else if (strcmp(a, "--start") == 0) opt.start = 1;
    else if (strcmp(a, "--cleanup") == 0) opt.cleanup = 1;
    else if (strcmp(a, "--no-daemonize") == 0) opt.daemonize = 0;
    else {
      fprintf(stderr, "atomic-monitor: unknown argument %s\n", a);
      exit(2);
    }
#undef TAKE
  }
  if (opt.exec_process != NULL) {
    if (opt.id == NULL || opt.runtime == NULL || opt.pid_file == NULL || opt.console_socket == NULL)
      die_usage("usage: atomic-monitor --exec-process FILE --id ID --runtime PATH [--runtime-arg ARG]... --pid-file F --console-socket PATH "
                "[--private-unmount DIR] [--sync-fd N]");
    opt.daemonize = 0;
    opt.tty = 1;
    return;
  }
  if (opt.id == NULL || opt.bundle == NULL || opt.runtime == NULL || opt.pid_file == NULL || opt.exit_file == NULL || opt.log_path == NULL) {
    die_usage("usage: atomic-monitor --id ID --bundle DIR --runtime PATH [--runtime-arg ARG]... --pid-file F --exit-file F "
              "--log-path F [--log-max-size BYTES] [--log-max-file N] [--tty --console-socket PATH] [--stdin] [--attach-socket PATH] [--monitor-pid-file F] "
              "[--private-unmount DIR] [--start] [--cleanup [--unmount-rootfs DIR]] [--sync-fd N] [--no-daemonize]");
  }
  if (opt.tty && opt.console_socket == NULL) die_usage("--tty needs --console-socket");
  if (opt.log_max_file < 1) opt.log_max_file = 1;
}

/* Close every inherited descriptor except stdio and the sync pipe, so the monitor holds nothing
 * of the agent's (sockets, the agent's own pipes) that would keep them alive. */
static void close_inherited(void) {
  int keep = opt.sync_fd;
  /* close_range(2) (Linux 5.9) closes them in one call; a loop up to RLIMIT_NOFILE costs one
   * syscall per possible descriptor (tens of thousands where the limit is raised). */
#ifdef SYS_close_range
  if (keep < 3) {
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
  } else {
    if ((keep == 3 || syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U) == 0) && syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0) return;
  }
#endif
  /* Older kernels: only the descriptors that are open, from /proc/self/fd. */
  DIR *d = opendir("/proc/self/fd");
  if (d != NULL) {
    int dfd = dirfd(d);
    int fds[1024];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < (int)(sizeof fds / sizeof fds[0])) {
      int fd = atoi(e->d_name);
      if (fd >= 3 && fd != keep && fd != dfd) fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++) close(fds[i]);
    if (n < (int)(sizeof fds / sizeof fds[0])) return;
  }
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 3; fd < max; fd++)
    if (fd != keep) close(fd);
}

static void daemonize(void) {
  pid_t p = fork();
  if (p < 0) fail("daemonize", "fork: %s", strerror(errno));
  if (p > 0) _exit(0);
  if (setsid() < 0) fail("daemonize", "setsid: %s", strerror(errno));
  /* Second fork: not a session leader, so opening a tty can never make it our controlling one. */
  p = fork();
  if (p < 0) fail("daemonize", "fork: %s", strerror(errno));
  if (p > 0) _exit(0);
}

/* Write one report line to the sync pipe, keeping it open (the exec relay reports twice). */
static void sync_line(const char *fmt, ...) {
  if (opt.sync_fd < 0) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n > 0) (void)write_all(opt.sync_fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

struct outcome {
  int exited;
  int status;
  struct timespec time;
};

/*
 * Copy output (to the log, and terminal output to subscribers), feed stdin, apply resizes, until
 * `target` has exited and its output is drained (or the drain deadline passed).
 */
static struct outcome supervise(pid_t target, int sfd, struct stream *streams, int nstreams, int listen_fd) {
  struct outcome o = {0, 0, {0, 0}};
  struct timespec deadline = {0, 0};
  unsigned char *buf = malloc(READ_CHUNK);
  if (buf == NULL) exit(1);
  int open_streams = 0;
  for (int i = 0; i < nstreams; i++) open_streams += streams[i].fd >= 0;
  enum { MAXP = 4 + 2 + MAX_CLIENTS };
  for (;;) {
    struct pollfd pfd[MAXP];
    int n = 0;
    pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    int sidx[2] = {-1, -1}, cidx[MAX_CLIENTS], lidx = -1, iidx = -1;
    int behind = clients_behind();
    for (int i = 0; i < nstreams; i++) {
      if (streams[i].fd < 0) continue;
      sidx[i] = n;
      pfd[n++] = (struct pollfd){.fd = streams[i].fd, .events = (short)(streams[i].live && behind && !o.exited ? 0 : POLLIN)};
    }
    if (listen_fd >= 0) {
      lidx = n;
      pfd[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
    }
    if (stdin_pending_len > 0 && stdin_fd >= 0) {
      iidx = n;
      pfd[n++] = (struct pollfd){.fd = stdin_fd, .events = POLLOUT};
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
      cidx[i] = -1;
      struct client *c = clients[i];
      if (c == NULL) continue;
      short ev_in = !c->in_eof && stdin_pending_len == 0 ? POLLIN : 0;
      short ev_out = c->out_len > 0 ? POLLOUT : 0;
      int fd = c->in_fd;
      short ev = (short)(ev_in | ev_out);
      /* The relay's stdin and stdout are two descriptors: output first, then more input. */
      if (c->in_fd != c->out_fd) {
        fd = ev_out ? c->out_fd : c->in_fd;
        ev = ev_out ? ev_out : ev_in;
      }
      /* A client with nothing to read or write is still polled: POLLHUP tells it went away. */
      if (c->persistent && ev == 0) continue;
      cidx[i] = n;
      pfd[n++] = (struct pollfd){.fd = fd, .events = ev};
    }
    if (o.exited && open_streams == 0) break;
    int timeout = -1;
    if (o.exited) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long long left = (deadline.tv_sec - now.tv_sec) * 1000LL + (deadline.tv_nsec - now.tv_nsec) / 1000000LL;
      if (left <= 0) break;
      timeout = (int)left;
    }
    int r = poll(pfd, (nfds_t)n, timeout);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
      }
      for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, WNOHANG);
        if (w <= 0) break;
        if (w == target && !o.exited) {
          o.exited = 1;
          o.status = st;
          clock_gettime(CLOCK_REALTIME, &o.time);
          clock_gettime(CLOCK_MONOTONIC, &deadline);
          deadline.tv_sec += opt.drain_timeout_ms / 1000;
          deadline.tv_nsec += (opt.drain_timeout_ms % 1000) * 1000000L;
          if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
          }
        }
      }
    }
    for (int i = 0; i < nstreams; i++) {
      if (sidx[i] < 0) continue;
      if (pfd[sidx[i]].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (!stream_read(&streams[i], buf)) {
          close(streams[i].fd);
          streams[i].fd = -1;
          open_streams--;
        }
      }
    }
    if (lidx >= 0 && (pfd[lidx].revents & POLLIN)) accept_clients(listen_fd);
    if (iidx >= 0 && (pfd[iidx].revents & (POLLOUT | POLLERR | POLLHUP))) {
      if (pfd[iidx].revents & POLLOUT) stdin_flush();
      else stdin_pending_len = 0; /* the reader went away */
      stdin_maybe_close();
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
      struct client *c = clients[i];
      if (c == NULL) continue;
      int bad = 0;
      if (cidx[i] >= 0) {
        short rev = pfd[cidx[i]].revents, ev = pfd[cidx[i]].events;
        if ((rev & POLLOUT) && client_flush(c) < 0) bad = 1;
        if (!bad && (ev & POLLIN) && (rev & (POLLIN | POLLHUP | POLLERR))) bad = client_read(c) < 0;
        else if (!bad && !(ev & POLLIN) && (rev & (POLLHUP | POLLERR | POLLNVAL))) bad = 1;
      }
      /* Frames held back by pending stdin go on once it drained. */
      if (!bad && c->in_len > 0 && stdin_pending_len == 0) bad = client_process(c) < 0;
      /* Done: it half-closed, its frames are applied, and it wants no output. */
      if (!bad && c->in_eof && c->in_len == 0 && !c->subscribed && !c->persistent) bad = 1;
      if (bad) client_drop(i);
    }
    log_flush();
  }
  free(buf);
  if (!o.exited) {
    /* poll failed: nothing left to copy, but the exit status still matters. */
    while (waitpid(target, &o.status, 0) < 0 && errno == EINTR) {
    }
    clock_gettime(CLOCK_REALTIME, &o.time);
  }
  return o;
}

static int signal_fd_for_children(void) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) fail("start", "signalfd: %s", strerror(errno));
  return sfd;
}

/*
 * Exec relay: `docker exec -t` (the agent's child, it need not outlive the agent: dockerd's exec
 * sessions end with their attach too). Node cannot receive a descriptor over SCM_RIGHTS, so this
 * process takes the pty master from `RUNTIME exec --tty --detach --console-socket`, relays it over
 * its own stdio (frames in on stdin, as on the attach socket; raw output on stdout), and, being
 * the child subreaper the detached exec process is re-parented to, reports its exit status:
 * {"pid":N} and then {"exitCode":N,"signal":S} on the sync pipe.
 */
static int exec_main(void) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) fail("start", "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  int sfd = signal_fd_for_children();
  logfile.fd = -1;
  int listen_fd = listen_unix(opt.console_socket);
  if (listen_fd < 0) fail("start", "console socket %s: %s", opt.console_socket, strerror(errno));
  int err_p[2];
  if (pipe2(err_p, O_CLOEXEC) < 0) fail("start", "pipe: %s", strerror(errno));
  const char *sub[] = {"exec", "--process", opt.exec_process, "--tty", "--detach", "--console-socket", opt.console_socket, "--pid-file", opt.pid_file, opt.id, NULL};
  pid_t rt = spawn_runtime(sub, -1, err_p[1], err_p[1]);
  if (rt < 0) fail("exec", "fork: %s", strerror(errno));
  close(err_p[1]);
  int status;
  while (waitpid(rt, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char said[2048];
    read_available(err_p[0], said, sizeof said);
    unlink(opt.console_socket);
    fail("exec", "%s exec failed (%s %d): %s", opt.runtime, WIFEXITED(status) ? "exit status" : "signal",
         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), said[0] != '\0' ? said : "no message");
  }
  close(err_p[0]);
  int master = receive_console(listen_fd);
  close(listen_fd);
  unlink(opt.console_socket);
  if (master < 0) fail("exec", "the runtime sent no terminal on %s", opt.console_socket);
  pid_t target = 0;
  {
    FILE *f = fopen(opt.pid_file, "re");
    int p = 0;
    if (f == NULL || fscanf(f, "%d", &p) != 1 || p <= 0) {
      if (f != NULL) fclose(f);
      fail("exec", "no process pid in %s", opt.pid_file);
    }
    fclose(f);
    target = p;
  }
  sync_line("{\"pid\":%d}\n", (int)target);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  stdin_fd = dup(master);
  stdin_is_tty = 1;
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  struct client *me = client_add(0, 1, 1);
  if (me == NULL) fail("exec", "out of memory");
  me->subscribed = 1;
  struct stream st = {.fd = master, .name = "stdout", .live = 1};
  struct outcome o = supervise(target, sfd, &st, 1, -1);
  clients_final_flush(2000);
  int code, sig = 0;
  if (WIFEXITED(o.status)) code = WEXITSTATUS(o.status);
  else {
    sig = WTERMSIG(o.status);
    code = 128 + sig;
  }
  sync_report("{\"exitCode\":%d,\"signal\":%d}\n", code, sig);
  return 0;
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  close_inherited();
  if (opt.exec_process == NULL) {
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
      if (devnull > 2) close(devnull);
    }
  }
  if (opt.sync_fd >= 0) fcntl(opt.sync_fd, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  if (chdir("/") < 0) fail("start", "chdir /: %s", strerror(errno));
  umask(022);
  if (opt.exec_process != NULL) return exec_main();
  if (opt.daemonize) daemonize();

  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) fail("start", "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  int sfd = signal_fd_for_children();

  if (opt.monitor_pid_file != NULL) {
    char pidtxt[32];
    int n = snprintf(pidtxt, sizeof pidtxt, "%d\n", (int)getpid());
    if (write_file_atomically(opt.monitor_pid_file, pidtxt, (size_t)n, 0) < 0) fail("start", "writing %s: %s", opt.monitor_pid_file, strerror(errno));
  }

  logfile.fd = -1;
  logfile.path = opt.log_path;
  logfile.max_size = opt.log_max_size;
  logfile.max_file = opt.log_max_file;
  if (log_open(0) < 0) fail("start", "opening the log %s: %s", opt.log_path, strerror(errno));

  int out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, in_p[2] = {-1, -1};
  if (pipe2(err_p, O_CLOEXEC) < 0) fail("start", "pipe: %s", strerror(errno));
  int listen_fd = -1;
  if (opt.tty) {
    listen_fd = listen_unix(opt.console_socket);
    if (listen_fd < 0) fail("start", "console socket %s: %s", opt.console_socket, strerror(errno));
  } else {
    if (pipe2(out_p, O_CLOEXEC) < 0) fail("start", "pipe: %s", strerror(errno));
    /* A larger pipe lets a chatty container run ahead of the monitor for longer. */
    fcntl(out_p[0], F_SETPIPE_SZ, 1 << 20);
    fcntl(err_p[0], F_SETPIPE_SZ, 1 << 20);
    if (opt.stdin_pipe) {
      if (pipe2(in_p, O_CLOEXEC) < 0) fail("start", "pipe: %s", strerror(errno));
      fcntl(in_p[1], F_SETPIPE_SZ, 1 << 20);
    }
  }
  /* Bound before the container exists, so that the agent can connect as soon as it is told the pid. */
  int attach_fd = -1;
  if (opt.attach_socket != NULL) {
    attach_fd = listen_unix(opt.attach_socket);
    if (attach_fd < 0) fail("start", "attach socket %s: %s", opt.attach_socket, strerror(errno));
    fcntl(attach_fd, F_SETFL, fcntl(attach_fd, F_GETFL) | O_NONBLOCK);
  }

  /* With a TTY the runtime's own output goes to the err pipe (for its error messages); the
   * container's goes to the pty. Without, both pipes are the container's stdout/stderr. */
  const char *sub[] = {"create", "--bundle", opt.bundle, "--pid-file", opt.pid_file, opt.tty ? "--console-socket" : opt.id, opt.tty ? opt.console_socket : NULL, opt.tty ? opt.id : NULL, NULL};
  pid_t rt = spawn_runtime(sub, in_p[0], opt.tty ? err_p[1] : out_p[1], err_p[1]);
  if (rt < 0) fail("create", "fork: %s", strerror(errno));
  if (out_p[1] >= 0) close(out_p[1]);
  if (in_p[0] >= 0) close(in_p[0]);
  close(err_p[1]);
  int status;
  while (waitpid(rt, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char said[2048];
    read_available(err_p[0], said, sizeof said);
    if (said[0] == '\0' && out_p[0] >= 0) read_available(out_p[0], said, sizeof said);
    if (opt.tty) unlink(opt.console_socket);
    if (opt.attach_socket != NULL) unlink(opt.attach_socket);
    fail("create", "%s create failed (%s %d): %s", opt.runtime, WIFEXITED(status) ? "exit status" : "signal",
         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), said[0] != '\0' ? said : "no message");
  }

  pid_t container = 0;
  {
    FILE *f = fopen(opt.pid_file, "re");
    int p = 0;
    if (f == NULL || fscanf(f, "%d", &p) != 1 || p <= 0) {
      if (f != NULL) fclose(f);
      if (opt.attach_socket != NULL) unlink(opt.attach_socket);
      fail("create", "no container pid in %s", opt.pid_file);
    }
    fclose(f);
    container = p;
  }

  /* Whatever is in the pipes now was written by the runtime (the container's process has not been
   * started yet: it waits on runc's exec fifo): drop it rather than log it as the container's. */
  {
    char junk[4096];
    read_available(err_p[0], junk, sizeof junk);
    if (out_p[0] >= 0) read_available(out_p[0], junk, sizeof junk);
  }

  struct stream *streams = calloc(2, sizeof *streams);
  if (streams == NULL) fail("create", "out of memory");
  int nstreams = 0;
  if (opt.tty) {
    int master = receive_console(listen_fd);
    close(listen_fd);
    unlink(opt.console_socket);
    if (master < 0) {
      if (opt.attach_socket != NULL) unlink(opt.attach_socket);
      fail("create", "the runtime sent no terminal on %s", opt.console_socket);
    }
    close(err_p[0]);
    streams[nstreams++] = (struct stream){.fd = master, .name = "stdout", .live = 1};
    /* The master is also where stdin and resizes go; its own descriptor, so the end of the
     * output (EIO once the last slave closed) does not take it away. */
    stdin_fd = dup(master);
    stdin_is_tty = 1;
    head_on = opt.attach_socket != NULL;
  } else {
    streams[nstreams++] = (struct stream){.fd = out_p[0], .name = "stdout"};
    streams[nstreams++] = (struct stream){.fd = err_p[0], .name = "stderr"};
    if (in_p[1] >= 0) {
      stdin_fd = in_p[1];
      fcntl(stdin_fd, F_SETFL, fcntl(stdin_fd, F_GETFL) | O_NONBLOCK);
    }
  }
  if (stdin_fd >= 0) fcntl(stdin_fd, F_SETFD, FD_CLOEXEC);
  for (int i = 0; i < nstreams; i++) fcntl(streams[i].fd, F_SETFL, fcntl(streams[i].fd, F_GETFL) | O_NONBLOCK);

  locate_oom_file(container);
  long long oom_before = read_oom_kills();

  if (opt.start) {
    /* The container's init waits on the runtime's exec fifo until `start`; its exit (SIGCHLD,
     * blocked and read from the signalfd below) cannot be missed: it is our child by then. */
    char said[2048];
    int st = run_runtime("start", 0, said, sizeof said);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      if (opt.tty) unlink(opt.console_socket);
      if (opt.attach_socket != NULL) unlink(opt.attach_socket);
      fail("start", "%s start failed (%s %d): %s", opt.runtime, st >= 0 && WIFEXITED(st) ? "exit status" : "signal",
           st < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), said[0] != '\0' ? said : "no message");
    }
  }

  sync_report("{\"pid\":%d,\"monitorPid\":%d}\n", (int)container, (int)getpid());

  struct outcome o = supervise(container, sfd, streams, nstreams, attach_fd);
  /* No new attach from here on; the subscribers get the rest of the output. */
  if (attach_fd >= 0) {
    close(attach_fd);
    unlink(opt.attach_socket);
  }
  char ts[64];
  now_string(ts, sizeof ts);
  for (int i = 0; i < nstreams; i++) stream_flush_partial(&streams[i], ts);
  log_flush();
  /* Flushed to the kernel, not fsynced: readers (the agent, `docker logs`) see it all from the page
   * cache, and dockerd's json-file logger does not sync either; an fsync here held every exit (and
   * so every `run --rm`) up by a disk flush. */
  if (logfile.fd >= 0) close(logfile.fd);
  clients_final_flush(2000);

  long long oom_after = read_oom_kills();
  int oom = oom_before >= 0 && oom_after > oom_before;
  if (opt.cleanup) {
    /* After the OOM count was read: delete removes the container's cgroups. Failures are left to
     * the agent, which deletes and unmounts whatever it still finds. */
    run_runtime("delete", 1, NULL, 0);
    if (opt.unmount_rootfs != NULL && umount2(opt.unmount_rootfs, 0) < 0 && errno == EBUSY) umount2(opt.unmount_rootfs, MNT_DETACH);
  }
  int code, sig = 0;
  if (WIFEXITED(o.status)) code = WEXITSTATUS(o.status);
  else {
    sig = WTERMSIG(o.status);
    code = 128 + sig;
  }
  char finished[64];
  format_time(finished, sizeof finished, &o.time);
  char esc_id[512];
  json_escape_cstr(esc_id, sizeof esc_id, opt.id);
  char out[1024];
  int len = snprintf(out, sizeof out,
                     "{\"id\":\"%s\",\"pid\":%d,\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"oomKillCount\":%lld,"
                     "\"finishedAt\":\"%s\",\"monitorPid\":%d}\n",
                     esc_id, (int)container, code, sig, oom ? "true" : "false", oom_after < 0 ? 0 : oom_after - (oom_before < 0 ? 0 : oom_before),
                     finished, (int)getpid());
  /* Durable: until the agent has recorded it, this file is the only record of the exit code. */
  if (write_file_atomically(opt.exit_file, out, (size_t)len, 1) < 0) return 1;
  return 0;
}
