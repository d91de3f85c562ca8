import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'pci-discovery', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
