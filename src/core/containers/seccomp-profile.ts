// atomicd's default seccomp profile, as data. Like Docker's (docs.docker.com "Seccomp security
// profiles for Docker"), it is an allowlist: anything not listed fails with EPERM. The list below
// is ours, written from the syscall tables and man pages, grouped by what the calls do; each
// group says why it is allowed. The principle: allow what an ordinary program (glibc, musl,
// busybox, Go, JVM runtimes) uses on its own behalf; refuse what reaches state that is not
// namespaced (kernel modules, keyrings, clocks, swap, reboot, accounting), what creates new
// namespaces or mounts (escaping the runtime's set-up), and interfaces with a history of
// container escapes when a capability does not already stand in front of them. Calls that the
// kernel already guards with a capability are allowed exactly when the container holds it.
//
// The OCI form (runtime-spec config-linux.md "Seccomp") is what runc and crun load via libseccomp;
// names libseccomp does not know (newer than its syscall table) are skipped by both runtimes.
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from './oci-spec.js';

const EPERM = 1;
const ENOSYS = 38;

interface Rule {
  readonly names: readonly string[];
  /** Return this errno instead of running the call (default: allow). */
  readonly errno?: number;
  readonly args?: readonly OciSeccompArg[];
  /** Only when the container holds at least one of these. */
  readonly whenCaps?: readonly string[];
  /** Only when the container holds none of these. */
  readonly unlessCaps?: readonly string[];
}

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
// CLONE_NEWNET (include/uapi/linux/sched.h): clone(2) with any of these creates a namespace.
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

