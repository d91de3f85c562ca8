import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'lxd-device-attach', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
