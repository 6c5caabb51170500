// The one place that loads native/ (the libostree addon). Loaded lazily, on first use, so that
// programs which never touch ostree (seed building, the container engine) run on machines without
// libostree or without the compiled addon.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Cancelled, Unavailable } from '../../lib/errors.js';
import { fromOstreeError, type OstreeErrorContext } from './ostree-error.js';
import type * as Native from '../../../native/index.js';

export type NativeAddon = typeof Native;
export type NativeCancellable = Native.Cancellable;

// dist/src/adapters/ostree/ -> <root>/native (compiled), src/adapters/ostree/ -> <root>/native.
const CANDIDATES = ['../../../../native/index.cjs', '../../../native/index.cjs'];

function requireAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  const found = CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url))).find((p) => existsSync(p));
  if (found === undefined) {
    throw new Unavailable('the libostree binding (native/index.cjs) is not part of this installation');
  }
  try {
    return require(found) as NativeAddon;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'MODULE_NOT_FOUND'
        ? 'native/build/Release/atomic_ostree.node is missing'
        : `native/build/Release/atomic_ostree.node cannot be loaded (${(e as Error).message})`;
    throw new Unavailable(
      `libostree binding unavailable: ${why}; build it with \`npm run build:native\` (scripts/setup does; ` +
        'needs the Debian packages libostree-dev, pkg-config and a C++ compiler)',
      { cause: e },
    );
  }
}

/**
 * The addon, loaded on first call. The cache lives in this closure (not in module state anyone
 * can change): loading a native module twice would hand back the same exports anyway, and a
 * failed load is retried on the next call so that building the addon later helps without a
 * restart.
 */
export const loadNative: () => NativeAddon = (() => {
  let cached: NativeAddon | undefined;
  return (): NativeAddon => {
    cached ??= requireAddon();
    return cached;
  };
})();

/**
 * Run one binding call with a Cancellable wired to `signal`, mapping whatever it throws into the
 * taxonomy with `ctx`. An already-aborted signal never reaches the addon.
 */
export async function withCancellable<T>(
  signal: AbortSignal | undefined,
  ctx: OstreeErrorContext,
  run: (cancellable: NativeCancellable, native: NativeAddon) => Promise<T>,
): Promise<T> {
  if (signal?.aborted === true) throw new Cancelled(`${ctx.doing}: cancelled`, { subject: ctx.subject, cause: signal.reason });
  const native = loadNative();
  const cancellable = new native.Cancellable();
  const onAbort = (): void => cancellable.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await run(cancellable, native);
  } catch (e) {
    throw fromOstreeError(e, ctx);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
