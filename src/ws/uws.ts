// Loads the native uWebSockets.js addon, and refuses the package's silent pure-JS fallback.
import { createRequire } from 'node:module';
import type * as UwsTypes from 'uWebSockets.js';
import { readEnvironment } from '../config/environment.js';

const require = createRequire(import.meta.url);

export type Uws = typeof UwsTypes;

export class UwsFallbackError extends Error {}

let cached: Uws | undefined;

/**
 * The native addon for this platform and Node ABI, or an error that says why it cannot load.
 * The npm package (`uWebSockets.js` → @trufflesuite/uws-js-unofficial) catches a failed native load
 * and returns a slow JavaScript emulation with only a console warning; we load the binary ourselves and
 * check that the package's export is that very binary, so a fallback can never start silently.
 */
export function loadUws(): Uws {
  if (cached) return cached;
  // Read by the uWS package itself: we only refuse it. Not a taxiway setting, so not in the flag table.
  const fallbackFlag = readEnvironment().UWS_USE_FALLBACK;
  if (fallbackFlag && /^(1|true)$/i.test(fallbackFlag)) {
    throw new UwsFallbackError('UWS_USE_FALLBACK is set: taxiway refuses to run on the slow pure-JS emulation of uWebSockets.js. Unset it.');
  }
  const file = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  let native: Uws;
  try {
    native = require(file) as Uws;
  } catch (e) {
    throw new UwsFallbackError(
      `the native uWebSockets.js addon does not load on this machine (${process.platform}/${process.arch}, Node ${process.version}, ABI ${process.versions.modules}): ` +
        `${(e as Error).message.split('\n')[0]}. taxiway refuses the slow pure-JS fallback. Use Node 20 on Linux x64 with glibc >= 2.31 (see README).`,
    );
  }
  // Silence the package's own console noise by loading it only after the binary succeeded.
  const pkg = require('uWebSockets.js') as Uws;
  if (pkg !== native) throw new UwsFallbackError('uWebSockets.js resolved to its pure-JS fallback instead of the native addon: refusing to start.');
  cached = native;
  return native;
}
