#!/usr/bin/env node
// `atomic`, the companion CLI. This file only declares commands and their flags; each command's
// code is imported when it runs, so `atomic seed create` does not pay for loading the ISO reader,
// the YAML parser's users or anything else it does not need (start-up time is benchmarked).
import { Option, type Command } from '#commander';
import { addMediaCommands } from './media-commands.js';
import { createProgram, runProgram } from './program.js';

const program = createProgram();
addMediaCommands(program);

// --- atomic host -------------------------------------------------------------------------------
const host = program.command('host').description('OS deployments through libostree: status, upgrade, rollback, pin, kargs, remotes');
const hostCmd = (name: string, description: string): Command =>
  host
    .command(name)
    .description(description)
    .option('--sysroot <dir>', 'the system root (an offline sysroot works like a booted one)', '/')
    .option('--os <name>', 'the stateroot (default: the booted one, or the only one)');
hostCmd('status', 'deployments in boot order with versions, origins and marks')
  .option('--json', 'print as JSON')
  .action(async (opts) => (await import('./commands/host-status.js')).run(opts));
for (const verb of ['upgrade', 'deploy', 'rebase'] as const) {
  const c = hostCmd(verb, {
    upgrade: "pull the origin's ref and deploy it as the new default",
    deploy: 'deploy a given VERSION or CHECKSUM of the origin\'s ref',
    rebase: 'deploy REMOTE:REF and follow it from now on',
  }[verb]);
  if (verb !== 'upgrade') c.argument(verb === 'deploy' ? '<version-or-checksum>' : '<remote:ref>');
  c.option('--check', 'only fetch commit metadata and say whether there is an update (exit 77: none)')
    .option('--download-only', 'pull, but do not deploy')
    .option('--stage', 'stage the deployment, finalized at shutdown (booted hosts)')
    .option('--reboot', 'reboot into the new deployment (the running host only)')
    .option('--json', 'print the outcome as JSON')
    .action(async (...args: unknown[]) => {
      const opts = args[verb === 'upgrade' ? 0 : 1] as Record<string, unknown>;
      const target = verb === 'upgrade' ? undefined : (args[0] as string);
      await (await import('./commands/host-update.js')).run(verb, target, opts as never);
    });
}
hostCmd('rollback', 'make the previous deployment the default again')
  .option('--json', 'print as JSON')
  .action(async (opts) => (await import('./commands/host-boot-order.js')).rollback(opts));
hostCmd('pin', 'keep a deployment through cleanups and upgrades')
  .argument('<index>', 'deployment index (atomic host status)')
  .option('--json', 'print as JSON')
  .action(async (index: string, opts) => (await import('./commands/host-boot-order.js')).pin(index, true, opts));
hostCmd('unpin', 'let cleanups remove a deployment again')
  .argument('<index>', 'deployment index (atomic host status)')
  .option('--json', 'print as JSON')
  .action(async (index: string, opts) => (await import('./commands/host-boot-order.js')).pin(index, false, opts));
hostCmd('cleanup', 'remove undeployed trees and unreferenced objects')
  .option('--rollback', 'also remove the rollback deployment (unless pinned)')
  .option('--json', 'print as JSON')
  .action(async (opts) => (await import('./commands/host-boot-order.js')).cleanup(opts));
const collect = (v: string, acc: string[] = []): string[] => [...acc, v];
hostCmd('kargs', 'show or edit the kernel arguments of the default deployment')
  .option('--append <K=V>', 'add an argument (repeatable)', collect)
  .option('--delete <K=V>', 'remove an argument, or KEY when it appears once (repeatable)', collect)
  .option('--replace <K=V=NEW>', 'change a value: KEY=OLD=NEW, or KEY=NEW when KEY appears once (repeatable)', collect)
  .option('--json', 'print as JSON')
  .action(async (opts) => (await import('./commands/host-boot-order.js')).kargs(opts));
const remote = host.command('remote').description('the remotes updates come from');
const remoteCmd = (name: string, description: string): Command =>
  remote
    .command(name)
    .description(description)
    .option('--sysroot <dir>', 'the system root', '/')
    .option('--os <name>', 'the stateroot');
