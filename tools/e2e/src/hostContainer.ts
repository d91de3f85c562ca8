// A fixture host as a container: the fixture's sys tree over /sys, the whole fixture at
// /host, network none, and mount-host.sh binding the fixture's /proc, /etc, /lib/modules and
// /dev files over their live places. Peer tools then read the fixture with no flags at all.
import * as path from 'node:path';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';

export const IMAGE = process.env.PASSTHRU_IMAGE ?? 'passthru:local';
export const REPO = path.resolve(__dirname, '../../..');
export const FIXTURES = path.join(REPO, 'fixtures/hosts');

export interface ExecOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class HostContainer {
  private constructor(
    readonly fixture: string,
    private readonly container: StartedTestContainer,
  ) {}

  /** `dir` is a fixture tree; `writable` binds it read-write (bind/restore on a copy). */
  static async start(fixture: string, dir: string, writable = false): Promise<HostContainer> {
    const mode = writable ? 'rw' : 'ro';
    const container = await new GenericContainer(IMAGE)
      .withNetworkMode('none')
      // PID 1 that ends at once on SIGTERM (a bare `sleep` would make stop wait 10 s).
      .withEntrypoint(['sh', '-c', "trap 'exit 0' TERM; echo e2e-ready; sleep infinity & wait"])
      .withBindMounts([
        { source: path.join(dir, 'sys'), target: '/sys', mode },
        { source: dir, target: '/host', mode },
        { source: path.resolve(__dirname, '..'), target: '/e2e', mode: 'ro' },
      ])
      // For mount-host.sh's binds inside /proc and the unmount of Docker's /sys/firmware mask.
      .withAddedCapabilities('SYS_ADMIN')
      .withLabels({ 'passthru.e2e': fixture })
      .withWaitStrategy(Wait.forLogMessage('e2e-ready'))
      .withStartupTimeout(30_000)
      .start();
    const host = new HostContainer(fixture, container);
    const setup = await host.exec(['sh', '/e2e/mount-host.sh']);
    if (setup.exitCode !== 0) {
      await host.stop(); // the caller never gets it, so nobody else would
      throw new Error(`mount-host.sh failed in the ${fixture} container (exit ${setup.exitCode}): ${setup.stderr}`);
    }
    return host;
  }

  async exec(command: string[]): Promise<ExecOutput> {
    const r = await this.container.exec(command);
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  }

  /** Runs a command that must succeed (exit codes in `ok`), else throws with its stderr. */
  async run(command: string[], ok: number[] = [0]): Promise<ExecOutput> {
    const r = await this.exec(command);
    if (!ok.includes(r.exitCode))
      throw new Error(`${command.join(' ')} exited ${r.exitCode} in the ${this.fixture} container:\n${r.stderr}${r.stdout.slice(0, 2000)}`);
    return r;
  }

  /** `passthru ARGS --format json` (exit 1 allowed: doctor's "not ready"). */
  async passthruJson<T>(args: string[]): Promise<T> {
    const r = await this.run(['passthru', ...args, '--format', 'json'], [0, 1]);
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      throw new Error(
        `passthru ${args.join(' ')} printed no JSON in the ${this.fixture} container (exit ${r.exitCode}):\n${r.stderr}${r.stdout.slice(0, 500)}`,
      );
    }
  }

  async stop(): Promise<void> {
    await this.container.stop({ timeout: 2_000 });
  }
}
