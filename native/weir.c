/*
 * weir_native: the few POSIX socket primitives Node.js does not expose.
 *
 *   socketpair, pipe, socket, bind, connect, listen, getsockname, getpeername,
 *   setReuseAddr, setReusePort, shutdown, fdType, close,
 *   acceptsConnections, sendFds                            (synchronous)
 *   recvFds: poll + recvmsg with SCM_RIGHTS on a thread-pool thread (async work)
 *   DgramHandle: sendmsg/recvmsg on an existing datagram socket fd (Unix or
 *   UDP), driven by a uv_poll_t on the calling environment's event loop.
 *
 * Node-API only (version 8), so one build loads in every Node.js release that
 * supports it; context-aware (no global JS state), so it loads in workers too.
 *
 * Errors thrown or passed to callbacks are shaped like Node's system errors:
 * message "<syscall> <CODE>", code "<CODE>", errno -<errno>, syscall.
 * Bad arguments throw a TypeError (code ERR_INVALID_ARG_TYPE/_VALUE).
 *
 * Lifetimes of a DgramHandle:
 *   - the struct `dgram` lives as long as its JS wrapper (freed by the
 *     wrapper's finalizer); while any operation is pending (or a callback is
 *     being dispatched) the wrapper is held by a strong reference, so a
 *     pending operation can never be collected under us;
 *   - the uv_poll_t lives in a separately allocated `pollbox`, freed in its
 *     uv_close callback (which may run after the wrapper is gone);
 *   - every pollbox registers an async environment cleanup hook, so a
 *     terminating worker (or exiting environment) closes the poll handle and
 *     waits for uv_close to finish before its loop is closed.
 */
#define NAPI_VERSION 8
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* ------------------------------------------------------------------------ */
/* Diagnostics counters (process-wide, all environments).                   */

static int64_t g_live_polls;   /* pollboxes allocated and not yet freed */
static int64_t g_live_handles; /* dgram structs allocated and not yet freed */

static void counter_add(int64_t *c, int64_t delta) {
  __atomic_add_fetch(c, delta, __ATOMIC_RELAXED);
}

static int64_t counter_get(int64_t *c) {
  return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------ */
/* Error helpers.                                                            */

/* Throws a generic Error for a failed Node-API call, unless one is pending. */
static void throw_napi_failure(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  const char *why = (info != NULL && info->error_message != NULL) ? info->error_message : "unknown";
  char msg[256];
  snprintf(msg, sizeof msg, "weir_native: %s failed: %s", what, why);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "ERR_WEIR_NATIVE", msg);
}

#define NAPI_TRY(call)                   \
  do {                                   \
    if ((call) != napi_ok) {             \
      throw_napi_failure(env, #call);    \
      return NULL;                       \
    }                                    \
  } while (0)

/*
 * Writes the errno name ("ECONNRESET") of `err` (a positive errno) to buf: our own table, not
 * libuv's uv_err_name_r, which Bun's Node-API does not provide (it aborts the process).
 */
#define ERRNO_CASE(name) \
  case name:             \
    snprintf(buf, len, "%s", #name); \
    return
static void errno_name(int err, char *buf, size_t len) {
  switch (err) {
    ERRNO_CASE(EPERM);
    ERRNO_CASE(ENOENT);
    ERRNO_CASE(EINTR);
    ERRNO_CASE(EIO);
    ERRNO_CASE(EBADF);
    ERRNO_CASE(EAGAIN);
    ERRNO_CASE(ENOMEM);
    ERRNO_CASE(EACCES);
    ERRNO_CASE(EFAULT);
    ERRNO_CASE(EBUSY);
    ERRNO_CASE(EEXIST);
    ERRNO_CASE(ENOTDIR);
    ERRNO_CASE(EISDIR);
    ERRNO_CASE(EINVAL);
    ERRNO_CASE(ENFILE);
    ERRNO_CASE(EMFILE);
    ERRNO_CASE(ENOSPC);
    ERRNO_CASE(ESPIPE);
    ERRNO_CASE(EROFS);
    ERRNO_CASE(EPIPE);
    ERRNO_CASE(ENAMETOOLONG);
    ERRNO_CASE(ENOSYS);
    ERRNO_CASE(ELOOP);
    ERRNO_CASE(ENOTSOCK);
    ERRNO_CASE(EDESTADDRREQ);
    ERRNO_CASE(EMSGSIZE);
    ERRNO_CASE(EPROTOTYPE);
    ERRNO_CASE(ENOPROTOOPT);
    ERRNO_CASE(EPROTONOSUPPORT);
    ERRNO_CASE(EOPNOTSUPP);
    ERRNO_CASE(EAFNOSUPPORT);
    ERRNO_CASE(EADDRINUSE);
    ERRNO_CASE(EADDRNOTAVAIL);
    ERRNO_CASE(ENETDOWN);
    ERRNO_CASE(ENETUNREACH);
    ERRNO_CASE(ECONNABORTED);
    ERRNO_CASE(ECONNRESET);
    ERRNO_CASE(ENOBUFS);
    ERRNO_CASE(EISCONN);
    ERRNO_CASE(ENOTCONN);
    ERRNO_CASE(ETIMEDOUT);
    ERRNO_CASE(ECONNREFUSED);
    ERRNO_CASE(EHOSTUNREACH);
    ERRNO_CASE(EALREADY);
    ERRNO_CASE(EINPROGRESS);
    ERRNO_CASE(ECANCELED);
    ERRNO_CASE(ESRCH);
    ERRNO_CASE(ENXIO);
    ERRNO_CASE(E2BIG);
    ERRNO_CASE(ECHILD);
    ERRNO_CASE(ENOTEMPTY);
    ERRNO_CASE(EXDEV);
    ERRNO_CASE(ENODEV);
    ERRNO_CASE(EMLINK);
    ERRNO_CASE(ETXTBSY);
    ERRNO_CASE(EFBIG);
    ERRNO_CASE(EOVERFLOW);
    ERRNO_CASE(ESHUTDOWN);
    ERRNO_CASE(EHOSTDOWN);
    ERRNO_CASE(EPROTO);
    ERRNO_CASE(ENOTTY);
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
    ERRNO_CASE(EWOULDBLOCK);
#endif
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
    ERRNO_CASE(ENOTSUP);
#endif
    default:
      snprintf(buf, len, "UNKNOWN");
  }
}
#undef ERRNO_CASE

/* A Node-style system error: message "<syscall> <CODE>", code, errno (<0), syscall. */
static napi_value make_syserr(napi_env env, int err, const char *syscall) {
  char code[64];
  errno_name(err, code, sizeof code);
  char msg[160];
  snprintf(msg, sizeof msg, "%s %s", syscall, code);
  napi_value vmsg, vcode, verrno, vsyscall, error;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &vmsg) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &vcode) != napi_ok) return NULL;
  if (napi_create_int32(env, -err, &verrno) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &vsyscall) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, vmsg, &error) != napi_ok) return NULL;
  napi_set_named_property(env, error, "errno", verrno);
  napi_set_named_property(env, error, "code", vcode);
  napi_set_named_property(env, error, "syscall", vsyscall);
  return error;
}

/*
 * A system error for a callback; never NULL or null, so a failure is never mistaken for
 * success (if the error object cannot be made, a string says what failed).
 */
static napi_value syserr_value(napi_env env, int err, const char *syscall) {
  napi_value e = make_syserr(env, err, syscall);
  if (e == NULL) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &e);
  }
  if (e == NULL) napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &e);
  if (e == NULL) napi_get_boolean(env, true, &e);
  return e;
}

