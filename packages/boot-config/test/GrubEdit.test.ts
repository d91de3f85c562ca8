import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { parseGrubDefault } from '../src/GrubDefault';
import { kernelInstallFallbackCmdline, planGrubCmdlineEdit, planKernelCmdlineFileEdit, planKernelstubEdit, type CmdlineEditSpec } from '../src/GrubEdit';
import { BootConfigError } from '../src/BootConfigError';
import { DEBIAN_GRUB, FEDORA_GRUB, UBUNTU_GRUB } from './samples';

const GRUB = '/etc/default/grub';
const iommu: CmdlineEditSpec = { add: ['intel_iommu=on', 'iommu=pt'], remove: ['intel_iommu=off'] };

/** Every line but `lineNo` (1-based) is byte-identical. */
function onlyLineChanged(before: string, after: string, lineNo: number): void {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  a.forEach((l, i) => {
    if (i === lineNo - 1) expect(b[i]).not.toBe(l);
    else expect(b[i]).toBe(l);
  });
}

describe('planGrubCmdlineEdit', () => {
  it('adds to the Debian file, touching only that line, with a one-line diff', () => {
    const plan = planGrubCmdlineEdit(DEBIAN_GRUB, GRUB, iommu, undefined, 'debian');
    expect(plan.changed).toBe(true);
    onlyLineChanged(DEBIAN_GRUB, plan.newText, 9);
    expect(plan.newText.split('\n')[8]).toBe('GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"');
    expect(plan.diff).toBe(
      '--- etc/default/grub\n+++ etc/default/grub\n@@ -6,7 +6,7 @@\n GRUB_DEFAULT=0\n GRUB_TIMEOUT=5\n GRUB_DISTRIBUTOR=`( . /etc/os-release; echo ${NAME:-Debian} ) 2>/dev/null || echo Debian`\n' +
        '-GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"\n GRUB_CMDLINE_LINUX=""\n \n # If your computer has multiple operating systems installed, then you\n',
    );
    expect(plan.followUp).toEqual(['update-grub']);
    expect(parseGrubDefault([{ path: GRUB, text: plan.newText }]).vars['GRUB_CMDLINE_LINUX_DEFAULT']).toBe('quiet intel_iommu=on iommu=pt');
  });

  it('is idempotent: applying the plan twice equals once', () => {
    for (const text of [DEBIAN_GRUB, UBUNTU_GRUB, FEDORA_GRUB]) {
      const once = planGrubCmdlineEdit(text, GRUB, iommu, 'GRUB_CMDLINE_LINUX');
      const twice = planGrubCmdlineEdit(once.newText, GRUB, iommu, 'GRUB_CMDLINE_LINUX');
      expect(twice).toMatchObject({ changed: false, newText: once.newText, diff: '', followUp: [] });
    }
  });

  it('edits the Fedora file and names grub2-mkconfig', () => {
    const plan = planGrubCmdlineEdit(FEDORA_GRUB, GRUB, { add: ['intel_iommu=on'], remove: ['rhgb'] }, 'GRUB_CMDLINE_LINUX', 'fedora');
    onlyLineChanged(FEDORA_GRUB, plan.newText, 6);
    expect(plan.newText.split('\n')[5]).toBe('GRUB_CMDLINE_LINUX="rd.luks.uuid=luks-3f1c quiet intel_iommu=on"');
    expect(plan.followUp).toEqual(['grub2-mkconfig -o /boot/grub2/grub.cfg']);
    expect(planGrubCmdlineEdit(FEDORA_GRUB, GRUB, iommu, 'GRUB_CMDLINE_LINUX', 'arch').followUp).toEqual(['grub-mkconfig -o /boot/grub/grub.cfg']);
  });

  it('replaces key=old by key=new in place, removes by key or exact key=value, keeps single quotes', () => {
    const text = "# x\nGRUB_CMDLINE_LINUX_DEFAULT='quiet intel_iommu=off  iommu=pt splash'   # trailing comment\n";
    const replaced = planGrubCmdlineEdit(text, GRUB, { add: ['intel_iommu=on'], remove: [] });
    expect(replaced.newText).toBe("# x\nGRUB_CMDLINE_LINUX_DEFAULT='quiet intel_iommu=on  iommu=pt splash'   # trailing comment\n");
    const removed = planGrubCmdlineEdit(text, GRUB, { add: [], remove: ['iommu', 'splash=nope', 'quiet'] });
    expect(removed.newText).toBe("# x\nGRUB_CMDLINE_LINUX_DEFAULT='intel_iommu=off splash'   # trailing comment\n");
    const exact = planGrubCmdlineEdit(text, GRUB, { add: [], remove: ['intel_iommu=on'] });
    expect(exact.changed).toBe(false);
    expect(exact.newText).toBe(text);
  });

  it('edits only the LAST assignment and keeps $VAR references', () => {
    const text = 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_TIMEOUT=5\nexport GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT splash"\n';
    const plan = planGrubCmdlineEdit(text, GRUB, { add: ['intel_iommu=on'], remove: ['splash'] });
    expect(plan.newText).toBe(
      'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_TIMEOUT=5\nexport GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on"\n',
    );
  });

  it('quotes a bare value that gains a second parameter', () => {
    const plan = planGrubCmdlineEdit('GRUB_CMDLINE_LINUX=quiet\n', GRUB, { add: ['intel_iommu=on'], remove: [] });
    expect(plan.newText).toBe('GRUB_CMDLINE_LINUX=quiet\nGRUB_CMDLINE_LINUX_DEFAULT="intel_iommu=on"\n');
    const bare = planGrubCmdlineEdit('GRUB_CMDLINE_LINUX=quiet\n', GRUB, { add: ['intel_iommu=on'], remove: [] }, 'GRUB_CMDLINE_LINUX');
    expect(bare.newText).toBe('GRUB_CMDLINE_LINUX="quiet intel_iommu=on"\n');
    expect(bare.notes.join(' ')).toMatch(/double-quoted/);
  });

  it('appends the variable when absent: plain in /etc/default/grub, self-appending in grub.d', () => {
    const main = planGrubCmdlineEdit('GRUB_TIMEOUT=5', GRUB, { add: ['intel_iommu=on'], remove: ['x'] });
    expect(main.newText).toBe('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="intel_iommu=on"\n');
    expect(main.diff).toBe(
      '--- etc/default/grub\n+++ etc/default/grub\n@@ -1,1 +1,2 @@\n-GRUB_TIMEOUT=5\n\\ No newline at end of file\n+GRUB_TIMEOUT=5\n+GRUB_CMDLINE_LINUX_DEFAULT="intel_iommu=on"\n',
    );
    const dropin = planGrubCmdlineEdit('', '/etc/default/grub.d/passthru.cfg', { add: ['intel_iommu=on'], remove: [] });
    expect(dropin.newText).toBe('GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on"\n');
    expect(planGrubCmdlineEdit(dropin.newText, '/etc/default/grub.d/passthru.cfg', { add: ['intel_iommu=on'], remove: [] }).changed).toBe(false);
    expect(planGrubCmdlineEdit('A=1\n', GRUB, { add: [], remove: ['x'] }).changed).toBe(false);
  });

  it('refuses what it cannot edit safely, with no output', () => {
    const refuse = (text: string, spec: CmdlineEditSpec = iommu): string => {
      try {
        planGrubCmdlineEdit(text, GRUB, spec);
      } catch (e) {
        expect(e).toBeInstanceOf(BootConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refuse('GRUB_CMDLINE_LINUX_DEFAULT="$(cat /x)"\n')).toBe(
      'Failed planning an edit of GRUB_CMDLINE_LINUX_DEFAULT via /etc/default/grub:1: the value uses command substitution',
    );
    expect(refuse('GRUB_CMDLINE_LINUX_DEFAULT=`cat /x`\n')).toMatch(/command substitution/);
    expect(refuse('A=1\nGRUB_CMDLINE_LINUX_DEFAULT="quiet \\\n splash"\n')).toMatch(/grub:2: the assignment spans several lines/);
    expect(refuse('GRUB_CMDLINE_LINUX_DEFAULT="quiet\nsplash"\n')).toMatch(/spans several lines/);
    expect(refuse('GRUB_CMDLINE_LINUX_DEFAULT="quiet"\' splash\'\n')).toMatch(/mixes quoting/);
    expect(refuse('GRUB_CMDLINE_LINUX_DEFAULT="a=\\"b c\\""\n')).toMatch(/backslash/);
    expect(refuse('GRUB_TIMEOUT="5\n')).toMatch(/Failed parsing GRUB defaults via \/etc\/default\/grub:1: unterminated double quote/);
    expect(refuse('GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n', { add: ['foo=a b'], remove: [] })).toMatch(/needs quoting/);
  });

  it('leaves a Debian file with a backtick GRUB_DISTRIBUTOR editable', () => {
    expect(() => planGrubCmdlineEdit(DEBIAN_GRUB, GRUB, iommu)).not.toThrow();
  });
});

describe('planKernelCmdlineFileEdit', () => {
  const path = '/etc/kernel/cmdline';
  it('edits the one line, keeping kernel quoting and the newline', () => {
    const text = 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet foo="a b"\n';
    const plan = planKernelCmdlineFileEdit(text, path, { add: ['intel_iommu=on', 'iommu=pt'], remove: [] }, 'debian');
    expect(plan.newText).toBe('root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet foo="a b" intel_iommu=on iommu=pt\n');
    expect(plan.diff).toContain('@@ -1,1 +1,1 @@\n-root=ZFS');
    expect(plan.followUp[0]).toMatch(/^kernel-install add/);
    expect(plan.notes.join(' ')).toMatch(/proxmox-boot-tool refresh/);
    expect(planKernelCmdlineFileEdit(plan.newText, path, { add: ['intel_iommu=on', 'iommu=pt'], remove: [] }).changed).toBe(false);
    const removed = planKernelCmdlineFileEdit(text, path, { add: [], remove: ['foo'] });
    expect(removed.newText).toBe('root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n');
  });

  it('adds before a -- and refuses an empty file', () => {
    expect(planKernelCmdlineFileEdit('ro quiet -- single', path, { add: ['intel_iommu=on'], remove: [] }).newText).toBe('ro quiet intel_iommu=on -- single');
    expect(() => planKernelCmdlineFileEdit('\n', path, { add: ['intel_iommu=on'], remove: [] })).toThrow(BootConfigError);
    expect(kernelInstallFallbackCmdline('BOOT_IMAGE=/vmlinuz-6.8 root=UUID=1 ro initrd=\\initrd.img quiet\n')).toBe('root=UUID=1 ro quiet\n');
  });
});

describe('planKernelstubEdit', () => {
  const path = '/etc/kernelstub/configuration';
  const config = {
    default: {
      kernel_options: ['quiet', 'splash'],
      esp_path: '/boot/efi',
      setup_loader: false,
      manage_mode: false,
      force_update: false,
      live_mode: false,
      config_rev: 3,
    },
    user: {
      kernel_options: ['quiet', 'loglevel=0', 'systemd.show_status=false', 'splash'],
      esp_path: '/boot/efi',
      setup_loader: true,
      manage_mode: true,
      force_update: false,
      live_mode: false,
      config_rev: 3,
    },
  };
  const text = JSON.stringify(config, null, 2);

  it('edits user.kernel_options and is idempotent', () => {
    const plan = planKernelstubEdit(text, path, { add: ['intel_iommu=on', 'loglevel=3'], remove: ['splash'] });
    const json = JSON.parse(plan.newText);
    expect(json.user.kernel_options).toEqual(['quiet', 'loglevel=3', 'systemd.show_status=false', 'intel_iommu=on']);
    expect(json.default).toEqual(config.default);
    expect(plan.followUp).toEqual(['kernelstub']);
    const again = planKernelstubEdit(plan.newText, path, { add: ['intel_iommu=on', 'loglevel=3'], remove: ['splash'] });
    expect(again).toMatchObject({ changed: false, newText: plan.newText });
  });

  it('starts from default when user is missing; rejects bad JSON and shapes', () => {
    const plan = planKernelstubEdit(JSON.stringify({ default: config.default }), path, { add: ['intel_iommu=on'], remove: [] });
    expect(JSON.parse(plan.newText).user.kernel_options).toEqual(['quiet', 'splash', 'intel_iommu=on']);
    expect(() => planKernelstubEdit('{', path, iommu)).toThrow(
      /Failed parsing the kernelstub configuration via \/etc\/kernelstub\/configuration: not valid JSON/,
    );
    expect(() => planKernelstubEdit('{"user":{"kernel_options":"quiet"}}', path, iommu)).toThrow(/unexpected shape/);
  });

  it('refuses exactly the shapes the zod schema it checked with refused, in its words (the check no longer loads zod)', () => {
    const Section = z.looseObject({ kernel_options: z.array(z.string()).optional() });
    const Config = z.looseObject({ default: Section.optional(), user: Section.optional() });
    const values: unknown[] = [undefined, null, 0, 1.5, 'quiet', true, [], ['quiet'], [1, 'x', null], {}, { esp_path: '/boot/efi' }, { kernel_options: [] }];
    values.push(...[['quiet', 'splash'], 'quiet', null, {}, [1, null, 'a', [], {}]].map((kernel_options) => ({ kernel_options, config_rev: 3 })));
    const configs: unknown[] = [null, 0, 'x', false, [], [{ user: {} }]];
    for (const d of values) for (const u of values) configs.push({ ...(d === undefined ? {} : { default: d }), ...(u === undefined ? {} : { user: u }), x: 1 });
    let refused = 0;
    for (const config of configs) {
      const text = JSON.stringify(config);
      const parsed = Config.safeParse(JSON.parse(text));
      let said: string | undefined;
      try {
        planKernelstubEdit(text, path, iommu);
      } catch (error) {
        said = (error as Error).message;
      }
      if (parsed.success) expect(said ?? '', text).not.toContain('unexpected shape');
      else {
        refused++;
        const issues = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
        expect(said, text).toBe(new BootConfigError('parsing', 'the kernelstub configuration', path, `unexpected shape: ${issues}`).message);
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});
