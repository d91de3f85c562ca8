import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'cli', include: ['test/**/*.test.ts'], globalSetup: ['test/buildBundle.ts'], testTimeout: 30_000, hookTimeout: 120_000 },
});
