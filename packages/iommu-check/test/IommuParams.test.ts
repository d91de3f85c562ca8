import { parseCmdline } from '@passthru/boot-config';
import { describe, expect, it } from 'vitest';
import { iommuParamsToAdd, judgeIommuParams } from '../src/IommuParams';

const judge = (line: string, vendor: 'intel' | 'amd' | 'other') => judgeIommuParams(parseCmdline(line).params, vendor);

describe('judgeIommuParams', () => {
  it('intel_iommu=on is ok on Intel, only info on AMD', () => {
    expect(judge('intel_iommu=on', 'intel')).toEqual([expect.objectContaining({ param: 'intel_iommu=on', verdict: 'ok' })]);
    expect(judge('intel_iommu=on', 'amd')[0]?.verdict).toBe('info');
  });

  it('fails the off switches and warns on weakening ones', () => {
    const f = judge('intel_iommu=off iommu=off intremap=off intremap=nosid amd_iommu_intr=legacy', 'intel');
    expect(f.map((x) => [x.param, x.verdict])).toEqual([
      ['intel_iommu=off', 'fail'],
      ['iommu=off', 'fail'],
      ['intremap=off', 'fail'],
      ['intremap=nosid', 'warn'],
      ['amd_iommu_intr=legacy', 'warn'],
      ['intremap', 'info'], // duplicate note
    ]);
    expect(f[0]?.fix).toMatch(/intel_iommu=on/);
    expect(judge('amd_iommu=off', 'amd')[0]?.verdict).toBe('fail');
  });

  it('amd_iommu=on is not a valid value', () => {
    const [f] = judge('amd_iommu=on', 'amd');
    expect(f).toMatchObject({ verdict: 'warn', fix: expect.stringMatching(/remove/i) });
    expect(f?.reason).toMatch(/not a valid value/);
    expect(judge('amd_iommu=pgtbl_v2,force_isolation', 'amd').map((x) => x.verdict)).toEqual(['info', 'info']);
  });

  it('reports pt as a trade-off, iommu=1 and force as info', () => {
    expect(judge('iommu=pt', 'amd')[0]).toMatchObject({ verdict: 'info', reason: expect.stringMatching(/isolat/) });
    expect(judge('iommu=1', 'intel')[0]).toMatchObject({ verdict: 'info', reason: expect.stringMatching(/GART/) });
    expect(judge('iommu=force', 'intel')[0]?.verdict).toBe('info');
    expect(judge('iommu.passthrough=1', 'other')[0]?.verdict).toBe('info');
  });

  it('judges passthrough helpers and hacks', () => {
    const f = judge(
      'pcie_acs_override=downstream,multifunction vfio-pci.ids=10de:2684,10de:22ba vfio_iommu_type1.allow_unsafe_interrupts=1 modprobe.blacklist=nouveau,nvidiafb',
      'intel',
    );
    expect(f.map((x) => x.verdict)).toEqual(['warn', 'info', 'warn', 'info']);
    expect(f[1]?.reason).toContain('10de:2684, 10de:22ba');
    expect(f[3]?.reason).toContain('nouveau, nvidiafb');
    expect(judge('vfio-pci.ids=10de:zz', 'intel')[0]?.verdict).toBe('warn');
  });

  it('the last occurrence wins; earlier ones are reported overridden', () => {
    const f = judge('intel_iommu=off quiet intel_iommu=on', 'intel');
    expect(f.map((x) => [x.param, x.verdict])).toEqual([
      ['intel_iommu=off', 'info'],
      ['intel_iommu=on', 'ok'],
      ['intel_iommu', 'info'],
    ]);
    expect(f[0]?.reason).toMatch(/Overridden by the later intel_iommu=on/);
    // iommu=pt and iommu.passthrough=0 set the same default domain type
    const g = judge('iommu=pt iommu.passthrough=0', 'amd');
    expect(g[0]?.reason).toMatch(/Overridden/);
  });

  it('dash equals underscore (parameq), __setup parameters included', () => {
    expect(judge('intel-iommu=off', 'intel')[0]?.verdict).toBe('fail');
    expect(judge('amd-iommu=off', 'amd')[0]?.verdict).toBe('fail');
  });
});

describe('iommuParamsToAdd', () => {
  const p = (line: string) => parseCmdline(line).params;
  it('adds intel_iommu=on on Intel, nothing on AMD', () => {
    expect(iommuParamsToAdd('intel', p('quiet splash'))).toEqual({ add: ['intel_iommu=on'], remove: [] });
    expect(iommuParamsToAdd('intel', p('quiet intel_iommu=on,sm_on'))).toEqual({ add: [], remove: [] });
    expect(iommuParamsToAdd('amd', p('quiet'))).toEqual({ add: [], remove: [] });
  });
  it('removes off values and amd_iommu=on', () => {
    expect(iommuParamsToAdd('intel', p('intel_iommu=off iommu=off intremap=off amd_iommu=on'))).toEqual({
      add: ['intel_iommu=on'],
      remove: ['intel_iommu=off', 'iommu=off', 'intremap=off', 'amd_iommu=on'],
    });
    expect(iommuParamsToAdd('amd', p('amd_iommu=off amd_iommu=on iommu=pt'))).toEqual({ add: [], remove: ['amd_iommu=off', 'amd_iommu=on'] });
  });
});
