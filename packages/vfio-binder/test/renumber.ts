import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Makes the device folder name another device, as a renumbering after a hardware or firmware
 * change does: the `device` attribute and config space (offset 0x02) both change.
 */
export function giveDeviceId(deviceDir: string, deviceId: number): void {
  fs.writeFileSync(path.join(deviceDir, 'device'), `0x${deviceId.toString(16).padStart(4, '0')}\n`);
  const config = fs.readFileSync(path.join(deviceDir, 'config'));
  config.writeUInt16LE(deviceId, 2);
  fs.writeFileSync(path.join(deviceDir, 'config'), config);
}
