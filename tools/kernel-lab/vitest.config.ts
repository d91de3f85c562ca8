import { defineProject } from 'vitest/config';

// The kernel lab: Debian's kernel under QEMU TCG with an emulated IOMMU runs passthru; these
// tests judge what the guests recorded against the kernel's own answers, and hold the
// simulated kernel to them. globalSetup boots every guest once (installing QEMU and the kernel
// package when missing, failing loudly otherwise), or reuses PASSTHRU_LAB_RESULTS.
export default defineProject({
  test: {
    name: 'kernel-lab',
    include: ['test/**/*.test.ts'],
    globalSetup: ['globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
  },
});
