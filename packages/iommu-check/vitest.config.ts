import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'iommu-check', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
