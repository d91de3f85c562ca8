import { defineProject } from 'vitest/config';

// The e2e project: fixture hosts as containers, peer tools as oracles, the passthru image.
// globalSetup provisions Docker and the image (failing loudly, never skipping).
export default defineProject({
  test: {
    name: 'e2e',
    include: ['test/**/*.test.ts'],
    globalSetup: ['globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: the container files run one at a time, each reusing one container per fixture.
    fileParallelism: false,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: 'localhost' },
  },
});
