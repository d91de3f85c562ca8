import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseHostSpec, type HostSpec } from './HostSpec';
import { SysfsSimError } from './SysfsSimError';

/** Reads a host spec from a YAML or JSON file. */
export function loadHostSpec(file: string): HostSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SysfsSimError('reading host spec', file, undefined, (error as Error).message, { cause: error });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new SysfsSimError('parsing host spec', file, undefined, (error as Error).message, { cause: error });
  }
  return parseHostSpec(value, file);
}