remoteCmd('add', 'add a remote')
  .argument('<name>')
  .argument('<url>')
  .option('--gpg-import <file>', 'import GPG keys (keyring or armored file) for this remote')
  .option('--no-gpg-verify', 'do not require GPG signatures')
  .option('--ed25519-key <base64>', 'require ed25519 signatures by this key (upstream ostree sign format)')
  .option('--ed25519-file <file>', 'require ed25519 signatures by a key in this file (base64, one per line)')
  .action(async (name: string, url: string, opts) => (await import('./commands/host-remote.js')).add(name, url, opts));
remoteCmd('list', 'list remotes')
  .option('--json', 'print as JSON')
  .action(async (opts) => (await import('./commands/host-remote.js')).list(opts));
remoteCmd('delete', 'delete a remote (refused while a deployment follows it)')
  .argument('<name>')
  .action(async (name: string, opts) => (await import('./commands/host-remote.js')).remove(name, opts));
host
  .command('init')
  .description('make an empty sysroot with a stateroot (for image building)')
  .requiredOption('--sysroot <dir>', 'the new sysroot')
  .requiredOption('--os <name>', 'the stateroot')
  .action(async (opts) => (await import('./commands/host-init.js')).run(opts));

// --- atomic image ------------------------------------------------------------------------------
const image = program.command('image').description('bootable OS images: validate and build recipes, boot disks under QEMU, publish AMIs');
image
  .command('validate')
  .description('validate an image recipe and report every problem (package names checked against the Debian archive)')
  .argument('<recipe>', 'the recipe YAML, e.g. images/atomic-host.yaml')
  .option('--offline', 'do not fetch the Debian package index (package names are not checked)')
  .option('--cache-dir <dir>', 'build cache (default $ATOMIC_CACHE_DIR, else ~/.cache/atomic)')
  .option('--json', 'print the normalised recipe and problems as JSON')
  .action(async (file: string, opts) => (await import('./commands/image-validate.js')).run(file, opts));

image
  .command('build')
  .description('build a bootable OS image from a recipe: Debian tree (mmdebstrap, cached), ostree commit, GPT disk (UEFI GRUB + ext4 root)')
  .argument('<recipe>', 'the recipe YAML, e.g. images/atomic-host.yaml')
  .option('--format <formats>', 'raw, qcow2, vhd, vmdk or vagrant-libvirt; repeatable or comma-separated (default qcow2)', collect)
  .option('-o, --output <dir>', 'where the disks and the build manifest go (default build/NAME)')
  .option('--repo <dir>', 'the ostree repository to commit to (default OUTPUT/repo; serve it with atomic image serve)')
  .option('--cache-dir <dir>', 'build cache: the Debian base tree, .deb files, package index (default $ATOMIC_CACHE_DIR, else ~/.cache/atomic)')
  .option('--preload <ref>', 'pull this container image into the image\'s container store (repeatable)', collect)
  .option('--insecure-registry <host:port>', 'plain-HTTP registry for --preload besides loopback ones (repeatable)', collect)
  .option('--os-version <version>', 'the OS version: os-release VERSION_ID and the commit\'s version (default: the recipe\'s)')
  .option('--gpg-sign <keyid>', 'sign the commit with this GPG key; hosts get its public key for the update remote')
  .option('--gpg-homedir <dir>', 'GnuPG home of the key (default ~/.gnupg)')
  .option('--remote-url <url>', 'where hosts built from the image get updates (default: the recipe\'s ostree.remote)')
  .option('--remote-name <name>', 'the name of that remote on the hosts (default atomic)')
  .option('--no-gpg-verify', 'hosts accept unsigned updates from the remote')
  .option('--commit-only', 'stop after the commit: an update for hosts running the image, no disk')
  .option('--offline', 'do not check package names against the Debian archive first')
  .option('--json', 'print the build manifest as JSON')
  // --no-gpg-verify defaults gpgVerify to true; only a flag given on the command line overrides the recipe.
  .action(async (file: string, opts, cmd: Command) =>
    (await import('./commands/image-build.js')).run(file, { ...opts, gpgVerify: cmd.getOptionValueSource('gpgVerify') === 'cli' ? (opts as { gpgVerify: boolean }).gpgVerify : undefined }));
image
  .command('serve')
  .description('serve an ostree archive repository over HTTP: the update source of hosts built from it')
  .argument('<repo>', 'the repository (atomic image build writes OUTDIR/repo)')
  .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8080)')
  .option('-q, --quiet', 'no access log')
  .action(async (repo: string, opts) => (await import('./commands/image-serve.js')).run(repo, opts));