/* Throws a system error; always returns NULL (for `return throw_syserr(...)`). */
static napi_value throw_syserr(napi_env env, int err, const char *syscall) {
  napi_value error = make_syserr(env, err, syscall);
  if (error != NULL) {
    napi_throw(env, error);
  } else {
    throw_napi_failure(env, "creating a system error");
  }
  return NULL;
}

static napi_value throw_type(napi_env env, const char *code, const char *msg) {
  napi_throw_type_error(env, code, msg);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Argument helpers. Each returns false after throwing.                      */

static bool arg_fd(napi_env env, napi_value v, int *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", "fd must be a number");
    return false;
  }
  double d;
  napi_get_value_double(env, v, &d);
  if (!(d >= 0 && d <= 2147483647.0) || d != (double)(int32_t)d) {
    throw_type(env, "ERR_INVALID_ARG_VALUE", "fd must be a non-negative 32-bit integer");
    return false;
  }
  *out = (int32_t)d;
  return true;
}

/* Reads a short string argument and matches it against `choices` (NULL-terminated). */
static bool arg_choice(napi_env env, napi_value v, const char *what, const char *const *choices,
                       int *out) {
  char buf[32];
  size_t len = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string ||
      napi_get_value_string_utf8(env, v, buf, sizeof buf, &len) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  for (int i = 0; choices[i] != NULL; i++) {
    if (strlen(choices[i]) == len && memcmp(choices[i], buf, len) == 0) {
      *out = i;
      return true;
    }
  }
  char msg[200];
  int n = snprintf(msg, sizeof msg, "%s must be one of", what);
  for (int i = 0; choices[i] != NULL && n > 0 && (size_t)n < sizeof msg; i++) {
    n += snprintf(msg + n, sizeof msg - (size_t)n, "%s \"%s\"", i == 0 ? "" : ",", choices[i]);
  }
  throw_type(env, "ERR_INVALID_ARG_VALUE", msg);
  return false;
}

static bool arg_bool(napi_env env, napi_value v, const char *what, bool *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_boolean) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a boolean", what);
    throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  napi_get_value_bool(env, v, out);
  return true;
}

static bool arg_function(napi_env env, napi_value v, const char *what) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_function) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a function", what);
    throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  return true;
}

/* A Uint8Array (Buffer included): its bytes. */
static bool arg_bytes(napi_env env, napi_value v, const char *what, void **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, &length, &ptr, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a Uint8Array", what);
    throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  *data = ptr;
  *len = length;
  return true;
}

/* Gets a named property that must be a string; copies at most cap-1 bytes. */
static bool prop_string(napi_env env, napi_value obj, const char *name, char *buf, size_t cap,
                        size_t *len, bool *too_long) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return false;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    char msg[128];
    snprintf(msg, sizeof msg, "address.%s must be a string", name);
    throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  size_t full = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &full) != napi_ok) return false;
  *too_long = full >= cap;
  if (napi_get_value_string_utf8(env, v, buf, cap, len) != napi_ok) return false;
  return true;
}

/* ------------------------------------------------------------------------ */
/* Addresses.                                                                */

static const char *const k_families[] = {"unix", "inet", "inet6", NULL};

/*
 * Reads an Addr object into a sockaddr. `syscall` names the error thrown for a
 * Unix path that is too long (ENAMETOOLONG).
 */
static bool arg_addr(napi_env env, napi_value v, struct sockaddr_storage *ss, socklen_t *sslen,
                     const char *syscall) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", "address must be an object");
    return false;
  }
  napi_value vfamily;
  int family;
  if (napi_get_named_property(env, v, "family", &vfamily) != napi_ok) return false;
  if (!arg_choice(env, vfamily, "address.family", k_families, &family)) return false;
  memset(ss, 0, sizeof *ss);

  if (family == 0) {
    struct sockaddr_un *sun = (struct sockaddr_un *)ss;
    char path[sizeof sun->sun_path + 2];
    size_t len = 0;
    bool too_long = false;
    if (!prop_string(env, v, "path", path, sizeof path, &len, &too_long)) return false;
    bool abstract = len > 0 && path[0] == '\0';
    if (!abstract && memchr(path, '\0', len) != NULL) {
      throw_type(env, "ERR_INVALID_ARG_VALUE",
                 "address.path must not contain null bytes (except a leading one for an "
                 "abstract name)");
      return false;
    }
    /* A path name needs room for its terminating NUL; an abstract name does not. */
    if (too_long || len > sizeof sun->sun_path - (abstract ? 0 : 1)) {
      throw_syserr(env, ENAMETOOLONG, syscall);
      return false;
    }
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, len);
    *sslen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (abstract || len == 0 ? 0 : 1));
    return true;
  }

  /* inet / inet6 */
  napi_value vport;
  napi_valuetype pt;
  double port;
  if (napi_get_named_property(env, v, "port", &vport) != napi_ok) return false;
  if (napi_typeof(env, vport, &pt) != napi_ok || pt != napi_number) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", "address.port must be a number");
    return false;
  }
  napi_get_value_double(env, vport, &port);
  if (!(port >= 0 && port <= 65535) || port != (double)(int)port) {
    throw_type(env, "ERR_INVALID_ARG_VALUE", "address.port must be an integer from 0 to 65535");
    return false;
  }
  char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t len = 0;
  bool too_long = false;
  if (!prop_string(env, v, "address", addr, sizeof addr, &len, &too_long)) return false;
  if (too_long || memchr(addr, '\0', len) != NULL) {
    throw_type(env, "ERR_INVALID_ARG_VALUE", "address.address is not a valid IP address");
    return false;
  }
  if (family == 1) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
      throw_type(env, "ERR_INVALID_ARG_VALUE", "address.address is not a valid IPv4 address");
      return false;
    }
    *sslen = sizeof *sin;
    return true;
  }
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons((uint16_t)port);
  char *pct = strchr(addr, '%');
  if (pct != NULL) {
    *pct = '\0';
    const char *scope = pct + 1;
    char *end = NULL;
    unsigned long id = strtoul(scope, &end, 10);
    if (*scope == '\0') {
      id = 0;
    } else if (*end != '\0') {
      id = if_nametoindex(scope);
    }
    if (id == 0 || id > UINT32_MAX) {
      throw_type(env, "ERR_INVALID_ARG_VALUE", "address.address has an unknown IPv6 scope");
      return false;
    }
    sin6->sin6_scope_id = (uint32_t)id;
  }
  if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1) {
    throw_type(env, "ERR_INVALID_ARG_VALUE", "address.address is not a valid IPv6 address");
    return false;
  }
  *sslen = sizeof *sin6;
  return true;
}

