/**
 * The items of LXD's security checklist ("About security" and "How to harden security for LXD" in
 * LXD's documentation) that audit findings come from, each with the page of Incus's documentation
 * that says the same for Incus (`incus`; the SARIF of an Incus audit links that one). Every
 * finding id cites one item. The titles are written in LXD's words and reworded for Incus
 * (`inVocabularyOf`).
 */
const LXD_DOCS = 'https://documentation.ubuntu.com/lxd/stable-5.21';
const INCUS_DOCS = 'https://linuxcontainers.org/incus/docs/main';

export interface ChecklistEntry {
  title: string;
  /** LXD's page. */
  url: string;
  /** Incus's page for the same item. */
  incus: string;
}

export const CHECKLIST = {
  versions: {
    title: 'Use only supported LXD versions',
    url: `${LXD_DOCS}/explanation/security/#supported-versions`,
    incus: `${INCUS_DOCS}/support/`,
  },
  daemon: {
    title: 'Restrict access to the LXD daemon and the remote API',
    url: `${LXD_DOCS}/explanation/security/#access-to-the-lxd-daemon`,
    incus: `${INCUS_DOCS}/explanation/security/#access-to-the-incus-daemon`,
  },
  trust: {
    title: 'Add remote clients with tokens that expire',
    url: 'https://canonical.com/lxd/docs/latest/howto/security_harden/#howto-security-harden-auth-expiry',
    incus: `${INCUS_DOCS}/authentication/#adding-client-certificates-using-tokens`,
  },
  oidc: {
    // Incus only (its documentation's warning): LXD's page is not cited for it.
    title: 'Authorize OpenID Connect users (OpenFGA or a scriptlet)',
    url: `${INCUS_DOCS}/authentication/#openid-connect-authentication`,
    incus: `${INCUS_DOCS}/authentication/#openid-connect-authentication`,
  },
  network: {
    title: 'Configure your network interfaces to be secure',
    url: `${LXD_DOCS}/explanation/security/#network-security`,
    incus: `${INCUS_DOCS}/explanation/security/#network-security`,
  },
  privileged: {
    title: 'Do not use privileged containers unless required',
    url: `${LXD_DOCS}/explanation/security/#container-security`,
    incus: `${INCUS_DOCS}/explanation/security/#container-security`,
  },
  syscalls: {
    title: 'Restrict capabilities, keep seccomp (system call interception)',
    url: 'https://documentation.ubuntu.com/lxd/en/stable-5.0/syscall-interception/',
    incus: `${INCUS_DOCS}/syscall-interception/`,
  },
  bpf: {
    // Incus only: LXD has no BPF token delegation.
    title: 'Delegate BPF only where the workload needs it',
    url: `${INCUS_DOCS}/explanation/bpf-tokens/`,
    incus: `${INCUS_DOCS}/explanation/bpf-tokens/`,
  },
  guestApi: {
    title: 'Keep the guest API (/dev/lxd) to what instances need',
    url: `${LXD_DOCS}/dev-lxd/`,
    incus: `${INCUS_DOCS}/dev-incus/`,
  },
  limits: {
    title: 'Resource limits against denial of service',
    url: 'https://canonical.com/lxd/docs/latest/howto/security_harden/',
    incus: `${INCUS_DOCS}/reference/instance_options/#instance-options-limits`,
  },
  docker: {
    title: 'Running Docker in LXD',
    url: `${LXD_DOCS}/faq/`,
    incus: `${INCUS_DOCS}/faq/#how-can-i-run-docker-inside-an-incus-container`,
  },
  devices: {
    title: 'Do not hand host devices, paths or the LXD socket to instances',
    url: `${LXD_DOCS}/explanation/security/#container-security`,
    incus: `${INCUS_DOCS}/explanation/security/#container-security`,
  },
  projects: {
    title: 'Restrict projects that non-admin users can use',
    url: `${LXD_DOCS}/explanation/security/#access-to-the-lxd-daemon`,
    incus: `${INCUS_DOCS}/howto/projects_confine/`,
  },
  passthrough: {
    title: 'Passthrough needs DMA and interrupt isolation (IOMMU)',
    url: 'https://docs.kernel.org/driver-api/vfio.html',
    incus: 'https://docs.kernel.org/driver-api/vfio.html',
  },
  production: {
    title: 'Server settings for a production setup',
    url: `${LXD_DOCS}/reference/server_settings/`,
    incus: `${INCUS_DOCS}/reference/server_settings/`,
  },
  performance: {
    title: 'Performance tuning (NUMA, hugepages)',
    url: `${LXD_DOCS}/explanation/performance_tuning/`,
    incus: `${INCUS_DOCS}/explanation/performance_tuning/`,
  },
} as const satisfies Record<string, ChecklistEntry>;
export type ChecklistItem = keyof typeof CHECKLIST;