image
  .command('boot')
  .description('run DISK (raw or qcow2) under QEMU with OVMF: the serial console on standard output and in a log file; ' +
    'on a terminal keys go to the guest and Ctrl-] stops the VM; Ctrl-C (not on a terminal), SIGTERM: ACPI powerdown, ' +
    'then quit after --stop-timeout. Exit 0 when the guest powered off')
  .argument('<disk>', 'disk image (format detected by qemu-img, not the name)')
  .option('--seed <iso>', 'NoCloud seed ISO, attached as a CD-ROM (virtio-scsi)')
  .option('--memory <mb>', 'guest memory in MiB', '1024')
  .option('--cpus <n>', 'virtual CPUs', '1')
  .option('--forward <host:guest>', 'forward 127.0.0.1:HOST to the guest\'s TCP port GUEST (repeatable; loopback only)', collect)
  .addOption(new Option('--accel <accel>', 'auto: KVM only where it really works (not PVM, vmx/svm present), else TCG').choices(['auto', 'kvm', 'tcg']).default('auto'))
  .option('--snapshot', 'write to a temporary qcow2 overlay; DISK stays unchanged')
  .option('--overlay <file>', 'like --snapshot, but keep the overlay in FILE (reused when it exists)')
  .option('--log <file>', 'also write the console here (default: a new temp dir, printed at start)')
  .option('--stop-timeout <seconds>', 'after an ACPI powerdown request, quit QEMU after this long', '60')
  .action(async (disk: string, opts) => (await import('./commands/image-boot.js')).run(disk, opts));
const publish = image.command('publish').description('publish a disk image to a cloud');
publish
  .command('aws')
  .description('upload a raw disk to S3, import it as an EBS snapshot and register an AMI; prints the AMI ID')
  .argument('<disk>', 'raw disk image (GPT; `atomic image build --format raw`)')
  .requiredOption('--bucket <bucket>', 'S3 bucket the disk is uploaded to (VM Import reads it from there)')
  .requiredOption('--region <region>', 'AWS region, e.g. eu-central-1')
  .requiredOption('--name <name>', 'AMI name (3-128 characters)')
  .option('--endpoint-url <url>', 'S3 and EC2 endpoint (like the aws CLI\'s --endpoint-url)')
  .option('--s3-endpoint-url <url>', 'S3 endpoint only')
  .option('--ec2-endpoint-url <url>', 'EC2 endpoint only')
  .option('--key-prefix <prefix>', 'S3 key prefix of the upload', 'atomic-import/')
  .option('--description <text>', 'description of the snapshot and the AMI')
  .option('--tag <K=V>', 'tag for the snapshot and the AMI (repeatable)', collect)
  .option('--role-name <role>', 'VM Import service role', 'vmimport')
  .addOption(new Option('--boot-mode <mode>', 'AMI boot mode').choices(['uefi', 'legacy-bios', 'uefi-preferred']).default('uefi'))
  .addOption(new Option('--architecture <arch>', 'AMI architecture').choices(['x86_64', 'arm64']).default('x86_64'))
  .option('--part-size <MiB>', 'multipart upload part size in MiB (5-5120)', '16')
  .option('--concurrency <n>', 'parts uploaded at once', '4')
  .option('--poll-interval <seconds>', 'first wait between import task polls (grows to 30 s)', '15')
  .option('--import-timeout <seconds>', 'give up waiting for the import after this long', '7200')
  .option('--keep-upload', 'keep the uploaded S3 object after the import')
  .option('--json', 'print the AMI ID, snapshot, import task and upload as JSON')
  .action(async (disk: string, opts) => (await import('./commands/image-publish-aws.js')).run(disk, opts));

// --- talking to the agent: images, volumes, version, info ----------------------------------
// Each gets the global options (--host, TLS files) through optsWithGlobals(); `-H` also works
// after the command name.
const agentCmd = (parent: Command, name: string, description: string): Command =>
  parent.command(name).description(description).option('-H, --host <url>', 'the agent (see atomic --help)');
