// A FAKE of the EC2 instance metadata service (AWS's IMDS cannot run here): a loopback node:http
// server with the IMDSv2 session flow as the EC2 User Guide describes it ("Use IMDSv2"):
//   PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1-21600) -> a token, 400
//   without a valid TTL, 403 with X-Forwarded-For; every GET needs a valid, unexpired token in
//   X-aws-ec2-metadata-token, else 401 (IMDSv2 "required" mode); other methods 405.
// It serves a small metadata tree (instance-id, local-hostname, public-keys, network macs) and
// user-data, and records every request, so tests can check what a client sent.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface FakeImdsInterface {
  readonly mac: string;
  readonly deviceNumber: number;
  readonly localIpv4s: readonly string[];
  readonly subnetIpv4CidrBlock: string;
}

export interface FakeImdsOptions {
  readonly instanceId: string;
  readonly localHostname?: string;
  readonly publicKeys?: readonly { readonly name: string; readonly key: string }[];
  readonly interfaces?: readonly FakeImdsInterface[];
  readonly userData?: Uint8Array;
  /** Answer the token PUT with this status instead (403: IMDS turned off; 404: not IMDSv2). */
  readonly tokenStatus?: number;
  /** The first N requests of any kind get 503. */
  readonly unavailableFirst?: number;
  /** Paths (below /latest/) that always answer 500. */
  readonly failPaths?: readonly string[];
  /** Tokens stop being valid after this many authorised GETs (a token that expired mid-crawl). */
  readonly expireTokensAfterGets?: number;
  /** The clock the TTLs are measured on. */
  readonly now?: () => number;
}

export interface RecordedImdsRequest {
  readonly method: string;
  readonly path: string;
  readonly tokenPresent: boolean;
  readonly tokenValid: boolean;
  readonly ttlHeader?: string;
  readonly status: number;
}

export interface FakeImds {
  /** Base URL, like http://169.254.169.254 (no trailing slash). */
  readonly url: string;
  readonly requests: RecordedImdsRequest[];
  /** Every token handed out, so tests can look for them where they must not be. */
  readonly issuedTokens: string[];
  expireTokens(): void;
  close(): Promise<void>;
}

const MAX_TTL_SECONDS = 21600;

function tree(opts: FakeImdsOptions): Map<string, string | Uint8Array> {
  const t = new Map<string, string | Uint8Array>();
  const top = ['instance-id'];
  t.set('meta-data/instance-id', opts.instanceId);
  if (opts.localHostname !== undefined) {
    top.push('local-hostname');
    t.set('meta-data/local-hostname', opts.localHostname);
  }
  const keys = opts.publicKeys ?? [];
  if (keys.length > 0) {
    top.push('public-keys/');
    t.set('meta-data/public-keys/', keys.map((k, i) => `${i}=${k.name}`).join('\n'));
    keys.forEach((k, i) => {
      t.set(`meta-data/public-keys/${i}/`, 'openssh-key');
      t.set(`meta-data/public-keys/${i}/openssh-key`, k.key);
    });
  }
  const ifs = opts.interfaces ?? [];
  if (ifs.length > 0) {
    top.push('network/');
    t.set('meta-data/network/', 'interfaces/');
    t.set('meta-data/network/interfaces/', 'macs/');
    t.set('meta-data/network/interfaces/macs/', ifs.map((i) => `${i.mac}/`).join('\n'));
    for (const i of ifs) {
      const d = `meta-data/network/interfaces/macs/${i.mac}/`;
      t.set(d, ['device-number', 'local-ipv4s', 'mac', 'subnet-ipv4-cidr-block'].join('\n'));
      t.set(`${d}device-number`, String(i.deviceNumber));
      t.set(`${d}local-ipv4s`, i.localIpv4s.join('\n'));
      t.set(`${d}mac`, i.mac);
      t.set(`${d}subnet-ipv4-cidr-block`, i.subnetIpv4CidrBlock);
    }
  }
  t.set('meta-data/', top.join('\n'));
  t.set('', opts.userData === undefined ? 'meta-data/' : 'meta-data/\nuser-data');
  if (opts.userData !== undefined) t.set('user-data', opts.userData);
  return t;
}

export async function startFakeImds(opts: FakeImdsOptions): Promise<FakeImds> {
  const now = opts.now ?? Date.now;
  const content = tree(opts);
  const tokens = new Map<string, number>(); // token -> expiry (ms)
  const requests: RecordedImdsRequest[] = [];
  const issuedTokens: string[] = [];
  let served = 0;
  let authorisedGets = 0;

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const token = req.headers['x-aws-ec2-metadata-token'];
    const tokenPresent = typeof token === 'string' && token !== '';
    const expiry = typeof token === 'string' ? tokens.get(token) : undefined;
    const tokenValid = expiry !== undefined && expiry > now();
    const ttlHeader = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
    const send = (status: number, body: string | Uint8Array = '', headers: Record<string, string> = {}): void => {
      requests.push({ method: req.method ?? '', path, tokenPresent, tokenValid, ...(typeof ttlHeader === 'string' ? { ttlHeader } : {}), status });
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), ...headers });
      res.end(body);
    };
    if (served++ < (opts.unavailableFirst ?? 0)) return send(503, 'Service Unavailable');
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return send(405);
      if (opts.tokenStatus !== undefined) return send(opts.tokenStatus);
      if (req.headers['x-forwarded-for'] !== undefined) return send(403);
      const ttl = Number(ttlHeader);
      if (typeof ttlHeader !== 'string' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) return send(400);
      const t = randomBytes(42).toString('base64');
      tokens.set(t, now() + ttl * 1000);
      issuedTokens.push(t);
      return send(200, t, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405);
    if (!tokenValid) return send(401);
    if (opts.expireTokensAfterGets !== undefined && ++authorisedGets > opts.expireTokensAfterGets) {
      tokens.clear();
      authorisedGets = 0;
      return send(401);
    }
    if (!path.startsWith('/latest/')) return send(404);
    const rel = path.slice('/latest/'.length);
    if (opts.failPaths?.includes(rel) === true) return send(500, 'Internal Server Error');
    const body = content.get(rel);
    if (body === undefined) return send(404, 'Not Found');
    return send(200, body);
  };

  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    issuedTokens,
    expireTokens: () => tokens.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