static bool set_str(napi_env env, napi_value obj, const char *name, const char *s, size_t len) {
  napi_value v;
  return napi_create_string_utf8(env, s, len, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

/*
 * Converts a sockaddr to an Addr object. `unix_domain` says an empty address
 * (length 0, as recvmsg reports an unnamed Unix sender) is a Unix one.
 * Returns NULL, without throwing, for a family it does not know.
 */
static napi_value addr_to_js(napi_env env, const struct sockaddr_storage *ss, socklen_t len,
                             bool unix_domain) {
  napi_value obj;
  int family = len >= (socklen_t)sizeof(sa_family_t) ? ss->ss_family : (unix_domain ? AF_UNIX : -1);
  if (family == AF_UNIX) {
    const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t plen = len > off ? (size_t)len - off : 0;
    if (plen > sizeof sun->sun_path) plen = sizeof sun->sun_path;
    /* A path name is NUL-terminated; an abstract name (leading NUL) is exactly plen bytes. */
    if (plen > 0 && sun->sun_path[0] != '\0') plen = strnlen(sun->sun_path, plen);
    if (napi_create_object(env, &obj) != napi_ok) return NULL;
    if (!set_str(env, obj, "family", "unix", NAPI_AUTO_LENGTH)) return NULL;
    if (!set_str(env, obj, "path", sun->sun_path, plen)) return NULL;
    return obj;
  }
  if (family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    char buf[INET_ADDRSTRLEN];
    napi_value port;
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf) == NULL) return NULL;
    if (napi_create_object(env, &obj) != napi_ok) return NULL;
    if (!set_str(env, obj, "family", "inet", NAPI_AUTO_LENGTH)) return NULL;
    if (!set_str(env, obj, "address", buf, NAPI_AUTO_LENGTH)) return NULL;
    if (napi_create_uint32(env, ntohs(sin->sin_port), &port) != napi_ok) return NULL;
    if (napi_set_named_property(env, obj, "port", port) != napi_ok) return NULL;
    return obj;
  }
  if (family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 12];
    napi_value port;
    if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, INET6_ADDRSTRLEN) == NULL) return NULL;
    if (sin6->sin6_scope_id != 0) {
      char ifname[IF_NAMESIZE];
      size_t n = strlen(buf);
      if (if_indextoname(sin6->sin6_scope_id, ifname) != NULL) {
        snprintf(buf + n, sizeof buf - n, "%%%s", ifname);
      } else {
        snprintf(buf + n, sizeof buf - n, "%%%u", (unsigned)sin6->sin6_scope_id);
      }
    }
    if (napi_create_object(env, &obj) != napi_ok) return NULL;
    if (!set_str(env, obj, "family", "inet6", NAPI_AUTO_LENGTH)) return NULL;
    if (!set_str(env, obj, "address", buf, NAPI_AUTO_LENGTH)) return NULL;
    if (napi_create_uint32(env, ntohs(sin6->sin6_port), &port) != napi_ok) return NULL;
    if (napi_set_named_property(env, obj, "port", port) != napi_ok) return NULL;
    return obj;
  }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Synchronous primitives.                                                   */

static const char *const k_types[] = {"stream", "dgram", NULL};
static const int k_type_values[] = {SOCK_STREAM, SOCK_DGRAM};
static const int k_domain_values[] = {AF_UNIX, AF_INET, AF_INET6};

/* Makes fd non-blocking and close-on-exec (for systems without SOCK_NONBLOCK/pipe2). */
static int set_nonblock_cloexec(int fd) __attribute__((unused));
static int set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return errno;
  int fdl = fcntl(fd, F_GETFD);
  if (fdl < 0 || fcntl(fd, F_SETFD, fdl | FD_CLOEXEC) < 0) return errno;
  return 0;
}

static int make_socket(int domain, int type) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = socket(domain, type, 0);
  if (fd >= 0) {
    int err = set_nonblock_cloexec(fd);
    if (err != 0) {
      close(fd);
      errno = err;
      return -1;
    }
  }
  return fd;
#endif
}

static napi_value pair_to_js(napi_env env, const int fds[2]) {
  napi_value arr, a, b;
  NAPI_TRY(napi_create_array_with_length(env, 2, &arr));
  NAPI_TRY(napi_create_int32(env, fds[0], &a));
  NAPI_TRY(napi_create_int32(env, fds[1], &b));
  NAPI_TRY(napi_set_element(env, arr, 0, a));
  NAPI_TRY(napi_set_element(env, arr, 1, b));
  return arr;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* Gets up to `want` arguments; missing ones are undefined. */
#define GET_ARGS(want)                                                           \
  size_t argc = (want);                                                          \
  napi_value argv[(want) > 0 ? (want) : 1];                                      \
  napi_value self;                                                               \
  NAPI_TRY(napi_get_cb_info(env, info, &argc, argv, &self, NULL));               \
  for (size_t i_ = argc; i_ < sizeof argv / sizeof argv[0]; i_++) argv[i_] = undefined(env); \
  (void)self

/* socketpair(type): [fd, fd] */
static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int type;
  if (!arg_choice(env, argv[0], "type", k_types, &type)) return NULL;
  int fds[2];
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  if (socketpair(AF_UNIX, k_type_values[type] | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
    return throw_syserr(env, errno, "socketpair");
  }
#else
  if (socketpair(AF_UNIX, k_type_values[type], 0, fds) < 0) return throw_syserr(env, errno, "socketpair");
  int err = set_nonblock_cloexec(fds[0]);
  if (err == 0) err = set_nonblock_cloexec(fds[1]);
  if (err != 0) {
    close(fds[0]);
    close(fds[1]);
    return throw_syserr(env, err, "fcntl");
  }
#endif
  napi_value r = pair_to_js(env, fds);
  if (r == NULL) {
    close(fds[0]);
    close(fds[1]);
  }
  return r;
}

/* pipe(): [readFd, writeFd] */
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return throw_syserr(env, errno, "pipe");
#else
  if (pipe(fds) < 0) return throw_syserr(env, errno, "pipe");
  int err = set_nonblock_cloexec(fds[0]);
  if (err == 0) err = set_nonblock_cloexec(fds[1]);
  if (err != 0) {
    close(fds[0]);
    close(fds[1]);
    return throw_syserr(env, err, "fcntl");
  }
#endif
  napi_value r = pair_to_js(env, fds);
  if (r == NULL) {
    close(fds[0]);
    close(fds[1]);
  }
  return r;
}

/* socket(domain, type): fd */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int domain, type;
  if (!arg_choice(env, argv[0], "domain", k_families, &domain)) return NULL;
  if (!arg_choice(env, argv[1], "type", k_types, &type)) return NULL;
  int fd = make_socket(k_domain_values[domain], k_type_values[type]);
  if (fd < 0) return throw_syserr(env, errno, "socket");
  napi_value r;
  if (napi_create_int32(env, fd, &r) != napi_ok) {
    close(fd);
    throw_napi_failure(env, "napi_create_int32");
    return NULL;
  }
  return r;
}

/* bind(fd, addr) */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int fd;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  if (!arg_addr(env, argv[1], &ss, &len, "bind")) return NULL;
  if (bind(fd, (struct sockaddr *)&ss, len) < 0) return throw_syserr(env, errno, "bind");
  return undefined(env);
}

/* connect(fd, addr): immediate connect; EINPROGRESS is thrown like any error. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int fd;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  if (!arg_addr(env, argv[1], &ss, &len, "connect")) return NULL;
  int r;
  do {
    r = connect(fd, (struct sockaddr *)&ss, len);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return throw_syserr(env, errno, "connect");
  return undefined(env);
}

/* listen(fd, backlog) */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  napi_valuetype t;
  double backlog;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_number) {
    return throw_type(env, "ERR_INVALID_ARG_TYPE", "backlog must be a number");
  }
  napi_get_value_double(env, argv[1], &backlog);
  if (!(backlog >= 0 && backlog <= 2147483647.0) || backlog != (double)(int32_t)backlog) {
    return throw_type(env, "ERR_INVALID_ARG_VALUE", "backlog must be a non-negative 32-bit integer");
  }
  if (listen(fd, (int)backlog) < 0) return throw_syserr(env, errno, "listen");
  return undefined(env);
}

static napi_value name_common(napi_env env, napi_callback_info info, bool peer) {
  GET_ARGS(1);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
               : getsockname(fd, (struct sockaddr *)&ss, &len);
  const char *syscall = peer ? "getpeername" : "getsockname";
  if (r < 0) return throw_syserr(env, errno, syscall);
  if (len > sizeof ss) len = sizeof ss;
  /* An unbound Unix socket reports just the family (or nothing); that is path "". */
  bool unix_domain = false;
  if (len < (socklen_t)sizeof(sa_family_t)) {
    int domain = 0;
    socklen_t dl = sizeof domain;
#ifdef SO_DOMAIN
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) == 0 && domain == AF_UNIX) unix_domain = true;
#else
    (void)dl;
