// A clock moved by hand: time-driven logic (offer expiry, watchdogs, timers) tested without waiting (the simulator's virtual clock).
export { VirtualClock as ManualClock } from '../../src/util/virtual-clock.js';
