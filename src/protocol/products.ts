// Product names (`taxi`, `xl`, `tow`, ...): their pattern, the default, the per-city limit, and list validation.

/** A product name: 1-32 characters of a-z 0-9 _ -. */
export const PRODUCT_PATTERN = /^[a-z0-9_-]{1,32}$/;
/** Product of a job that names none, and of a driver whose token has no `products` claim, unless the city sets another. */
export const DEFAULT_PRODUCT = 'taxi';
/** Most products one city offers, and one driver's token may list: the fleet keeps them as bits of a 32-bit word. */
export const MAX_PRODUCTS = 32;

/**
 * A valid list of product names (an array of 1..MAX_PRODUCTS unique names matching PRODUCT_PATTERN), as
 * a frozen copy; otherwise a string saying what is wrong (the caller names the field and picks the error).
 */
export function checkProductList(v: unknown): readonly string[] | string {
  if (!Array.isArray(v)) return 'must be an array of product names';
  if (v.length === 0 || v.length > MAX_PRODUCTS) return `must list 1-${MAX_PRODUCTS} products, got ${v.length}`;
  const seen = new Set<string>();
  for (const p of v) {
    if (typeof p !== 'string' || !PRODUCT_PATTERN.test(p)) return `has ${JSON.stringify(p)}: each product must be 1-32 of a-z 0-9 _ -`;
    if (seen.has(p)) return `lists ${p} twice`;
    seen.add(p);
  }
  return Object.freeze([...(v as string[])]);
}