#endif
  }
  napi_value obj = addr_to_js(env, &ss, len, unix_domain);
  if (obj == NULL) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) return throw_syserr(env, EAFNOSUPPORT, syscall);
  }
  return obj;
}

/* getsockname(fd): Addr */
static napi_value js_getsockname(napi_env env, napi_callback_info info) {
  return name_common(env, info, false);
}

/* getpeername(fd): Addr */
static napi_value js_getpeername(napi_env env, napi_callback_info info) {
  return name_common(env, info, true);
}

static napi_value sockopt_bool(napi_env env, napi_callback_info info, int opt, const char *what) {
  GET_ARGS(2);
  int fd;
  bool on;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  if (!arg_bool(env, argv[1], what, &on)) return NULL;
  int v = on ? 1 : 0;
  if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) < 0) return throw_syserr(env, errno, "setsockopt");
  return undefined(env);
}

/* setReuseAddr(fd, on) */
static napi_value js_set_reuse_addr(napi_env env, napi_callback_info info) {
  return sockopt_bool(env, info, SO_REUSEADDR, "on");
}

/* setReusePort(fd, on) */
static napi_value js_set_reuse_port(napi_env env, napi_callback_info info) {
#ifdef SO_REUSEPORT
  return sockopt_bool(env, info, SO_REUSEPORT, "on");
#else
  GET_ARGS(2);
  int fd;
  bool on;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  if (!arg_bool(env, argv[1], "on", &on)) return NULL;
  return throw_syserr(env, ENOPROTOOPT, "setsockopt");
#endif
}

/* An int argument in lo..hi. */
static bool arg_int_in(napi_env env, napi_value v, const char *what, int lo, int hi, int *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a number", what);
    throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  napi_get_value_double(env, v, &d);
  if (!(d >= lo && d <= hi) || d != (double)(int)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be an integer in %d..%d", what, lo, hi);
    throw_type(env, "ERR_INVALID_ARG_VALUE", msg);
    return false;
  }
  *out = (int)d;
  return true;
}

static int set_int_opt(int fd, int level, int opt, int v) {
  return setsockopt(fd, level, opt, &v, sizeof v);
}

/*
 * setKeepAlive(fd, on, idleS, intervalS, count): SO_KEEPALIVE, and (when > 0) the idle time
 * before the first probe, the time between probes (seconds) and the probe count.
 */
static napi_value js_set_keepalive(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  int fd, idle, intvl, cnt;
  bool on;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  if (!arg_bool(env, argv[1], "on", &on)) return NULL;
  if (!arg_int_in(env, argv[2], "idleS", 0, 32767, &idle)) return NULL;
  if (!arg_int_in(env, argv[3], "intervalS", 0, 32767, &intvl)) return NULL;
  if (!arg_int_in(env, argv[4], "count", 0, 127, &cnt)) return NULL;
  if (set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0) < 0) {
    return throw_syserr(env, errno, "setsockopt");
  }
  if (!on) return undefined(env);
#if defined(TCP_KEEPIDLE)
  if (idle > 0 && set_int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle) < 0) {
    return throw_syserr(env, errno, "setsockopt");
  }
#elif defined(TCP_KEEPALIVE)
  if (idle > 0 && set_int_opt(fd, IPPROTO_TCP, TCP_KEEPALIVE, idle) < 0) {
    return throw_syserr(env, errno, "setsockopt");
  }
#endif
#if defined(TCP_KEEPINTVL)
  if (intvl > 0 && set_int_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, intvl) < 0) {
    return throw_syserr(env, errno, "setsockopt");
  }
#endif
#if defined(TCP_KEEPCNT)
  if (cnt > 0 && set_int_opt(fd, IPPROTO_TCP, TCP_KEEPCNT, cnt) < 0) {
    return throw_syserr(env, errno, "setsockopt");
  }
#endif
  return undefined(env);
}

static bool get_int_opt(int fd, int level, int opt, int *out) {
  socklen_t len = sizeof *out;
  return getsockopt(fd, level, opt, out, &len) == 0;
}

static bool set_int_prop(napi_env env, napi_value obj, const char *name, int v) {
  napi_value n;
  return napi_create_int32(env, v, &n) == napi_ok && napi_set_named_property(env, obj, name, n) == napi_ok;
}

/* getKeepAlive(fd): { on, idleS, intervalS, count } as the kernel has them (-1: unknown). */
static napi_value js_get_keepalive(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  int on = 0, idle = -1, intvl = -1, cnt = -1;
  if (!get_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, &on)) return throw_syserr(env, errno, "getsockopt");
#if defined(TCP_KEEPIDLE)
  if (!get_int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle)) idle = -1;
#elif defined(TCP_KEEPALIVE)
  if (!get_int_opt(fd, IPPROTO_TCP, TCP_KEEPALIVE, &idle)) idle = -1;
#endif
#if defined(TCP_KEEPINTVL)
  if (!get_int_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl)) intvl = -1;
#endif
#if defined(TCP_KEEPCNT)
  if (!get_int_opt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt)) cnt = -1;
#endif
  napi_value obj, b;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  if (napi_get_boolean(env, on != 0, &b) != napi_ok || napi_set_named_property(env, obj, "on", b) != napi_ok) {
    return NULL;
  }
  if (!set_int_prop(env, obj, "idleS", idle) || !set_int_prop(env, obj, "intervalS", intvl) ||
      !set_int_prop(env, obj, "count", cnt)) {
    return NULL;
  }
  return obj;
}

/* close(fd); EINTR counts as closed (Linux always releases the fd). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  if (close(fd) < 0 && errno != EINTR) return throw_syserr(env, errno, "close");
  return undefined(env);
}

/* dup(fd): a new close-on-exec descriptor for the same open file (F_DUPFD_CLOEXEC) */
static napi_value js_dup(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (nfd < 0) return throw_syserr(env, errno, "dup");
  napi_value r;
  NAPI_TRY(napi_create_int32(env, nfd, &r));
  return r;
}

/* fdType(fd): "stream" | "dgram" | "other" */
static napi_value js_fd_type(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  int type = 0;
  socklen_t len = sizeof type;
  const char *name = "other";
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
    if (errno != ENOTSOCK) return throw_syserr(env, errno, "getsockopt");
  } else if (type == SOCK_STREAM) {
    name = "stream";
  } else if (type == SOCK_DGRAM) {
    name = "dgram";
  }
  napi_value r;
  NAPI_TRY(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &r));
  return r;
}

/* shutdown(fd, "send" | "receive" | "all") */
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  static const char *const hows[] = {"send", "receive", "all", NULL};
  static const int how_values[] = {SHUT_WR, SHUT_RD, SHUT_RDWR};
  GET_ARGS(2);
  int fd, how;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  if (!arg_choice(env, argv[1], "how", hows, &how)) return NULL;
  if (shutdown(fd, how_values[how]) < 0) return throw_syserr(env, errno, "shutdown");
  return undefined(env);
}

/* stats(): { pollHandles, dgramHandles } */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, polls, handles;
  NAPI_TRY(napi_create_object(env, &obj));
  NAPI_TRY(napi_create_int64(env, counter_get(&g_live_polls), &polls));
  NAPI_TRY(napi_create_int64(env, counter_get(&g_live_handles), &handles));
  NAPI_TRY(napi_set_named_property(env, obj, "pollHandles", polls));
  NAPI_TRY(napi_set_named_property(env, obj, "dgramHandles", handles));
  return obj;
}

