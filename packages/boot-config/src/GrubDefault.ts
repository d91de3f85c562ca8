/**
 * /etc/default/grub and /etc/default/grub.d/*.cfg as grub-mkconfig sees them: it sources
 * /etc/default/grub and then every grub.d/*.cfg (glob order) with /bin/sh, so later files win and
 * a drop-in's `GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT foo"` appends.
 */
import { BootConfigError } from './BootConfigError';
import { lexShellAssignments, type ShellSegment } from './ShellAssignments';

export interface GrubDefaultFile {
  path: string;
  text: string;
}

export interface GrubOrigin {
  path: string;
  line: number;
}

export interface GrubDefault {
  vars: Record<string, string>;
  /** Where each variable was last assigned. */
  origin: Record<string, GrubOrigin>;
  /**
   * Variables whose last assignment needs command substitution (Debian and Ubuntu ship
   * GRUB_DISTRIBUTOR=`lsb_release -i -s ...`): not in `vars`, their origin here.
   */
  unresolved: Record<string, GrubOrigin & { reason: string }>;
}

export interface ParseGrubDefaultOptions {
  /**
   * Variables that must evaluate: command substitution in their value (directly or through a
   * referenced unresolved variable) throws. 'all' makes every command substitution fatal.
   * Default: the two command-line variables.
   */
  mustResolve?: readonly string[] | 'all';
}

export const GRUB_CMDLINE_VARIABLES = ['GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT'] as const;

/**
 * Pure: the files in the order grub-mkconfig sources them (/etc/default/grub, then
 * /etc/default/grub.d/*.cfg sorted by name). Undefined variables expand to '' as in sh.
 * Throws BootConfigError naming file and line on an unterminated quote, unsupported shell
 * syntax, or command substitution in a variable that must resolve.
 */
export function parseGrubDefault(files: readonly GrubDefaultFile[], options: ParseGrubDefaultOptions = {}): GrubDefault {
  const mustResolve = options.mustResolve ?? GRUB_CMDLINE_VARIABLES;
  const vars: Record<string, string> = {};
  const origin: Record<string, GrubOrigin> = {};
  const unresolved: GrubDefault['unresolved'] = {};
  for (const file of files) {
    for (const a of lexShellAssignments(file.text, file.path, { what: 'GRUB defaults' })) {
      let value = '';
      let why: string | undefined;
      for (const seg of a.value as ShellSegment[]) {
        if (seg.kind === 'literal') value += seg.text;
        else if (seg.kind === 'var') {
          if (Object.hasOwn(unresolved, seg.name)) why ??= `it references ${seg.name}, which needs command substitution`;
          value += vars[seg.name] ?? '';
        } else why ??= `command substitution ${seg.raw} cannot be evaluated`;
      }
      if (why !== undefined) {
        if (mustResolve === 'all' || mustResolve.includes(a.name)) {
          throw new BootConfigError('evaluating', a.name, file.path, why, { line: a.line });
        }
        delete vars[a.name];
        delete origin[a.name];
        unresolved[a.name] = { path: file.path, line: a.line, reason: why };
      } else {
        vars[a.name] = value;
        origin[a.name] = { path: file.path, line: a.line };
        delete unresolved[a.name];
      }
    }
  }
  return { vars, origin, unresolved };
}

/**
 * The command line of GRUB's normal boot entries: 10_linux writes
 * "${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}" (recovery entries get only the first,
 * plus `single`/GRUB_CMDLINE_LINUX_RECOVERY).
 */
export function effectiveGrubCmdline(vars: Readonly<Record<string, string>>): string {
  return `${vars['GRUB_CMDLINE_LINUX'] ?? ''} ${vars['GRUB_CMDLINE_LINUX_DEFAULT'] ?? ''}`;
}