const withGlobals = (cmd: Command): Record<string, unknown> => cmd.optsWithGlobals();
agentCmd(program, 'pull', 'pull an image from a registry into the agent\'s image store')
  .argument('<reference>', 'NAME[:TAG|@DIGEST], e.g. busybox:1.36 or 127.0.0.1:5000/app:1')
  .option('--platform <os/arch[/variant]>', 'pull this platform of a multi-platform image')
  .option('-q, --quiet', 'print only the image reference')
  .option('--json', 'print the reference, image ID and digest as JSON')
  .action(async (ref: string, _o, cmd: Command) => (await import('./commands/pull.js')).run(ref, withGlobals(cmd)));
agentCmd(program, 'images', 'list images (REPOSITORY TAG IMAGE ID CREATED SIZE)')
  .argument('[repository]', 'only images matching REPOSITORY[:TAG] (globs allowed)')
  .option('-a, --all', 'show all images (there are no intermediate images; accepted for docker compatibility)')
  .option('-q, --quiet', 'print only image IDs')
  .option('--digests', 'show digests')
  .option('--no-trunc', 'show full image IDs')
  .option('-f, --filter <key=value>', 'dangling=true|false, reference=PATTERN, label=K[=V], before=IMAGE, since=IMAGE (repeatable)', collect)
  .option('--format <format>', 'json or table')
  .option('--json', 'print the API\'s image summaries as JSON')
  .action(async (repo: string | undefined, _o, cmd: Command) => (await import('./commands/images.js')).run(repo, withGlobals(cmd)));
agentCmd(program, 'rmi', 'remove images (untag; delete when no name is left)')
  .argument('<image...>', 'names or IDs')
  .option('-f, --force', 'remove all names of an image given by ID, or one a stopped container uses')
  .option('--json', 'print what was untagged and deleted as JSON')
  .action(async (names: string[], _o, cmd: Command) => (await import('./commands/rmi.js')).run(names, withGlobals(cmd)));
agentCmd(program, 'tag', 'make TARGET name the image SOURCE names')
  .argument('<source>', 'image name or ID')
  .argument('<target>', 'NAME[:TAG] (default tag latest)')
  .action(async (source: string, target: string, _o, cmd: Command) => (await import('./commands/tag.js')).run(source, target, withGlobals(cmd)));
agentCmd(program, 'version', 'show the client\'s and the agent\'s versions')
  .option('--format <format>', 'json or table')
  .option('--json', 'print as JSON')
  .action(async (_o, cmd: Command) => (await import('./commands/version.js')).run(withGlobals(cmd)));
agentCmd(program, 'info', 'show what the agent says about itself')
  .option('--format <format>', 'json or table')
  .option('--json', 'print as JSON')
  .action(async (_o, cmd: Command) => (await import('./commands/info.js')).run(withGlobals(cmd)));
const volume = program.command('volume').description('named volumes: create, ls, inspect, rm, prune');
agentCmd(volume, 'create', 'create a volume and print its name')
  .argument('[name]', 'volume name, [a-zA-Z0-9][a-zA-Z0-9_.-]+ (default: random)')
  .option('-d, --driver <driver>', 'volume driver (only local)', 'local')
  .option('--label <key=value>', 'set a label (repeatable)', collect)
  .option('-o, --opt <key=value>', 'driver option: type, device, o (repeatable)', collect)
  .option('--format <format>', 'json or table')
  .option('--json', 'print the volume as JSON')
  .action(async (name: string | undefined, _o, cmd: Command) => (await import('./commands/volume-create.js')).run(name, withGlobals(cmd)));
agentCmd(volume, 'ls', 'list volumes (DRIVER VOLUME NAME)')
  .option('-q, --quiet', 'print only names')
  .option('-f, --filter <key=value>', 'dangling=true|false, name=X, label=K[=V], driver=D (repeatable)', collect)
  .option('--format <format>', 'json or table')
  .option('--json', 'print the volumes as JSON')
  .action(async (_o, cmd: Command) => (await import('./commands/volume-ls.js')).run(withGlobals(cmd)));
agentCmd(volume, 'inspect', 'print volumes as JSON')
  .argument('<name...>')
  .action(async (names: string[], _o, cmd: Command) => (await import('./commands/volume-inspect.js')).run(names, withGlobals(cmd)));
agentCmd(volume, 'rm', 'remove volumes and their data (refused while a container uses one)')
  .argument('<name...>')
  .option('-f, --force', 'no error for volumes that do not exist')
  .action(async (names: string[], _o, cmd: Command) => (await import('./commands/volume-rm.js')).run(names, withGlobals(cmd)));
