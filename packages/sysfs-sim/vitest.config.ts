import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'sysfs-sim', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
