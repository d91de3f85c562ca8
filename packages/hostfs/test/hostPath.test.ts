import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRelative } from '../src/hostPath';

describe('resolveRelative', () => {
  it('resolves as path.posix.resolve does, the kernel links by dropping folders and the rest the long way', () => {
    const folders = ['/', '/sys', '/sys/bus/pci/devices', '/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0', '/a/b'];
    const targets = [
      '../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0',
      '../../../../kernel/iommu_groups/7',
      '../0000:01:00.1',
      '../../../../bus/pci/drivers/vfio-pci',
      'virtfn0',
      'a/b/c',
      '../../../../../../../../x',
      '..',
      '../',
      '../.',
      './x',
      '../x/./y',
      '../x//y',
      '../x/',
      '../.hidden/..x/...',
      '../x/..',
      '.../x',
    ];
    for (const folder of folders)
      for (const target of targets) expect(resolveRelative(folder, target), `${folder} + ${target}`).toBe(path.posix.resolve(folder, target));
  });
});
