// The one list of test projects. vitest 4 no longer reads this file by itself:
// vitest.config.ts imports it as `test.projects`, and tools/workspace/projects.test.ts fails
// when a test file belongs to no project here.
export default [
  'packages/hostfs',
  'packages/sysfs-sim',
  'packages/pci-discovery',
  'packages/boot-config',
  'packages/iommu-check',
  'packages/vfio-binder',
  'packages/lxd-device-attach',
  'packages/exporters',
  'packages/fleet',
  'packages/baseline',
  'apps/cli',
  'tools/e2e',
  'tools/kernel-lab',
  'tools/peers',
  'tools/workspace',
];
