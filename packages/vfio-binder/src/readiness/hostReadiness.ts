import type { HostFs } from '@passthru/hostfs';
import { blockingEndpoints, notPassable, platformFunctionsOf, slotOf, type IommuGroup, type PciDevice, type PlatformFunction } from '@passthru/pci-discovery';
import type { HostState } from '../bind/bindDevices';
import { planBind, VFIO_DRIVER } from '../bind/plan';
import { evaluateGuards, refusing, type GuardFinding } from '../bind/guards';
import type { JournalRecords } from '../journalRecords';
import { isForeign, readOwnershipWith, type DeviceOwner } from '../owners';

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `not-passable`: the group holds a platform function; bind refuses it, --force included. */
export type GroupStatus = 'ready' | 'bindable' | 'guarded' | 'not-passable' | 'bridges-only';
export type DeviceStatus = 'ready' | 'bindable' | 'shared-group' | 'guarded' | 'group-not-viable' | 'no-group' | 'not-passable' | 'bridge';

export interface GroupReadiness extends IommuGroup {
  /** The kernel's test: every endpoint on vfio-pci, pci-stub or no driver. */
  viable: boolean;
  /** All endpoints are functions of one slot (one physical device). */
  isolated: boolean;
  /** Endpoints on vfio-pci now. */
  bound: number;
  status: GroupStatus;
  summary: string;
  /** The platform functions the group holds (why it is `not-passable`); empty otherwise. */
  platformFunctions: PlatformFunction[];
}

export interface DeviceReadiness {
  address: string;
  status: DeviceStatus;
  /** One sentence for a person: why the device is (not) ready to pass through. */
  summary: string;
  /** Other endpoints of its IOMMU group outside its own slot: they move to vfio-pci with it. */
  sharedWith: string[];
  /** Who holds it (null: nobody but its driver). */
  owner: DeviceOwner | null;
  /** What `bind` of its group would meet: its own guards, then those of the group's other endpoints (none for a bridge). */
  guards: GuardFinding[];
}

export interface HostReadiness {
  groups: GroupReadiness[];
  /** In scan order. */
  devices: DeviceReadiness[];
  /** Every guard a bind of any passable group would meet. */
  guards: GuardFinding[];
}

/**
 * The readiness use case: per IOMMU group and per device, whether it is passed through now,
 * can be bound (alone or with its group), is guarded (and by what, or by whom), holds a
 * platform function, or has no group. What the report draws, and what a fleet agent or an
 * exporter publishes. Reads only.
 *
 * `guarded` means what `passthru bind` of the device (that is, of its whole group) meets: a
 * guard on any endpoint of the group (--force overrides), or an endpoint on a host driver that
 * a foreign manager holds (only --adopt changes it). A device on vfio-pci is never guarded: it
 * is `ready` or `group-not-viable`. A device whose group is not listed under
 * /sys/kernel/iommu_groups (a partial capture) has `no-group`: its group cannot be judged.
 * `journal`: the bind journal's records (who holds each device); hostReadiness reads them itself.
 */
