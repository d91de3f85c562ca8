/**
 * The official SARIF validator (`@microsoft/sarif-multitool validate`, a self-contained .NET
 * binary shipped in the npm package @microsoft/sarif-multitool-linux). It needs ICU (Debian:
 * libicu72), provisioned through tools/provision/system.sh; a missing prerequisite FAILS with the
 * install command, it never skips. `validate` exits 0 even on an invalid log, so its verdict is
 * read from the SARIF log it writes (-o): one result per problem, with a level.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from 'sarif';

const REPO = path.resolve(__dirname, '../../..');
const ICU = 'libicu72';

export interface ValidationProblem {
  ruleId: string;
  level: string;
  /** The validator's message arguments (JSON path first). */
  where: string;
}

/** The validator binary, after making sure its prerequisites are installed. */
export function sarifMultitool(): string {
  let binary: string;
  try {
    binary = createRequire(__filename)('@microsoft/sarif-multitool-linux');
  } catch (error) {
    throw new Error(
      `the SARIF validator is not installed: run npm ci (devDependency @microsoft/sarif-multitool, which pulls @microsoft/sarif-multitool-${process.platform})`,
      { cause: error },
    );
  }
  try {
    execFileSync('bash', [path.join(REPO, 'tools/provision/system.sh'), ICU], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    throw new Error(
      `the SARIF validator (.NET) needs ICU: as root on Debian run: apt-get update && apt-get install -y --no-install-recommends ${ICU}\n${(error as { stderr?: string }).stderr ?? ''}`,
      { cause: error },
    );
  }
  return binary;
}

/** Runs `Sarif.Multitool validate` on `log`; returns every problem it reports (empty: valid). */
export function validateSarif(log: Log | string): ValidationProblem[] {
  const binary = sarifMultitool();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-sarif-'));
  try {
    const input = path.join(dir, 'audit.sarif');
    const output = path.join(dir, 'validation.sarif');
    fs.writeFileSync(input, typeof log === 'string' ? log : JSON.stringify(log, null, 2));
    try {
      execFileSync(binary, ['validate', input, '-o', output, '--log', 'ForceOverwrite'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
        timeout: 120_000,
      });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`Sarif.Multitool validate failed to run (missing ICU? apt-get install -y ${ICU}): ${e.stderr || e.stdout || e.message}`, {
        cause: error,
      });
    }
    const verdict = JSON.parse(fs.readFileSync(output, 'utf8')) as Log;
    const run = verdict.runs[0]!;
    if (run.invocations?.[0]?.executionSuccessful !== true) throw new Error(`Sarif.Multitool validate did not complete: ${JSON.stringify(run.invocations)}`);
    return (run.results ?? []).map((r) => ({ ruleId: r.ruleId ?? '?', level: r.level ?? 'warning', where: (r.message.arguments ?? []).join(' ') }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
