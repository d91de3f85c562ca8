// The least a Node.js `list --format json` can do (issue 23's floor), as a whole process: per
// function it reads what list's JSON shows (the device link, config space, class, driver_override,
// numa_node, reset_method, resource, the four PCIe link files, the iommu_group, driver and physfn
// links, a PF's sriov_* files and virtfnN links, boot_vga of a VGA function), the net and drm
// class folders once, in two threads claiming chunks from a shared counter as the scan does, and
// prints JSON.stringify of it all. No pci.ids names, no confinement to the root, no check of
// anything read, no problems reported: what is left is Node's own price for the reads and the
// document. Usage: node tools/bench/listFloor.mjs ROOT > out.json   (tools/bench/list-floor.ts runs it)
import * as fs from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const FILES = ['class', 'driver_override', 'numa_node', 'reset_method', 'resource'];
const LINK_FILES = ['current_link_speed', 'max_link_speed', 'current_link_width', 'max_link_width'];
const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const CHUNK = 16;
const scratch = Buffer.allocUnsafe(8192);

/** A file's text without trailing newlines, or null. */
function attribute(file) {
  let fd;
  try {
    fd = fs.openSync(file, FLAGS);
  } catch {
    return null;
  }
  try {
    let end = fs.readSync(fd, scratch, 0, scratch.length, null);
    while (end > 0 && scratch[end - 1] === 0x0a) end--;
    return scratch.toString('utf8', 0, end);
  } finally {
    fs.closeSync(fd);
  }
}

function link(file) {
  try {
    return fs.readlinkSync(file);
  } catch {
    return null;
  }
}

const baseName = (target) => (target === null ? null : target.slice(target.lastIndexOf('/') + 1));

function readFunction(root, address) {
  const folder = `${root}/sys/${link(`${root}/sys/bus/pci/devices/${address}`).slice('../../../'.length)}`;
  const fd = fs.openSync(`${folder}/config`, FLAGS);
  const n = fs.readSync(fd, scratch, 0, scratch.length, null);
  fs.closeSync(fd);
  const hex = (offset, bytes) =>
    n >= offset + bytes
      ? scratch
          .readUIntLE(offset, bytes)
          .toString(16)
          .padStart(bytes * 2, '0')
      : null;
  const device = {
    address,
    vendorId: hex(0, 2),
    deviceId: hex(2, 2),
    revision: hex(8, 1),
    subsystemVendorId: hex(0x2c, 2),
    subsystemDeviceId: hex(0x2e, 2),
    sysfsPath: folder,
  };
  for (const name of FILES) device[name] = attribute(`${folder}/${name}`);
  if (device.class?.startsWith('0x0300')) device.bootVga = attribute(`${folder}/boot_vga`);
  device.link = LINK_FILES.map((name) => attribute(`${folder}/${name}`));
  device.iommuGroup = baseName(link(`${folder}/iommu_group`));
  device.driver = baseName(link(`${folder}/driver`));
  device.physfn = baseName(link(`${folder}/physfn`));
  if (device.physfn === null) {
    const total = attribute(`${folder}/sriov_totalvfs`);
    if (total !== null) {
      device.sriov = { totalVfs: Number(total), numVfs: Number(attribute(`${folder}/sriov_numvfs`)), vfs: [] };
      for (let i = 0; ; i++) {
        const vf = baseName(link(`${folder}/virtfn${i}`));
        if (vf === null) break;
        device.sriov.vfs.push(vf);
      }
    }
  }
  return device;
}

function readClaimed(root, entries, counter) {
  const read = [];
  for (let start = Atomics.add(counter, 0, CHUNK); start < entries.length; start = Atomics.add(counter, 0, CHUNK))
    for (let i = start; i < Math.min(start + CHUNK, entries.length); i++) read.push([i, readFunction(root, entries[i])]);
  return read;
}

/** PCI address -> names in a class folder, from one listing and a readlink per entry. */
function classMembers(root, cls) {
  const members = new Map();
  const folder = `${root}/sys/class/${cls}`;
  for (const name of fs.existsSync(folder) ? fs.readdirSync(folder) : []) {
    const parts = link(`${folder}/${name}`)?.split('/') ?? [];
    const device = parts.at(-3);
    if (device !== undefined) members.set(device, [...(members.get(device) ?? []), name]);
  }
  return members;
}

if (isMainThread) {
  const root = process.argv[2];
  const entries = fs.readdirSync(`${root}/sys/bus/pci/devices`).sort();
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL(import.meta.url), { workerData: { root, entries, counter } });
  const theirs = new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  const net = classMembers(root, 'net');
  const drm = classMembers(root, 'drm');
  const devices = new Array(entries.length);
  for (const [i, d] of readClaimed(root, entries, counter)) devices[i] = d;
  for (const [i, d] of await theirs) devices[i] = d;
  for (const d of devices) Object.assign(d, { net: net.get(d.address) ?? [], drm: drm.get(d.address) ?? [] });
  process.stdout.write(`${JSON.stringify({ devices }, null, 2)}\n`);
} else {
  parentPort.postMessage(readClaimed(workerData.root, workerData.entries, workerData.counter));
}
