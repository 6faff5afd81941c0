// One city's product registry: product name ↔ bit position, so the fleet keeps a driver's products as one 32-bit word.
import { DEFAULT_PRODUCT, MAX_PRODUCTS } from '../protocol/products.js';

/** nearest()'s product mask meaning "any driver, whatever it serves" (no product filter). */
export const ANY_PRODUCT = 0;

/**
 * The products a city offers, in the order of its cities-file list (product i is bit i), and its default
 * product. Fixed at start-up (every node has the same cities file, so bits mean the same on every node).
 */
export class CityProducts {
  /** Offered product names, bit i = names[i]. */
  readonly names: readonly string[];
  readonly defaultProduct: string;
  /** Bits of a driver with no `products` claim: the default product's. */
  readonly defaultBits: number;
  private readonly bitOf = new Map<string, number>();
  /** Bits of each product list seen, by its joined names: drivers share a few lists, so this stays small. */
  private readonly listBits = new Map<string, number>();

  constructor(products: readonly string[] | undefined, defaultProduct: string = DEFAULT_PRODUCT) {
    const names = products ?? [defaultProduct];
    if (names.length > MAX_PRODUCTS) throw new RangeError(`a city offers at most ${MAX_PRODUCTS} products, got ${names.length}`);
    if (!names.includes(defaultProduct)) throw new RangeError(`default product ${defaultProduct} is not offered (${names.join(', ')})`);
    this.names = Object.freeze([...names]);
    this.defaultProduct = defaultProduct;
    names.forEach((n, i) => this.bitOf.set(n, (1 << i) >>> 0));
    this.defaultBits = this.bitOf.get(defaultProduct)!;
  }

  /** The mask of one product (for nearest()), or 0 when the city does not offer it. */
  maskOf(product: string): number {
    return this.bitOf.get(product) ?? 0;
  }

  /** True when the city offers `product`. */
  offers(product: string): boolean {
    return this.bitOf.has(product);
  }

  /**
   * A driver's bits: those of the products of its list the city offers (others are ignored here: the
   * driver may serve them in another city); undefined (no claim) gives the default product's bits.
   * May be 0: such a driver is in the fleet but gets no job here.
   */
  bitsOf(list: readonly string[] | undefined): number {
    if (list === undefined) return this.defaultBits;
    const key = list.join(',');
    let bits = this.listBits.get(key);
    if (bits === undefined) {
      bits = 0;
      for (const p of list) bits |= this.bitOf.get(p) ?? 0;
      bits >>>= 0;
      // Lists come from signed tokens, so their variety is bounded by what the operator issues; cap it anyway.
      if (this.listBits.size < 4096) this.listBits.set(key, bits);
    }
    return bits;
  }

  /** Names of the products in `bits` (cold paths: ops views, tests). */
  namesOf(bits: number): string[] {
    return this.names.filter((_, i) => ((bits >>> i) & 1) === 1);
  }
}