// personality(2) values that only select Linux behaviour (include/uapi/linux/personality.h):
// PER_LINUX, PER_LINUX32 (`linux32`/`setarch i686`), UNAME26 and PER_LINUX32|UNAME26, plus
// 0xffffffff, which only queries. Other personalities (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, foreign
// ABIs) weaken exploit mitigations for the process and its children.
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const RULES: readonly Rule[] = [
  // File descriptors and plain I/O: the bulk of every program.
  {
    names: [
      'read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'preadv', 'pwritev', 'preadv2', 'pwritev2', 'open', 'openat', 'openat2',
      'creat', 'close', 'close_range', 'lseek', '_llseek', 'dup', 'dup2', 'dup3', 'pipe', 'pipe2', 'fcntl', 'fcntl64', 'ioctl', 'flock',
      'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range', 'sync_file_range2', 'arm_sync_file_range', 'truncate', 'truncate64',
      'ftruncate', 'ftruncate64', 'fallocate', 'fadvise64', 'fadvise64_64', 'arm_fadvise64_64', 'readahead', 'sendfile', 'sendfile64',
      'splice', 'tee', 'vmsplice', 'copy_file_range',
    ],
  },
  // File metadata and the directory tree. Changing owners and modes is checked by the kernel
  // against CAP_CHOWN/CAP_FOWNER/CAP_FSETID; mknod against CAP_MKNOD and the device cgroup.
  // faccessat2 must be allowed, not refused: glibc >= 2.33 falls back only on ENOSYS.
  {
    names: [
      'stat', 'fstat', 'lstat', 'stat64', 'fstat64', 'lstat64', 'newfstatat', 'fstatat64', 'statx', 'statfs', 'fstatfs', 'statfs64',
      'fstatfs64', 'access', 'faccessat', 'faccessat2', 'readlink', 'readlinkat', 'getdents', 'getdents64', 'getcwd', 'chdir', 'fchdir',
      'mkdir', 'mkdirat', 'rmdir', 'rename', 'renameat', 'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat',
      'mknod', 'mknodat', 'chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'chown', 'fchown', 'lchown', 'fchownat', 'chown32', 'fchown32',
      'lchown32', 'umask', 'utime', 'utimes', 'futimesat', 'utimensat', 'utimensat_time64', 'getxattr', 'lgetxattr', 'fgetxattr',
      'setxattr', 'lsetxattr', 'fsetxattr', 'listxattr', 'llistxattr', 'flistxattr', 'removexattr', 'lremovexattr', 'fremovexattr',
      'getxattrat', 'setxattrat', 'listxattrat', 'removexattrat', 'cachestat',
    ],
  },
  // Waiting for events: select/poll/epoll families, eventfd, signalfd, timerfd, inotify.
  // fanotify_mark is harmless alone; the group comes from fanotify_init (CAP_SYS_ADMIN below).
  {
    names: [
      'select', '_newselect', 'pselect6', 'pselect6_time64', 'poll', 'ppoll', 'ppoll_time64', 'epoll_create', 'epoll_create1', 'epoll_ctl',
      'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait', 'epoll_pwait2', 'eventfd', 'eventfd2', 'signalfd', 'signalfd4',
      'timerfd_create', 'timerfd_settime', 'timerfd_gettime', 'timerfd_settime64', 'timerfd_gettime64', 'inotify_init', 'inotify_init1',
      'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark',
    ],
  },
  // Linux AIO (databases use it). io_uring is handled separately below.
  { names: ['io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64'] },
  // Memory management of the process itself. mbind/set_mempolicy only move the caller's pages
  // (MPOL_MF_MOVE_ALL is checked against CAP_SYS_NICE by the kernel); map_shadow_stack is CET
  // (glibc 2.39); mseal only restricts the caller.
  {
    names: [
      'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'pkey_mprotect', 'pkey_alloc', 'pkey_free', 'madvise', 'mincore', 'mlock',
      'mlock2', 'munlock', 'mlockall', 'munlockall', 'msync', 'remap_file_pages', 'membarrier', 'memfd_create', 'memfd_secret',
      'get_mempolicy', 'set_mempolicy', 'mbind', 'map_shadow_stack', 'mseal',
    ],
  },
  // Processes and threads. clone3 passes its flags in a struct seccomp cannot inspect, so it is
  // answered with ENOSYS below (glibc and musl then use clone, which is filtered). rseq is
  // registered by glibc >= 2.35 at every thread start. set_thread_area/get_thread_area are the
  // i386 TLS calls.
  {
    names: [
      'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid', 'getpid', 'getppid', 'gettid', 'getpgid',
      'setpgid', 'getpgrp', 'getsid', 'setsid', 'set_tid_address', 'set_robust_list', 'get_robust_list', 'futex', 'futex_time64',
      'futex_waitv', 'futex_wake', 'futex_wait', 'futex_requeue', 'rseq', 'arch_prctl', 'prctl', 'set_thread_area', 'get_thread_area',
      'restart_syscall', 'uname', 'sysinfo', 'getcpu', 'capget', 'capset', 'seccomp', 'landlock_create_ruleset', 'landlock_add_rule',
      'landlock_restrict_self', 'lsm_get_self_attr', 'lsm_set_self_attr', 'lsm_list_modules', 'uretprobe',
    ],
  },
  // Scheduling and limits of the caller. Raising priorities or rlimits is checked by the kernel
  // against CAP_SYS_NICE/CAP_SYS_RESOURCE.
  {
    names: [
      'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getparam', 'sched_setparam', 'sched_getscheduler',
      'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
      'sched_getattr', 'sched_setattr', 'getpriority', 'setpriority', 'ioprio_get', 'ioprio_set', 'getrlimit', 'setrlimit', 'ugetrlimit',
      'prlimit64', 'getrusage', 'times',
    ],
  },
  // Signals, to the caller's own pid namespace only.
  {
    names: [
      'kill', 'tkill', 'tgkill', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending',
      'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'sigaltstack', 'sigaction', 'sigprocmask', 'sigreturn', 'sigpending',
      'sigsuspend', 'signal', 'pause', 'alarm', 'pidfd_open', 'pidfd_send_signal',
    ],
  },
  // Credentials: changing them is checked by the kernel against CAP_SETUID/CAP_SETGID.
  {
    names: [
      'getuid', 'geteuid', 'getgid', 'getegid', 'getuid32', 'geteuid32', 'getgid32', 'getegid32', 'setuid', 'setgid', 'setuid32', 'setgid32',
      'setreuid', 'setregid', 'setreuid32', 'setregid32', 'setresuid', 'setresgid', 'setresuid32', 'setresgid32', 'getresuid', 'getresgid',
      'getresuid32', 'getresgid32', 'setfsuid', 'setfsgid', 'setfsuid32', 'setfsgid32', 'getgroups', 'setgroups', 'getgroups32',
      'setgroups32',
    ],
  },
  // Reading clocks and timers. Setting the clock is not namespaced: see CAP_SYS_TIME below.
  {
    names: [
      'time', 'gettimeofday', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64', 'clock_nanosleep',
      'clock_nanosleep_time64', 'nanosleep', 'timer_create', 'timer_settime', 'timer_settime64', 'timer_gettime', 'timer_gettime64',
      'timer_getoverrun', 'timer_delete', 'getitimer', 'setitimer',
    ],
  },
  // Sockets: in the container's network namespace. socketcall is the i386 multiplexer.
  {
    names: [
      'socket', 'socketpair', 'bind', 'listen', 'accept', 'accept4', 'connect', 'getsockname', 'getpeername', 'getsockopt', 'setsockopt',
      'sendto', 'recvfrom', 'send', 'recv', 'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg', 'recvmmsg_time64', 'shutdown', 'socketcall',
    ],
  },
  // System V and POSIX IPC: in the container's IPC namespace. ipc is the i386 multiplexer.
  {
    names: [
      'msgget', 'msgsnd', 'msgrcv', 'msgctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'semctl', 'shmget', 'shmat', 'shmdt',
      'shmctl', 'ipc', 'mq_open', 'mq_unlink', 'mq_timedsend', 'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64',
      'mq_notify', 'mq_getsetattr',
    ],
  },
  // Randomness, and the ARM/RISC-V cache and TLS calls their C libraries make.
  { names: ['getrandom', 'breakpoint', 'cacheflush', 'set_tls', 'riscv_flush_icache'] },
  // Debugging a process of the same container. Since Linux 4.8 seccomp filters are re-checked
  // after a ptrace stop, so ptrace can no longer be used to bypass them; the kernel's
  // PTRACE_MODE checks (same uid or CAP_SYS_PTRACE) still apply to each of these.
  { names: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd', 'process_madvise'] },
  // personality: Linux personalities only (see PERSONALITIES).
  ...PERSONALITIES.map((p): Rule => ({ names: ['personality'], args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] })),
  // clone without namespace flags: threads and fork for everyone; new namespaces only with
  // CAP_SYS_ADMIN (the kernel allows an unprivileged CLONE_NEWUSER, the way in to most other
  // namespaced privileges and to kernel code paths reachable only from a user namespace).
  { names: ['clone'], args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], unlessCaps: ['CAP_SYS_ADMIN'] },
  { names: ['clone'], whenCaps: ['CAP_SYS_ADMIN'] },
  { names: ['clone3'], errno: ENOSYS, unlessCaps: ['CAP_SYS_ADMIN'] },
  { names: ['clone3'], whenCaps: ['CAP_SYS_ADMIN'] },
  // io_uring: a large kernel surface with a run of privilege-escalation bugs (Docker refuses it
  // since 25.0 too). ENOSYS rather than EPERM so that liburing users fall back to plain I/O.
  { names: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'], errno: ENOSYS },
  // Capability-gated: the call is allowed when the capability that makes it meaningful is held.
  {
    names: [
      'mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
      'mount_setattr', 'listmount', 'statmount', 'sethostname', 'setdomainname', 'quotactl', 'quotactl_fd', 'fanotify_init',
      'name_to_handle_at', 'lookup_dcookie', 'vm86', 'vm86old', 'chroot', 'bpf', 'perf_event_open', 'syslog',
    ],
    whenCaps: ['CAP_SYS_ADMIN'],
  },
  { names: ['chroot'], whenCaps: ['CAP_SYS_CHROOT'] },
  { names: ['bpf'], whenCaps: ['CAP_BPF'] },
  { names: ['perf_event_open'], whenCaps: ['CAP_PERFMON'] },
  { names: ['syslog'], whenCaps: ['CAP_SYSLOG'] },
  { names: ['reboot'], whenCaps: ['CAP_SYS_BOOT'] },
  { names: ['init_module', 'finit_module', 'delete_module'], whenCaps: ['CAP_SYS_MODULE'] },
  { names: ['acct'], whenCaps: ['CAP_SYS_PACCT'] },
  { names: ['iopl', 'ioperm'], whenCaps: ['CAP_SYS_RAWIO'] },
  { names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'adjtimex', 'clock_adjtime', 'clock_adjtime64'], whenCaps: ['CAP_SYS_TIME'] },
  { names: ['vhangup'], whenCaps: ['CAP_SYS_TTY_CONFIG'] },
  { names: ['open_by_handle_at'], whenCaps: ['CAP_DAC_READ_SEARCH'] },
  { names: ['move_pages', 'migrate_pages', 'process_mrelease'], whenCaps: ['CAP_SYS_NICE'] },
  // Never listed, so refused with EPERM whatever the capabilities: the kernel keyring (add_key,
  // keyctl, request_key: not namespaced, shared by every container of the same uid), swapon and
  // swapoff, kexec_load and kexec_file_load, userfaultfd (a reliable way to win kernel races in
  // exploits), modify_ldt (16-bit segments, only old Wine needs them), uselib, ustat, sysfs,
  // _sysctl, nfsservctl and the other removed or obsolete calls, and any call newer than this list.
];

