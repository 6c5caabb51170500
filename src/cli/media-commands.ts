// The commands that work on files alone, with no agent or sysroot: atomic iso, seed and
// cloud-init. main.ts adds them to the whole program; media-main.ts runs them by themselves.
import { Option, type Command } from '#commander';

export function addMediaCommands(program: Command): void {
  // --- atomic iso ---------------------------------------------------------------------------------
  const iso = program.command('iso').description('create, list and extract ISO 9660 images (Joliet + Rock Ridge)');
  iso
    .command('create')
    .description('write an ISO 9660 image of DIR with Joliet and Rock Ridge')
    .argument('<dir>', 'directory whose contents become the image root')
    .requiredOption('-o, --output <file>', 'image to write (written atomically)')
    .option('-V, --volid <label>', 'volume label (up to 32 characters)', 'CDROM')
    .option('--no-joliet', 'omit the Joliet tree')
    .option('--no-rock-ridge', 'omit Rock Ridge (names fall back to ISO 9660 level 2)')
    .option('--json', 'print a summary as JSON')
    .action(async (dir: string, opts) => (await import('./commands/iso-create.js')).run(dir, opts));
  iso
    .command('ls')
    .description('list the files in an ISO image')
    .argument('<iso>', 'ISO image file')
    .addOption(new Option('--names <tree>', 'which names to read').choices(['auto', 'rock-ridge', 'joliet', 'iso9660']).default('auto'))
    .option('-l, --long', 'show mode, owner, size and mtime')
    .option('--json', 'print entries as JSON')
    .action(async (isoPath: string, opts) => (await import('./commands/iso-ls.js')).run(isoPath, opts));
  iso
    .command('extract')
    .description('extract an ISO image into DIR (never writes outside DIR)')
    .argument('<iso>', 'ISO image file')
    .argument('<dir>', 'target directory (created if missing)')
    .addOption(new Option('--names <tree>', 'which names to read').choices(['auto', 'rock-ridge', 'joliet', 'iso9660']).default('auto'))
    .action(async (isoPath: string, dir: string, opts) => (await import('./commands/iso-extract.js')).run(isoPath, dir, opts));

  // --- atomic seed --------------------------------------------------------------------------------
  const seed = program.command('seed').description('build and inspect cloud-init NoCloud seed media');
  seed
    .command('create')
    .description('write a NoCloud seed (label cidata); also accepts cloud-localds\'s form: OUT USER_DATA [META_DATA]')
    .argument('[positional...]', 'cloud-localds form: OUTPUT USER_DATA [META_DATA]')
    .option('-o, --output <file>', 'seed image (or directory for --format tar: a .tar file)')
    .option('-u, --user-data <file>', 'user-data file')
    .option('-m, --meta-data <file>', 'meta-data file (default: generated with a fresh instance-id)')
    .option('-N, --network-config <file>', 'network-config file (v1 or v2)')
    .option('-v, --vendor-data <file>', 'vendor-data file')
    .option('-H, --hostname <name>', 'local-hostname for generated meta-data')
    .option('-i, --instance-id <id>', 'instance-id for generated meta-data (default: random)')
    .addOption(new Option('-f, --format <format>', 'seed format').choices(['iso', 'vfat', 'tar']).default('iso'))
    .option('--no-validate', 'write the seed even if user-data does not validate')
    .option('--json', 'print a summary as JSON')
    .action(async (positional: string[], opts) => (await import('./commands/seed-create.js')).run(positional, opts));
  seed
    .command('inspect')
    .description('show the files, meta-data and user-data parts of a seed (ISO, vfat image or directory)')
    .argument('<seed>', 'seed ISO, vfat image, tar file or directory')
    .option('--json', 'print as JSON')
    .action(async (seedPath: string, opts) => (await import('./commands/seed-inspect.js')).run(seedPath, opts));

  // --- atomic cloud-init --------------------------------------------------------------------------
  const ci = program.command('cloud-init').description('validate and assemble cloud-init user-data');
  ci.command('validate')
    .description('validate user-data, meta-data or network-config files and report every problem')
    .argument('<file...>', 'files to validate; the kind is detected (user-data, network-config, meta-data)')
    .addOption(new Option('--kind <kind>', 'treat every file as this kind').choices(['user-data', 'meta-data', 'network-config', 'vendor-data']))
    .option('--json', 'print the report as JSON')
    .action(async (files: string[], opts) => (await import('./commands/cloud-init-validate.js')).run(files, opts));
  ci.command('mime')
    .description('write MIME multipart user-data from parts (like cloud-init devel make-mime)')
    .argument('<part...>', 'FILE:TYPE, TYPE being e.g. cloud-config, x-shellscript, cloud-boothook, x-include-url')
    .requiredOption('-o, --output <file>', 'output file (- for standard output)')
    .option('--no-validate', 'do not validate the parts')
    .action(async (parts: string[], opts) => (await import('./commands/cloud-init-mime.js')).run(parts, opts));

  ci.command('render')
    .description('show the metadata and the merged cloud-config a seed gives, without applying anything')
    .requiredOption('--seed <path-or-url>', 'seed ISO, FAT image, tar file, directory, or NoCloud-net http(s) URL')
    .option('--timeout <seconds>', 'give up on network seeds after this long', '30')
    .option('--json', 'print as JSON')
    .action(async (opts) => (await import('./commands/cloud-init-render.js')).run(opts));
  ci.command('status')
    .description('show what the last provisioning pass did (like cloud-init status --long)')
    .option('--root <dir>', 'root of the provisioned system', '/')
    .option('--state-dir <dir>', 'the agent\'s state directory (default: ROOT/var/lib/atomicd/cloud)')
    .option('--wait', 'wait until provisioning has finished')
    .option('--timeout <seconds>', 'with --wait: give up after this long')
    .option('--json', 'print the status document as JSON')
    .action(async (opts) => (await import('./commands/cloud-init-status.js')).run(opts));
}
