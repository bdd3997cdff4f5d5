import type { ConsolidatedModel } from '../ml/consolidate';
import type { LoadedPool } from '../ml/poolModels';
import type { PoolReference } from '../ml/reference';

/** Heavy, non-serialisable objects the store's actions work on; kept out of the state itself. */
export const runtime: { pool: LoadedPool | null; model: ConsolidatedModel | null; reference: PoolReference | null } = {
  pool: null,
  model: null,
  reference: null,
};
