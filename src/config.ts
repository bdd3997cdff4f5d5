/** Where the app finds its pools: public/pools/<id>/pool.json; index.json names the default one. */
export const POOLS_BASE_URL = `${import.meta.env.BASE_URL}pools/`;
export const TOP_K = 5;
/** Uploaded files larger than this are refused before decoding. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Decoded images with more pixels than this are refused (about 10,000 x 10,000). */
export const MAX_UPLOAD_PIXELS = 100_000_000;
/** The built-in check shows a confusion matrix up to this many classes, per-class accuracy bars above. */
export const MATRIX_MAX_CLASSES = 10;
