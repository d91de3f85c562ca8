import { defineProject } from 'vitest/config';

export default defineProject({
  // The Prometheus suite starts real node-exporter and Prometheus processes: give it time.
  test: { name: 'exporters', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
});
