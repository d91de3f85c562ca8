import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'boot-config', include: ['test/**/*.test.ts'] },
});