agentCmd(volume, 'prune', 'remove volumes no container uses (anonymous ones; all with -a)')
  .option('-a, --all', 'also named volumes')
  .option('-f, --force', 'do not ask (required when not on a terminal)')
  .option('--filter <key=value>', 'label=K[=V] or label!=K[=V] (repeatable)', collect)
  .option('--json', 'print what was removed as JSON')
  .action(async (_o, cmd: Command) => (await import('./commands/volume-prune.js')).run(withGlobals(cmd)));

// --- atomic network: bridge networks (docker network's flags) --------------------------------------
const network = program.command('network').description('bridge networks: create, ls, inspect, rm, connect, disconnect, prune');
agentCmd(network, 'create', 'create a bridge network and print its ID')
  .argument('<name>', 'network name, [a-zA-Z0-9][a-zA-Z0-9_.-]*')
  .option('-d, --driver <driver>', 'network driver (only bridge)', 'bridge')
  .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.10.0.0/24 (default: a free one)')
  .option('--gateway <ip>', 'gateway address in the subnet (default: the first)')
  .option('--internal', 'no traffic to or from outside the network')
  .option('-o, --opt <key=value>', 'driver option: com.docker.network.bridge.enable_icc=false, com.docker.network.bridge.name=NAME (repeatable)', collect)
  .option('--label <key=value>', 'label (repeatable)', collect)
  .option('--json', 'print the answer as JSON')
  .action(async (name: string, _o, cmd: Command) => (await import('./commands/network-create.js')).run(name, withGlobals(cmd)));
agentCmd(network, 'ls', 'list networks (NETWORK ID NAME DRIVER SCOPE)')
  .option('-q, --quiet', 'print only network IDs')
  .option('--no-trunc', 'show full network IDs')
  .option('-f, --filter <key=value>', 'name=X, id=X, driver=D, type=custom|builtin, label=K[=V], scope=local (repeatable)', collect)
  .option('--format <format>', 'json or table')
  .option('--json', 'print the networks as JSON')
  .action(async (_o, cmd: Command) => (await import('./commands/network-ls.js')).run(withGlobals(cmd)));
agentCmd(network, 'inspect', 'print networks as JSON')
  .argument('<network...>', 'names or IDs')
  .action(async (names: string[], _o, cmd: Command) => (await import('./commands/network-inspect.js')).run(names, withGlobals(cmd)));
agentCmd(network, 'rm', 'remove networks (refused while a container uses one)')
  .argument('<network...>', 'names or IDs')
  .action(async (names: string[], _o, cmd: Command) => (await import('./commands/network-rm.js')).run(names, withGlobals(cmd)));
agentCmd(network, 'connect', 'connect a container to a network (a stopped one joins at its next start)')
  .argument('<network>', 'name or ID')
  .argument('<container>', 'name or ID')
  .option('--ip <ipv4>', 'the container\'s address on the network (user-defined networks only)')
  .option('--alias <name>', 'another name of the container on the network (repeatable)', collect)
  .action(async (net: string, c: string, _o, cmd: Command) => (await import('./commands/network-connect.js')).run(net, c, withGlobals(cmd)));
agentCmd(network, 'disconnect', 'disconnect a container from a network')
  .argument('<network>', 'name or ID')
  .argument('<container>', 'name or ID')
  .option('-f, --force', 'accepted for docker compatibility')
  .action(async (net: string, c: string, _o, cmd: Command) => (await import('./commands/network-connect.js')).disconnect(net, c, withGlobals(cmd)));
agentCmd(network, 'prune', 'remove user-defined networks no container uses')
  .option('-f, --force', 'do not ask (required when not on a terminal)')
  .option('--filter <key=value>', 'label=K[=V], label!=K[=V] (repeatable)', collect)
  .option('--json', 'print what was removed as JSON')
  .action(async (_o, cmd: Command) => (await import('./commands/network-prune.js')).run(withGlobals(cmd)));

