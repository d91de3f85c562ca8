// vitest 4 removed vitest.workspace.ts: the projects live here, under test.projects.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tools/e2e', 'tools/workspace'],
  },
});
