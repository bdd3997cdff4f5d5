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
