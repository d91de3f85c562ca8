// The worker thread of a parallel scan (pci-discovery's scanPciDevicesParallel); bundled as
// dist/scanWorker.mjs beside passthru.mjs.
import { serveScanWorker } from '@passthru/pci-discovery';

serveScanWorker();
