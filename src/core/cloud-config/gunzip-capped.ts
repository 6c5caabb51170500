// gunzip with a ceiling on the output. cloud-init decompresses gzip user-data and gzip
// write_files content without any limit (util.decomp_gzip); a few kilobytes of gzip can expand to
// gigabytes, so we refuse to inflate past a cap instead of exhausting memory while validating.
import { requireZlib } from '../../lib/builtin.js';

/** Default ceiling on decompressed user-data: far above any real cloud-config, far below harm. */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** The gzip magic number (RFC 1952 2.3.1: ID1 = 0x1f, ID2 = 0x8b). */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

export type GunzipResult = { readonly ok: true; readonly data: Uint8Array } | { readonly ok: false; readonly tooLarge: boolean; readonly message: string };

export function gunzipCapped(data: Uint8Array, maxBytes: number = MAX_DECOMPRESSED_BYTES): GunzipResult {
  try {
    return { ok: true, data: requireZlib().gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) }) };
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : '';
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      return { ok: false, tooLarge: true, message: `decompresses to more than ${maxBytes} bytes; refused (a decompression bomb, or far larger than any cloud-config)` };
    }
    const reason = e instanceof Error ? e.message : String(e);
    return { ok: false, tooLarge: false, message: `not valid gzip data: ${reason}` };
  }
}