/* ------------------------------------------------------------------------ */
/* DgramHandle.                                                              */

typedef struct send_req {
  struct send_req *next;
  napi_ref cb;
  uint32_t nbufs;
  napi_ref *refs;    /* one per buffer, keeping it alive */
  struct iovec *iov; /* one per buffer */
  struct sockaddr_storage dst;
  socklen_t dstlen; /* 0: no destination (connected socket) */
} send_req;

typedef struct recv_req {
  napi_ref buf;
  napi_ref cb;
  void *data;
  size_t len;
} recv_req;

typedef struct dgram dgram;

typedef struct pollbox {
  uv_poll_t h; /* first member: a uv_handle_t* is a pollbox* */
  dgram *owner; /* NULL once closing */
  napi_async_cleanup_hook_handle hook;
  bool closing;
} pollbox;

struct dgram {
  napi_env env;
  napi_ref self; /* weak while idle, strong while holds > 0 */
  uint32_t holds;
  napi_async_context actx;
  int fd;
  int domain;
  bool close_fd;
  bool closed;
  pollbox *box;
  int events; /* events the poll handle is started for; 0 when stopped */
  recv_req *recv;
  send_req *sq_head, *sq_tail;
};

static void hold(dgram *d) {
  if (d->holds++ == 0 && d->self != NULL) napi_reference_ref(d->env, d->self, NULL);
}

static void release(dgram *d) {
  if (d->holds > 0 && --d->holds == 0 && d->self != NULL) napi_reference_unref(d->env, d->self, NULL);
}

static void free_send_req(napi_env env, send_req *r) {
  if (r->cb != NULL) napi_delete_reference(env, r->cb);
  for (uint32_t i = 0; i < r->nbufs; i++) {
    if (r->refs[i] != NULL) napi_delete_reference(env, r->refs[i]);
  }
  free(r);
}

static void free_recv_req(napi_env env, recv_req *r) {
  if (r->cb != NULL) napi_delete_reference(env, r->cb);
  if (r->buf != NULL) napi_delete_reference(env, r->buf);
  free(r);
}

static void on_box_closed(uv_handle_t *h) {
  pollbox *pb = (pollbox *)h;
  if (pb->hook != NULL) napi_remove_async_cleanup_hook(pb->hook);
  free(pb);
  counter_add(&g_live_polls, -1);
}

static void box_close(pollbox *pb) {
  if (pb->closing) return;
  pb->closing = true;
  if (pb->owner != NULL) {
    pb->owner->box = NULL;
    pb->owner->events = 0;
    pb->owner = NULL;
  }
  uv_close((uv_handle_t *)&pb->h, on_box_closed);
}

/*
 * Environment teardown (worker exit, process exit): close everything without
 * calling into JavaScript. Pending callbacks are dropped.
 */
static void teardown_dgram(dgram *d) {
  napi_env env = d->env;
  d->closed = true;
  if (d->recv != NULL) {
    free_recv_req(env, d->recv);
    d->recv = NULL;
    release(d);
  }
  while (d->sq_head != NULL) {
    send_req *r = d->sq_head;
    d->sq_head = r->next;
    free_send_req(env, r);
    release(d);
  }
  d->sq_tail = NULL;
  if (d->box != NULL) box_close(d->box);
  if (d->close_fd && d->fd >= 0) close(d->fd);
  d->fd = -1;
  if (d->actx != NULL) {
    napi_async_destroy(env, d->actx);
    d->actx = NULL;
  }
}

static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  pollbox *pb = arg;
  pb->hook = handle; /* the same handle; removed (which signals "done") in on_box_closed */
  if (pb->closing) return;
  if (pb->owner != NULL) teardown_dgram(pb->owner);
  box_close(pb);
}

/*
 * Calls a JS callback. From the event loop (`exc` NULL) it goes through
 * napi_make_callback, so microtasks and nextTicks run afterwards, and an
 * exception becomes an uncaught exception. From inside a JS call (`exc`
 * non-NULL) the first exception is stored in *exc for the caller to rethrow
 * once every callback has run.
 */
static void invoke(dgram *d, napi_ref cbref, size_t argc, napi_value *argv, napi_value *exc) {
  napi_env env = d->env;
  napi_value cb, recv, result;
  if (napi_get_reference_value(env, cbref, &cb) != napi_ok || cb == NULL) return;
  /* napi_make_callback needs an object receiver: the handle itself (or the global object). */
  recv = NULL;
  if (d->self != NULL) napi_get_reference_value(env, d->self, &recv);
  if (recv == NULL) napi_get_global(env, &recv);
  if (d->actx != NULL) {
    napi_make_callback(env, d->actx, recv, cb, argc, argv, &result);
  } else {
    napi_call_function(env, recv, cb, argc, argv, &result);
  }
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) return;
  napi_value e;
  napi_get_and_clear_last_exception(env, &e);
  if (exc != NULL) {
    if (*exc == NULL) *exc = e;
  } else {
    napi_fatal_exception(env, e);
  }
}

/* Finishes a send request (already unlinked): calls back with err (0 = ok), frees it. */
static void complete_send(dgram *d, send_req *r, int err, napi_value *exc) {
  napi_env env = d->env;
  napi_handle_scope scope;
  bool have_scope = napi_open_handle_scope(env, &scope) == napi_ok;
  napi_value arg;
  if (err == 0) {
    napi_get_null(env, &arg);
  } else {
    arg = syserr_value(env, err, "sendmsg");
  }
  invoke(d, r->cb, 1, &arg, exc);
  free_send_req(env, r);
  release(d);
  if (have_scope) napi_close_handle_scope(env, scope);
}

/* Finishes the recv request (already unlinked): err, or n bytes from src. */
static void complete_recv(dgram *d, recv_req *r, int err, size_t n, bool truncated,
                          const struct sockaddr_storage *ss, socklen_t sslen, napi_value *exc) {
  napi_env env = d->env;
  napi_handle_scope scope;
  bool have_scope = napi_open_handle_scope(env, &scope) == napi_ok;
  napi_value argv[4];
  napi_get_boolean(env, err == 0 && truncated, &argv[3]);
  if (err != 0) {
    argv[0] = syserr_value(env, err, "recvmsg");
    napi_create_int32(env, 0, &argv[1]);
    napi_get_null(env, &argv[2]);
  } else {
    napi_get_null(env, &argv[0]);
    napi_create_double(env, (double)n, &argv[1]);
    argv[2] = addr_to_js(env, ss, sslen, d->domain == AF_UNIX);
    if (argv[2] == NULL) napi_get_null(env, &argv[2]);
  }
  invoke(d, r->cb, 4, argv, exc);
  free_recv_req(env, r);
  release(d);
  if (have_scope) napi_close_handle_scope(env, scope);
}

static bool would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

