import { readFileSync } from 'node:fs';
import { LxdClient } from '@passthru/lxd-device-attach';
import { CliError, EXIT } from './CliError';
import type { CliContext } from './context';

/**
 * The LXD client of the CLI: HTTPS when PASSTHRU_LXD_URL is set (PASSTHRU_LXD_CERT and
 * PASSTHRU_LXD_KEY: client cert and key files; PASSTHRU_LXD_SERVER_CERT: the server cert to
 * pin), else the local unix socket ($LXD_DIR, then the snap's, then Debian's).
 */
export function lxdClientFor(ctx: CliContext): { client: LxdClient; remote: boolean } {
  const env = ctx.env;
  if (env.PASSTHRU_LXD_URL) {
    const file = (name: string, required: boolean) => {
      const p = env[name];
      if (!p) {
        if (required) throw new CliError(`PASSTHRU_LXD_URL is set: ${name} must name a PEM file`, EXIT.usage);
        return undefined;
      }
      try {
        return readFileSync(p, 'utf8');
      } catch (error) {
        throw new CliError(`${name}=${p}: ${(error as Error).message}`, EXIT.usage, { cause: error });
      }
    };
    const serverCert = file('PASSTHRU_LXD_SERVER_CERT', false);
    const client = new LxdClient({
      kind: 'https',
      url: env.PASSTHRU_LXD_URL,
      cert: file('PASSTHRU_LXD_CERT', true)!,
      key: file('PASSTHRU_LXD_KEY', true)!,
      ...(serverCert ? { serverCert } : {}),
    });
    return { client, remote: true };
  }
  const client = LxdClient.local(env);
  ctx.verbose(`LXD via ${client.via}`);
  return { client, remote: false };
}
