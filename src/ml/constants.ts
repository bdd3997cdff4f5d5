export const POOL_FORMAT = 'poe-pool';
export const POOL_FORMAT_VERSION = 1;
/** Largest pool file accepted; the real pool's files are tens of kilobytes. */
export const MAX_POOL_FILE_BYTES = 64 * 1024 * 1024;
export const METADATA_FORMAT = 'poe-consolidated-model';
export const METADATA_FORMAT_VERSION = 1;
