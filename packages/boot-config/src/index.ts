// @passthru/boot-config: the files that decide the next boot, read and edited byte for byte.
// The kernel command line of each boot loader (GRUB defaults and drop-ins, /etc/kernel/cmdline,
// kernelstub), modprobe.d and the initramfs configuration. Plans never write: they return the
// new text and its patch; iommu-check advises with them, vfio-binder's persist applies them.
export { BootConfigError } from './BootConfigError';
export { detectDistro, type Distro } from './distro';

// The kernel command line as the kernel parses it.
export { parseCmdline, formatParam, canonicalParamKey, splitOptions, multisetMinus } from './KernelCmdline';
export type { KernelParam, KernelCmdline } from './KernelCmdline';

// Boot loaders: what each will pass on the next boot, and the edits that change it.
export { readBootLoaderCmdlines, planCmdlineEdits, describeCmdlinePlan } from './bootLoaders';
export type { BootLoader, BootLoaderCmdline, CmdlineChange, CmdlineRemediationPlan, PlanCmdlineEditsOptions } from './bootLoaders';
export type { BootConfigEditPlan, CmdlineEditSpec } from './GrubEdit';

// modprobe.d and the initramfs, as doctor judges them and persist reads them before writing its own lines.
export { parseModprobeConfig, moduleOptions, isModuleBlocked, normalizeModuleName, MODPROBE_DIRS } from './ModprobeConfig';
export type { ConfigFile, ConfigOrigin, ModprobeConfig, ModprobeOption, ModprobeSoftdep } from './ModprobeConfig';
export { parseInitramfsToolsModules, parseDracutConf, parseMkinitcpioConf, GPU_DRIVERS } from './InitramfsConfig';
export type { InitramfsTool, InitramfsModuleEntry, InitramfsVfioReport } from './InitramfsConfig';

// The one rendering of a file edit: doctor, persist, tune and --dry-run show the same patch.
export { unifiedPatch } from './unifiedPatch';