/** Node's process.arch -> the libseccomp architectures a container of that host can run. */
export function seccompArchitectures(nodeArch: string): string[] {
  switch (nodeArch) {
    case 'x64':
      // 64-bit, i386 (int 0x80 and 32-bit binaries) and x32 ABIs share one x86-64 kernel.
      return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    case 'arm64':
      return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'arm':
      return ['SCMP_ARCH_ARM'];
    case 'riscv64':
      return ['SCMP_ARCH_RISCV64'];
    case 'ppc64':
      return ['SCMP_ARCH_PPC64LE'];
    case 's390x':
      return ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'];
    default:
      return [];
  }
}

/**
 * The default profile for a container holding `capabilities` (its bounding set), on a host of
 * `nodeArch`. Unlisted calls fail with EPERM, the errno Docker's profile uses, so programs see the
 * same failures they would under Docker.
 */
export function defaultSeccompProfile(capabilities: readonly string[], nodeArch: string): OciSeccomp {
  const has = (caps: readonly string[] | undefined): boolean => caps === undefined || caps.some((c) => capabilities.includes(c));
  const syscalls: OciSeccompSyscall[] = [];
  // A call allowed outright once need not be listed again (e.g. chroot under both CAP_SYS_ADMIN and
  // CAP_SYS_CHROOT): one rule per call keeps the filter small and libseccomp free of duplicates.
  const allowed = new Set<string>();
  for (const r of RULES) {
    if (!has(r.whenCaps)) continue;
    if (r.unlessCaps !== undefined && r.unlessCaps.some((c) => capabilities.includes(c))) continue;
    const plain = r.errno === undefined && r.args === undefined;
    const names = plain ? r.names.filter((n) => !allowed.has(n)) : [...r.names];
    if (names.length === 0) continue;
    if (plain) for (const n of names) allowed.add(n);
    const s: OciSeccompSyscall = { names, action: r.errno === undefined ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_ERRNO' };
    if (r.errno !== undefined) s.errnoRet = r.errno;
    if (r.args !== undefined) s.args = r.args.map((a) => ({ ...a }));
    syscalls.push(s);
  }
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: EPERM, architectures: seccompArchitectures(nodeArch), syscalls };
}