// --- containers: run, ps, logs, exec, ... (docker's flags) --------------------------------------
const containerAction = (file: string, fn = 'run') => async (...args: unknown[]): Promise<void> => {
  const cmd = args[args.length - 1] as Command;
  const mod = (await import(`./commands/${file}.js`)) as Record<string, (...a: unknown[]) => Promise<void>>;
  await mod[fn]!(...args.slice(0, -2), withGlobals(cmd));
};
const runFlags = (c: Command): Command =>
  c
    .helpOption('--help', 'display help for command') // -h is --hostname, as in docker run
    .argument('<image>', 'NAME[:TAG|@DIGEST] or image ID')
    .argument('[command...]', 'the command and its arguments (replace the image\'s CMD)')
    .option('--name <name>', 'container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)')
    .option('-e, --env <K=V>', 'set an environment variable; K alone takes it from here (repeatable)', collect)
    .option('--env-file <file>', 'read K=V lines from a file (repeatable)', collect)
    .option('-l, --label <K=V>', 'set a label (repeatable)', collect)
    .option('-p, --publish <spec>', 'publish a port: [IP:][HOST:]CONTAINER[/PROTO] (repeatable)', collect)
    .option('-v, --volume <spec>', 'NAME:/PATH[:ro] or /HOST:/PATH[:OPTS] (repeatable)', collect)
    .option('--tmpfs <path[:opts]>', 'mount a tmpfs (repeatable)', collect)
    .option('-m, --memory <bytes>', 'memory limit (e.g. 64m, 1g)')
    .option('--memory-swap <bytes>', 'memory + swap limit; -1 = unlimited swap')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--shm-size <bytes>', 'size of /dev/shm')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpus <n>', 'number of CPUs (e.g. 1.5)')
    .option('--cpuset-cpus <list>', 'CPUs to run on (0-3, 0,1)')
    .option('--blkio-weight <n>', 'block IO weight, 10..1000')
    .option('--pids-limit <n>', 'process limit; -1 = unlimited')
    .option('--restart <policy>', 'no, always, unless-stopped, on-failure[:N]')
    .option('-h, --hostname <name>', 'container host name')
    .option('-u, --user <user>', 'USER[:GROUP] or UID[:GID]')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--entrypoint <cmd>', 'replace the image\'s ENTRYPOINT ("" for none)')
    .option('--read-only', 'mount the root filesystem read-only')
    .option('--privileged', 'all capabilities and devices, no confinement')
    .option('--cap-add <cap>', 'add a capability (repeatable)', collect)
    .option('--cap-drop <cap>', 'drop a capability (repeatable)', collect)
    .option('--security-opt <opt>', 'seccomp=..., no-new-privileges, ... (repeatable)', collect)
    .option('--init', 'run an init process as PID 1 that reaps zombies and forwards signals')
    .option('--dns <ip>', 'DNS server (repeatable)', collect)
    .option('--add-host <host:ip>', 'add a line to /etc/hosts (repeatable)', collect)
    .option('--network <name>', 'bridge (default), host, none or a network name')
    .option('--rm', 'remove the container when it exits')
    .option('-t, --tty', 'allocate a terminal (output is then one raw stream)')
    .option('-i, --interactive', 'keep stdin open: our stdin goes to the container')
    .option('--detach-keys <keys>', 'the keys that detach from the container (default ctrl-p,ctrl-q)')
    .option('--log-driver <driver>', 'logging driver (json-file)')
    .option('--log-opt <K=V>', 'max-size=SIZE, max-file=N (repeatable)', collect)
    .option('--ulimit <name=soft[:hard]>', 'resource limit, e.g. nofile=1024:2048 (repeatable)', collect)
    .option('--stop-signal <signal>', 'signal that stops the container (default SIGTERM)')
    .addOption(new Option('--pull <policy>', 'pull the image: missing (when not in the store), always, never').choices(['missing', 'always', 'never']).default('missing'));
runFlags(agentCmd(program, 'run', 'create and start a container; without -d show its output and exit with its code'))
  .option('-d, --detach', 'run in the background and print the container ID')
  .action(containerAction('container-run', 'run'));
runFlags(agentCmd(program, 'create', 'create a container (pulling its image if missing) and print its ID'))
  .action(containerAction('container-run', 'create'));
agentCmd(program, 'start', 'start stopped containers')
  .argument('<container...>', 'names or IDs')
  .action(containerAction('container-start'));
agentCmd(program, 'stop', 'stop running containers (the stop signal, then SIGKILL after the timeout)')
  .argument('<container...>', 'names or IDs')
  .option('-t, --time <seconds>', 'seconds to wait before killing (-1: forever; default: the container\'s, else 10)')
  .action(containerAction('container-stop'));
