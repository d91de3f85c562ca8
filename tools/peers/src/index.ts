// The peer tools' outputs, parsed: lspci, driverctl, dpdk-devbind.py and virt-host-validate, the
// oracles the tests hold passthru to (docs/architecture.md: parsers are pure functions of text;
// runLspci runs lspci through an injected Runner). Each parser returns what the tool said, with no
// interpretation beyond splitting fields. Test tooling: no product code imports it.
export { LspciRecordSchema, parseLspciVmm, runLspci, lspciArgs, execaRunner, type LspciRecord, type Runner, type LspciOptions } from './lspci';
export { parseLspciRegions, runLspciRegions, type LspciRegion } from './lspciRegions';
export { parseDriverctlList, type DriverctlDevice } from './driverctl';
export { parseDevbindStatus, type DevbindDevice } from './dpdkDevbind';
export { parseVirtHostValidate, type ValidateCheck } from './virtHostValidate';
