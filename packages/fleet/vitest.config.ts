import { defineProject } from 'vitest/config';

// The cluster suite needs a real three-member LXD cluster: started once per run by globalSetup
// (tools/provision/lxd-cluster.sh), which hands the cluster's state folder to the tests.
export default defineProject({
  test: {
    name: 'fleet',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/clusterSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