agentCmd(program, 'restart', 'restart containers')
  .argument('<container...>', 'names or IDs')
  .option('-t, --time <seconds>', 'seconds to wait for the stop before killing')
  .action(containerAction('container-restart'));
agentCmd(program, 'kill', 'send a signal to containers\' main process')
  .argument('<container...>', 'names or IDs')
  .option('-s, --signal <signal>', 'signal name or number', 'KILL')
  .action(containerAction('container-kill'));
agentCmd(program, 'rm', 'remove containers')
  .argument('<container...>', 'names or IDs')
  .option('-f, --force', 'remove running containers too (killed first)')
  .option('-v, --volumes', 'also remove their anonymous volumes')
  .action(containerAction('container-rm'));
agentCmd(program, 'ps', 'list containers (CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES)')
  .option('-a, --all', 'show all containers (default: running ones)')
  .option('-q, --quiet', 'print only IDs')
  .option('-n, --last <n>', 'show the n last created containers (all states)')
  .option('-l, --latest', 'show the last created container (all states)')
  .option('-f, --filter <key=value>', 'name=, label=K[=V], status=, ancestor=, id= (repeatable)', collect)
  .option('--no-trunc', 'do not truncate IDs and commands')
  .option('--format <format>', 'json or table')
  .option('--json', 'print the API\'s container summaries as JSON')
  .action(containerAction('container-ps'));
agentCmd(program, 'logs', 'show a container\'s output (stdout to stdout, stderr to stderr)')
  .argument('<container>', 'name or ID')
  .option('-f, --follow', 'keep following until the container exits')
  .option('-t, --timestamps', 'prefix each line with its RFC 3339 time')
  .option('--since <time>', 'from this time: a duration (10m), RFC 3339 date or Unix seconds')
  .option('--until <time>', 'up to this time (same forms)')
  .option('-n, --tail <n>', 'only the last n lines (or all)')
  .action(containerAction('container-logs'));
agentCmd(program, 'exec', 'run a command in a running container and exit with its code')
  .argument('<container>', 'name or ID')
  .argument('<command...>', 'the command and its arguments')
  .option('-d, --detach', 'run in the background')
  .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect)
  .option('--env-file <file>', 'read K=V lines from a file (repeatable)', collect)
  .option('-u, --user <user>', 'USER[:GROUP] or UID[:GID]')
  .option('-w, --workdir <dir>', 'working directory')
  .option('--privileged', 'extended privileges for the command')
  .option('-t, --tty', 'allocate a terminal')
  .option('-i, --interactive', 'our stdin goes to the command')
  .option('--detach-keys <keys>', 'the keys that detach from the command (default ctrl-p,ctrl-q)')
  .action(containerAction('container-exec'));
agentCmd(program, 'inspect', 'print containers as JSON (Docker\'s shape)')
  .argument('<container...>', 'names or IDs')
  .option('-f, --format <template>', 'a Go template of field references, e.g. \'{{.State.Status}} {{.HostConfig.Memory}}\'')
  .action(containerAction('container-inspect'));
agentCmd(program, 'stats', 'show containers\' CPU, memory, network, block IO and PIDs')
  .argument('[container...]', 'names or IDs (default: running containers)')
  .option('-a, --all', 'all containers (default: running ones)')
  .option('--no-stream', 'print one table and exit')
  .option('--json', 'with --no-stream: the computed figures as JSON')
  .action(containerAction('container-stats'));
agentCmd(program, 'update', 'change containers\' resource limits and restart policy')
  .argument('<container...>', 'names or IDs')
  .option('-m, --memory <bytes>', 'memory limit (e.g. 128m)')
  .option('--memory-swap <bytes>', 'memory + swap limit; -1 = unlimited swap')
  .option('--memory-reservation <bytes>', 'memory soft limit')
  .option('-c, --cpu-shares <n>', 'CPU shares')
  .option('--cpus <n>', 'number of CPUs')
  .option('--cpuset-cpus <list>', 'CPUs to run on')
  .option('--blkio-weight <n>', 'block IO weight, 10..1000')
  .option('--pids-limit <n>', 'process limit; -1 = unlimited')
  .option('--restart <policy>', 'no, always, unless-stopped, on-failure[:N]')
  .action(containerAction('container-update'));
