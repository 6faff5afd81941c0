// Trip and trace CSV readers: the shipped format, exponent numbers, the eval's row filter, and line-numbered errors.
import t from 'tap';
import { TripCsvError, filterTrips, parseTripCsv } from '../src/eta/trip-csv.js';
import { parseTraceCsv } from '../src/eta/trace-csv.js';

const HEAD = 'id,pickup_lng,pickup_lat,dropoff_lng,dropoff_lat,weekday,hour,duration_s';

t.test('parses rows, exponent form and a trailing newline', async (t) => {
  const rows = parseTripCsv(`${HEAD}\na,-73.98,40.75,-73.97,40.76,4,10,1e3\nb,-8.6,41.1,-8.61,41.11,1,1,270\n`);
  t.equal(rows.length, 2);
  t.same(rows[0], { id: 'a', fromLat: 40.75, fromLng: -73.98, toLat: 40.76, toLng: -73.97, weekday: 4, hour: 10, durationS: 1000 });
});

t.test('bad rows name their line', async (t) => {
  const bad: Array<[string, RegExp]> = [
    [`${HEAD}\na,-73.98,40.75,-73.97,40.76,4,10,600\nb,-73.98,40.75,-73.97,40.76,4,25,600`, /x.csv:3: hour "25" must be an integer 0-23/],
    [`${HEAD}\na,-73.98,40.75,-73.97,40.76,0,10,600`, /x.csv:2: weekday/],
    [`${HEAD}\na,-73.98,abc,-73.97,40.76,1,10,600`, /x.csv:2: pickup_lat "abc" is not a number/],
    [`${HEAD}\na,-73.98,40.75,-73.97,40.76,1,10`, /x.csv:2: expected 8 fields, found 7/],
    [`${HEAD}\na,-73.98,40.75,-73.97,40.76,1,10,-5`, /x.csv:2: duration_s/],
    [`${HEAD}\na,-73.98,95,-73.97,40.76,1,10,60`, /x.csv:2: latitude/],
    [`${HEAD}\na,-73.98,40.75,-73.97,40.76,1,10,`, /x.csv:2: duration_s "" is not a number/],
    ['id,lat,lng\n', /x.csv:1: header has no column "pickup_lng"/],
  ];
  for (const [text, re] of bad) {
    const err = t.throws(() => parseTripCsv(text, 'x.csv')) as unknown;
    t.ok(err instanceof TripCsvError, 'TripCsvError');
    t.match((err as Error).message, re);
  }
});

t.test('filter drops < 60 s, > 4 h and < 50 m, counting each', async (t) => {
  const rows = parseTripCsv(`${HEAD}
a,-73.98,40.75,-73.97,40.76,1,10,59
b,-73.98,40.75,-73.97,40.76,1,10,14401
c,-73.98,40.75,-73.98,40.7503,1,10,600
d,-73.98,40.75,-73.97,40.76,1,10,60
e,-73.98,40.75,-73.97,40.76,1,10,14400`);
  const f = filterTrips(rows);
  t.same(f.kept.map((r) => r.id), ['d', 'e']);
  t.same([f.tooShort, f.tooLong, f.tooNear], [1, 1, 1]);
});

t.test('traces: quoted fields, JSON polyline, empty trace, bad point', async (t) => {
  const head = '"TRIP_ID","CALL_TYPE","TIMESTAMP","POLYLINE"';
  const tr = parseTraceCsv(`${head}\n"t1","A","1372637303","[[-8.6,41.1],[-8.61,41.11]]"\n"t2","B","1372637400","[]"\n`);
  t.equal(tr.length, 2);
  t.equal(tr[0]!.id, 't1');
  t.equal(tr[0]!.startS, 1372637303);
  t.same([...tr[0]!.lat], [41.1, 41.11]);
  t.same([...tr[0]!.lng], [-8.6, -8.61]);
  t.equal(tr[1]!.lat.length, 0);
  t.throws(() => parseTraceCsv(`${head}\n"t1","A","1","[[-8.6,141.1]]"`, 'p.csv'), /p.csv:2: POLYLINE point 0/);
  t.throws(() => parseTraceCsv(`${head}\n"t1","A","1","[[-8.6,41.1]`, 'p.csv'), /p.csv:2: unreadable row/);
});