/* One sendmsg for the request; returns 0 or an errno. */
static int do_send(dgram *d, send_req *r) {
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = r->iov;
  m.msg_iovlen = r->nbufs;
  if (r->dstlen > 0) {
    m.msg_name = &r->dst;
    m.msg_namelen = r->dstlen;
  }
  ssize_t n;
  do {
    n = sendmsg(d->fd, &m, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

/* Sends queued requests in order until the queue is empty or the socket is full. */
static void flush_sends(dgram *d, napi_value *exc) {
  while (!d->closed && d->sq_head != NULL) {
    send_req *r = d->sq_head;
    int err = do_send(d, r);
    if (would_block(err)) return;
    d->sq_head = r->next;
    if (d->sq_head == NULL) d->sq_tail = NULL;
    complete_send(d, r, err, exc);
  }
}

/* One recvmsg for the pending recv, unless it would block. */
static void try_recv(dgram *d, napi_value *exc) {
  recv_req *r = d->recv;
  if (r == NULL || d->closed) return;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct iovec iov = {r->data, r->len};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_name = &ss;
  m.msg_namelen = sizeof ss;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  ssize_t n;
  do {
    n = recvmsg(d->fd, &m, 0);
  } while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  if (would_block(err)) return;
  d->recv = NULL;
  /* With flags 0, n is what fit in the buffer; MSG_TRUNC in msg_flags says the rest was dropped. */
  complete_recv(d, r, err, n < 0 ? 0 : (size_t)n, (m.msg_flags & MSG_TRUNC) != 0, &ss,
                m.msg_namelen > sizeof ss ? (socklen_t)sizeof ss : m.msg_namelen, exc);
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Starts/stops polling for exactly what the pending operations wait for. */
static void update_poll(dgram *d) {
  if (d->closed || d->box == NULL) return;
  int want = (d->recv != NULL ? UV_READABLE : 0) | (d->sq_head != NULL ? UV_WRITABLE : 0);
  if (want == d->events) return;
  if (want == 0) {
    uv_poll_stop(&d->box->h);
  } else if (uv_poll_start(&d->box->h, want, on_poll) != 0) {
    return; /* keeps d->events; the next update retries */
  }
  d->events = want;
}

/* Fails every pending operation with err (callbacks run). */
static void fail_all(dgram *d, int err, napi_value *exc) {
  recv_req *rr = d->recv;
  send_req *sq = d->sq_head;
  d->recv = NULL;
  d->sq_head = d->sq_tail = NULL;
  if (rr != NULL) complete_recv(d, rr, err, 0, false, NULL, 0, exc);
  while (sq != NULL) {
    send_req *next = sq->next;
    complete_send(d, sq, err, exc);
    sq = next;
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  pollbox *pb = (pollbox *)h;
  dgram *d = pb->owner;
  if (d == NULL || d->closed) return;
  napi_env env = d->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  hold(d);
  if (status < 0) {
    fail_all(d, -status, NULL);
  } else {
    if (events & UV_WRITABLE) flush_sends(d, NULL);
    if (events & UV_READABLE) try_recv(d, NULL);
  }
  update_poll(d);
  release(d);
  napi_close_handle_scope(env, scope);
}

static bool unwrap(napi_env env, napi_value self, dgram **out) {
  void *p = NULL;
  if (napi_unwrap(env, self, &p) != napi_ok || p == NULL) {
    throw_type(env, "ERR_INVALID_THIS", "Value of \"this\" must be of type DgramHandle");
    return false;
  }
  *out = p;
  return true;
}

static void dgram_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  dgram *d = data;
  if (!d->closed) {
    /* Collected while open (so nothing was pending: pending work holds the wrapper). */
    teardown_dgram(d);
  }
  if (d->actx != NULL) napi_async_destroy(env, d->actx);
  if (d->self != NULL) napi_delete_reference(env, d->self);
  free(d);
  counter_add(&g_live_handles, -1);
}

/* new DgramHandle(fd, { closeFd = true } = {}) */
static napi_value dgram_new(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  napi_value target;
  NAPI_TRY(napi_get_new_target(env, info, &target));
  if (target == NULL) return throw_type(env, "ERR_CONSTRUCT_CALL_REQUIRED", "DgramHandle must be called with new");
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  bool close_fd = true;
  napi_valuetype t;
  NAPI_TRY(napi_typeof(env, argv[1], &t));
  if (t == napi_object) {
    napi_value v;
    napi_valuetype vt;
    NAPI_TRY(napi_get_named_property(env, argv[1], "closeFd", &v));
    NAPI_TRY(napi_typeof(env, v, &vt));
    if (vt != napi_undefined && !arg_bool(env, v, "options.closeFd", &close_fd)) return NULL;
  } else if (t != napi_undefined) {
    return throw_type(env, "ERR_INVALID_ARG_TYPE", "options must be an object");
  }

  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
    if (errno == ENOTSOCK) return throw_type(env, "ERR_INVALID_ARG_VALUE", "fd is not a socket");
    return throw_syserr(env, errno, "getsockopt");
  }
  if (type != SOCK_DGRAM) return throw_type(env, "ERR_INVALID_ARG_VALUE", "fd is not a datagram socket");
  int domain = AF_UNSPEC;
#ifdef SO_DOMAIN
  len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) domain = AF_UNSPEC;
#endif

  uv_loop_t *loop = NULL;
  NAPI_TRY(napi_get_uv_event_loop(env, &loop));

  dgram *d = calloc(1, sizeof *d);
  pollbox *pb = calloc(1, sizeof *pb);
  if (d == NULL || pb == NULL) {
    free(d);
    free(pb);
    return throw_syserr(env, ENOMEM, "malloc");
  }
  int r = uv_poll_init(loop, &pb->h, fd); /* also makes fd non-blocking */
  if (r != 0) {
    free(d);
    free(pb);
    return throw_syserr(env, -r, "uv_poll_init");
  }
  counter_add(&g_live_polls, 1);
  counter_add(&g_live_handles, 1);
  d->env = env;
  d->fd = fd;
  d->domain = domain;
  d->close_fd = close_fd;
  d->box = pb;
  pb->owner = d;

  napi_value resource_name;
  bool ok = napi_create_string_utf8(env, "weir:DgramHandle", NAPI_AUTO_LENGTH, &resource_name) == napi_ok &&
            napi_async_init(env, self, resource_name, &d->actx) == napi_ok &&
            napi_add_async_cleanup_hook(env, on_env_cleanup, pb, &pb->hook) == napi_ok;
  if (ok && napi_wrap(env, self, d, dgram_finalize, NULL, &d->self) != napi_ok) ok = false;
  if (!ok) {
    throw_napi_failure(env, "creating DgramHandle");
    /* The fd stays the caller's: the handle was never made. */
    d->close_fd = false;
    d->closed = true;
    if (d->actx != NULL) napi_async_destroy(env, d->actx);
    box_close(pb);
    free(d);
    counter_add(&g_live_handles, -1);
    return NULL;
  }
  return self;
}

/* handle.send(bufs, dst, cb) */
static napi_value dgram_send(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  dgram *d;
  if (!unwrap(env, self, &d)) return NULL;
  bool is_array = false;
  uint32_t n = 0;
  NAPI_TRY(napi_is_array(env, argv[0], &is_array));
  if (!is_array) return throw_type(env, "ERR_INVALID_ARG_TYPE", "bufs must be an array of Uint8Array");
  NAPI_TRY(napi_get_array_length(env, argv[0], &n));
  napi_valuetype dt;
  struct sockaddr_storage dst;
  socklen_t dstlen = 0;
  NAPI_TRY(napi_typeof(env, argv[1], &dt));
  if (dt != napi_null && dt != napi_undefined) {
    if (!arg_addr(env, argv[1], &dst, &dstlen, "sendmsg")) return NULL;
  }
  if (!arg_function(env, argv[2], "callback")) return NULL;
  if (d->closed) return throw_syserr(env, EBADF, "sendmsg");

  size_t size = sizeof(send_req) + (size_t)n * (sizeof(napi_ref) + sizeof(struct iovec));
  send_req *r = calloc(1, size);
  if (r == NULL) return throw_syserr(env, ENOMEM, "malloc");
  r->iov = (struct iovec *)(r + 1);
  r->refs = (napi_ref *)(r->iov + n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value b;
    void *data;
    size_t len;
    char what[48];
    snprintf(what, sizeof what, "bufs[%u]", (unsigned)i);
    if (napi_get_element(env, argv[0], i, &b) != napi_ok || !arg_bytes(env, b, what, &data, &len) ||
        napi_create_reference(env, b, 1, &r->refs[i]) != napi_ok) {
      r->nbufs = i;
      free_send_req(env, r);
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (!pending) throw_napi_failure(env, "reading bufs");
      return NULL;
    }
    r->iov[i].iov_base = data;
    r->iov[i].iov_len = len;
  }
  r->nbufs = n;
  if (dstlen > 0) {
    r->dst = dst;
    r->dstlen = dstlen;
  }
  if (napi_create_reference(env, argv[2], 1, &r->cb) != napi_ok) {
    free_send_req(env, r);
    throw_napi_failure(env, "napi_create_reference");
    return NULL;
  }

  hold(d);
  bool was_empty = d->sq_head == NULL;
  if (d->sq_tail != NULL) {
    d->sq_tail->next = r;
  } else {
    d->sq_head = r;
  }
  d->sq_tail = r;
  napi_value exc = NULL;
  if (was_empty) flush_sends(d, &exc); /* try at once; otherwise it waits its turn */
  update_poll(d);
  if (exc != NULL) napi_throw(env, exc);
  return NULL;
}

/* handle.recv(buf, cb) */
static napi_value dgram_recv(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  dgram *d;
  if (!unwrap(env, self, &d)) return NULL;
  void *data;
  size_t len;
  if (!arg_bytes(env, argv[0], "buf", &data, &len)) return NULL;
  if (!arg_function(env, argv[1], "callback")) return NULL;
  if (d->closed) return throw_syserr(env, EBADF, "recvmsg");
  if (d->recv != NULL) return throw_type(env, "ERR_INVALID_STATE", "a recv is already pending on this DgramHandle");
  recv_req *r = calloc(1, sizeof *r);
  if (r == NULL) return throw_syserr(env, ENOMEM, "malloc");
  r->data = data;
  r->len = len;
  if (napi_create_reference(env, argv[0], 1, &r->buf) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &r->cb) != napi_ok) {
    free_recv_req(env, r);
    throw_napi_failure(env, "napi_create_reference");
    return NULL;
  }
  hold(d);
  d->recv = r;
  napi_value exc = NULL;
  try_recv(d, &exc);
  update_poll(d);
  if (exc != NULL) napi_throw(env, exc);
  return NULL;
}

/* handle.cancelRecv(): the pending recv (if any) fails with ECANCELED. */
static napi_value dgram_cancel_recv(napi_env env, napi_callback_info info) {
  GET_ARGS(0);
  dgram *d;
  if (!unwrap(env, self, &d)) return NULL;
  recv_req *r = d->recv;
  if (r == NULL) return NULL;
  d->recv = NULL;
  update_poll(d);
  napi_value exc = NULL;
  complete_recv(d, r, ECANCELED, 0, false, NULL, 0, &exc);
  if (exc != NULL) napi_throw(env, exc);
  return NULL;
}

/* handle.close(): idempotent. */
static napi_value dgram_close(napi_env env, napi_callback_info info) {
  GET_ARGS(0);
  dgram *d;
  if (!unwrap(env, self, &d)) return NULL;
  if (d->closed) return NULL;
  d->closed = true;
  hold(d);
  recv_req *rr = d->recv;
  send_req *sq = d->sq_head;
  d->recv = NULL;
  d->sq_head = d->sq_tail = NULL;
  if (d->box != NULL) box_close(d->box); /* stops polling, before the fd goes */
  if (d->close_fd && d->fd >= 0) close(d->fd);
  d->fd = -1;
  napi_value exc = NULL;
  if (rr != NULL) complete_recv(d, rr, ECANCELED, 0, false, NULL, 0, &exc);
  while (sq != NULL) {
    send_req *next = sq->next;
    complete_send(d, sq, ECANCELED, &exc);
    sq = next;
  }
  if (d->actx != NULL) {
    napi_async_destroy(env, d->actx);
    d->actx = NULL;
  }
  release(d);
  if (exc != NULL) napi_throw(env, exc);
  return NULL;
}

/* handle.fd: the descriptor, or -1 once closed. */
static napi_value dgram_get_fd(napi_env env, napi_callback_info info) {
  GET_ARGS(0);
  dgram *d;
  if (!unwrap(env, self, &d)) return NULL;
  napi_value r;
  NAPI_TRY(napi_create_int32(env, d->closed ? -1 : d->fd, &r));
  return r;
}

/* ------------------------------------------------------------------------ */
/* Passing fds over a Unix stream socket (SCM_RIGHTS), and SO_ACCEPTCONN.    */

#define MAX_PASSED_FDS 16
#define MAX_PASSED_BYTES 65536

/* acceptsConnections(fd): whether a socket is listening (SO_ACCEPTCONN) */
static napi_value js_accepts_connections(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  int on = 0;
  socklen_t len = sizeof on;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0) {
    return throw_syserr(env, errno, "getsockopt");
  }
  napi_value r;
  NAPI_TRY(napi_get_boolean(env, on != 0, &r));
  return r;
}