export function hostReadinessWith(host: HostFs, state: HostState, journal: JournalRecords): HostReadiness {
  const { devices, groups } = state;
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  // Guards: what `bind group:N` would meet, for every group. Guards are judged per device, and
  // a plan naming all endpoints of its groups never pulls in a foreign one; so one plan over
  // every group's endpoints finds exactly what one plan per group finds, in one pass over the
  // host's state (2,000 per-group plans re-read it 2,000 times: minutes on a large host).
  // Groups holding a platform function are never planned (planBind refuses them): no guards.
  const platformOf = new Map<number, PlatformFunction[]>();
  for (const g of groups) {
    const found = platformFunctionsOf(g, byAddress);
    if (found.length > 0) platformOf.set(g.id, found);
  }
  const endpointsOf = (g: IommuGroup) => g.endpoints.map((a) => byAddress.get(a)).filter((d): d is PciDevice => d !== undefined);
  const endpoints = groups.filter((g) => !platformOf.has(g.id)).flatMap(endpointsOf);
  // Who holds each device (passthru's journal, libvirt, driverctl, driver_override), read once.
  const { owners } = readOwnershipWith(host, devices, journal);
  // Only what refuses a bind: an advisory finding (the framebuffer vfio-pci removes) leaves a device bindable.
  const guards = endpoints.length ? refusing(evaluateGuards(host, planBind(endpoints, devices, groups, owners), devices)) : [];
  const guardsByAddress = new Map<string, GuardFinding[]>();
  for (const f of guards) guardsByAddress.set(f.address, [...(guardsByAddress.get(f.address) ?? []), f]);
  // An endpoint on a host driver that libvirt, driverctl or another's driver_override holds: a
  // bind of its group is refused until --adopt (a foreign owner on vfio-pci is left as it is).
  const heldByForeign = (a: string) => isForeign(owners.get(a)) && byAddress.get(a)?.driver !== VFIO_DRIVER;
  const groupGuards = new Map<number, GuardFinding[]>();
  const heldIn = new Map<number, string[]>();

  const groupReadiness = groups.map((g): GroupReadiness => {
    const endpoints = endpointsOf(g);
    const viable = blockingEndpoints(g, byAddress).length === 0;
    const bound = endpoints.filter((d) => d.driver === VFIO_DRIVER).length;
    const slots = new Set(g.endpoints.map(slotOf)).size;
    const guarded = g.endpoints.filter((a) => guardsByAddress.has(a));
    const held = g.endpoints.filter(heldByForeign);
    groupGuards.set(
      g.id,
      guarded.flatMap((a) => guardsByAddress.get(a)!),
    );
    heldIn.set(g.id, held);
    const platform = platformOf.get(g.id);
    const judged = ((): Pick<GroupReadiness, 'status' | 'summary'> => {
      if (endpoints.length === 0) return { status: 'bridges-only', summary: 'Bridges only: nothing here is passed through.' };
      if (platform) {
        const np = notPassable(platform);
        return { status: 'not-passable', summary: `${capitalise(np.summary)} (${np.why}). ${np.fix}` };
      }
      if (viable && bound > 0)
        return {
          status: 'ready',
          summary:
            bound === endpoints.length
              ? `Viable: every endpoint (${bound}) is on vfio-pci.`
              : `Viable: ${bound} of ${endpoints.length} endpoint(s) on vfio-pci, the rest without a driver.`,
        };
      if (guarded.length || held.length) {
        const why = [...new Set([...groupGuards.get(g.id)!.map((f) => f.id), ...held.map((a) => `held by ${owners.get(a)!.kind}`)])];
        return {
          status: 'guarded',
          summary: `A bind would be refused: ${why.join(', ')} (${g.endpoints.filter((a) => guardsByAddress.has(a) || held.includes(a)).join(', ')}).`,
        };
      }
      return {
        status: 'bindable',
        summary:
          slots <= 1
            ? `Can be bound: ${endpoints.length} function(s) of one device, alone in the group.`
            : `Can be bound, all together: ${endpoints.length} endpoints of ${slots} devices share the group.`,
      };
    })();
    return { ...g, viable, isolated: slots <= 1, bound, ...judged, platformFunctions: platform ?? [] };
  });
  const groupById = new Map(groupReadiness.map((g) => [g.id, g]));

  const deviceReadiness = devices.map((d): DeviceReadiness => {
    const group = d.iommuGroup === null ? undefined : groupById.get(d.iommuGroup);
    const own = guardsByAddress.get(d.address) ?? [];
    // Its own findings first, then the other endpoints' (a bind of the device is a bind of its group).
    const guards = group && !d.isBridge ? [...own, ...(groupGuards.get(group.id) ?? []).filter((f) => f.address !== d.address)] : own;
    const owner = owners.get(d.address) ?? null;
    const sharedWith = group && !d.isBridge ? group.endpoints.filter((a) => slotOf(a) !== slotOf(d.address)) : [];
    const judged = ((): Pick<DeviceReadiness, 'status' | 'summary'> => {
      if (d.isBridge) return { status: 'bridge', summary: 'PCI bridge: stays on its driver; the endpoints behind it are what passes through.' };
      if (d.iommuGroup === null)
        return { status: 'no-group', summary: 'No IOMMU group: the IOMMU is off or does not cover this device, so it cannot be passed through.' };
      if (!group)
        return {
          status: 'no-group',
          summary: `IOMMU group ${d.iommuGroup} is not listed under /sys/kernel/iommu_groups: its members cannot be known, so it cannot be passed through.`,
        };
      const platform = platformOf.get(d.iommuGroup);
      if (platform) {
        const np = notPassable(platform);
        return {
          status: 'not-passable',
          summary: `${capitalise(np.summary)}: IOMMU group ${d.iommuGroup} cannot be passed through without ACS (${np.why}). ${np.fix}`,
        };
      }
      if (d.driver === VFIO_DRIVER && group.viable) return { status: 'ready', summary: `Ready: on vfio-pci, and IOMMU group ${d.iommuGroup} is viable.` };
      if (isForeign(owner) && d.driver !== VFIO_DRIVER) return { status: 'guarded', summary: `Held by ${owner.summary}: a bind changes it only with --adopt.` };
      if (own.length) return { status: 'guarded', summary: `A bind would be refused (--force overrides): ${own.map((g) => g.summary).join('; ')}.` };
      if (d.driver === VFIO_DRIVER)
        return {
          status: 'group-not-viable',
          summary: `On vfio-pci, but group ${d.iommuGroup} is not viable: ${blockingEndpoints(group, byAddress).join(', ')} still on a host driver.`,
        };
      const others = [
        ...guards.map((f) => `on ${f.address}, ${f.summary} (--force overrides)`),
        ...heldIn.get(group.id)!.map((a) => `${a} is held by ${owners.get(a)!.summary} (--adopt)`),
      ];
      if (others.length) return { status: 'guarded', summary: `A bind of its group would be refused: ${others.join('; ')}.` };
      if (sharedWith.length)
        return {
          status: 'shared-group',
          summary: `Bindable with its group: shares IOMMU group ${d.iommuGroup} with ${sharedWith.length} other device(s) that move to vfio-pci too.`,
        };
      return {
        status: 'bindable',
        summary: `Bindable: IOMMU group ${d.iommuGroup} holds only this device${group.endpoints.length > 1 ? "'s functions" : ''}; now on ${d.driver ?? 'no driver'}.`,
      };
    })();
    return { address: d.address, ...judged, sharedWith, owner, guards };
  });
  return { groups: groupReadiness, devices: deviceReadiness, guards };
}
