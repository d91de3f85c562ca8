import { createRequire } from 'node:module';

/**
 * `bytes` random bytes as hex (temporary file names, lock tokens). node:crypto is loaded on the
 * first call, not at start-up: importing it costs 7-13 ms, paid by every command before, and
 * only the commands that write need it.
 */
export function randomHex(bytes: number): string {
  const { randomBytes } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return randomBytes(bytes).toString('hex');
}
