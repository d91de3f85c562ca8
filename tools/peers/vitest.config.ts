import { defineProject } from 'vitest/config';

// The peer tools' parsers (no container needed) and real lspci (pciutils) as their oracle.
export default defineProject({
  test: { name: 'peers', include: ['test/**/*.test.ts'] },
});
