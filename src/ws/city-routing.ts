// City routing: requests and sockets for a city this node does not serve are sent to a node that serves it (421, close 4009).
import type { ServedCities } from '../config/serve-cities.js';
import type { CityChangeListener } from '../fleet/fleet-registry.js';
import type { Metrics } from '../observability/metrics.js';
import { CloseCodes, MisdirectedError, servedElsewhereReason } from '../protocol/errors.js';
import type { Sock } from './delivery.js';
import type { Hub } from './hub.js';

export interface CityRoutingOptions {
  served: ServedCities;
  /** The base URL of another node serving the city (the node directory), undefined when none is known. */
  urlFor: (city: string) => string | undefined;
  hub: Hub;
  metrics: Metrics;
}

/** Where this node sends what it does not serve (docs/protocol.md, City routing). */
export class CityRouting {
  constructor(private readonly o: CityRoutingOptions) {}

  serves(city: string): boolean {
    return this.o.served.serves(city);
  }

  /** HTTP: MisdirectedError (421) naming a node that serves `city`, unless this node serves it (or the point lies in no city). */
  check(city: string | null): void {
    if (city === null || this.o.served.serves(city)) return;
    const url = this.o.urlFor(city);
    this.o.metrics.cityRedirects.inc({ kind: 'http', found: url ? 'yes' : 'no' });
    throw new MisdirectedError(city, url);
  }

  /** Close a socket whose city is served elsewhere (4009 `<city> <url>`); matching does not take it for a disconnect. */
  redirect(ws: Sock, city: string): void {
    const ud = ws.getUserData();
    if (ud.closed) return;
    const url = this.o.urlFor(city);
    this.o.metrics.cityRedirects.inc({ kind: ud.role, found: url ? 'yes' : 'no' });
    ud.closed = true;
    ud.redirected = true;
    ws.end(CloseCodes.servedElsewhere, servedElsewhereReason(city, url));
  }

  /**
   * Fleet listener: a driver connected here whose fix placed it in a city served elsewhere is handed over.
   * Its fix is in the fleet and goes out on that city's mirror channel with this node's next tick, so the
   * serving nodes know where it is before it reconnects there.
   */
  readonly cityChangeListener: CityChangeListener = (id, city) => {
    if (city === null || this.o.served.serves(city)) return;
    const ws = this.o.hub.driverSocket(id);
    if (ws) this.redirect(ws, city);
  };
}
