import { HostFsError, type HostFs } from '@passthru/hostfs';
import { LxdError } from '../LxdError';
import { lxcDeviceNodes, lxcMountEntry, type LxcDeviceNode } from '../lxcConfig';
import { parseAttachTarget, resolveTarget, type AttachType } from '../resolveTarget';

/**
 * passthru's lines in an LXC config are one block per target, between two marker comments, so
 * detach removes exactly what attach wrote and never a line of the user's own:
 *
 *   # passthru: begin 0000:01:00.0
 *   # added by passthru attach --lxc; passthru detach --lxc NAME 0000:01:00.0 removes this block
 *   lxc.cgroup2.devices.allow = c 226:1 rwm
 *   lxc.mount.entry = /dev/dri/card1 dev/dri/card1 none bind,optional,create=file
 *   # passthru: end 0000:01:00.0
 */
export interface PassthruBlock {
  key: string;
  /** 0-based index of the begin and end lines in the file's lines. */
  begin: number;
  end: number;
  lines: string[];
  /** The device nodes its mount entries bind. */
  nodes: string[];
}

const BEGIN = /^# passthru: begin (\S+)\s*$/;
const END = /^# passthru: end (\S+)\s*$/;

/** passthru's blocks in a config's text; a begin without its end is refused (the file was edited by hand). */
export function findBlocks(text: string, file: string): PassthruBlock[] {
  const lines = text.split('\n');
  const blocks: PassthruBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = BEGIN.exec(lines[i]!);
    if (!m) continue;
    const end = lines.findIndex((l, j) => j > i && (END.exec(l)?.[1] === m[1] || BEGIN.test(l)));
    if (end < 0 || !END.test(lines[end]!))
      throw new LxdError(
        'reading',
        `passthru's block for ${m[1]}`,
        `${file}:${i + 1}`,
        `no "# passthru: end ${m[1]}" after it: the block was edited by hand; fix or remove it by hand`,
        {
          reason: 'preflight',
        },
      );
    const body = lines.slice(i, end + 1);
    const nodes = body.map((l) => /^lxc\.mount\.entry\s*=\s*(\S+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
    blocks.push({ key: m[1]!, begin: i, end, lines: body, nodes });
    i = end;
  }
  return blocks;
}

/** The block attach writes for `key`: for each node the host's devices rule and the bind mount at the same path. */
export function blockLines(key: string, container: string, nodes: LxcDeviceNode[], cgroupKey: 'lxc.cgroup' | 'lxc.cgroup2'): string[] {
  return [
    `# passthru: begin ${key}`,
    `# added by passthru attach --lxc; passthru detach --lxc ${container} ${key} removes this block`,
    ...nodes.flatMap((n) => [`${cgroupKey}.devices.allow = ${n.type} ${n.majorMinor} rwm`, lxcMountEntry(n.path)]),
    `# passthru: end ${key}`,
  ];
}

/** A device node path on the command line: under /dev, plain characters only (it goes into a mount entry). */
const DEV_PATH = /^\/dev\/[A-Za-z0-9_.:+@-]+(?:\/[A-Za-z0-9_.:+@-]+)*$/;

function badTarget(target: string, detail: string, reason: 'bad-input' | 'not-found' | 'preflight' = 'bad-input'): LxdError {
  return new LxdError('resolving', `target ${JSON.stringify(target.length > 70 ? `${target.slice(0, 70)}...` : target)}`, '', detail, { reason });
}

/** A device node of this host by path: char or block, with its major:minor from the node itself. */
function nodeAt(host: HostFs, target: string): LxcDeviceNode {
  if (!DEV_PATH.test(target) || target.split('/').includes('..'))
    throw badTarget(target, 'a device node is a path under /dev of letters, digits and _ . : + @ - (e.g. /dev/dri/renderD128)');
  let stat: ReturnType<HostFs['stat']>;
  try {
    stat = host.stat(target);
  } catch (error) {
    if (error instanceof HostFsError && ['ENOENT', 'ENOTDIR', 'EXDEV'].includes(error.code))
      throw badTarget(target, `no such device node on this host (${error.code})`, 'not-found');
    throw error;
  }
  if (!stat.isCharacterDevice() && !stat.isBlockDevice()) throw badTarget(target, 'not a device node on this host (a regular file, folder, FIFO or socket)');
  const rdev = BigInt(stat.rdev);
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { path: target, type: stat.isBlockDevice() ? 'b' : 'c', majorMinor: `${major}:${minor}` };
}

/**
 * TARGET for `attach --lxc`: a PCI address or vendor:device (its DRM, NVIDIA or VFIO nodes, as
 * `--lxc-config` prints them), a USB device (`--type usb`), or a device node by path (/dev/net/tun,
 * /dev/dri/renderD128). The block key is the PCI address, `usb:VVVV:PPPP`, or the path. A network
 * interface is refused (it is moved with lxc.net.N.type = phys, not bound: see --lxc-config).
 */
export function lxcTargetNodes(host: HostFs, target: string, type: AttachType = 'auto'): { key: string; nodes: LxcDeviceNode[] } {
  if (target.startsWith('/')) return { key: target.replace(/\/+$/, ''), nodes: [nodeAt(host, target.replace(/\/+$/, ''))] };
  const resolved = resolveTarget(host, target, type);
  const { items, iface } = lxcDeviceNodes(host, resolved);
  if (iface)
    throw badTarget(
      target,
      `a network interface (${iface}) is moved into a container, not bound: print its lxc.net.N lines with passthru attach NAME ${iface} --lxc-config`,
      'preflight',
    );
  const nodes = items.flatMap((i) => ('node' in i ? [i.node] : []));
  const said = items.flatMap((i) => ('comment' in i ? [i.comment] : []));
  if (nodes.length === 0) throw badTarget(target, said.join('; ') || 'no device node to pass', 'preflight');
  const unknown = nodes.filter((n) => !n.majorMinor || /\/BBB\/|nvidiaN$/.test(n.path));
  if (unknown.length > 0)
    throw badTarget(
      target,
      `no major:minor on this host for ${unknown.map((n) => n.path).join(', ')}: load the driver (or plug the device) first`,
      'preflight',
    );
  const key = resolved.kind === 'usb' ? `usb:${resolved.vendorId}:${resolved.productId}` : resolved.kind === 'pci' ? resolved.address : target;
  return { key, nodes };
}

/** The block DEV names for `detach --lxc`: its key (a PCI address, usb:VVVV:PPPP, a /dev path), a node one of them binds, or vendor:device. */
export function blockFor(host: HostFs, blocks: PassthruBlock[], dev: string, file: string): PassthruBlock {
  const exact = blocks.find((b) => b.key === dev) ?? (dev.startsWith('/') ? blocks.find((b) => b.nodes.includes(dev.replace(/\/+$/, ''))) : undefined);
  if (exact) return exact;
  let key: string | undefined;
  if (!dev.startsWith('/')) {
    try {
      const q = parseAttachTarget(dev);
      key = q.kind === 'address' ? q.address : q.kind === 'usb' ? `usb:${q.vendorId}:${q.productId}` : undefined;
      if (q.kind === 'ids') {
        const r = resolveTarget(host, dev);
        key = r.kind === 'pci' ? r.address : undefined;
      }
    } catch (error) {
      if (!(error instanceof LxdError)) throw error;
    }
  }
  const found = key === undefined ? undefined : blocks.find((b) => b.key === key);
  if (found) return found;
  const have = blocks.length ? `its blocks: ${blocks.map((b) => b.key).join(', ')}` : 'it has none';
  throw new LxdError('finding', `passthru's block for ${JSON.stringify(dev.slice(0, 70))}`, file, `passthru removes only the lines it added (${have})`, {
    reason: 'not-found',
  });
}
