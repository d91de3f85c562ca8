import { writeOutputFile } from '@passthru/hostfs';

/**
 * Writes `file` so that a reader sees the old content or the new, never a part: hostfs's one
 * output writer (a dot-file beside it, created exclusively under an unpredictable name, fsynced,
 * renamed over `file`; nfd-worker ignores dot-files, node-exporter reads only *.prom). A target
 * that is not a regular file is refused (a HostFsError with `refused`: exit 2), nothing written.
 */
export function writeFileAtomic(file: string, text: string, mode = 0o644): void {
  writeOutputFile(file, text, mode);
}
