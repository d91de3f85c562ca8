import { defineProject } from 'vitest/config';

// The cluster suites need a real three-member LXD cluster: started once per run by globalSetup
// (tools/provision/cluster.sh lxd and incus), which hands the clusters' state folders to the tests. They
// change that one cluster (publish, bind, stop a member), so the files run one after another.
export default defineProject({
  test: {
    name: 'fleet',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/clusterSetup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
