export type PoeErrorCode =
  | 'MANIFEST_INVALID'
  | 'MANIFEST_VERSION'
  | 'FILE_MISSING'
  | 'FILE_SIZE'
  | 'FILE_CHECKSUM'
  | 'MODEL_INVALID'
  | 'SHAPE_MISMATCH'
  | 'MODEL_DISPOSED'
  | 'POOL_DISPOSED'
  | 'SELECTION_EMPTY'
  | 'SELECTION_UNKNOWN'
  | 'IMAGE_INVALID'
  | 'DATA_MISSING'
  | 'EXPORT_UNSUPPORTED'
  | 'BACKEND_UNAVAILABLE'
  | 'REFERENCE_MISSING'
  // Pools from elsewhere (a URL, a folder, a zip): see poolLimits.ts, poolContents.ts, localPoolSource.ts.
  | 'POOL_LIMIT'
  | 'WEIGHTS_INVALID'
  | 'PATH_INVALID'
  | 'ARCHIVE_INVALID'
  | 'POOL_URL'
  | 'NETWORK'
  // Shared links and project files: see io/recipe.ts.
  | 'RECIPE_INVALID'
  | 'RECIPE_VERSION'
  | 'RECIPE_POOL';

/** An error a user can read: a stable code for programs and one plain sentence for people. */
export class PoeError extends Error {
  readonly code: PoeErrorCode;
  constructor(code: PoeErrorCode, message: string) {
    super(message);
    this.name = 'PoeError';
    this.code = code;
  }
}

export function isPoeError(e: unknown): e is PoeError {
  return e instanceof Error && e.name === 'PoeError' && 'code' in e;
}
