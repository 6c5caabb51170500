// Run by QEMU's user networking (slirp) for each guest connection to a `guestfwd` address:
// stdin/stdout are the guest's TCP connection; we relay it to HOST:PORT on the host (a loopback
// registry or ostree repository). A program per connection because a guestfwd chardev serves a
// single connection for the VM's lifetime. Nothing may be written to stderr: slirp hands the
// same socket as fd 2.
//   node guestfwd-relay.js HOST PORT
import { connect } from 'node:net';

const [host, port] = process.argv.slice(2);
const upstream = connect({ host: host ?? '127.0.0.1', port: Number(port) });
upstream.on('error', () => process.exit(1));
upstream.on('close', () => process.exit(0));
process.stdin.on('error', () => upstream.destroy());
process.stdout.on('error', () => upstream.destroy());
process.stdin.pipe(upstream);
upstream.pipe(process.stdout);
