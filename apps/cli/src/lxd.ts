import { readFileSync } from 'node:fs';
import { LxdClient, parseServerName } from '@passthru/lxd-device-attach';
import { CliError, EXIT } from './CliError';
import type { CliContext } from './context';

/**
 * The client of the CLI for LXD or Incus: HTTPS when PASSTHRU_LXD_URL is set (PASSTHRU_LXD_CERT
 * and PASSTHRU_LXD_KEY: client cert and key files; PASSTHRU_LXD_SERVER_CERT: the server cert to
 * pin), else the local unix socket of the server `--server` (or PASSTHRU_SERVER) names, or of the
 * one running here (LXD: $LXD_DIR, the snap's, Debian's; Incus: $INCUS_SOCKET, $INCUS_DIR,
 * /var/lib/incus, /run/incus).
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
  const wanted = ctx.options.server ?? env.PASSTHRU_SERVER;
  const server = wanted === undefined ? undefined : parseServerName(wanted, ctx.options.server !== undefined ? '--server' : 'PASSTHRU_SERVER');
  const client = LxdClient.local(env, {}, undefined, server);
  ctx.verbose(`${client.knownKind?.product ?? 'LXD'} via ${client.via}`);
  return { client, remote: false };
}
