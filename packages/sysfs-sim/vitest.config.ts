import { defineProject } from 'vitest/config';

export default defineProject({
  // Set-up and clean-up make and remove fixture trees of thousands of files: on a busy 2-core
  // machine that takes longer than vitest's 10 s default.
  test: { name: 'sysfs-sim', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], hookTimeout: 120_000 },
});
