// FleetMirror contract against the no-op adapter of embedded mode (one node: its own fleet is the whole fleet).
import t from 'tap';
import { NoopFleetMirror } from '../src/fleet/fleet-mirror.js';
import { fleetMirrorContract, newFleet } from './contract/fleet-mirror-contract.js';
import type { MirrorNode } from './contract/fleet-mirror-contract.js';

fleetMirrorContract(t, 'no-op mirror', async () => {
  const node: MirrorNode = { fleet: newFleet(), mirror: new NoopFleetMirror(), sent: () => 0 };
  await node.mirror.start();
  return [node, node];
}, { crossNode: false, tickMs: 0, expireMs: 60_000 });
