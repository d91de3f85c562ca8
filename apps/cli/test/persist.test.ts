import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanFixtures, cli, fixtureCopy } from './runCli';

afterEach(cleanFixtures);
const MODPROBE = 'etc/modprobe.d/passthru-vfio.conf';
const RECORD = 'var/lib/passthru/persist.json';

describe('passthru persist on a fixture tree', () => {
  it('twin-gpu: persist of the second card binds it by address at boot; no ids= line claims the console card', async () => {
    const root = fixtureCopy('twin-gpu');
    const dry = await cli('--root', root, 'persist', '02:00.0', '--dry-run', '--format', 'json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).plan.boot).toEqual({ ids: [], addresses: ['0000:02:00.0', '0000:02:00.1'] });
    expect(fs.existsSync(path.join(root, MODPROBE))).toBe(false);

    const r = await cli('--root', root, 'persist', '02:00.0');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/warning: 0000:02:00\.0 binds at boot by address \(driver_override\): its ids are shared with 0000:01:00\.0/);
    const text = fs.readFileSync(path.join(root, MODPROBE), 'utf8');
    expect(text).not.toMatch(/ids=/);
    expect(text).toContain('echo vfio-pci > /sys/bus/pci/devices/0000:02:00.0/driver_override 2>/dev/null;');
    expect(text).not.toContain('0000:01:00.');
    expect(JSON.parse(fs.readFileSync(path.join(root, RECORD), 'utf8')).devices.map((d: { address: string }) => d.address)).toEqual([
      '0000:02:00.0',
      '0000:02:00.1',
    ]);
  });

  it('twin-gpu: persist of the boot VGA card is refused (exit 1, nothing written) unless --force', async () => {
    const root = fixtureCopy('twin-gpu');
    const r = await cli('--root', root, 'persist', '01:00.0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Failed planning persist: the boot configuration would claim guarded devices: 0000:01:00\.0 \[boot-vga\]/);
    expect(fs.existsSync(path.join(root, MODPROBE))).toBe(false);
    const forced = await cli('--root', root, 'persist', '01:00.0', '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/warning: overridden \(--force\): 0000:01:00\.0 \[boot-vga\]/);
  });

  it('a corrupt persist record: exit 2, the record named, nothing written', async () => {
    const root = fixtureCopy('intel-workstation');
    fs.mkdirSync(path.join(root, 'var/lib/passthru'), { recursive: true });
    fs.writeFileSync(path.join(root, RECORD), 'not json');
    const r = await cli('--root', root, 'persist', '01:00.0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Failed reading the persist record via \/var\/lib\/passthru\/persist\.json: /);
    expect(r.stderr).not.toMatch(/^SyntaxError/m);
    expect(fs.existsSync(path.join(root, MODPROBE))).toBe(false);
    expect(fs.readFileSync(path.join(root, RECORD), 'utf8')).toBe('not json');
  });

  it('a malformed kernelstub configuration: exit 2 naming the file, with --dry-run too, nothing written (was exit 1, unnamed: issue 22, item 10)', async () => {
    const root = fixtureCopy('intel-workstation');
    fs.mkdirSync(path.join(root, 'etc/kernelstub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/kernelstub/configuration'), '{"user": {"kernel_options": [');
    for (const argv of [['--dry-run'], []]) {
      const r = await cli('--root', root, 'persist', '01:00.0', ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/Failed parsing the kernelstub configuration via \/etc\/kernelstub\/configuration: not valid JSON/);
      expect(fs.existsSync(path.join(root, MODPROBE))).toBe(false);
    }
  });
});
