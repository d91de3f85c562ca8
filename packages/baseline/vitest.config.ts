import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'baseline',
    include: ['test/**/*.test.ts'],
  },
});
