import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'hostfs', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