agentCmd(program, 'rename', 'rename a container')
  .argument('<container>', 'name or ID')
  .argument('<new-name>', 'the new name')
  .action(containerAction('container-rename'));
agentCmd(program, 'wait', 'wait until containers stop and print their exit codes')
  .argument('<container...>', 'names or IDs')
  .action(containerAction('container-wait'));
agentCmd(program, 'events', 'print the agent\'s events as they happen')
  .option('--since <time>', 'replay events since: a duration (10m), RFC 3339 date or Unix seconds')
  .option('--until <time>', 'stop at this time')
  .option('-f, --filter <key=value>', 'type=, event=, container=, image=, label= (repeatable)', collect)
  .option('--json', 'print the events as JSON lines')
  .action(containerAction('container-events'));

agentCmd(program, 'cp', 'copy files between a container and here (CONTAINER:PATH; - is a tar on stdin/stdout)')
  .argument('<src>', 'CONTAINER:PATH, a local path or -')
  .argument('<dst>', 'CONTAINER:PATH, a local path or -')
  .option('-a, --archive', 'give copied files the container user\'s uid and gid')
  .option('-L, --follow-link', 'copy what a symlink source points at')
  .action(containerAction('container-cp'));
agentCmd(program, 'pause', 'freeze every process of containers (the cgroup freezer)')
  .argument('<container...>', 'names or IDs')
  .action(containerAction('container-pause', 'pause'));
agentCmd(program, 'unpause', 'thaw paused containers')
  .argument('<container...>', 'names or IDs')
  .action(containerAction('container-pause', 'unpause'));
agentCmd(program, 'top', 'show a container\'s processes (the host\'s ps, default -ef)')
  .argument('<container>', 'name or ID')
  .argument('[ps-options...]', 'options for ps, e.g. -o pid,args')
  .allowUnknownOption()
  .option('--json', 'print the API\'s Titles and Processes as JSON')
  .action(containerAction('container-top'));
agentCmd(program, 'diff', 'list the files a container changed (A added, C changed, D deleted)')
  .argument('<container>', 'name or ID')
  .option('--json', 'print the API\'s changes as JSON')
  .action(containerAction('container-diff'));
const containerGroup = program.command('container').description('container management: prune');
agentCmd(containerGroup, 'prune', 'remove all stopped containers')
  .option('-f, --force', 'do not ask for confirmation')
  .option('--filter <key=value>', 'until=DURATION|TIME, label=K[=V], label!=K[=V] (repeatable)', collect)
  .option('--json', 'print what was removed as JSON')
  .action(async (_o, cmd: Command) => (await import('./commands/container-prune.js')).run(withGlobals(cmd)));
const system = program.command('system').description('the agent as a whole: df');
agentCmd(system, 'df', 'show disk usage of images, containers and volumes')
  .option('--json', 'print the API\'s disk usage as JSON')
  .action(async (_o, cmd: Command) => (await import('./commands/system-df.js')).run(withGlobals(cmd)));
agentCmd(program, 'history', 'show an image\'s history, newest first')
  .argument('<image>', 'name or ID')
  .option('--no-trunc', 'do not truncate IDs and commands')
  .option('-q, --quiet', 'print only IDs')
  .option('--json', 'print the API\'s history as JSON')
  .action(async (image: string, _o, cmd: Command) => (await import('./commands/image-history.js')).run(image, withGlobals(cmd)));
agentCmd(program, 'save', 'write images to a tar archive (docker save\'s format)')
  .argument('<image...>', 'names or IDs')
  .option('-o, --output <file>', 'write to this file instead of standard output')
  .action(async (images: string[], _o, cmd: Command) => (await import('./commands/image-save.js')).save(images, withGlobals(cmd)));
agentCmd(program, 'load', 'load images from a tar archive (docker save\'s or an OCI layout)')
  .option('-i, --input <file>', 'read this file instead of standard input')
  .option('-q, --quiet', 'print nothing')
  .action(async (_o, cmd: Command) => (await import('./commands/image-save.js')).load(withGlobals(cmd)));

// Not a top-level await: dist/bin/atomic.cjs runs this file bundled as CommonJS (scripts/bundle-entries.mjs).
void runProgram(program, process.argv).then((code) => {
  process.exitCode = code;
});
