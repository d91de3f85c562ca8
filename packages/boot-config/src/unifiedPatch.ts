/**
 * The one way passthru shows a file edit (GRUB defaults, /etc/kernel/cmdline, kernelstub's
 * JSON, persist's modprobe.d and initramfs files): a unified patch as `diff -u` writes it, made
 * by jsdiff. File names are the host path without its leading `/`, because GNU patch ignores
 * absolute names: `patch -p0 -d /` applies it to the host, `patch -p0 -d ROOT` to a fixture
 * tree. A file that does not exist yet is `--- /dev/null`; a last line without a newline gets
 * `\ No newline at end of file`, as patch expects.
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';

/** Lines of context around each change (GNU diff -u's default). */
const CONTEXT = 3;

/** The patch that turns `before` (null: no such file) into `after` at `path`; '' when they are equal. */
export function unifiedPatch(path: string, before: string | null, after: string): string {
  if (before === after) return '';
  const name = path.replace(/^\/+/, '');
  return createTwoFilesPatch(before === null ? '/dev/null' : name, name, before ?? '', after, undefined, undefined, {
    context: CONTEXT,
    headerOptions: FILE_HEADERS_ONLY,
  });
}
