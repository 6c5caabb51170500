// The files that make a Debian tree an atomic host: atomicd's units, first-boot SSH host keys,
// DHCP on every ethernet link through systemd-networkd, root growth on first boot, the agent's
// command wrappers. Paths are relative to the tree root and are written before /etc moves to
// /usr/etc. Units go to /usr/lib/systemd/system (vendor units: /etc stays the admin's).

export interface TreeFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export interface OsUnitsOptions {
  /** Where the agent is installed in the tree (node + dist/ + native/ + node_modules). */
  readonly agentDir: string;
  readonly rootLabel: string;
}

/** The units to enable (systemctl enable) after the files are written. */
export const ENABLED_UNITS: readonly string[] = [
  'atomicd-provision.service',
  'atomicd.service',
  'atomic-ssh-keygen.service',
  'ssh.service',
  'systemd-networkd.service',
  'systemd-resolved.service',
];

/**
 * Units a read-only /usr makes useless or harmful: apt's daily timers would try to download
 * and unpack packages into the image (updates come as new deployments).
 */
export const MASKED_UNITS: readonly string[] = ['apt-daily.timer', 'apt-daily-upgrade.timer', 'apt-daily.service', 'apt-daily-upgrade.service'];

export const AGENT_DIR = '/usr/lib/atomic';

/**
 * atomicd-provision.service: one provisioning pass per boot (modules run at their own
 * frequencies: per-instance ones only on the first boot of an instance), before anything that
 * logs in or serves: ssh, the agent, consoles (systemd-user-sessions).
 *
 * The seed-device race: the NoCloud datasource scans /sys/class/block for an ISO or FAT file
 * system labelled cidata. A CD appears only once its driver is loaded and the SCSI/ATA scan has
 * reported it: under QEMU with virtio-scsi, virtio_scsi -> async LUN scan -> sr_mod -> sr0. Our
 * initramfs loads virtio_scsi, sr_mod and cdrom with the root disk drivers, so the scan starts
 * there and sr0 normally exists before systemd starts; for drivers udev loads later (ATA CDs,
 * USB), the unit runs after udev's coldplug (systemd-udev-trigger) and waits for the udev event
 * queue to drain (`udevadm settle`), the ordering cloud-init's local stage has. Not the
 * deprecated systemd-udev-settle.service: that would delay every unit ordered after it.
 *
 * Output goes to the journal and the console: the final message (the summary) is on the serial
 * console of a headless VM, where cloud-init users look for it.
 */
export function provisionUnit(): string {
  return `[Unit]
Description=atomicd first-boot provisioning (cloud-init NoCloud/EC2 datasources)
Documentation=man:atomicd(8)
After=systemd-udev-trigger.service local-fs.target systemd-tmpfiles-setup.service systemd-remount-fs.service
Wants=systemd-udev-trigger.service getty-pre.target
Before=ssh.service atomicd.service atomic-ssh-keygen.service systemd-user-sessions.service getty-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStartPre=-/usr/bin/udevadm settle --timeout=30
# --live: the hostname is also set on the running kernel, not only in /etc/hostname for the next boot.
ExecStart=/usr/bin/atomicd provision --root / --live
ExecStartPost=-/bin/sh -c 'echo "atomicd-provision: hostname $(hostname)"'
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=10min

[Install]
WantedBy=multi-user.target
`;
}

/**
 * atomicd.service: the agent. KillMode=process: container monitors are not children the agent
 * waits for; they keep containers running and logging while the agent restarts or is upgraded
 * (containerd's unit does the same). Delegate=yes: it manages the containers' cgroups itself.
 */
