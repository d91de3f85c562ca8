import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'vfio-binder', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