/* trySend(fd, bufs): one non-blocking sendmsg of `bufs` (at most 64) on a connected stream
 * socket; returns the bytes the kernel took (0 if its buffer is full), or -errno on failure.
 * Never throws for the socket's own errors: the caller falls back to its usual write path,
 * which reports them. */
#define TRY_SEND_MAX_BUFS 64
static napi_value js_try_send(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) {
    return throw_type(env, "ERR_INVALID_ARG_TYPE", "bufs must be an array of Uint8Arrays");
  }
  NAPI_TRY(napi_get_array_length(env, argv[1], &n));
  if (n > TRY_SEND_MAX_BUFS) {
    return throw_type(env, "ERR_INVALID_ARG_VALUE", "bufs must hold at most 64 buffers");
  }
  struct iovec iov[TRY_SEND_MAX_BUFS];
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    NAPI_TRY(napi_get_element(env, argv[1], i, &v));
    if (!arg_bytes(env, v, "bufs[i]", &iov[i].iov_base, &iov[i].iov_len)) return NULL;
  }
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  ssize_t r;
  do {
    r = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  double out = r >= 0 ? (double)r : (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -(double)errno;
  napi_value res;
  NAPI_TRY(napi_create_double(env, out, &res));
  return res;
}

/* sendFds(fd, data, fds): one sendmsg of `data` (>= 1 byte) carrying `fds`; returns bytes sent */
static napi_value js_send_fds(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  int fd;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  void *data;
  size_t len;
  if (!arg_bytes(env, argv[1], "data", &data, &len)) return NULL;
  if (len < 1 || len > MAX_PASSED_BYTES) {
    return throw_type(env, "ERR_INVALID_ARG_VALUE", "data must be 1 to 65536 bytes");
  }
  bool is_array = false;
  uint32_t nfds = 0;
  if (napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array) {
    return throw_type(env, "ERR_INVALID_ARG_TYPE", "fds must be an array of fds");
  }
  NAPI_TRY(napi_get_array_length(env, argv[2], &nfds));
  if (nfds > MAX_PASSED_FDS) {
    return throw_type(env, "ERR_INVALID_ARG_VALUE", "fds must hold at most 16 fds");
  }
  int fds[MAX_PASSED_FDS];
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value v;
    NAPI_TRY(napi_get_element(env, argv[2], i, &v));
    if (!arg_fd(env, v, &fds[i])) return NULL;
  }
  struct iovec iov = {.iov_base = data, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    msg.msg_control = ctl.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return throw_syserr(env, errno, "sendmsg");
  napi_value r;
  NAPI_TRY(napi_create_int64(env, (int64_t)n, &r));
  return r;
}

/* A recvFds in flight: the work runs poll(2) + recvmsg(2) on a libuv thread-pool thread. */
typedef struct {
  napi_async_work work;
  napi_ref cb;
  int fd;
  int timeout_ms;
  size_t cap;
  char *buf;
  ssize_t n;
  int err;
  const char *syscall;
  int fds[MAX_PASSED_FDS];
  int nfds;
} recvfds_req;


/* Monotonic ms, from the C library: not uv_hrtime, which not every runtime's addon host exports
 * (Deno's does not: loading the addon would fail with a symbol lookup error). */
static uint64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void recvfds_execute(napi_env env, void *data) {
  (void)env;
  recvfds_req *r = data;
  struct pollfd p = {.fd = r->fd, .events = POLLIN, .revents = 0};
  int left = r->timeout_ms;
  uint64_t start = monotonic_ms();
  for (;;) {
    int k = poll(&p, 1, left);
    if (k < 0 && errno == EINTR) k = -2;
    if (k == 0) {
      r->err = ETIMEDOUT;
      r->syscall = "poll";
      return;
    }
    if (k == -1) {
      r->err = errno;
      r->syscall = "poll";
      return;
    }
    if (k > 0) {
      struct iovec iov = {.iov_base = r->buf, .iov_len = r->cap};
      union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)];
        struct cmsghdr align;
      } ctl;
      struct msghdr msg;
      memset(&msg, 0, sizeof msg);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = ctl.buf;
      msg.msg_controllen = sizeof ctl.buf;
      ssize_t n = recvmsg(r->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
      if (n >= 0) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
          int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
          int got[MAX_PASSED_FDS];
          memcpy(got, CMSG_DATA(c), sizeof(int) * (size_t)count);
          for (int i = 0; i < count; i++) {
            if (r->nfds < MAX_PASSED_FDS) r->fds[r->nfds++] = got[i];
            else close(got[i]);
          }
        }
        if (msg.msg_flags & MSG_CTRUNC) {
          for (int i = 0; i < r->nfds; i++) close(r->fds[i]);
          r->nfds = 0;
          r->err = EMSGSIZE;
          r->syscall = "recvmsg";
          return;
        }
        r->n = n;
        return;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        r->err = errno;
        r->syscall = "recvmsg";
        return;
      }
    }
    if (r->timeout_ms >= 0) {
      uint64_t spent = monotonic_ms() - start;
      if (spent >= (uint64_t)r->timeout_ms) {
        r->err = ETIMEDOUT;
        r->syscall = "poll";
        return;
      }
      left = r->timeout_ms - (int)spent;
    }
  }
}

