/** IEEE 754 half-precision bit patterns of float32 values, rounded to nearest. */
export function float16Bits(v: Float32Array): Uint16Array {
  const out = new Uint16Array(v.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < v.length; i++) {
    f[0] = v[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    const mant = x & 0x7fffff;
    if (exp <= 0) out[i] = exp < -10 ? sign : sign | ((mant | 0x800000) >> (1 - exp + 13));
    else if (exp >= 31) out[i] = sign | 0x7c00;
    else out[i] = sign | ((exp << 10) + Math.round(mant / 8192)); // a mantissa carry rounds into the exponent
  }
  return out;
}

/** float32 values of IEEE 754 half-precision bit patterns (exact: every half is a float32). */
export function float16Values(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    out[i] = exp === 0 ? sign * mant * 2 ** -24 : exp === 31 ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** The values float16 can hold nearest to v: what survives a trip through float16Bits. */
export const roundToFloat16 = (v: Float32Array): Float32Array => float16Values(float16Bits(v));
