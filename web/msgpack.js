// msgpack for the ops dashboard: the standard types only (the protocol uses no extensions); 64-bit integers decode to Numbers.
const utf8 = new TextDecoder();
const utf8enc = new TextEncoder();
const TWO32 = 4294967296;

/** Decode one msgpack value from an ArrayBuffer. uint64/int64 become Numbers (ms timestamps fit). */
export function mpDecode(buf) {
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  let p = 0;
  const str = (n) => { const s = utf8.decode(u8.subarray(p, p + n)); p += n; return s; };
  const bin = (n) => { const b = u8.slice(p, p + n); p += n; return b; };
  const arr = (n) => { const a = new Array(n); for (let i = 0; i < n; i++) a[i] = read(); return a; };
  const map = (n) => {
    const o = {};
    for (let i = 0; i < n; i++) {
      const k = read();
      const v = read();
      if (k !== '__proto__') o[k] = v; // never let a frame touch Object.prototype
    }
    return o;
  };
  const u = (size) => { const v = size === 1 ? dv.getUint8(p) : size === 2 ? dv.getUint16(p) : dv.getUint32(p); p += size; return v; };
  function read() {
    if (p >= u8.length) throw new Error('msgpack: truncated');
    const b = u8[p++];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return map(b & 0x0f);
    if (b <= 0x9f) return arr(b & 0x0f);
    if (b <= 0xbf) return str(b & 0x1f);
    let v;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bin(u(1));
      case 0xc5: return bin(u(2));
      case 0xc6: return bin(u(4));
      case 0xca: v = dv.getFloat32(p); p += 4; return v;
      case 0xcb: v = dv.getFloat64(p); p += 8; return v;
      case 0xcc: return u(1);
      case 0xcd: return u(2);
      case 0xce: return u(4);
      case 0xcf: v = dv.getUint32(p) * TWO32 + dv.getUint32(p + 4); p += 8; return v;
      case 0xd0: v = dv.getInt8(p); p += 1; return v;
      case 0xd1: v = dv.getInt16(p); p += 2; return v;
      case 0xd2: v = dv.getInt32(p); p += 4; return v;
      case 0xd3: v = dv.getInt32(p) * TWO32 + dv.getUint32(p + 4); p += 8; return v;
      case 0xd9: return str(u(1));
      case 0xda: return str(u(2));
      case 0xdb: return str(u(4));
      case 0xdc: return arr(u(2));
      case 0xdd: return arr(u(4));
      case 0xde: return map(u(2));
      case 0xdf: return map(u(4));
      default: throw new Error('msgpack: unsupported type 0x' + b.toString(16));
    }
  }
  return read();
}

/** Encode maps, arrays, strings, integers (to 64 bits), floats, booleans and nil. */
export function mpEncode(value) {
  const out = [];
  const be = (n, bytes) => { for (let i = bytes - 1; i >= 0; i--) out.push((n / 2 ** (8 * i)) & 0xff); };
  const int64 = (n) => { const hi = Math.floor(n / TWO32); be(hi >>> 0, 4); be((n - hi * TWO32) >>> 0, 4); };
  function head(len, fix, fixMax, c16, c32) {
    if (len <= fixMax) out.push(fix | len);
    else if (len < 0x10000) { out.push(c16); be(len, 2); } else { out.push(c32); be(len, 4); }
  }
  function enc(v) {
    if (v === null || v === undefined) out.push(0xc0);
    else if (typeof v === 'boolean') out.push(v ? 0xc3 : 0xc2);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) {
        if (v >= 0) {
          if (v < 0x80) out.push(v);
          else if (v < 0x100) out.push(0xcc, v);
          else if (v < 0x10000) { out.push(0xcd); be(v, 2); } else if (v < TWO32) { out.push(0xce); be(v, 4); } else { out.push(0xcf); int64(v); }
        } else if (v >= -32) out.push(v & 0xff);
        else if (v >= -128) out.push(0xd0, v & 0xff);
        else if (v >= -32768) { out.push(0xd1); be(v & 0xffff, 2); } else if (v >= -2147483648) { out.push(0xd2); be(v >>> 0, 4); } else { out.push(0xd3); int64(v); }
      } else {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v);
        out.push(0xcb, ...b);
      }
    } else if (typeof v === 'string') {
      const b = utf8enc.encode(v);
      if (b.length < 32) out.push(0xa0 | b.length);
      else if (b.length < 0x100) out.push(0xd9, b.length);
      else if (b.length < 0x10000) { out.push(0xda); be(b.length, 2); } else { out.push(0xdb); be(b.length, 4); }
      for (const x of b) out.push(x);
    } else if (Array.isArray(v)) {
      head(v.length, 0x90, 15, 0xdc, 0xdd);
      v.forEach(enc);
    } else if (typeof v === 'object') {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      head(keys.length, 0x80, 15, 0xde, 0xdf);
      for (const k of keys) { enc(k); enc(v[k]); }
    } else throw new Error('msgpack: cannot encode ' + typeof v);
  }
  enc(value);
  return new Uint8Array(out);
}