static void recvfds_complete(napi_env env, napi_status status, void *data) {
  recvfds_req *r = data;
  napi_value cb = NULL, argv[3], global;
  if (status == napi_cancelled) {
    r->err = ECANCELED;
    r->syscall = "recvmsg";
  }
  if (env != NULL && napi_get_reference_value(env, r->cb, &cb) == napi_ok && cb != NULL) {
    napi_get_null(env, &argv[0]);
    napi_get_null(env, &argv[1]);
    napi_create_array_with_length(env, (size_t)r->nfds, &argv[2]);
    if (r->err != 0) {
      argv[0] = syserr_value(env, r->err, r->syscall);
    } else {
      void *copy = NULL;
      if (napi_create_buffer_copy(env, (size_t)r->n, r->buf, &copy, &argv[1]) != napi_ok) {
        napi_get_null(env, &argv[1]);
      }
      for (int i = 0; i < r->nfds; i++) {
        napi_value v;
        napi_create_int32(env, r->fds[i], &v);
        napi_set_element(env, argv[2], (uint32_t)i, v);
      }
    }
    napi_get_global(env, &global);
    napi_value ignored;
    if (napi_call_function(env, global, cb, 3, argv, &ignored) != napi_ok) {
      /* an exception from the callback: leave it pending, Node reports it as uncaught */
    }
  } else {
    for (int i = 0; i < r->nfds; i++) close(r->fds[i]);
  }
  if (env != NULL) {
    napi_delete_reference(env, r->cb);
    napi_delete_async_work(env, r->work);
  }
  free(r->buf);
  free(r);
}

/*
 * recvFds(fd, maxBytes, timeoutMs, cb): waits (off the event loop) for one message on a Unix
 * stream socket and calls cb(err, data, fds): data a Buffer (length 0 at end-of-file), fds
 * the descriptors it carried (close-on-exec). err `ETIMEDOUT` after timeoutMs (-1: no limit).
 * To give up early, shutdown(fd) (the wait ends with end-of-file); close fd only after cb.
 */
static napi_value js_recv_fds(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  int fd, cap, timeout;
  if (!arg_fd(env, argv[0], &fd)) return NULL;
  if (!arg_int_in(env, argv[1], "maxBytes", 1, MAX_PASSED_BYTES, &cap)) return NULL;
  if (!arg_int_in(env, argv[2], "timeoutMs", -1, 2147483647, &timeout)) return NULL;
  if (!arg_function(env, argv[3], "cb")) return NULL;
  recvfds_req *r = calloc(1, sizeof *r);
  if (r == NULL) return throw_syserr(env, ENOMEM, "recvFds");
  r->buf = malloc((size_t)cap);
  if (r->buf == NULL) {
    free(r);
    return throw_syserr(env, ENOMEM, "recvFds");
  }
  r->fd = fd;
  r->cap = (size_t)cap;
  r->timeout_ms = timeout;
  napi_value name;
  if (napi_create_reference(env, argv[3], 1, &r->cb) != napi_ok ||
      napi_create_string_utf8(env, "weir.recvFds", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, recvfds_execute, recvfds_complete, r, &r->work) !=
          napi_ok ||
      napi_queue_async_work(env, r->work) != napi_ok) {
    free(r->buf);
    free(r);
    throw_napi_failure(env, "recvFds");
    return NULL;
  }
  return undefined(env);
}

/* ------------------------------------------------------------------------ */
/* Module.                                                                   */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor fns[] = {
      {"socketpair", NULL, js_socketpair, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pipe", NULL, js_pipe, NULL, NULL, NULL, napi_enumerable, NULL},
      {"socket", NULL, js_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getsockname", NULL, js_getsockname, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getpeername", NULL, js_getpeername, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setReuseAddr", NULL, js_set_reuse_addr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setReusePort", NULL, js_set_reuse_port, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setKeepAlive", NULL, js_set_keepalive, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getKeepAlive", NULL, js_get_keepalive, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dup", NULL, js_dup, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fdType", NULL, js_fd_type, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"acceptsConnections", NULL, js_accepts_connections, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendFds", NULL, js_send_fds, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvFds", NULL, js_recv_fds, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trySend", NULL, js_try_send, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns) != napi_ok) return NULL;

  napi_property_descriptor methods[] = {
      {"send", NULL, dgram_send, NULL, NULL, NULL, napi_default_method, NULL},
      {"recv", NULL, dgram_recv, NULL, NULL, NULL, napi_default_method, NULL},
      {"cancelRecv", NULL, dgram_cancel_recv, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, dgram_close, NULL, NULL, NULL, napi_default_method, NULL},
      {"fd", NULL, NULL, dgram_get_fd, NULL, NULL, napi_enumerable | napi_configurable, NULL},
  };
  napi_value ctor;
  if (napi_define_class(env, "DgramHandle", NAPI_AUTO_LENGTH, dgram_new, NULL,
                        sizeof methods / sizeof methods[0], methods, &ctor) != napi_ok) {
    return NULL;
  }
  if (napi_set_named_property(env, exports, "DgramHandle", ctor) != napi_ok) return NULL;
  return exports;
}