export function agentUnit(): string {
  return `[Unit]
Description=atomicd: atomic host agent (Docker-compatible Engine API, containers)
Documentation=man:atomicd(8)
After=atomicd-provision.service network.target systemd-networkd.service
Wants=atomicd-provision.service network.target

[Service]
Type=simple
ExecStart=/usr/bin/atomicd run
Restart=always
RestartSec=2
KillMode=process
Delegate=yes
LimitNOFILE=1048576
TasksMax=infinity
StandardOutput=journal
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;
}

/** Host keys are made on first boot: keys baked into an image would be shared by every machine. */
export function sshKeygenUnit(): string {
  return `[Unit]
Description=SSH host keys (made on first boot: the image ships none)
After=atomicd-provision.service
Before=ssh.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=ssh.service multi-user.target
`;
}

export function networkdDhcp(): string {
  return `# atomic: DHCP (v4 and v6) on every ethernet link; files in /etc/systemd/network override this.
[Match]
Name=en* eth*

[Network]
DHCP=yes

[DHCPv4]
UseDomains=yes
`;
}

/**
 * systemd-repart: the existing root partition (Discoverable Partitions type `root`, which the
 * disk helper gives it) grows into the free space behind it on first boot; the file system
 * follows through x-systemd.growfs in fstab (systemd-growfs, online ext4 resize).
 */
export function repartRoot(): string {
  return `# atomic: grow the root partition to fill the disk on first boot.
[Partition]
Type=root
`;
}

export function fstab(rootLabel: string): string {
  return `# atomic: the root file system (an ostree deployment is bind-mounted from it).
# x-systemd.growfs: systemd-growfs resizes it to its partition (grown by systemd-repart) at boot.
LABEL=${rootLabel} / ext4 defaults,x-systemd.growfs 0 0
`;
}

export function sshdConfig(): string {
  return `# atomic: keys of users baked into the image live in /etc (merged across updates by ostree),
# keys written by provisioning in the users' homes.
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/authorized_keys.d/%u
`;
}

/**
 * The journal kept on disk from the first boot: journald makes /var/log/journal itself when it
 * flushes (with Storage=auto it would wait for the directory, which /var's tmpfiles create only
 * after the flush on a fresh /var).
 */
export function journaldConf(): string {
  return `# atomic: persistent journal (/var is the stateroot's, kept across updates).
[Journal]
Storage=persistent
`;
}

/**
 * Node options of the agent's process (its launchers: the /usr/bin/atomicd wrapper here, the
 * `#!` line of dist/bin/atomicd.cjs, the test fixture; its code cache is made with them). Both
 * keep an idle agent's resident memory down (bench: under 60 MB; measured idle after a pull and
 * six `run --rm`: 62 MB with neither, 59.7 with the first alone, 54 with both):
 *   - --max-semi-space-size=1 (MB): the young generation grows to 8 MB during a pull or a burst of
 *     API calls and keeps those pages while idle (measured: 7 MB physical, 3 KB used).
 *   - --lite-mode: V8 without its optimizing tiers, allocating type feedback lazily. The agent
 *     waits on sockets, processes and the kernel, and moves bulk data in Buffers through native
 *     code (hashing, gzip): a pull of 215 MB is as fast with it (ratio to podman 0.56-0.80 in the
 *     same session, both ways). TurboFan, once woken, also stays resident: 4-10 MB.
 * V8 flags have to be on the command line: set after start, they do not reach what is already set up.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--lite-mode'];

export function wrapper(agentDir: string, script: string, nodeFlags: readonly string[] = []): string {
  return `#!/bin/sh\nexec ${agentDir}/node ${nodeFlags.map((f) => `${f} `).join('')}${agentDir}/${script} "$@"\n`;
}

export function osUnits(o: OsUnitsOptions): TreeFile[] {
  const unit = (name: string, content: string): TreeFile => ({ path: `usr/lib/systemd/system/${name}`, content, mode: 0o644 });
  return [
    unit('atomicd-provision.service', provisionUnit()),
    unit('atomicd.service', agentUnit()),
    unit('atomic-ssh-keygen.service', sshKeygenUnit()),
    { path: 'usr/lib/systemd/network/80-atomic-dhcp.network', content: networkdDhcp(), mode: 0o644 },
    { path: 'usr/lib/repart.d/50-atomic-root.conf', content: repartRoot(), mode: 0o644 },
    { path: 'etc/fstab', content: fstab(o.rootLabel), mode: 0o644 },
    { path: 'usr/lib/systemd/journald.conf.d/50-atomic.conf', content: journaldConf(), mode: 0o644 },
    { path: 'etc/ssh/sshd_config.d/50-atomic.conf', content: sshdConfig(), mode: 0o644 },
    { path: 'usr/bin/atomic', content: wrapper(o.agentDir, 'dist/bin/atomic.cjs'), mode: 0o755 },
    { path: 'usr/bin/atomicd', content: wrapper(o.agentDir, 'dist/bin/atomicd.cjs', AGENT_NODE_FLAGS), mode: 0o755 },
  ];
}
